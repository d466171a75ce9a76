package reliability

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// The concurrency test's shape.
const (
	crowd          = "crowd-2026"
	writers        = 10
	perWriter      = 2
	rounds         = 5
	crowdSeats     = 15
	scheduleTitles = 8
)

var statuses = []learningv1alpha1.AttendanceStatus{
	learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceLate,
	learningv1alpha1.AttendanceExcused, learningv1alpha1.AttendanceAbsent,
}

// TestConcurrentWritersLoseNothing runs ten writers against one cohort while the
// manager reconciles it. Each writer owns two memberships: every round it renames them
// and records their attendance on every generated gathering, reading and writing with
// optimistic concurrency and retrying on conflicts; in the last round it withdraws one
// of them, which releases its seat to the waitlist. Meanwhile the cohort's schedule is
// renamed and its lookahead raised, so the manager rewrites the untouched generated
// gatherings and creates new ones. In the end no writer's last update is lost, and the
// statuses are the ones the rules give for the final specs: evaluating the unit again
// changes nothing and the schedule needs no write.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	policy := learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{testutil.Role("Member", 0, crowdSeats)}}
	c := testutil.StandaloneCohort(ns, crowd, "2026-10-01", 12, policy)
	c.Spec.Schedule = testutil.MonthlySchedule()
	c.Spec.Schedule.RRule = "FREQ=WEEKLY;BYDAY=TU"
	c.Spec.Schedule.Lookahead = 4
	objs := []client.Object{c}
	for i := range writers * perWriter {
		objs = append(objs, testutil.Membership(ns, member(i), crowd, member(i)+"@example.org", "Member"))
	}
	for _, o := range objs {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	log := newWriteLog()
	startManager(t, ns, log)
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, convergeTimeout, true, func(ctx context.Context) (bool, error) {
		g, err := gatherings(ctx, ns)
		return len(g) == 4, err
	}); err != nil {
		t.Fatalf("the schedule's four gatherings were not generated: %v", err)
	}

	var (
		conflicts atomic.Int64
		mu        sync.Mutex
		// recorded is the last attendance each writer recorded, by gathering and
		// membership; named the last name each writer gave each membership.
		recorded = map[string]map[string]learningv1alpha1.AttendanceStatus{}
		named    = map[string]string{}
		errs     = make([]error, writers+1)
		wg       sync.WaitGroup
	)
	retry := func(do func() error) error {
		for {
			err := do()
			if !apierrors.IsConflict(err) {
				return err
			}
			conflicts.Add(1)
		}
	}
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				for i := range perWriter {
					name := member(w*perWriter + i)
					display := fmt.Sprintf("%s, round %d", name, r)
					withdraw := r == rounds-1 && i == 1
					if err := retry(func() error { return editMembership(ctx, ns, name, display, withdraw) }); err != nil {
						errs[w] = fmt.Errorf("editing %s: %w", name, err)
						return
					}
					mu.Lock()
					named[name] = display
					mu.Unlock()
				}
				events, err := gatherings(ctx, ns)
				if err != nil {
					errs[w] = err
					return
				}
				for _, e := range events {
					status := statuses[(w+r)%len(statuses)]
					err := retry(func() error { return recordAttendance(ctx, ns, e.Name, w, status) })
					if apierrors.IsNotFound(err) {
						// An untouched gathering the schedule no longer wants.
						continue
					}
					if err != nil {
						errs[w] = fmt.Errorf("recording attendance on %s: %w", e.Name, err)
						return
					}
					mu.Lock()
					if recorded[e.Name] == nil {
						recorded[e.Name] = map[string]learningv1alpha1.AttendanceStatus{}
					}
					for i := range perWriter {
						recorded[e.Name][member(w*perWriter+i)] = status
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Go(func() {
		for i := range scheduleTitles {
			patch := fmt.Sprintf(`{"spec":{"schedule":{"title":"Circle, take %d","lookahead":%d}}}`, i, 4+i/2)
			if err := admin.Patch(ctx, &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: crowd}}, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
				errs[writers] = err
				return
			}
			time.Sleep(150 * time.Millisecond)
		}
	})
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, ns, log)

	for name, display := range named {
		m := &learningv1alpha1.Membership{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
			t.Fatal(err)
		}
		if m.Spec.DisplayName != display {
			t.Errorf("membership %s: display name %q, its writer's last was %q", name, m.Spec.DisplayName, display)
		}
	}
	for event, want := range recorded {
		e := &learningv1alpha1.LearningEvent{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: event}, e); err != nil {
			t.Fatalf("gathering %s, with attendance recorded, is gone: %v", event, err)
		}
		got := map[string]learningv1alpha1.AttendanceStatus{}
		for _, a := range e.Spec.Attendance {
			if _, dup := got[string(a.Member)]; dup {
				t.Errorf("gathering %s records %s twice", event, a.Member)
			}
			got[string(a.Member)] = a.Status
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("gathering %s: attendance %v, the writers' last was %v", event, got, want)
		}
	}
	assertFixedPoint(t, ns)
	t.Logf("%d writers, %d rounds, %d schedule changes: %d conflicts retried by the writers, %d gatherings with attendance, %d manager writes",
		writers, rounds, scheduleTitles, conflicts.Load(), len(recorded), func() int { n, _, _ := log.snapshot(); return n }())
}

func member(i int) string { return fmt.Sprintf("mem-%02d", i) }

// gatherings lists the cohort's generated gatherings.
func gatherings(ctx context.Context, ns string) ([]learningv1alpha1.LearningEvent, error) {
	list := &learningv1alpha1.LearningEventList{}
	err := admin.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{program.ScheduleLabel: names.CohortLabel(crowd)})
	return list.Items, err
}

// editMembership renames a membership, and withdraws it when asked, with an update
// locked to the version read.
func editMembership(ctx context.Context, ns, name, display string, withdraw bool) error {
	m := &learningv1alpha1.Membership{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
		return err
	}
	m.Spec.DisplayName = display
	if withdraw {
		m.Spec.Withdrawn = true
	}
	return admin.Update(ctx, m)
}

// recordAttendance records status for writer w's memberships on a gathering, with an
// update locked to the version read, keeping every other record.
func recordAttendance(ctx context.Context, ns, event string, w int, status learningv1alpha1.AttendanceStatus) error {
	e := &learningv1alpha1.LearningEvent{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: event}, e); err != nil {
		return err
	}
	for i := range perWriter {
		name := learningv1alpha1.ObjectName(member(w*perWriter + i))
		if j := slices.IndexFunc(e.Spec.Attendance, func(a learningv1alpha1.AttendanceRecord) bool { return a.Member == name }); j >= 0 {
			e.Spec.Attendance[j].Status = status
		} else {
			e.Spec.Attendance = append(e.Spec.Attendance, testutil.Attended(string(name), status))
		}
	}
	return admin.Update(ctx, e)
}

// waitSettled waits until the manager has written the status of every object's
// current generation in namespace ns and then made no write for a quiet period.
func waitSettled(t *testing.T, ns string, log *writeLog) {
	t.Helper()
	var pending []string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, convergeTimeout, true, func(ctx context.Context) (bool, error) {
		snap, err := readSnapshot(ctx, ns)
		if err != nil {
			return false, err
		}
		pending = nil
		for _, c := range snap.Cohorts {
			if c.Status.ObservedGeneration != c.Generation {
				pending = append(pending, "Cohort/"+c.Name)
			}
		}
		for _, m := range snap.Memberships {
			if m.Status.ObservedGeneration != m.Generation {
				pending = append(pending, "Membership/"+m.Name)
			}
		}
		for _, e := range snap.Events {
			if e.Status.ObservedGeneration != e.Generation {
				pending = append(pending, "LearningEvent/"+e.Name)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		t.Fatalf("statuses of the current generations were not written: %s", strings.Join(pending, ", "))
	}
	waitQuiet(t, log, false, quietPeriod, convergeTimeout)
}

// readSnapshot reads the standalone cohort unit of namespace ns from the API server.
func readSnapshot(ctx context.Context, ns string) (program.Snapshot, error) {
	snap := program.Snapshot{Now: evaluatedAt}
	cohorts := &learningv1alpha1.CohortList{}
	memberships := &learningv1alpha1.MembershipList{}
	events := &learningv1alpha1.LearningEventList{}
	for _, l := range []client.ObjectList{cohorts, memberships, events} {
		if err := admin.List(ctx, l, client.InNamespace(ns)); err != nil {
			return snap, err
		}
	}
	for i := range cohorts.Items {
		snap.Cohorts = append(snap.Cohorts, &cohorts.Items[i])
	}
	for i := range memberships.Items {
		snap.Memberships = append(snap.Memberships, &memberships.Items[i])
	}
	for i := range events.Items {
		snap.Events = append(snap.Events, &events.Items[i])
	}
	return snap, nil
}

// assertFixedPoint fails unless the statuses in namespace ns are what the rules give
// for its specs and the statuses they hold: evaluating the unit again changes none,
// and its schedule needs no gathering created, rewritten or deleted.
func assertFixedPoint(t *testing.T, ns string) {
	t.Helper()
	snap, err := readSnapshot(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	out := program.Evaluate(snap)
	for _, c := range snap.Cohorts {
		if want := out.Cohorts[c.Name]; !equality.Semantic.DeepEqual(c.Status, want) {
			t.Errorf("cohort %s: status %+v, the rules give %+v", c.Name, c.Status, want)
		}
		var generated []*learningv1alpha1.LearningEvent
		for _, e := range snap.Events {
			if e.Labels[program.ScheduleLabel] == names.CohortLabel(c.Name) {
				generated = append(generated, e)
			}
		}
		plan, err := program.PlanGatherings(c, generated, snap.Now)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Apply) > 0 || len(plan.Delete) > 0 {
			t.Errorf("cohort %s: the schedule still wants %d gatherings written and %d deleted", c.Name, len(plan.Apply), len(plan.Delete))
		}
	}
	for _, m := range snap.Memberships {
		if want := out.Memberships[m.Name]; !equality.Semantic.DeepEqual(m.Status, want) {
			t.Errorf("membership %s: status %+v, the rules give %+v", m.Name, m.Status, want)
		}
	}
	for _, e := range snap.Events {
		if want := out.Events[e.Name]; !equality.Semantic.DeepEqual(e.Status, want) {
			t.Errorf("event %s: status %+v, the rules give %+v", e.Name, e.Status, want)
		}
	}
}
