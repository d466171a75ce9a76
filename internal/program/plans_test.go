package program

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// planUnit is a community requiring plans as required, due dueDays after a seat's
// start and stale after two gatherings, with a cohort in Chicago from 2026-01-01:
// ann and bea (Iowa Alliance) hold the two seats, cal (Ohio Coalition) waits.
func planUnit(required learningv1alpha1.PlanRequirement, dueDays int32, now time.Time) Snapshot {
	cop := community(testutil.Role("Member", 0, 2))
	cop.Spec.Policy.ActionPlans = &learningv1alpha1.ActionPlanPolicy{Required: required, DueDays: &dueDays, StaleAfter: testutil.Ptr[int32](2)}
	c := cohort("spring", "2026-01-01", 12, func(c *learningv1alpha1.Cohort) { c.Spec.TimeZone = "America/Chicago" })
	created := day("2025-12-01")
	return Snapshot{
		Now:       now,
		Community: cop,
		Cohorts:   []*learningv1alpha1.Cohort{c},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "spring", "u-ann", "Member", created, from("Iowa Alliance")),
			member("bea", "spring", "u-bea", "Member", created.Add(time.Hour), from("Iowa Alliance")),
			member("cal", "spring", "u-cal", "Member", created.Add(2*time.Hour), from("Ohio Coalition")),
		},
	}
}

// actionPlan builds a personal plan of membership, owned by owner, created on 2026-01-05.
func actionPlan(name, membership, owner string, actions ...learningv1alpha1.PlannedAction) *learningv1alpha1.ActionPlan {
	p := testutil.PersonalPlan(ns, name, membership, owner, actions...)
	p.Generation = 1
	p.CreationTimestamp = metav1.NewTime(day("2026-01-05"))
	return p
}

func checkedIn(at time.Time) func(*learningv1alpha1.ActionPlan) {
	return func(p *learningv1alpha1.ActionPlan) {
		p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{ID: "c" + at.Format("0102"), At: metav1.NewTime(at), Author: p.Spec.Owner})
	}
}

func with(p *learningv1alpha1.ActionPlan, opts ...func(*learningv1alpha1.ActionPlan)) *learningv1alpha1.ActionPlan {
	for _, o := range opts {
		o(p)
	}
	return p
}

// TestPlanOverdueAtTheEndOfTheDueDayInTheCohortsZone checks that an action is overdue
// from the midnight after its due day in the cohort's time zone, not UTC's, and that
// the evaluation asks to be run again at that instant.
func TestPlanOverdueAtTheEndOfTheDueDayInTheCohortsZone(t *testing.T) {
	endOfDue := instant("2026-03-11T05:00:00Z") // midnight in Chicago (CDT) after 2026-03-10
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{endOfDue.Add(-time.Second), learningv1alpha1.PlanCurrentReason},
		{endOfDue, learningv1alpha1.PlanOverdueReason},
	} {
		s := planUnit(learningv1alpha1.PlansNotRequired, 30, tc.now)
		s.Plans = []*learningv1alpha1.ActionPlan{actionPlan("ann-plan", "ann", "u-ann", testutil.Action("listen", "2026-03-10", learningv1alpha1.ActionInProgress))}
		out := Evaluate(s)
		status := out.Plans["ann-plan"]
		if got := condReason(status.Conditions, learningv1alpha1.PlanCurrentCondition); got != tc.want {
			t.Errorf("at %s: PlanCurrent is %s, want %s", tc.now, got, tc.want)
		}
		if tc.want == learningv1alpha1.PlanCurrentReason && !out.Next.Equal(endOfDue) {
			t.Errorf("at %s: Next is %s, want the end of the due day %s", tc.now, out.Next, endOfDue)
		}
	}
}

// TestPlanStaleAfterGatheringsWithoutCheckIn checks staleness: counting gatherings that
// ended since the last check-in, cancelled ones and those that do not count left out.
func TestPlanStaleAfterGatheringsWithoutCheckIn(t *testing.T) {
	now := instant("2026-04-20T12:00:00Z")
	cancelled := gathering("g-cancelled", "spring", instant("2026-04-02T17:00:00Z"))
	cancelled.Spec.Cancelled = true
	social := gathering("g-social", "spring", instant("2026-04-03T17:00:00Z"))
	social.Spec.CountsTowardAttendance = testutil.Ptr(false)
	events := []*learningv1alpha1.LearningEvent{
		gathering("g-mar", "spring", instant("2026-03-10T17:00:00Z")),
		cancelled, social,
		gathering("g-apr", "spring", instant("2026-04-14T17:00:00Z")),
		gathering("g-may", "spring", instant("2026-05-12T17:00:00Z")),
	}
	cases := map[string]struct {
		checkIn time.Time
		want    string
		next    time.Time
	}{
		"checked in before two gatherings":          {instant("2026-03-01T12:00:00Z"), learningv1alpha1.PlanStaleReason, time.Time{}},
		"checked in between them: one more to come": {instant("2026-03-20T12:00:00Z"), learningv1alpha1.PlanCurrentReason, instant("2026-05-12T18:30:00Z")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := planUnit(learningv1alpha1.PlansNotRequired, 30, now)
			s.Events = events
			s.Plans = []*learningv1alpha1.ActionPlan{with(actionPlan("ann-plan", "ann", "u-ann"), checkedIn(tc.checkIn))}
			out := Evaluate(s)
			v := verdictOf(out.Plans["ann-plan"].Conditions, learningv1alpha1.PlanCurrentCondition)
			if v.Reason != tc.want {
				t.Fatalf("PlanCurrent is %s (%s), want %s", v.Reason, v.Message, tc.want)
			}
			if tc.want == learningv1alpha1.PlanStaleReason && v.Message != "2 gatherings ended since the last check-in on 2026-03-01 without a check-in (g-apr, g-mar); the program expects one at least every 2" {
				t.Errorf("Stale message: %q", v.Message)
			}
			if !tc.next.IsZero() && out.Next.After(tc.next) {
				t.Errorf("Next is %s, want no later than %s, when the plan goes stale", out.Next, tc.next)
			}
		})
	}
}

// TestRequiredPersonalPlans checks the membership's ActionPlan condition and the
// cohort's figures: a plan not due yet, one missing past its due day (the first
// Intensive's end pushing the due day back), one present, and a waiting member of
// whom nothing is expected.
func TestRequiredPersonalPlans(t *testing.T) {
	intensive := gathering("kickoff", "spring", instant("2026-01-20T15:00:00Z"))
	intensive.Spec.Type = learningv1alpha1.IntensiveEvent
	cases := map[string]struct {
		now  time.Time
		want map[string]string
	}{
		// Seats start on 2026-01-01; the Intensive ends on 2026-01-20: due 2026-01-30.
		"before the due day": {instant("2026-01-30T12:00:00Z"), map[string]string{"ann": learningv1alpha1.PlanPresentReason, "bea": learningv1alpha1.PlanNotDueReason, "cal": ""}},
		"after the due day":  {instant("2026-01-31T12:00:00Z"), map[string]string{"ann": learningv1alpha1.PlanPresentReason, "bea": learningv1alpha1.PlanMissingReason, "cal": ""}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := planUnit(learningv1alpha1.PersonalPlansRequired, 10, tc.now)
			s.Events = []*learningv1alpha1.LearningEvent{intensive}
			s.Plans = []*learningv1alpha1.ActionPlan{
				actionPlan("ann-plan", "ann", "u-ann", testutil.Action("a", "", learningv1alpha1.ActionDone)),
				actionPlan("cal-plan", "cal", "u-cal", testutil.Action("a", "", learningv1alpha1.ActionPlanned)),
			}
			out := Evaluate(s)
			got := map[string]string{}
			for m, status := range out.Memberships {
				got[m] = condReason(status.Conditions, learningv1alpha1.ActionPlanCondition)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ActionPlan reasons (-want +got):\n%s", diff)
			}
			if got := condReason(out.Plans["cal-plan"].Conditions, learningv1alpha1.PlanCurrentCondition); got != learningv1alpha1.OwnerNotSeatedReason {
				t.Errorf("cal's plan is %s, want OwnerNotSeated", got)
			}
			want := &learningv1alpha1.ActionPlanFigures{Required: 2, Present: 1, Plans: 2, Current: 1, ActionsDone: 1, ActionsTotal: 2,
				Summary: "1/2 required plans, 1/2 plans current, 1/2 actions done"}
			if diff := cmp.Diff(want, out.Cohorts["spring"].ActionPlans); diff != "" {
				t.Errorf("cohort figures (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTeamPlans checks team workplans: required once per organization with a seated
// member, owned by a member of the team, and OwnerNotSeated while no member of the
// team holds a seat.
func TestTeamPlans(t *testing.T) {
	s := planUnit(learningv1alpha1.TeamPlansRequired, 30, instant("2026-02-15T12:00:00Z"))
	team := func(name, org, owner string) *learningv1alpha1.ActionPlan {
		p := actionPlan(name, "", owner)
		p.Spec.MembershipRef = nil
		p.Spec.Team = &learningv1alpha1.PlanTeam{CohortRef: learningv1alpha1.LocalObjectReference{Name: "spring"}, Organization: learningv1alpha1.OrganizationName(org)}
		return p
	}
	s.Plans = []*learningv1alpha1.ActionPlan{
		team("iowa", "Iowa Alliance", "u-bea"),
		team("ohio", "Ohio Coalition", "u-cal"),
		team("ohio-by-ann", "Ohio Coalition", "u-ann"),
	}
	out := Evaluate(s)
	want := map[string][2]string{
		"iowa":        {learningv1alpha1.SucceededReason, learningv1alpha1.PlanCurrentReason},
		"ohio":        {learningv1alpha1.SucceededReason, learningv1alpha1.OwnerNotSeatedReason},
		"ohio-by-ann": {learningv1alpha1.OwnerNotMemberReason, learningv1alpha1.OwnerNotSeatedReason},
	}
	for name, w := range want {
		status := out.Plans[name]
		got := [2]string{condReason(status.Conditions, learningv1alpha1.ReadyCondition), condReason(status.Conditions, learningv1alpha1.PlanCurrentCondition)}
		if got != w {
			t.Errorf("%s: Ready/PlanCurrent %v, want %v", name, got, w)
		}
	}
	// Only Iowa Alliance has a seated member: one team plan is required, and present.
	if f := out.Cohorts["spring"].ActionPlans; f == nil || f.Required != 1 || f.Present != 1 || f.Plans != 3 {
		t.Errorf("cohort figures %+v", f)
	}

	// A facilitator's organization forms no team when the composition policy names the
	// roles that do.
	s.Community.Spec.Policy.Roles = append(s.Community.Spec.Policy.Roles, testutil.Role("Facilitator", 0, 1))
	s.Memberships = append(s.Memberships, member("fay", "spring", "u-fay", "Facilitator", day("2025-12-01"), from("Planning Team")))
	s.Community.Spec.Policy.Composition = &learningv1alpha1.CompositionPolicy{Roles: []learningv1alpha1.RoleName{"Member"}}
	if f := Evaluate(s).Cohorts["spring"].ActionPlans; f == nil || f.Required != 1 {
		t.Errorf("with composition roles [Member], the figures are %+v; want 1 required plan (the facilitator's organization is no team)", f)
	}
	s.Community.Spec.Policy.Composition = nil
	if f := Evaluate(s).Cohorts["spring"].ActionPlans; f == nil || f.Required != 2 {
		t.Errorf("without a composition policy, the figures are %+v; want 2 required plans", f)
	}
}

// TestPlanReferences checks what CEL cannot see: a partner outside the cohort, a
// check-in at an event of another cohort, a membership that does not exist.
func TestPlanReferences(t *testing.T) {
	s := planUnit(learningv1alpha1.PlansNotRequired, 30, instant("2026-02-15T12:00:00Z"))
	s.Cohorts = append(s.Cohorts, cohort("autumn", "2026-09-01", 6))
	s.Memberships = append(s.Memberships, member("dan", "autumn", "u-dan", "Member", day("2026-01-02")))
	s.Events = []*learningv1alpha1.LearningEvent{gathering("autumn-g", "autumn", instant("2026-09-08T17:00:00Z"))}
	p := with(actionPlan("ann-plan", "ann", "u-ann"), checkedIn(instant("2026-02-01T12:00:00Z")))
	p.Spec.PartnerRef = &learningv1alpha1.LocalObjectReference{Name: "dan"}
	p.Spec.CheckIns[0].EventRef = &learningv1alpha1.LocalObjectReference{Name: "autumn-g"}
	s.Plans = []*learningv1alpha1.ActionPlan{p, actionPlan("ghost-plan", "ghost", "u-ghost")}
	out := Evaluate(s)
	ready := verdictOf(out.Plans["ann-plan"].Conditions, learningv1alpha1.ReadyCondition)
	wantMsg := "spec.partnerRef: membership dan is not a membership of cohort spring; spec.checkIns[].eventRef: autumn-g (check-in c0201) not an event of cohort spring or its community"
	if ready.Status != metav1.ConditionFalse || ready.Reason != learningv1alpha1.PartnerNotInCohortReason || ready.Message != wantMsg {
		t.Errorf("ann-plan Ready is %+v, want False/PartnerNotInCohort %q", ready, wantMsg)
	}
	if got := condReason(out.Plans["ghost-plan"].Conditions, learningv1alpha1.ReadyCondition); got != learningv1alpha1.MembershipNotFoundReason {
		t.Errorf("ghost-plan Ready reason %s, want MembershipNotFound", got)
	}
}

// TestPlanGrants checks who may get and update each plan: the owner of a personal plan
// who is its membership's member, every seated member of a team with a workplan, and
// the partner, read only; a waitlisted member, an owner who is not the member and
// the partner of a plan they also own get no more than they should.
func TestPlanGrants(t *testing.T) {
	s := planUnit(learningv1alpha1.PlansNotRequired, 30, instant("2026-02-15T12:00:00Z"))
	partner := func(name string) func(*learningv1alpha1.ActionPlan) {
		return func(p *learningv1alpha1.ActionPlan) {
			p.Spec.PartnerRef = &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(name)}
		}
	}
	iowa := actionPlan("iowa", "", "u-ann")
	iowa.Spec.MembershipRef = nil
	iowa.Spec.Team = &learningv1alpha1.PlanTeam{CohortRef: learningv1alpha1.LocalObjectReference{Name: "spring"}, Organization: "Iowa Alliance"}
	s.Plans = []*learningv1alpha1.ActionPlan{
		with(actionPlan("ann-plan", "ann", "u-ann"), partner("bea")),
		with(actionPlan("bea-plan", "bea", "u-bea"), partner("cal")), // cal is waitlisted
		actionPlan("bea-by-ann", "bea", "u-ann"),                     // not bea's: nobody may update it
		with(actionPlan("cal-plan", "cal", "u-cal"), partner("ann")), // cal holds no seat
		iowa,
	}
	got := Evaluate(s).Publications["spring"].Plans
	want := []PlanGrant{
		{Membership: "ann", User: "u-ann", Update: []string{"ann-plan", "iowa"}, Get: []string{"cal-plan"}},
		{Membership: "bea", User: "u-bea", Update: []string{"bea-plan", "iowa"}, Get: []string{"ann-plan"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan grants (-want +got):\n%s", diff)
	}
}

// TestAgenda checks what reaches the cohort's documents: the check-ins shared since the
// last counting gathering ended, oldest first, under the member's display name, for
// the next gathering; not a private check-in, one made before that gathering, one in
// the future, one written by someone other than the plan's member, or one of a plan
// whose owner holds no seat. The plans' progress is counts only.
func TestAgenda(t *testing.T) {
	now := instant("2026-04-20T12:00:00Z")
	s := planUnit(learningv1alpha1.PersonalPlansRequired, 30, now)
	s.Memberships[0].Spec.DisplayName = "Ann Archer"
	s.Events = []*learningv1alpha1.LearningEvent{
		gathering("g-mar", "spring", instant("2026-03-10T17:00:00Z")),
		gathering("g-apr", "spring", instant("2026-04-14T17:00:00Z")), // ends 18:30Z
		gathering("g-may", "spring", instant("2026-05-12T17:00:00Z")),
	}
	checkIn := func(id, at, author string, shared bool) func(*learningv1alpha1.ActionPlan) {
		return func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{
				ID: id, At: metav1.NewTime(instant(at)), Author: author, Shared: shared,
				Learned: "learned " + id, Adjust: "adjust " + id,
			})
		}
	}
	s.Plans = []*learningv1alpha1.ActionPlan{
		with(actionPlan("ann-plan", "ann", "u-ann", testutil.Action("listen", "", learningv1alpha1.ActionDone), testutil.Action("mentor", "", learningv1alpha1.ActionPlanned)),
			checkIn("before", "2026-04-14T18:00:00Z", "u-ann", true), // during the April gathering
			checkIn("shared", "2026-04-16T12:00:00Z", "u-ann", true),
			checkIn("private", "2026-04-17T12:00:00Z", "u-ann", false),
			checkIn("forged", "2026-04-18T12:00:00Z", "u-admin", true),
			checkIn("ahead", "2026-04-21T12:00:00Z", "u-ann", true)),
		with(actionPlan("bea-plan", "bea", "u-bea"), checkIn("bea", "2026-04-15T12:00:00Z", "u-bea", true)),
		with(actionPlan("cal-plan", "cal", "u-cal"), checkIn("cal", "2026-04-15T13:00:00Z", "u-cal", true)), // cal waits for a seat
	}
	o := Evaluate(s).Publications["spring"].Overview
	if o.Agenda == nil {
		t.Fatal("no agenda")
	}
	if o.Agenda.Next == nil || !o.Agenda.Next.Start.Equal(instant("2026-05-12T17:00:00Z")) {
		t.Errorf("agenda for %+v, want the May gathering", o.Agenda.Next)
	}
	if !o.Agenda.Since.Equal(instant("2026-04-14T18:30:00Z")) {
		t.Errorf("agenda since %s, want the April gathering's end", o.Agenda.Since)
	}
	var got []string
	for _, r := range o.Agenda.Reflections {
		got = append(got, fmt.Sprintf("%s: %s / %s (%d/%d)", r.By, r.Learned, r.Adjust, r.ActionsDone, r.Actions))
	}
	want := []string{"bea: learned bea / adjust bea (0/0)", "Ann Archer: learned shared / adjust shared (1/2)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reflections (-want +got):\n%s", diff)
	}
	wantPlans := &publish.PlanProgress{Required: 2, Present: 2, Plans: 3, Current: 2, ActionsDone: 1, ActionsTotal: 2}
	if diff := cmp.Diff(wantPlans, o.Plans); diff != "" {
		t.Errorf("plan progress (-want +got):\n%s", diff)
	}
}
