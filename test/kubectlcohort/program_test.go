package kubectlcohort

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

const (
	cohortName = "allyship-2026"
	condTrue   = metav1.ConditionTrue
	condFalse  = metav1.ConditionFalse
)

var chicago = func() *time.Location {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return loc
}()

// noon is noon in Chicago on a day of 2026.
func noon(month time.Month, day int) time.Time {
	return time.Date(2026, month, day, 12, 0, 0, 0, chicago)
}

// createProgram creates, in namespace, the allyship community (80% attendance), its
// 2026 cohort with the statuses the operator would report late in November (Lead
// understaffed, the roster's ConfigMap name taken, the portal down), six memberships
// of every seat state, and the cohort's and community's events.
func createProgram(t *testing.T, namespace string) {
	t.Helper()
	community := testutil.Community(namespace, "allyship", testutil.Role("Lead", 2, 2), testutil.Role("Member", 2, 2))
	community.Spec.Policy.Attendance = &learningv1alpha1.AttendancePolicy{RequiredPercent: testutil.Ptr(int32(80))}
	create(t, community)

	cohort := testutil.Cohort(namespace, cohortName, "allyship", "2026-01-01", 12)
	cohort.Spec.DisplayName = "Allyship 2026"
	cohort.Spec.TimeZone = "America/Chicago"
	cohort.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	next := metav1.NewTime(noon(time.December, 8))
	conflict := "not created by cohort-operator for this cohort, left as they are: ConfigMap allyship-2026-roster; rename or delete them"
	cohort.Status = learningv1alpha1.CohortStatus{
		Phase: learningv1alpha1.CohortActive, StartDate: "2026-01-01", EndDate: "2026-12-31",
		Roles: []learningv1alpha1.RoleSeats{
			{Name: "Lead", MinMembers: 2, MaxMembers: 2, Seated: 1},
			{Name: "Member", MinMembers: 2, MaxMembers: 2, Seated: 2, Waitlisted: 1},
		},
		Seats: "Lead 1/2, Member 2/2", Waitlisted: 1, Organizations: 2,
		Members:           &learningv1alpha1.MemberCounts{Active: 3, Withdrawn: 1, Waitlisted: 1},
		AttendancePercent: testutil.Ptr(int32(83)), NextEvent: &next,
		Conditions: []metav1.Condition{
			cond(learningv1alpha1.ReadyCondition, condFalse, learningv1alpha1.NameConflictReason, conflict),
			cond(learningv1alpha1.StalledCondition, condTrue, learningv1alpha1.NameConflictReason, conflict),
			cond(learningv1alpha1.CommunityFoundCondition, condTrue, learningv1alpha1.FoundReason, "community allyship"),
			cond(learningv1alpha1.StaffedCondition, condFalse, learningv1alpha1.UnderstaffedReason, "Lead: 1 of minimum 2"),
			cond(learningv1alpha1.CompositionValidCondition, condTrue, learningv1alpha1.CompositionValidReason, "no composition policy"),
			cond(learningv1alpha1.ProvisionedCondition, condFalse, learningv1alpha1.NameConflictReason, conflict),
			cond(learningv1alpha1.PortalAvailableCondition, condFalse, learningv1alpha1.UnavailableReason, "0 of 1 replicas available; see the Deployment allyship-2026-portal and its pods"),
		},
	}
	create(t, cohort)
	createMemberships(t, namespace)
	createEvents(t, namespace)
}

// createMemberships creates six memberships of the cohort, one or more of every seat
// state, with their statuses, and one of another cohort.
func createMemberships(t *testing.T, namespace string) {
	t.Helper()
	since := metav1.NewTime(time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC))
	eligible := cond(learningv1alpha1.EligibleCondition, condTrue, learningv1alpha1.EligibleReason, "eligible")
	seated := func(percent int32) learningv1alpha1.MembershipStatus {
		return learningv1alpha1.MembershipStatus{
			Phase: learningv1alpha1.MembershipActive, StartDate: "2026-01-01", EndDate: "2026-12-31", SeatedSince: &since,
			Conditions: []metav1.Condition{eligible, cond(learningv1alpha1.SeatedCondition, condTrue, learningv1alpha1.SeatedReason, "holds a seat")},
			Attendance: &learningv1alpha1.AttendanceSummary{EligibleEvents: 4, Percent: testutil.Ptr(percent)},
		}
	}
	withdrawn := seated(0)
	withdrawn.Phase, withdrawn.Attendance = learningv1alpha1.MembershipWithdrawn, nil
	withdrawn.Conditions[1] = cond(learningv1alpha1.SeatedCondition, condFalse, learningv1alpha1.WithdrawnReason, "withdrawn; the seat is freed")
	waitlisted := learningv1alpha1.MembershipStatus{
		Phase: learningv1alpha1.MembershipActive, StartDate: "2026-01-01", EndDate: "2026-12-31", WaitlistPosition: testutil.Ptr(int32(1)),
		Conditions: []metav1.Condition{eligible, cond(learningv1alpha1.SeatedCondition, condFalse, learningv1alpha1.WaitlistedReason, "position 1 of 1")},
	}
	notEligible := learningv1alpha1.MembershipStatus{
		Phase: learningv1alpha1.MembershipActive, StartDate: "2026-01-01", EndDate: "2026-12-31",
		Conditions: []metav1.Condition{
			cond(learningv1alpha1.EligibleCondition, condFalse, learningv1alpha1.OrganizationNotEligibleReason, "not one of the community's eligible organizations"),
			cond(learningv1alpha1.SeatedCondition, condFalse, learningv1alpha1.NotEligibleReason, "not eligible"),
		},
	}
	for _, m := range []struct {
		name, display, person, org, role string
		status                           learningv1alpha1.MembershipStatus
	}{
		{"lead-ada", "Ada Lind", "ada@example.org", "Northstar Health", "Lead", seated(100)},
		{"member-ben", "Ben Okafor", "ben@example.org", "Lakeside Bank", "Member", seated(50)},
		{"member-cleo", "Cleo Ruiz", "cleo@example.org", "Lakeside Bank", "Member", seated(100)},
		{"member-dev", "Dev Shah", "dev@example.org", "Northstar Health", "Member", waitlisted},
		{"member-eve", "Eve Park", "eve@example.org", "Prairie Foods", "Member", notEligible},
		{"member-fay", "Fay Lowe", "fay@example.org", "", "Member", withdrawn},
	} {
		obj := testutil.Membership(namespace, m.name, cohortName, m.person, m.role)
		obj.Spec.DisplayName, obj.Spec.Organization = m.display, learningv1alpha1.OrganizationName(m.org)
		obj.Status = m.status
		create(t, obj)
	}
	other := testutil.Membership(namespace, "member-gil", "allyship-2025", "gil@example.org", "Member")
	create(t, other)
}

// createEvents creates the cohort's gatherings through December (November's without
// attendance recorded), a community-wide gathering, a speaker series that does not
// count, and another cohort's gathering.
func createEvents(t *testing.T, namespace string) {
	t.Helper()
	p, l, e, a := learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceLate, learningv1alpha1.AttendanceExcused, learningv1alpha1.AttendanceAbsent
	at := testutil.Attended
	communityWide := testutil.Gathering(namespace, "allyship-community-gathering", "", noon(time.October, 20),
		at("lead-ada", p), at("member-ben", a), at("member-cleo", p))
	communityWide.Spec.CohortRef = nil
	communityWide.Spec.CommunityRef = &learningv1alpha1.LocalObjectReference{Name: "allyship"}
	speaker := testutil.Gathering(namespace, "allyship-speaker-series", cohortName, noon(time.October, 27), at("lead-ada", p))
	speaker.Spec.Type = learningv1alpha1.SpeakerSeriesEvent
	for _, ev := range []*learningv1alpha1.LearningEvent{
		testutil.Gathering(namespace, "allyship-2026-gathering-09", cohortName, noon(time.September, 8),
			at("lead-ada", p), at("member-ben", p), at("member-cleo", p), at("member-fay", p)),
		testutil.Gathering(namespace, "allyship-2026-gathering-10", cohortName, noon(time.October, 13),
			at("lead-ada", p), at("member-ben", l), at("member-cleo", e)),
		communityWide,
		speaker,
		testutil.Gathering(namespace, "allyship-2026-gathering-11", cohortName, noon(time.November, 10),
			at("lead-ada", p), at("member-cleo", p)),
		testutil.Gathering(namespace, "allyship-2026-gathering-12", cohortName, noon(time.December, 8)),
		testutil.Gathering(namespace, "allyship-2025-gathering-11", "allyship-2025", noon(time.November, 11), at("member-gil", p)),
	} {
		create(t, ev)
	}
}
