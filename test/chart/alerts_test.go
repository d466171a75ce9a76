package chart

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestAlertRules extracts the rule groups of the PrometheusRule the chart renders for
// the default release and checks them with promtool: check rules (syntax, templates)
// and test rules with the series and expected alerts of testdata/alerts_test.yaml.
// hack/test-deps.sh installs promtool (Debian's prometheus package).
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed: run 'make test-deps' (hack/test-deps.sh installs Debian's prometheus package, which ships it)")
	}
	_, m := render(t, chartDir, defaultRelease, defaultNamespace, "--api-versions", "monitoring.coreos.com/v1/PrometheusRule")
	rule := m.get(t, "PrometheusRule", "cohort-operator-alerts")
	rules, err := yaml.Marshal(nested(t, rule, "spec"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "alerts_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// checkAlertMetricsExported fails when an alert of the chart reads a metric that the
// running manager does not export (up, which Prometheus makes, aside), so the alerts
// cannot silently watch series that no longer exist.
func checkAlertMetricsExported(t *testing.T, metricsURL string) {
	t.Helper()
	_, m := render(t, chartDir, defaultRelease, defaultNamespace, "--api-versions", "monitoring.coreos.com/v1/PrometheusRule")
	groups, _ := nested(t, m.get(t, "PrometheusRule", "cohort-operator-alerts"), "spec", "groups").([]any)
	names := map[string]bool{}
	selector := regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)
	for _, g := range groups {
		rules, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rules {
			for _, match := range selector.FindAllStringSubmatch(fmt.Sprint(r.(map[string]any)["expr"]), -1) {
				names[match[1]] = true
			}
		}
	}
	delete(names, "up")
	if len(names) < 4 {
		t.Fatalf("found only the metrics %v in the alerts", names)
	}
	resp, err := http.Get(metricsURL) //nolint:gosec,noctx // the test's own manager on loopback
	if err != nil {
		t.Fatalf("scraping the manager: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for name := range names {
		if !strings.Contains(string(body), "# TYPE "+name+" ") {
			t.Errorf("the alerts read %s, which the manager does not export", name)
		}
	}
}
