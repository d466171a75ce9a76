package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/samples"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// The startup test repeats what a user of make demo does on a new machine: a fresh
// control plane, config/local installed, the manager started, and a program applied a
// few seconds later, before anything else happened on the cluster.
const (
	// startupRuns is how many fresh clusters the test brings up.
	startupRuns = 20
	// startupDelay is how long after the manager's start the program is applied.
	startupDelay = 3 * time.Second
	// startupDeadline is how soon after it is applied the program must converge.
	startupDeadline = 5 * time.Second
	// startupCohort is the cohort of the applied program whose Ready condition is
	// awaited.
	startupCohort = "allyship-2026"
)

// startupProgram is the program the startup test applies: the allyship community, its
// cohort and their memberships from config/samples, dated so that today falls inside it.
var startupProgram = []string{"allyship-community.yaml", "allyship-memberships.yaml"}

// TestFreshClusterStartup brings up a fresh cluster and install startupRuns times,
// starts the manager, applies a program startupDelay later, and requires every run to
// converge within startupDeadline.
func TestFreshClusterStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up 20 clusters")
	}
	objs := startupObjects(t)
	var took []time.Duration
	for i := range startupRuns {
		t.Run(fmt.Sprintf("run-%02d", i+1), func(t *testing.T) {
			d := startupRun(t, objs)
			took = append(took, d)
			t.Logf("converged %s after the program was applied", d.Round(time.Millisecond))
		})
	}
	if len(took) > 0 {
		slices.Sort(took)
		t.Logf("convergence over %d runs: fastest %s, median %s, slowest %s", len(took),
			took[0].Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	}
}

// startupObjects decodes startupProgram, its dates shifted to today.
func startupObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var manifest []byte
	for _, file := range startupProgram {
		data, err := os.ReadFile(testutil.Path("config", "samples", file))
		if err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, "---\n"+samples.ShiftMonths(string(data), samples.ShiftFor(time.Now().UTC()))...)
	}
	objs, err := testutil.DecodeManifests(manifest)
	if err != nil {
		t.Fatalf("decoding the program: %v", err)
	}
	return objs
}

// startupRun brings up a fresh cluster and install, starts the manager, applies objs
// startupDelay later and returns how long the program took to converge.
func startupRun(t *testing.T, objs []*unstructured.Unstructured) time.Duration {
	pc := startFreshInstall(t)
	started := time.Now()
	pc.startManager(t, "manager")
	time.Sleep(time.Until(started.Add(startupDelay)))
	ctx := context.Background()
	const ns = "startup"
	applied := time.Now()
	if err := pc.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
	if err := testutil.CreateAll(ctx, pc.admin, ns, objs); err != nil {
		t.Fatal(err)
	}
	// Waited for well past the deadline, so that a failure says how late it was.
	procWait(t, "the program converges", time.Minute, func() error { return pc.startupConverged(ns) })
	took := time.Since(applied)
	if took > startupDeadline {
		t.Errorf("the program converged %s after it was applied, %s after the manager started; want within %s",
			took.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), startupDeadline)
	}
	return took
}

// startupConverged checks that every program object of ns has a status for its
// generation and that the cohort is Ready.
func (pc *procCluster) startupConverged(ns string) error {
	if err := pc.statusesCurrent(ns); err != nil {
		return err
	}
	cohort := &learningv1alpha1.Cohort{}
	if err := pc.admin.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: startupCohort}, cohort); err != nil {
		return err
	}
	if c := apimeta.FindStatusCondition(cohort.Status.Conditions, learningv1alpha1.ReadyCondition); c == nil || c.Status != metav1.ConditionTrue {
		return fmt.Errorf("cohort %s is not Ready: %v", startupCohort, c)
	}
	return nil
}

// startFreshInstall starts a cluster as make demo does (etcd, kube-apiserver and
// kube-controller-manager), installs config/local (CRDs, RBAC, approval policy), waits
// for the CRDs to be Established, and stops the cluster when the test ends.
func startFreshInstall(t *testing.T) *procCluster {
	t.Helper()
	return startInstalledCluster(t, "startup-admin", localcluster.Options{ControllerManager: true})
}
