package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// The process tests compare a namespace that went through a disruption with one that
// went through the same changes undisturbed. Their names have one length, so that the
// calendars, whose event UIDs hold the namespace, fold their lines alike.
const (
	referenceNS = "pns-reference"
	disturbedNS = "pns-disturbed"
)

// leaseName is the manager's leader election Lease (--leader-elect).
const leaseName = "cohort-operator.learning.cohort.dev"

// maxTakeover is how long the operator may stand still after its leader is killed,
// with the manager's default lease durations (docs/operations.md).
const maxTakeover = 20 * time.Second

// withdrawn and promoted are the memberships of the samples the follow-up change
// touches: a seated member withdraws, which frees a seat for the head of the waitlist.
const (
	withdrawn = "allyship-2026-member-05"
	promoted  = "allyship-2026-member-21"
)

// withdraw makes the follow-up change: a seated member withdraws.
func (pc *procCluster) withdraw(t *testing.T, ns string) {
	t.Helper()
	m := &learningv1alpha1.Membership{}
	if err := pc.admin.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: withdrawn}, m); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(m.DeepCopy())
	m.Spec.Withdrawn = true
	if err := pc.admin.Patch(context.Background(), m, patch); err != nil {
		t.Fatalf("withdrawing %s: %v", withdrawn, err)
	}
}

// withdrawalRecorded checks that the statuses show the change: the withdrawn member's
// phase and the promotion of the waitlist's head.
func (pc *procCluster) withdrawalRecorded(ns string) error {
	ctx := context.Background()
	m := &learningv1alpha1.Membership{}
	if err := pc.admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: withdrawn}, m); err != nil {
		return err
	}
	if m.Status.Phase != learningv1alpha1.MembershipWithdrawn {
		return fmt.Errorf("%s: phase %q", withdrawn, m.Status.Phase)
	}
	if err := pc.admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: promoted}, m); err != nil {
		return err
	}
	if !conditionTrue(m.Status.Conditions, learningv1alpha1.SeatedCondition) {
		return fmt.Errorf("%s is not seated: waitlist position %v", promoted, m.Status.WaitlistPosition)
	}
	return nil
}

func conditionTrue(conditions []metav1.Condition, condition string) bool {
	for _, c := range conditions {
		if c.Type == condition {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// TestProcessKilledMidRunConvergesAsUndisturbed kills the manager with SIGKILL while it
// converges the samples, after a third of the writes an undisturbed run needed, starts
// a new process, and checks that the end state is the undisturbed run's: the same
// objects (no provisioned child or generated gathering doubled or orphaned, no user
// object deleted), the same statuses, each transition's Event emitted at most once,
// and the converged namespace left untouched by both restarts.
func TestProcessKilledMidRunConvergesAsUndisturbed(t *testing.T) {
	begin := time.Now()
	pc := startProcCluster(t)

	pc.createSamples(t, referenceNS)
	first := pc.startManager(t, "undisturbed")
	pc.waitSettled(t, first, referenceNS)
	needed := first.mustScrape(t).writes()
	reference := pc.takeSnapshot(t, referenceNS, timeWindow{begin, time.Now()})
	pc.checkNoDoubleEvents(t, referenceNS)
	first.stop(t)
	t.Logf("the undisturbed run took %.0f writes", needed)

	pc.createSamples(t, disturbedNS)
	killed := pc.startManager(t, "killed")
	var atKill float64
	procWait(t, "the manager makes a third of its writes", time.Minute, func() error {
		pm, err := killed.scrape()
		if err != nil {
			return err
		}
		if atKill = pm.writes(); atKill < needed/3 {
			return fmt.Errorf("%.0f writes", atKill)
		}
		return nil
	})
	killed.kill(t)
	t.Logf("killed the manager after at least %.0f writes", atKill)
	if diffSnapshots(reference, pc.takeSnapshot(t, disturbedNS, timeWindow{begin, time.Now()})) == nil {
		t.Fatal("the manager had converged before it was killed; kill it earlier")
	}

	restarted := pc.startManager(t, "restarted")
	pc.waitSettled(t, restarted, disturbedNS)
	if err := diffSnapshots(reference, pc.takeSnapshot(t, disturbedNS, timeWindow{begin, time.Now()})); err != nil {
		t.Errorf("after the kill and restart the end state differs from the undisturbed run's:\n%v", err)
	}
	pc.checkNoDoubleEvents(t, disturbedNS)
	if err := diffVersions(reference, pc.takeSnapshot(t, referenceNS, timeWindow{begin, time.Now()})); err != nil {
		t.Errorf("the restarted managers rewrote the converged namespace: %v", err)
	}
}

// diffVersions names the objects whose resourceVersion changed since before was taken.
func diffVersions(before, after snapshot) error {
	var changed []string
	for _, key := range slices.Sorted(maps.Keys(before.versions)) {
		if after.versions[key] != before.versions[key] {
			changed = append(changed, key)
		}
	}
	if len(changed) > 0 || len(after.versions) != len(before.versions) {
		return fmt.Errorf("%d objects before, %d after; changed: %v", len(before.versions), len(after.versions), changed)
	}
	return nil
}

// TestProcessSurvivesAPIServerRestart stops kube-apiserver for a few seconds while the
// manager converges the samples and starts it again on the same address with the same
// certificates and etcd. The manager keeps running and converges; a withdrawal made
// after that brings the namespace to the state of an undisturbed run of the same
// changes.
func TestProcessSurvivesAPIServerRestart(t *testing.T) {
	begin := time.Now()
	pc := startProcCluster(t)
	m := pc.startManager(t, "manager")

	pc.createSamples(t, referenceNS)
	pc.waitSettled(t, m, referenceNS)
	needed := m.mustScrape(t).writes()
	pc.withdraw(t, referenceNS)
	pc.waitSettled(t, m, referenceNS)
	reference := pc.takeSnapshot(t, referenceNS, timeWindow{begin, time.Now()})
	pc.checkNoDoubleEvents(t, referenceNS)

	before := m.mustScrape(t)
	pc.createSamples(t, disturbedNS)
	var atStop float64
	procWait(t, "the manager starts converging", time.Minute, func() error {
		if atStop = m.mustScrape(t).writes() - before.writes(); atStop == 0 {
			return fmt.Errorf("no write yet")
		}
		return nil
	})
	if err := pc.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	time.Sleep(3 * time.Second)
	if err := pc.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver was down for %s, from the manager's write %.0f of %.0f on", time.Since(down).Round(time.Millisecond), atStop, needed)
	if atStop >= needed {
		t.Fatal("the manager had converged before the API server stopped; stop it earlier")
	}
	if !m.alive() {
		t.Fatalf("the manager exited while the API server was down: %v", m.exitErr)
	}
	afterRestart := m.mustScrape(t)
	if failed := afterRestart.unanswered() - before.unanswered(); failed == 0 {
		t.Error("the manager sent no request while the API server was down; the restart went unnoticed")
	}
	pc.waitSettled(t, m, disturbedNS)
	pc.withdraw(t, disturbedNS)
	pc.waitSettled(t, m, disturbedNS)
	// Writes falling quiet is not enough here: the restarted API server refuses the
	// manager's watches until its authorizer has loaded RBAC, and a refused watch is
	// retried with backoff, so the manager's cache may see a child it created seconds
	// after its last write, and only then report it. Convergence is the claim.
	procWait(t, "after the API server restart, the end state converges to the undisturbed run's", time.Minute, func() error {
		return diffSnapshots(reference, pc.takeSnapshot(t, disturbedNS, timeWindow{begin, time.Now()}))
	})
	pc.checkNoDoubleEvents(t, disturbedNS)
	if !m.alive() {
		t.Fatalf("the manager exited: %v", m.exitErr)
	}
}

// TestProcessLeaderElectionHandsOverAfterKill runs two replicas with leader election
// and the default lease durations. The replica that does not hold the lease writes
// nothing; after the leader is killed with SIGKILL and a member withdraws, the other
// takes the lease within maxTakeover, records the withdrawal, and converges to the
// state of an undisturbed run, without emitting any transition's Event twice.
func TestProcessLeaderElectionHandsOverAfterKill(t *testing.T) {
	begin := time.Now()
	pc := startProcCluster(t)
	args := []string{"--leader-elect", "--leader-elect-namespace", managerNamespace}
	replicas := []*procManager{pc.startManager(t, "replica-a", args...), pc.startManager(t, "replica-b", args...)}

	var leader, follower *procManager
	procWait(t, "one replica leads", time.Minute, func() error {
		a, b := replicas[0].mustScrape(t).leading(), replicas[1].mustScrape(t).leading()
		switch {
		case a && b:
			t.Fatal("both replicas lead")
		case a:
			leader, follower = replicas[0], replicas[1]
		case b:
			leader, follower = replicas[1], replicas[0]
		default:
			return fmt.Errorf("no replica leads")
		}
		return nil
	})
	lease := &coordinationv1.Lease{}
	if err := pc.admin.Get(context.Background(), client.ObjectKey{Namespace: managerNamespace, Name: leaseName}, lease); err != nil {
		t.Fatal(err)
	}
	leaderID := *lease.Spec.HolderIdentity
	t.Logf("replica %s leads as %s", leader.name, leaderID)

	pc.createSamples(t, referenceNS)
	pc.waitSettled(t, leader, referenceNS)
	pc.withdraw(t, referenceNS)
	pc.waitSettled(t, leader, referenceNS)
	reference := pc.takeSnapshot(t, referenceNS, timeWindow{begin, time.Now()})

	pc.createSamples(t, disturbedNS)
	pc.waitSettled(t, leader, disturbedNS)
	if w := follower.mustScrape(t).writes(); w != 0 {
		t.Fatalf("replica %s wrote %.0f times without holding the lease", follower.name, w)
	}

	leader.kill(t)
	killed := time.Now()
	pc.withdraw(t, disturbedNS)
	var takeover, recorded time.Duration
	procWait(t, "the other replica takes the lease and records the withdrawal", time.Minute, func() error {
		if takeover == 0 {
			l := &coordinationv1.Lease{}
			if err := pc.admin.Get(context.Background(), client.ObjectKeyFromObject(lease), l); err != nil {
				return err
			}
			if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == leaderID {
				return fmt.Errorf("the lease is still held by %s", leaderID)
			}
			takeover = time.Since(killed)
			t.Logf("replica %s took the lease as %s", follower.name, *l.Spec.HolderIdentity)
		}
		if err := pc.withdrawalRecorded(disturbedNS); err != nil {
			return err
		}
		recorded = time.Since(killed)
		return nil
	})
	t.Logf("after the leader was killed: lease taken over in %s, withdrawal recorded in %s", takeover.Round(10*time.Millisecond), recorded.Round(10*time.Millisecond))
	if takeover > maxTakeover {
		t.Errorf("the lease was taken over %s after the leader was killed, more than %s", takeover.Round(10*time.Millisecond), maxTakeover)
	}
	if !follower.mustScrape(t).leading() {
		t.Errorf("replica %s holds the lease but does not report leading", follower.name)
	}

	pc.waitSettled(t, follower, disturbedNS)
	if err := diffSnapshots(reference, pc.takeSnapshot(t, disturbedNS, timeWindow{begin, time.Now()})); err != nil {
		t.Errorf("after the failover the end state differs from the undisturbed run's:\n%v", err)
	}
	pc.checkNoDoubleEvents(t, referenceNS)
	pc.checkNoDoubleEvents(t, disturbedNS)
}
