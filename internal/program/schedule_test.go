package program

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
)

// neverMatching is a schedule the recurrence library can never satisfy: the first of a
// month is never its fifth Monday. Over a long enough cohort it reaches the cap on
// candidate dates.
func neverMatching() *learningv1alpha1.Schedule {
	s := weekly()
	s.RRule = "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO"
	return s
}

// withdrawnSeatAndWaiter are a withdrawn member who held the cohort's only seat and the
// member waiting for it.
func withdrawnSeatAndWaiter(cohort string) []*learningv1alpha1.Membership {
	return []*learningv1alpha1.Membership{
		member("ann-"+cohort, cohort, "ann-"+cohort, "Member", day("2025-12-01"), withdrawn(), heldSince(day("2026-01-01")),
			func(m *learningv1alpha1.Membership) { m.Status.Phase = learningv1alpha1.MembershipActive }),
		member("wes-"+cohort, cohort, "wes-"+cohort, "Member", day("2025-12-02"), waitingAt(1, day("2026-01-02"))),
	}
}

// assertFrozen fails unless every membership of the cohort kept its seat as it was and
// reports the cohort's reason.
func assertFrozen(t *testing.T, out Outcome, members []*learningv1alpha1.Membership, reason string) {
	t.Helper()
	for _, m := range members {
		got := out.Memberships[m.Name]
		before := findCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition)
		if after := findCondition(got.Conditions, learningv1alpha1.SeatedCondition); after.Status != before.Status || after.Reason != before.Reason {
			t.Errorf("%s: Seated went from %s/%s to %s/%s, want it frozen", m.Name, before.Status, before.Reason, after.Status, after.Reason)
		}
		if got := condReason(got.Conditions, learningv1alpha1.StalledCondition); got != reason {
			t.Errorf("%s: Stalled reason = %q, want %q", m.Name, got, reason)
		}
	}
}

// assertPromoted fails unless the sibling's withdrawal freed its seat for the waiting
// member, and access follows.
func assertPromoted(t *testing.T, out Outcome, cohort string) {
	t.Helper()
	if got := seatsOf(out)["wes-"+cohort].Seated; got != learningv1alpha1.SeatedReason {
		t.Errorf("wes-%s Seated reason = %q, want %q: the withdrawal did not promote the waitlist head", cohort, got, learningv1alpha1.SeatedReason)
	}
	pub := out.Publications[cohort]
	if pub.Frozen || slices.Contains(pub.Read, "ann-"+cohort) || !slices.Contains(pub.Read, "wes-"+cohort) {
		t.Errorf("%s publication: frozen %v, read %v; want ann-%s out and wes-%s in", cohort, pub.Frozen, pub.Read, cohort, cohort)
	}
}

func TestScheduleOverTheCapFreezesSeats(t *testing.T) {
	endless := cohort("endless", "2026-01-01", 0, ending("9999-12-31"), scheduled(neverMatching()))
	members := withdrawnSeatAndWaiter("endless")
	out := Evaluate(Snapshot{Now: now, Community: community(role("Member", 0, 1)), Cohorts: []*learningv1alpha1.Cohort{endless}, Memberships: members})

	status := out.Cohorts["endless"]
	for _, typ := range []string{learningv1alpha1.StalledCondition, learningv1alpha1.ReadyCondition} {
		v := verdictOf(status.Conditions, typ)
		if v.Reason != learningv1alpha1.InvalidScheduleReason || !strings.Contains(v.Message, "spec.schedule.rrule") || !strings.Contains(v.Message, "candidate dates") {
			t.Errorf("cohort %s = %+v, want reason InvalidSchedule naming spec.schedule.rrule and the candidate dates", typ, v)
		}
	}
	assertFrozen(t, out, members, learningv1alpha1.InvalidScheduleReason)
	if !out.Publications["endless"].Frozen {
		t.Errorf("publication of a cohort over the cap is not frozen")
	}
	if len(out.Failures) != 0 {
		t.Errorf("failures %+v, want none: the cap is an invalid schedule, not a bug", out.Failures)
	}
}

// TestScheduleWithinTheCap: the longest cohort admission accepts, with a daily
// schedule (as many occurrences as days) and with one that never matches (as many
// candidate dates), expands without reaching the cap.
func TestScheduleWithinTheCap(t *testing.T) {
	daily := weekly()
	daily.RRule = "FREQ=DAILY"
	for _, s := range []*learningv1alpha1.Schedule{daily, neverMatching()} {
		c := cohort("long", "2000-01-01", 0, ending("2199-12-31"), scheduled(s))
		sched := ExpandSchedule(c, day("2000-01-01"))
		if sched.Frozen {
			t.Errorf("%s over 2000 to 2199: frozen by %v", s.RRule, sched.Err)
		}
	}
}

// TestScheduleOfYearZeroStaysInItsCohort: a cohort admitted before dates were bounded,
// from the year 0 until next year, is over the cap (the recurrence library, which
// indexed out of range on the year 0, never sees it); its sibling is evaluated.
func TestScheduleOfYearZeroStaysInItsCohort(t *testing.T) {
	ancient := cohort("ancient", "0000-01-01", 0, ending("2027-12-31"), scheduled(weekly()))
	alpha := cohort("alpha", "2026-01-01", 12, scheduled(weekly()))
	members := append(withdrawnSeatAndWaiter("ancient"), withdrawnSeatAndWaiter("alpha")...)
	out := Evaluate(Snapshot{Now: now, Community: community(role("Member", 0, 1)), Cohorts: []*learningv1alpha1.Cohort{ancient, alpha}, Memberships: members})

	if v := verdictOf(out.Cohorts["ancient"].Conditions, learningv1alpha1.StalledCondition); v.Reason != learningv1alpha1.InvalidScheduleReason {
		t.Errorf("ancient Stalled = %+v, want InvalidSchedule", v)
	}
	assertFrozen(t, out, members[:2], learningv1alpha1.InvalidScheduleReason)
	assertPromoted(t, out, "alpha")
}

// TestSchedulePanicStaysInItsCohort: a panic while expanding one cohort's schedule is
// reported on that cohort, whose seats freeze; its sibling is evaluated.
func TestSchedulePanicStaysInItsCohort(t *testing.T) {
	defer func(original func(learningv1alpha1.Schedule, time.Time, time.Time, time.Time, int) (calendar.Expansion, error)) {
		walkSchedule = original
	}(walkSchedule)
	walkSchedule = func(s learningv1alpha1.Schedule, notBefore, until, from time.Time, n int) (calendar.Expansion, error) {
		if s.RRule == "FREQ=WEEKLY;BYDAY=WE" {
			panic("runtime error: index out of range [1] with length 0") // as the library did on the year 0
		}
		return calendar.Walk(s, notBefore, until, from, n)
	}
	wednesdays := weekly()
	wednesdays.RRule = "FREQ=WEEKLY;BYDAY=WE"
	broken := cohort("broken", "2026-01-01", 12, scheduled(wednesdays))
	alpha := cohort("alpha", "2026-01-01", 12, scheduled(weekly()))
	members := append(withdrawnSeatAndWaiter("broken"), withdrawnSeatAndWaiter("alpha")...)
	out := Evaluate(Snapshot{Now: now, Community: community(role("Member", 0, 1)), Cohorts: []*learningv1alpha1.Cohort{broken, alpha}, Memberships: members})

	for _, typ := range []string{learningv1alpha1.StalledCondition, learningv1alpha1.ReadyCondition} {
		v := verdictOf(out.Cohorts["broken"].Conditions, typ)
		if v.Reason != learningv1alpha1.InternalErrorReason || !strings.Contains(v.Message, StepSchedule) || !strings.Contains(v.Message, "bug") {
			t.Errorf("broken %s = %+v, want InternalError naming the step and asking for a report", typ, v)
		}
	}
	assertFrozen(t, out, members[:2], learningv1alpha1.InternalErrorReason)
	if len(out.Failures) != 1 || out.Failures[0].Cohort != "broken" || !out.Failures[0].Panicked || !strings.Contains(out.Failures[0].Stack, "TestSchedulePanicStaysInItsCohort") {
		t.Errorf("failures = %+v, want broken's panic with its stack", out.Failures)
	}
	if got := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.ReadyCondition); got.Status != metav1.ConditionTrue {
		t.Errorf("alpha Ready = %+v, want True", got)
	}
	assertPromoted(t, out, "alpha")
}

func TestFailedWritesAreReportedOnTheirCohort(t *testing.T) {
	alpha, beta := cohort("alpha", "2026-01-01", 12), cohort("beta", "2026-01-01", 12)
	out := Decide(Snapshot{
		Now: now, Community: community(role("Member", 0, 1)), Cohorts: []*learningv1alpha1.Cohort{alpha, beta},
		Memberships: withdrawnSeatAndWaiter("beta"),
	}).Outcome(Facts{Failures: map[string][]*StepFailure{"alpha": {{Cohort: "alpha", Step: StepGatherings, Err: errString("the API server is unavailable")}}}})
	ready := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.ReadyCondition)
	if ready.Status != metav1.ConditionFalse || ready.Reason != learningv1alpha1.ApplyFailedReason || !strings.Contains(ready.Message, StepGatherings) {
		t.Errorf("alpha Ready = %+v, want False/ApplyFailed naming the step", ready)
	}
	if got := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.StalledCondition); got.Status == metav1.ConditionTrue {
		t.Errorf("alpha Stalled = %+v: an error is retried, not a person's to fix", got)
	}
	assertPromoted(t, out, "beta")
}

type errString string

func (e errString) Error() string { return string(e) }

// TestEachScheduleExpandedOncePerPass follows a pass as the reconciler makes it:
// expand, name the gatherings to look up, decide (which plans the gatherings), report.
// Every cohort's schedule is walked once; a decision without expansions walks each
// once too.
func TestEachScheduleExpandedOncePerPass(t *testing.T) {
	walks := map[string]int{}
	defer func(original func(learningv1alpha1.Schedule, time.Time, time.Time, time.Time, int) (calendar.Expansion, error)) {
		walkSchedule = original
	}(walkSchedule)
	walkSchedule = func(s learningv1alpha1.Schedule, notBefore, until, from time.Time, n int) (calendar.Expansion, error) {
		walks[string(s.RRule)]++
		return calendar.Walk(s, notBefore, until, from, n)
	}
	monthly := weekly()
	monthly.RRule = "FREQ=MONTHLY;BYDAY=2TU"
	cohorts := []*learningv1alpha1.Cohort{
		cohort("alpha", "2026-01-01", 12, scheduled(weekly())),
		cohort("beta", "2026-01-01", 12, scheduled(monthly)),
		cohort("gamma", "2026-01-01", 12),
	}
	snap := Snapshot{Now: now, Community: community(role("Member", 0, 5)), Cohorts: cohorts}
	snap.Schedules = ExpandSchedules(snap.Cohorts, snap.Now)
	for _, c := range snap.Cohorts {
		ScheduledNames(c, snap.Schedules[c.Name])
	}
	decision := Decide(snap)
	if len(decision.Gatherings["alpha"].Apply) == 0 || len(decision.Gatherings["beta"].Apply) == 0 {
		t.Errorf("the decision plans no gatherings: %v", decision.Gatherings)
	}
	out := decision.Outcome(Facts{})
	want := map[string]int{"FREQ=WEEKLY;BYDAY=TU": 1, "FREQ=MONTHLY;BYDAY=2TU": 1}
	if !equalCounts(walks, want) {
		t.Errorf("walks per schedule = %v, want %v", walks, want)
	}
	clear(walks)
	snap.Schedules = nil
	Evaluate(snap)
	if !equalCounts(walks, want) {
		t.Errorf("without expansions in the snapshot, walks per schedule = %v, want %v", walks, want)
	}
	if out.Cohorts["alpha"].NextEvent == nil || out.Cohorts["beta"].NextEvent == nil {
		t.Errorf("next events %v, %v: the evaluation did not read the expansions", out.Cohorts["alpha"].NextEvent, out.Cohorts["beta"].NextEvent)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
