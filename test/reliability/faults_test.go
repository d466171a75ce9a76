package reliability

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testmanager"
)

// convergeTimeout bounds how long a run may take to reach the undisturbed state.
const convergeTimeout = time.Minute

// quietPeriod is how long a manager makes no write before its namespace counts as
// converged.
const quietPeriod = time.Second

// run is what one run of the workload ended with.
type run struct {
	state  state
	events map[string]int
	writes []string
	kinds  map[string]int
	// hit names the write the fault struck; hitKind its verb and kind.
	hit, hitKind string
}

// startManager starts a manager for namespace ns whose writes go through log, and stops
// it when the test ends.
func startManager(t *testing.T, ns string, log *writeLog) *testmanager.Manager {
	t.Helper()
	return startManagerWith(t, managerConfig, ns, log)
}

// startManagerWith starts a manager like startManager, reaching the API server with cfg.
func startManagerWith(t *testing.T, cfg *rest.Config, ns string, log *writeLog) *testmanager.Manager {
	t.Helper()
	m, err := testmanager.Start(context.Background(), testmanager.Options{
		Config: cfg, Clock: fixedClock, Namespaces: []string{ns}, Interceptor: log.funcs(),
	})
	if err != nil {
		t.Fatalf("starting the manager: %v", err)
	}
	t.Cleanup(func() { _ = m.Stop() })
	return m
}

// createWorkload creates the workload in a new namespace and returns its name.
func createWorkload(t *testing.T) string {
	t.Helper()
	ns := namespace(t)
	for _, obj := range workload(ns) {
		if err := admin.Create(context.Background(), obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	return ns
}

// scenario is what the managers of a fault test start from: the workload as created,
// or the workload converged and then changed while no manager ran.
type scenario struct {
	name string
	// change, when set, is made once an undisturbed manager has converged on the
	// workload and stopped.
	change func(ctx context.Context, ns string) error
}

// scenarios make the manager use every kind of write: creating and applying (create),
// trusting an approval (approve), deleting provisioned children and untouched
// gatherings (change), and releasing the cohort's finalizer (delete).
var scenarios = []scenario{
	{name: "create"},
	{name: "approve", change: func(ctx context.Context, ns string) error {
		// The approver, bound by the operator, approves the External talk as themselves:
		// it becomes Approved and joins the calendar.
		talk := &learningv1alpha1.LearningEvent{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: speaker}, talk); err != nil {
			return err
		}
		patch := fmt.Sprintf(`{"spec":{"approval":{"approver":%q,"contentHash":%q}}}`, approver, talk.Status.ContentHash)
		return approverClient.Patch(ctx, talk, client.RawPatch(types.MergePatchType, []byte(patch)))
	}},
	{name: "change", change: func(ctx context.Context, ns string) error {
		// The portal is switched off (its six objects are deleted), the lookahead
		// drops to one (a gathering is deleted), the approver is removed (their
		// RoleBinding is deleted) and a member withdraws (the waitlist moves up).
		for _, c := range []struct {
			obj   client.Object
			name  string
			patch string
		}{
			{&learningv1alpha1.Cohort{}, cohort, `{"spec":{"services":{"portal":{"enabled":false}},"schedule":{"lookahead":1}}}`},
			{&learningv1alpha1.CommunityOfPractice{}, community, `{"spec":{"approvers":null}}`},
			{&learningv1alpha1.Membership{}, "m-1", `{"spec":{"withdrawn":true}}`},
		} {
			if err := patchSpec(c.obj, c.name, c.patch)(ctx, ns); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "delete", change: func(ctx context.Context, ns string) error {
		return admin.Delete(ctx, &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: cohort}})
	}},
}

// prepare creates the workload in a new namespace and, for a scenario with a change,
// lets an undisturbed manager converge on it, stops it and makes the change.
func prepare(t *testing.T, sc scenario) string {
	t.Helper()
	ns := createWorkload(t)
	if sc.change == nil {
		return ns
	}
	log := newWriteLog()
	m := startManager(t, ns, log)
	waitQuiet(t, log, true, quietPeriod, convergeTimeout)
	settledEvents(t, ns)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := sc.change(context.Background(), ns); err != nil {
		t.Fatalf("changing the workload: %v", err)
	}
	return ns
}

// cleanRun prepares the scenario and lets one undisturbed manager converge on it.
func cleanRun(t *testing.T, sc scenario) run {
	t.Helper()
	ns := prepare(t, sc)
	log := newWriteLog()
	startManager(t, ns, log)
	waitQuiet(t, log, true, quietPeriod, convergeTimeout)
	s, err := captureState(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	return run{state: s, events: settledEvents(t, ns), writes: log.writesMade(), kinds: log.kindsMade()}
}

// faultyRun prepares the scenario and lets a manager converge on it through one fault:
// its first write of failWrite fails once, or it stops right after its first write of
// stopAfter and a new manager takes over. The run must end in the state want.
func faultyRun(t *testing.T, sc scenario, want state, failWrite, stopAfter string) run {
	t.Helper()
	ns := prepare(t, sc)
	first := newWriteLog()
	first.failWrite, first.stopAfter = failWrite, stopAfter
	m := startManager(t, ns, first)
	first.stop = m.Stopping
	last := first
	if stopAfter != "" {
		deadline := time.Now().Add(convergeTimeout)
		for {
			n, _, stopped := first.snapshot()
			if stopped {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the manager made %d writes, never %q", n, stopAfter)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := m.Stop(); err != nil {
			t.Fatalf("stopping the manager: %v", err)
		}
		last = newWriteLog()
		startManager(t, ns, last)
	}
	got := convergeAndHold(t, ns, want, last)
	hit, hitKind := first.struck()
	if hit == "" {
		t.Fatalf("the fault never struck: the manager never wrote %q", failWrite+stopAfter)
	}
	return run{state: got, events: settledEvents(t, ns), hit: hit, hitKind: hitKind}
}

// TestFaultsConvergeToTheCleanState runs each scenario undisturbed, then once for every
// write the undisturbed manager made with that write failing once, and once for every
// write with the manager stopping right after it (after its k-th write, whatever k the
// write has in that run) and a new one starting. Every run must reach the undisturbed
// run's state exactly (no duplicate or orphaned child, no seat lost or doubled, no user
// object deleted, no attendance record lost) and post no Event the undisturbed run did
// not post once. The faults together strike every kind of write the manager makes.
func TestFaultsConvergeToTheCleanState(t *testing.T) {
	var mu sync.Mutex
	struck := map[string]map[string]bool{"fail": {}, "stop": {}}
	made := map[string]bool{}
	runs := map[string]int{}
	record := func(mode string, r run) {
		mu.Lock()
		defer mu.Unlock()
		struck[mode][r.hitKind] = true
		runs[mode]++
	}
	total := 0
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			clean := cleanRun(t, sc)
			if again := cleanRun(t, sc); len(diff(clean.state, again.state)) > 0 {
				t.Fatalf("two undisturbed runs differ, so a comparison would prove nothing:\n%s", strings.Join(diff(clean.state, again.state), "\n"))
			}
			for event, n := range clean.events {
				if n != 1 {
					t.Errorf("the undisturbed run posted %q %d times", event, n)
				}
			}
			for kind := range clean.kinds {
				made[kind] = true
			}
			total += len(clean.writes)
			t.Logf("undisturbed run: %d objects, %d writes, %d Events; writes by kind: %v", len(clean.state), len(clean.writes), len(clean.events), clean.kinds)
			t.Run("each write fails once", func(t *testing.T) {
				forEachWrite(t, clean.writes, func(t *testing.T, write string) {
					r := faultyRun(t, sc, clean.state, write, "")
					record("fail", r)
					// The failed write was not made, so its Events were not posted;
					// made again, they were posted once.
					if !maps.Equal(r.events, clean.events) {
						t.Errorf("fault on %s: Events differ from the undisturbed run's:\n%s", r.hit, eventDiff(clean.events, r.events))
					}
				})
			})
			t.Run("manager stops after each write", func(t *testing.T) {
				forEachWrite(t, clean.writes, func(t *testing.T, write string) {
					r := faultyRun(t, sc, clean.state, "", write)
					record("stop", r)
					// A stop between a status write and its Events may lose them
					// (Events are posted at most once); none may be posted twice or
					// invented.
					for event, n := range r.events {
						if n > clean.events[event] {
							t.Errorf("stop after %s: %q posted %d times, %d in the undisturbed run", r.hit, event, n, clean.events[event])
						}
					}
				})
			})
		})
	}
	for mode, kinds := range struck {
		if runs[mode] < total {
			// A run filtered with -run: coverage is judged on full runs only.
			t.Logf("%d of %d %q runs ran", runs[mode], total, mode)
			continue
		}
		for kind := range made {
			if !kinds[kind] {
				t.Errorf("no %q run struck a write %q", mode, kind)
			}
		}
	}
	t.Logf("%d runs with a failed write and %d with a stopped manager struck %d kinds of write: %v",
		runs["fail"], runs["stop"], len(made), slices.Sorted(maps.Keys(struck["fail"])))
}

// faultRunners is how many faulty runs go at once: they mostly wait.
const faultRunners = 6

// forEachWrite runs do as a subtest for each write, faultRunners at once.
func forEachWrite(t *testing.T, writes []string, do func(t *testing.T, write string)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range faultRunners {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(writes); i = int(next.Add(1)) - 1 {
				t.Run(writes[i], func(t *testing.T) { do(t, writes[i]) })
			}
		})
	}
	wg.Wait()
}

// eventDiff lists the Events whose counts differ.
func eventDiff(want, got map[string]int) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(maps.Collect(func(yield func(string, int) bool) {
		for k, v := range want {
			yield(k, v)
		}
		for k, v := range got {
			yield(k, v)
		}
	}))) {
		if want[k] != got[k] {
			lines = append(lines, fmt.Sprintf("  %q: want %d, got %d", k, want[k], got[k]))
		}
	}
	return strings.Join(lines, "\n")
}
