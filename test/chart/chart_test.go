package chart

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// The release the default renders and the install use, as docs/helm.md installs it.
const (
	defaultRelease   = "cohort-operator"
	defaultNamespace = "cohort-system"
)

// TestLint lints the chart with its defaults and with the non-default values the dry
// runs use; --strict turns warnings into failures.
func TestLint(t *testing.T) {
	mustHelm(t, "lint", "--strict", chartDir)
	mustHelm(t, "lint", "--strict", chartDir, "-f", filepath.Join("testdata", "nondefault-values.yaml"))
}

// TestGeneratedFilesMatchConfig runs make chart-check: the CRDs, rules and admission
// policy in the chart are what hack/chart generates from config/ now.
func TestGeneratedFilesMatchConfig(t *testing.T) {
	cmd := exec.Command("go", "run", "./hack/chart", "-check")
	cmd.Dir = testutil.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the chart drifted from config/: %v\n%s", err, out)
	}
}

// TestSchemaRejectsUnknownKeys sets an unknown key inside every object of values.yaml
// at once and expects values.schema.json to name each of them; it also checks that
// every object the schema describes says which keys it accepts.
func TestSchemaRejectsUnknownKeys(t *testing.T) {
	var schema map[string]any
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	checkStrict(t, "#", schema)
	defs, _ := schema["definitions"].(map[string]any)
	for name, def := range defs {
		checkStrict(t, "#/definitions/"+name, def.(map[string]any))
	}

	values := readValues(t)
	var paths []string
	objectPaths("", values, schema, defs, &paths)
	if len(paths) < 10 {
		t.Fatalf("found only %d strict objects in values.yaml: %v", len(paths), paths)
	}
	args := []string{"template", "x", chartDir}
	for _, p := range paths {
		key := "bogusKey"
		if p != "" {
			key = p + ".bogusKey"
		}
		args = append(args, "--set", key+"=1")
	}
	out, err := helm(args...)
	if err == nil {
		t.Fatalf("helm template accepted unknown keys:\n%s", out)
	}
	for _, p := range paths {
		want := "at '" + "/" + strings.ReplaceAll(p, ".", "/") + "': additional properties 'bogusKey' not allowed"
		if p == "" {
			want = "at '': additional properties 'bogusKey' not allowed"
		}
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the error:\n%s", want, out)
		}
	}

	for _, bad := range [][]string{
		{"--set", "logLevel=verbose"},
		{"--set", "watchNamespace=Team_A"},
		{"--set", "approvals.approverClusterRole="},
		{"--set", "metrics.prometheusRule.attendance.thresholdPercent=120"},
		{"--set", "image.pullPolicy=Sometimes"},
		{"--set", "tolerations[0].colour=blue"},
		{"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].keys=a"},
	} {
		if out, err := helm(append([]string{"template", "x", chartDir}, bad...)...); err == nil {
			t.Errorf("helm template accepted %v:\n%s", bad, out)
		}
	}
}

// checkStrict fails when an object schema under node neither rejects unknown keys nor
// types the values of a map. Only global is open: Helm hands a subchart its parent's
// global values, whatever they are.
func checkStrict(t *testing.T, at string, node map[string]any) {
	t.Helper()
	if node["type"] == "object" && node["additionalProperties"] == nil && !strings.HasSuffix(at, "/properties/global") {
		t.Errorf("%s: an object without additionalProperties accepts unknown keys", at)
	}
	if ap, ok := node["additionalProperties"].(bool); ok && ap {
		t.Errorf("%s: additionalProperties: true accepts unknown keys", at)
	}
	for _, key := range []string{"properties"} {
		props, _ := node[key].(map[string]any)
		for name, p := range props {
			checkStrict(t, at+"/properties/"+name, p.(map[string]any))
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if p, ok := node[key].(map[string]any); ok {
			checkStrict(t, at+"/"+key, p)
		}
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf"} {
		list, _ := node[key].([]any)
		for i, p := range list {
			checkStrict(t, at+"/"+key+"/"+string(rune('0'+i)), p.(map[string]any))
		}
	}
}

// objectPaths collects the dotted paths of the objects in values whose schema rejects
// unknown keys.
func objectPaths(prefix string, values map[string]any, schema, defs map[string]any, out *[]string) {
	if ref, ok := schema["$ref"].(string); ok {
		schema, _ = defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
	}
	if schema["additionalProperties"] != false {
		return
	}
	*out = append(*out, prefix)
	props, _ := schema["properties"].(map[string]any)
	for key, v := range values {
		child, ok := v.(map[string]any)
		sub, _ := props[key].(map[string]any)
		if !ok || sub == nil {
			continue
		}
		p := key
		if prefix != "" {
			p = prefix + "." + key
		}
		objectPaths(p, child, sub, defs, out)
	}
}

func readValues(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	return values
}

// TestValuesDocumented checks that docs/helm.md's values table names every value.
func TestValuesDocumented(t *testing.T) {
	doc, err := os.ReadFile(testutil.Path("docs", "helm.md"))
	if err != nil {
		t.Fatal(err)
	}
	var leaves []string
	leafPaths("", readValues(t), &leaves)
	for _, p := range leaves {
		if !strings.Contains(string(doc), "| `"+p+"` |") {
			t.Errorf("docs/helm.md has no row for the value %s", p)
		}
	}
}

// leafPaths collects the dotted paths of values that are not non-empty maps.
func leafPaths(prefix string, values map[string]any, out *[]string) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		// Maps of free keys (resources.requests) are documented as a whole.
		if m, ok := values[k].(map[string]any); ok && len(m) > 0 && p != "resources" && p != "portal.shared.resources" {
			leafPaths(p, m, out)
			continue
		}
		*out = append(*out, p)
	}
}

// TestMonitoringOnlyWhereServed renders the ServiceMonitor and the PrometheusRule only
// when the cluster serves their kinds and they are enabled.
func TestMonitoringOnlyWhereServed(t *testing.T) {
	apis := []string{"--api-versions", "monitoring.coreos.com/v1/ServiceMonitor", "--api-versions", "monitoring.coreos.com/v1/PrometheusRule"}
	kinds := func(m manifest) []string {
		var out []string
		for _, o := range m {
			if o.GetAPIVersion() == "monitoring.coreos.com/v1" {
				out = append(out, o.GetKind())
			}
		}
		sort.Strings(out)
		return out
	}
	if _, m := render(t, chartDir, defaultRelease, defaultNamespace); len(kinds(m)) != 0 {
		t.Errorf("rendered %v on a cluster without the Prometheus Operator", kinds(m))
	}
	_, m := render(t, chartDir, defaultRelease, defaultNamespace, apis...)
	if diff := cmp.Diff([]string{"PrometheusRule", "ServiceMonitor"}, kinds(m)); diff != "" {
		t.Errorf("monitoring kinds (-want +got):\n%s", diff)
	}
	sm := m.get(t, "ServiceMonitor", "cohort-operator-manager")
	endpoints, _ := nested(t, sm, "spec", "endpoints").([]any)
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["honorLabels"] != true || endpoints[0].(map[string]any)["port"] != "metrics" {
		t.Errorf("ServiceMonitor endpoints %v: want the metrics port with honorLabels", endpoints)
	}
	svc := m.get(t, "Service", "cohort-operator-metrics")
	selector, _ := nested(t, sm, "spec", "selector", "matchLabels").(map[string]any)
	for k, v := range selector {
		if svc.GetLabels()[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v, the metrics Service has %q", k, v, svc.GetLabels()[k])
		}
	}
	off := append(slices.Clone(apis), "--set", "metrics.serviceMonitor.enabled=false", "--set", "metrics.prometheusRule.enabled=false")
	if _, m := render(t, chartDir, defaultRelease, defaultNamespace, off...); len(kinds(m)) != 0 {
		t.Errorf("rendered %v with both disabled", kinds(m))
	}
}

// kustomizeCounterpart names, for an object of config/default, the chart's object
// (release cohort-operator) that must match it.
var kustomizeCounterpart = map[string]string{
	"ServiceAccount/cohort-controller-manager":                          "ServiceAccount/cohort-operator-manager",
	"Role/cohort-leader-election-role":                                  "Role/cohort-operator-leader-election",
	"RoleBinding/cohort-leader-election-rolebinding":                    "RoleBinding/cohort-operator-leader-election",
	"ClusterRole/cohort-manager-role":                                   "ClusterRole/cohort-operator-manager",
	"ClusterRoleBinding/cohort-manager-rolebinding":                     "ClusterRoleBinding/cohort-operator-manager",
	"ClusterRole/cohort-approver":                                       "ClusterRole/cohort-approver",
	"ClusterRole/cohort-editor-role":                                    "ClusterRole/cohort-operator-editor",
	"ClusterRole/cohort-viewer-role":                                    "ClusterRole/cohort-operator-viewer",
	"Deployment/cohort-controller-manager":                              "Deployment/cohort-operator-manager",
	"ValidatingAdmissionPolicy/cohort-approvals":                        "ValidatingAdmissionPolicy/cohort-approvals",
	"ValidatingAdmissionPolicyBinding/cohort-approvals":                 "ValidatingAdmissionPolicyBinding/cohort-approvals",
	"CustomResourceDefinition/cohorts.learning.cohort.dev":              "CustomResourceDefinition/cohorts.learning.cohort.dev",
	"CustomResourceDefinition/memberships.learning.cohort.dev":          "CustomResourceDefinition/memberships.learning.cohort.dev",
	"CustomResourceDefinition/learningevents.learning.cohort.dev":       "CustomResourceDefinition/learningevents.learning.cohort.dev",
	"CustomResourceDefinition/communityofpractices.learning.cohort.dev": "CustomResourceDefinition/communityofpractices.learning.cohort.dev",
	"CustomResourceDefinition/actionplans.learning.cohort.dev":          "CustomResourceDefinition/actionplans.learning.cohort.dev",
	"CustomResourceDefinition/programreports.learning.cohort.dev":       "CustomResourceDefinition/programreports.learning.cohort.dev",
	"ValidatingAdmissionPolicy/cohort-action-plans":                     "ValidatingAdmissionPolicy/cohort-action-plans",
	"ValidatingAdmissionPolicyBinding/cohort-action-plans":              "ValidatingAdmissionPolicyBinding/cohort-action-plans",
	// Helm does not own the namespace it installs into (helm install --create-namespace).
	"Namespace/cohort-system": "",
}

// TestChartMatchesKustomize compares the chart's default render with `kubectl kustomize
// config/default` object by object: every object of config/default has a counterpart
// with the same CRD spec, rules, admission policy, bindings and manager pod, so the
// hand-written templates cannot drift from config/ either.
func TestChartMatchesKustomize(t *testing.T) {
	out := mustKubectl(t, "kustomize", testutil.Path("config", "default"))
	kustomized := decode(t, out)
	_, chart := render(t, chartDir, defaultRelease, defaultNamespace)
	seen := map[string]bool{}
	for _, want := range kustomized {
		key := want.GetKind() + "/" + want.GetName()
		counterpart, ok := kustomizeCounterpart[key]
		if !ok {
			t.Errorf("config/default has %s, which the chart does not install: add it to the chart and to kustomizeCounterpart", key)
			continue
		}
		seen[key] = true
		if counterpart == "" {
			continue
		}
		kind, name, _ := strings.Cut(counterpart, "/")
		got := chart.find(kind, name)
		if got == nil {
			t.Errorf("the chart has no %s for config/default's %s", counterpart, key)
			continue
		}
		compareObject(t, key, want, got)
	}
	for key := range kustomizeCounterpart {
		if !seen[key] {
			t.Errorf("config/default no longer has %s: update kustomizeCounterpart and the chart", key)
		}
	}
}

// compareObject compares what config/ decides of an object with the chart's render.
func compareObject(t *testing.T, key string, want, got *unstructured.Unstructured) {
	t.Helper()
	same := func(what string, path ...string) {
		t.Helper()
		w, _, _ := unstructured.NestedFieldNoCopy(want.Object, path...)
		g, _, _ := unstructured.NestedFieldNoCopy(got.Object, path...)
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s: %s differs (-config +chart):\n%s", key, what, diff)
		}
	}
	for k, v := range want.GetLabels() {
		if got.GetLabels()[k] != v {
			t.Errorf("%s: label %s=%s is %q in the chart", key, k, v, got.GetLabels()[k])
		}
	}
	switch want.GetKind() {
	case "CustomResourceDefinition":
		same("spec", "spec")
	case "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
		// config/admission writes CEL in folded scalars with more-indented lines, whose
		// line breaks kustomize's YAML parser and sigs.k8s.io/yaml read differently;
		// CEL does not care, so whitespace runs count as one blank here.
		w, g := collapseSpace(want.Object["spec"]), collapseSpace(got.Object["spec"])
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s: spec differs (-config +chart):\n%s", key, diff)
		}
	case "ClusterRole", "Role":
		same("rules", "rules")
	case "ClusterRoleBinding", "RoleBinding":
		same("roleRef.kind", "roleRef", "kind")
		subjects, _ := got.Object["subjects"].([]any)
		if len(subjects) != 1 || subjects[0].(map[string]any)["name"] != "cohort-operator-manager" ||
			subjects[0].(map[string]any)["namespace"] != defaultNamespace {
			t.Errorf("%s: subjects %v, want the manager's ServiceAccount", key, subjects)
		}
	case "Deployment":
		compareDeployment(t, key, want, got, same)
	}
}

// compareDeployment compares the manager's pod: security contexts, probes, ports,
// resources, image, environment (PORTAL_IMAGE) and every flag config/manager passes.
func compareDeployment(t *testing.T, key string, want, got *unstructured.Unstructured, same func(string, ...string)) {
	t.Helper()
	same("pod securityContext", "spec", "template", "spec", "securityContext")
	same("terminationGracePeriodSeconds", "spec", "template", "spec", "terminationGracePeriodSeconds")
	same("replicas", "spec", "replicas")
	wc, gc := managerContainer(t, want), managerContainer(t, got)
	for _, field := range []string{"image", "env", "ports", "livenessProbe", "readinessProbe", "securityContext", "resources"} {
		if diff := cmp.Diff(wc[field], gc[field]); diff != "" {
			t.Errorf("%s: container %s differs (-config +chart):\n%s", key, field, diff)
		}
	}
	normalize := func(a string) string {
		if !strings.Contains(a, "=") {
			return a + "=true"
		}
		return a
	}
	chartArgs := args(gc)
	for i := range chartArgs {
		chartArgs[i] = normalize(chartArgs[i])
	}
	for _, a := range args(wc) {
		if !slices.Contains(chartArgs, normalize(a)) {
			t.Errorf("%s: config/manager passes %s, the chart's args are %v", key, a, chartArgs)
		}
	}
}

// collapseSpace returns v with every run of whitespace in its strings made one blank.
func collapseSpace(v any) any {
	switch v := v.(type) {
	case string:
		return strings.Join(strings.Fields(v), " ")
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = collapseSpace(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = collapseSpace(e)
		}
		return out
	}
	return v
}
