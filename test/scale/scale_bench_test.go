// Package scale measures how fast the operator follows changes in a large cohort, on the
// local control plane with the manager running on the real clock and no cap on its
// requeues, so that every evaluation it counts was caused by a change.
package scale

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// Scale of the change-latency benchmarks: a cohort of 1,000 seated members with 10
// waiting, each seated member with a personal ActionPlan (1,000 plans), and five ended
// gatherings with attendance recorded for everyone.
const (
	scaleSeats      = 1000
	scaleWaiting    = 10
	scaleChanges    = 20
	scaleGatherings = 5
)

// BenchmarkWithdrawalPromotes measures, in a cohort of 1,000 seated members with 10
// waiting, the time from a withdrawal until the head of the waitlist is Seated, over 20
// withdrawals made one at a time (a newcomer joins the waitlist after each, so 10 keep
// waiting); it reports the median and worst latency and how many unit evaluations each
// change cost.
func BenchmarkWithdrawalPromotes(b *testing.B) {
	for b.Loop() {
		ns := setupScaleCohort(b)
		var latencies []time.Duration
		evals := 0.0
		for i := range scaleChanges {
			before := evaluations(ns)
			start := time.Now()
			withdraw(b, ns, scaleMember(i))
			waitUntil(b, "the next member is seated", func() bool { return seated(ns, scaleMember(scaleSeats+i)) })
			latencies = append(latencies, time.Since(start))
			evals += settledEvaluations(ns) - before
			// Keep 10 waiting: a newcomer joins the waitlist, outside the measurement.
			create(b, testutil.Membership(ns, scaleMember(scaleSeats+scaleWaiting+i), "scale-2026", "u-new-"+scaleMember(i), "Member"))
			settledEvaluations(ns)
		}
		reportLatencies(b, latencies, evals)
	}
}

// BenchmarkAttendanceEditShows measures, in the same cohort, the time from an edit of
// one member's attendance on a gathering until the member's status counts it, over 20
// edits of different members made one at a time.
func BenchmarkAttendanceEditShows(b *testing.B) {
	for b.Loop() {
		ns := setupScaleCohort(b)
		var latencies []time.Duration
		evals := 0.0
		for i := range scaleChanges {
			name := scaleMember(i)
			before := evaluations(ns)
			start := time.Now()
			markAbsent(b, ns, "gathering-0", name)
			waitUntil(b, "the member's attendance counts the absence", func() bool {
				m := membership(ns, name)
				return get(m) == nil && m.Status.Attendance != nil && m.Status.Attendance.Absent == 1
			})
			latencies = append(latencies, time.Since(start))
			evals += settledEvaluations(ns) - before
		}
		reportLatencies(b, latencies, evals)
	}
}

// BenchmarkCheckInShows measures, in the same cohort, the time from a check-in on an
// ActionPlan (its overdue action reported Done) until the cohort's figures count the
// plan as current: the path from a check-in to the cohort's figures, over 20 plans
// checked in one at a time.
func BenchmarkCheckInShows(b *testing.B) {
	for b.Loop() {
		ns := setupScaleCohort(b)
		cohort := &learningv1alpha1.Cohort{}
		cohort.Namespace, cohort.Name = ns, "scale-2026"
		if err := get(cohort); err != nil {
			b.Fatal(err)
		}
		current := cohort.Status.ActionPlans.Current
		var latencies []time.Duration
		evals := 0.0
		for i := range scaleChanges {
			before := evaluations(ns)
			start := time.Now()
			update(b, actionPlan(ns, planOf(i)), func(p *learningv1alpha1.ActionPlan) {
				p.Spec.Actions[0].Status = learningv1alpha1.ActionDone
				p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{
					ID: "done", At: metav1.NewTime(start.Truncate(time.Second)), Author: p.Spec.Owner,
					Progress: []learningv1alpha1.ActionProgress{{ActionID: p.Spec.Actions[0].ID, Status: learningv1alpha1.ActionDone}},
				})
			})
			want := current + int32(i) + 1
			waitUntil(b, "the cohort counts the plan as current", func() bool {
				return get(cohort) == nil && cohort.Status.ActionPlans != nil && cohort.Status.ActionPlans.Current == want
			})
			latencies = append(latencies, time.Since(start))
			evals += settledEvaluations(ns) - before
		}
		reportLatencies(b, latencies, evals)
	}
}

func planOf(i int) string { return "plan-" + scaleMember(i) }

func actionPlan(ns, name string) *learningv1alpha1.ActionPlan {
	p := &learningv1alpha1.ActionPlan{}
	p.Namespace, p.Name = ns, name
	return p
}

// setupScaleCohort creates the benchmark's cohort and waits until every member is
// seated or waiting, every plan is judged, and the cohort reports it.
func setupScaleCohort(b testing.TB) string {
	b.Helper()
	ns := testutil.Namespace(b, k8s)
	// The cohort started six months ago and runs a year, whatever the date.
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month()-6, 1, 0, 0, 0, 0, time.UTC)
	create(b, testutil.Community(ns, "scale", testutil.Role("Member", 0, scaleSeats)),
		testutil.Cohort(ns, "scale-2026", "scale", learningv1alpha1.Date(start.Format("2006-01-02")), 12))
	objs := make([]client.Object, 0, scaleSeats+scaleWaiting)
	for i := range scaleSeats + scaleWaiting {
		objs = append(objs, testutil.Membership(ns, scaleMember(i), "scale-2026", "u-"+scaleMember(i), "Member"))
	}
	// Creation times decide the waitlist: the waiting ones come a second later.
	createConcurrently(b, objs[:scaleSeats])
	time.Sleep(1100 * time.Millisecond)
	create(b, objs[scaleSeats:]...)
	attendance := make([]learningv1alpha1.AttendanceRecord, 0, scaleSeats)
	for i := range scaleSeats {
		attendance = append(attendance, testutil.Attended(scaleMember(i), learningv1alpha1.AttendancePresent))
	}
	for g := range scaleGatherings {
		start := start.AddDate(0, g, 8).Add(17 * time.Hour)
		create(b, testutil.Gathering(ns, fmt.Sprintf("gathering-%d", g), "scale-2026", start, attendance...))
	}
	// A personal plan of every seated member, its first action overdue since the
	// cohort's start.
	plans := make([]client.Object, 0, scaleSeats)
	for i := range scaleSeats {
		plans = append(plans, testutil.PersonalPlan(ns, planOf(i), scaleMember(i), "u-"+scaleMember(i),
			testutil.Action("listen", learningv1alpha1.Date(start.Format("2006-01-02")), learningv1alpha1.ActionInProgress),
			testutil.Action("mentor", "", learningv1alpha1.ActionPlanned)))
	}
	createConcurrently(b, plans)
	cohort := &learningv1alpha1.Cohort{}
	cohort.Namespace, cohort.Name = ns, "scale-2026"
	waitUntil(b, "the cohort is settled", func() bool {
		return get(cohort) == nil && cohort.Status.Waitlisted == scaleWaiting && cohort.Status.AttendancePercent != nil &&
			cohort.Status.ActionPlans != nil && cohort.Status.ActionPlans.Plans == scaleSeats && cohort.Status.ActionPlans.Overdue == scaleSeats
	})
	last := membership(ns, scaleMember(scaleSeats-1))
	waitUntil(b, "every member's attendance is judged", func() bool {
		return get(last) == nil && last.Status.Attendance != nil && last.Status.Attendance.Present == scaleGatherings
	})
	// Measure the steady state: the manager has stopped evaluating the new cohort and
	// has posted the Seated and Waitlisted Events of every member, which would
	// otherwise still load the API server during the first changes.
	settledEvaluations(ns)
	waitUntil(b, "every member's Seated or Waitlisted Event is posted", func() bool {
		list := &eventsv1.EventList{}
		return k8s.List(context.Background(), list, client.InNamespace(ns)) == nil && len(list.Items) >= scaleSeats+scaleWaiting
	})
	return ns
}

func scaleMember(i int) string { return fmt.Sprintf("m-%04d", i) }

// createConcurrently creates objects with eight workers.
func createConcurrently(b testing.TB, objs []client.Object) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(objs))
	work := make(chan client.Object)
	for range 8 {
		wg.Go(func() {
			for o := range work {
				if err := k8s.Create(context.Background(), o); err != nil {
					errs <- fmt.Errorf("creating %s: %w", o.GetName(), err)
				}
			}
		})
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func withdraw(b *testing.B, ns, name string) {
	b.Helper()
	update(b, membership(ns, name), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
}

// markAbsent changes one member's entry on a gathering to Absent.
func markAbsent(b *testing.B, ns, event, member string) {
	b.Helper()
	update(b, learningEvent(ns, event), func(e *learningv1alpha1.LearningEvent) {
		i := slices.IndexFunc(e.Spec.Attendance, func(a learningv1alpha1.AttendanceRecord) bool { return string(a.Member) == member })
		e.Spec.Attendance[i].Status = learningv1alpha1.AttendanceAbsent
	})
}

// waitUntil polls every 5 ms, for at most 30 s.
func waitUntil(b testing.TB, what string, done func() bool) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settledEvaluations waits until the program controller has been idle (no unit in its
// queue, no worker busy) for a whole second, and returns the namespace's evaluation
// count. The count alone is not enough: it grows when an evaluation starts writing, and
// the first evaluation of a new 1,000-member cohort writes for seconds.
func settledEvaluations(ns string) float64 {
	idleSince := time.Time{}
	for {
		busy := gauge("workqueue_depth", "name", "program") + gauge("controller_runtime_active_workers", "controller", "program")
		switch {
		case busy > 0:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = time.Now()
		case time.Since(idleSince) > time.Second:
			return evaluations(ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reportLatencies reports the median and worst latency in milliseconds and the unit
// evaluations per change.
func reportLatencies(b *testing.B, latencies []time.Duration, evaluations float64) {
	b.Helper()
	b.Logf("latencies in order of the changes: %v", latencies)
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)-1].Milliseconds()), "max-ms")
	b.ReportMetric(evaluations/float64(len(latencies)), "evals/change")
}

// evaluations reads the manager's count of unit evaluations in the namespace from the
// metrics registry it serves.
func evaluations(ns string) float64 {
	return gauge("cohort_program_evaluations_total", "namespace", ns)
}

// gauge reads the value of the series of a metric of the manager's registry whose label
// has the given value; 0 when there is none.
func gauge(metric, label, value string) float64 {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return 0
	}
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
