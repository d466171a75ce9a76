package program

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestPeriodFigures: a January of six seated members, one waiting and one withdrawn. The flow
// figures count only what ended in January (not the cancelled gathering, not
// February's), attendance weighs Late by the policy and leaves Excused and
// non-members out; the state figures (seats, waitlist, organizations, plans) are the
// unit as decided.
func TestPeriodFigures(t *testing.T) {
	at := instant("2026-02-10T10:00:00Z")
	c := community(role("Member", 0, 6))
	c.Spec.Policy.Attendance = &learningv1alpha1.AttendancePolicy{LateWeightPercent: testutil.Ptr[int32](50)}
	var members []*learningv1alpha1.Membership
	for i := 1; i <= 7; i++ {
		m := member(fmt.Sprintf("m%d", i), "alpha", fmt.Sprintf("p%d", i), "Member", day("2025-12-01").Add(time.Duration(i)*time.Hour))
		m.Spec.Organization = learningv1alpha1.OrganizationName([]string{"", "north", "north", "north", "south", "", "", "west"}[i])
		members = append(members, m)
	}
	// m8 left its seat in January.
	gone := member("m8", "alpha", "p8", "Member", day("2025-12-01"))
	gone.Spec.Withdrawn = true
	gone.Status.SeatedSince = &metav1.Time{Time: day("2025-12-01")}
	gone.Status.Conditions = []metav1.Condition{{Type: learningv1alpha1.SeatedCondition, Status: metav1.ConditionFalse, Reason: learningv1alpha1.WithdrawnReason,
		LastTransitionTime: metav1.NewTime(instant("2026-01-15T09:00:00Z")), ObservedGeneration: 1}}
	members = append(members, gone)
	late := testutil.Attended("m5", learningv1alpha1.AttendanceLate)
	excused := testutil.Attended("m6", learningv1alpha1.AttendanceExcused)
	talk := event("ext", "", instant("2026-03-05T18:00:00Z"), ofCommunity(), typed(learningv1alpha1.SpeakerSeriesEvent), externalAudience(), approvedBy("pillar-lead"))
	talk.CreationTimestamp = metav1.NewTime(instant("2026-01-10T00:00:00Z"))
	talk.Status.Conditions = []metav1.Condition{{Type: learningv1alpha1.ApprovedCondition, Status: metav1.ConditionTrue, Reason: learningv1alpha1.ApprovedReason,
		LastTransitionTime: metav1.NewTime(instant("2026-01-12T06:30:00Z")), ObservedGeneration: 1}}
	events := []*learningv1alpha1.LearningEvent{
		gathering("jan-06", "alpha", instant("2026-01-06T18:00:00Z"), present("m1"), present("m2"), present("m3"), present("m4"), present("m5"), absent("m6")),
		gathering("jan-13", "alpha", instant("2026-01-13T18:00:00Z"), present("m1"), present("m2"), present("m3"), present("m4"), late, excused, present("ghost")),
		event("jan-20", "alpha", instant("2026-01-20T18:00:00Z"), cancelled(), attended(present("m1"))),
		event("jan-27", "alpha", instant("2026-01-27T18:00:00Z"), typed(learningv1alpha1.SpeakerSeriesEvent), attended(present("m1"))),
		gathering("feb-03", "alpha", instant("2026-02-03T18:00:00Z"), absent("m1")),
		talk,
	}
	action := testutil.Action
	done, doing, planned := learningv1alpha1.ActionDone, learningv1alpha1.ActionInProgress, learningv1alpha1.ActionPlanned
	checked := checkedIn(instant("2026-02-05T12:00:00Z"))
	plans := []*learningv1alpha1.ActionPlan{
		with(actionPlan("p1", "m1", "p1", action("a", "2026-01-20", done), action("b", "2026-01-30", done)), checked),
		with(actionPlan("p2", "m2", "p2", action("a", "2026-01-20", done), action("b", "2026-03-31", doing)), checked),
		with(actionPlan("p3", "m3", "p3", action("a", "2026-01-31", doing)), checked), // overdue
		with(actionPlan("p4", "m4", "p4", action("a", "2026-04-30", planned)), checked),
		with(actionPlan("p5", "m5", "p5", action("a", "2026-04-30", planned)), checked),
	}
	decision := Decide(Snapshot{Now: at, Community: c, Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)}, Memberships: members, Events: events, Plans: plans})
	if got := condReason(decision.out.Events["ext"].Conditions, learningv1alpha1.ApprovedCondition); got != learningv1alpha1.ApprovedReason {
		t.Fatalf("the talk is %s, want Approved", got)
	}
	january, err := rules.PeriodAt(rules.Monthly, instant("2026-01-15T00:00:00Z"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	counted := func(n int64) rules.Measure { return rules.Measure{Value: n, Known: true} }
	want := map[rules.FigureKey]rules.Measure{
		{KPI: rules.SeatsFilled}:                                counted(6),
		{KPI: rules.SeatsFilled, Qualifier: "Member"}:           counted(6),
		{KPI: rules.WaitlistLength}:                             counted(1),
		{KPI: rules.Withdrawals}:                                counted(1),
		{KPI: rules.Organizations}:                              counted(2), // west waits
		{KPI: rules.GatheringsHeld}:                             counted(3),
		{KPI: rules.GatheringsHeld, Qualifier: "Gathering"}:     counted(2),
		{KPI: rules.GatheringsHeld, Qualifier: "SpeakerSeries"}: counted(1),
		// 5 of 6, then 4 and a half of 5: 9.5 of 11.
		{KPI: rules.AttendanceRate}:         {Value: 86, Population: 6, Known: true},
		{KPI: rules.ExternalEventsApproved}: counted(1),
		{KPI: rules.ApprovalHours}:          counted(54),
		// Four of five plans current (p3 is overdue); three of seven actions done.
		{KPI: rules.PlansCurrent}: {Value: 80, Population: 5, Known: true},
		{KPI: rules.ActionsDone}:  {Value: 42, Population: 5, Known: true},
	}
	if diff := cmp.Diff(want, decision.PeriodFigures(january)); diff != "" {
		t.Errorf("January's figures (-want +got):\n%s", diff)
	}

	february := january.Next()
	got := decision.PeriodFigures(february)
	if m := got[rules.FigureKey{KPI: rules.AttendanceRate}]; m != (rules.Measure{Value: 0, Population: 1, Known: true}) {
		t.Errorf("February's attendance = %+v, want 0%% of one member", m)
	}
	if j := rules.JudgeKPI(got[rules.FigureKey{KPI: rules.AttendanceRate}], 80, rules.AtLeast, nil); j.Verdict != rules.Suppressed {
		t.Errorf("February's attendance of one member is %s, want Suppressed", j.Verdict)
	}
	if m, ok := got[rules.FigureKey{KPI: rules.ApprovalHours}]; ok {
		t.Errorf("February has an approval time %+v, with no approval in it", m)
	}
	if m := got[rules.FigureKey{KPI: rules.Withdrawals}]; m != counted(0) {
		t.Errorf("February's withdrawals = %+v, want a known 0", m)
	}
	if m := got[rules.FigureKey{KPI: rules.ExternalEventsApproved}]; m != counted(0) {
		t.Errorf("February's approvals = %+v, want a known 0", m)
	}
}
