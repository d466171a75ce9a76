package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestLeaderElectionValidate(t *testing.T) {
	s := time.Second
	cases := map[string]struct {
		lease, renew, retry time.Duration
		ok                  bool
	}{
		"defaults":                               {defaultLeaseDuration, defaultRenewDeadline, defaultRetryPeriod, true},
		"controller-runtime's defaults":          {15 * s, 10 * s, 2 * s, true},
		"renewing past the lease":                {10 * s, 8 * s, 2 * s, false},
		"renew deadline within one jittered try": {10 * s, 2 * s, 2 * s, false},
		"lease in fractions of a second":         {12500 * time.Millisecond, 8 * s, s, false},
		"zero retry period":                      {12 * s, 8 * s, 0, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := leaderElection{leaseDuration: c.lease, renewDeadline: c.renew, retryPeriod: c.retry}.validate()
			if (err == nil) != c.ok {
				t.Errorf("validate() = %v, want ok %v", err, c.ok)
			}
		})
	}
}

// TestVersionMatchesChart: a binary built without make's version stamp still names, as
// its portals' image, the image the chart installs by default (its appVersion).
func TestVersionMatchesChart(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "charts", "cohort-operator", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	if version != chart.AppVersion {
		t.Errorf("version is %q, the chart's appVersion %q: change both together", version, chart.AppVersion)
	}
	if want := "ghcr.io/cohort-dev/cohort-operator:" + chart.AppVersion; defaultImage() != want {
		t.Errorf("defaultImage() = %q, want %q", defaultImage(), want)
	}
}

func TestSplitList(t *testing.T) {
	cases := map[string][]string{
		"":                 nil,
		" , ":              nil,
		"registry":         {"registry"},
		" a, b ,,c":        {"a", "b", "c"},
		"mirror,registry,": {"mirror", "registry"},
	}
	for in, want := range cases {
		if got := splitList(in); !slices.Equal(got, want) || (want == nil) != (got == nil) {
			t.Errorf("splitList(%q) = %#v, want %#v", in, got, want)
		}
	}
}
