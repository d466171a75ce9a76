// Package benchscale runs the scale benchmark of make bench-scale at a fiftieth of its
// scale, so that the harness cannot rot: the manager binary against a local control
// plane, a cold start and a bulk create, idle writes, change latency and the raw write
// floor. Its timing targets are reported, not asserted; what is asserted is what must
// hold on any machine.
package benchscale

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohort-dev/cohort-operator/internal/benchscale"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

func TestSmallScaleRun(t *testing.T) {
	dir := t.TempDir()
	manager := filepath.Join(dir, "manager")
	build := exec.Command("go", "build", "-o", manager, "./cmd")
	build.Dir = testutil.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = testutil.Path("bin", "k8s")
	}
	limit, err := benchscale.ChartMemoryLimit(testutil.Path("charts", "cohort-operator", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	opts := benchscale.Options{
		MemoryLimit: limit,
		Root:        testutil.RepoRoot(),
		Assets:      assets,
		Manager:     manager,
		Dir:         dir,
		Workers:     4,
		Scale:       benchscale.Fraction(0.02),
		Checkpoints: []float64{0.5},
		Idle:        5 * time.Second,
		Changes:     10,
		Timeout:     5 * time.Minute,
		EtcdNoFsync: true,
		Progress:    &progress,
	}
	res, err := benchscale.Run(context.Background(), opts)
	t.Log("\n" + progress.String())
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	res.PrintTable(&table)
	t.Log(table.String())

	if len(res.Bulk) != 2 {
		t.Fatalf("the bulk create has %d checkpoints, want 2 (half, whole)", len(res.Bulk))
	}
	for name, p := range map[string]benchscale.Phase{"cold start": res.Cold, "bulk create": res.Bulk[1]} {
		if p.Converge <= 0 || p.PeakRSS == 0 || p.Writes() == 0 {
			t.Errorf("%s: a figure is missing: %+v", name, p)
		}
	}
	if res.Floor <= 0 || res.FloorWrites == 0 {
		t.Errorf("no raw write floor: %d writes in %s", res.FloorWrites, res.Floor)
	}
	if got := len(res.Changes.All()); got != opts.Changes {
		t.Errorf("%d changes measured, want %d", got, opts.Changes)
	}
	// Not timings: an idle manager writes nothing, and a manager started on a
	// populated cluster writes each status about once.
	if w := res.Idle.Writes(); w != 0 {
		t.Errorf("the idle manager made %v writes", w)
	}
	if per := res.Cold.StatusWritesPerObject(); per > 1.2 {
		t.Errorf("the cold start wrote %.2f statuses per object, want at most 1.2", per)
	}
	md := res.Markdown("go test ./test/benchscale")
	for _, want := range []string{"## Targets", "raw write floor", "memberships/status", "p99"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
