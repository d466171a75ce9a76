package kubectlcohort

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func TestSeatOf(t *testing.T) {
	withdrawn := seated("2026-01-01", "2026-12-31", nil)
	withdrawn.Phase = learningv1alpha1.MembershipWithdrawn
	withdrawn.Conditions[1] = cond(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn")
	expired := seated("2025-01-01", "2025-12-31", nil)
	expired.Phase = learningv1alpha1.MembershipExpired
	completed := waitlisted(1)
	completed.WaitlistPosition = nil
	completed.Conditions[1] = cond(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.CompletedReason, "the cohort completed")
	neverSeated := waitlisted(1)
	neverSeated.WaitlistPosition = nil
	neverSeated.Conditions[1] = cond(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NeverSeatedReason, "the cohort completed without a seat")
	frozen := waitlisted(1)
	frozen.WaitlistPosition = nil
	frozen.Conditions[1] = cond(learningv1alpha1.SeatedCondition, metav1.ConditionUnknown, learningv1alpha1.SeatsFrozenReason, "frozen")

	cases := map[string]struct {
		status learningv1alpha1.MembershipStatus
		want   string
	}{
		"seated":                  {seated("2026-01-01", "2026-12-31", nil), "Seated"},
		"waitlisted":              {waitlisted(3), "Waitlisted #3"},
		"not eligible":            {notEligible(learningv1alpha1.TermLimitReachedReason), "Not eligible (TermLimitReached)"},
		"withdrawn":               {withdrawn, "Withdrawn"},
		"expired, still seated":   {expired, "Expired"},
		"completed cohort":        {completed, "Completed"},
		"completed, never seated": {neverSeated, "Completed"},
		"frozen seats":            {frozen, "Unknown (SeatsFrozen)"},
		"not evaluated by anyone": {learningv1alpha1.MembershipStatus{}, "Unknown (not evaluated yet)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := member("m", "", "p", "", "Member", tc.status)
			if got := SeatOf(&m).String(); got != tc.want {
				t.Errorf("SeatOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// rosterMembers are memberships of every seat state, in no order, and one of another
// cohort.
func rosterMembers() []learningv1alpha1.Membership {
	withdrawn := seated("2026-01-01", "2026-12-31", nil)
	withdrawn.Phase = learningv1alpha1.MembershipWithdrawn
	other := member("other", "Other Cohort", "other@example.org", "Lakeside Bank", "Member", waitlisted(1))
	other.Spec.CohortRef.Name = "allyship-2025"
	return []learningv1alpha1.Membership{
		member("m-ben", "Ben Okafor", "ben@example.org", "Northstar Health", "Member", waitlisted(2)),
		member("m-eve", "Eve Park", "eve@example.org", "", "Member", withdrawn),
		member("m-ada", "Ada Lind", "ada@example.org", "Northstar Health", "Lead", seated("2026-01-01", "2026-12-31", nil)),
		other,
		member("m-cleo", "Cleo Ruiz", "cleo@example.org", "Northstar Health", "Member", waitlisted(1)),
		member("m-dev", "", "dev@example.org", "Acme Corp", "Member", notEligible(learningv1alpha1.OrganizationNotEligibleReason)),
		member("m-gus", "Gus Berg", "gus@example.org", "Lakeside Bank", "Member", seated("2026-03-01", "2026-12-31", nil)),
		member("m-fay", "Fay Lowe", "fay@example.org", "Lakeside Bank", "Facilitator", learningv1alpha1.MembershipStatus{}),
	}
}

func TestBuildRosterGroupsByOrganizationAndRole(t *testing.T) {
	r := BuildRoster(cohort(), rosterMembers(), false)
	var got []string
	for _, e := range r.Members {
		got = append(got, e.Organization+"/"+e.Role+"/"+e.Name()+"/"+e.Seat.String())
	}
	want := []string{
		"Acme Corp/Member/m-dev/Not eligible (OrganizationNotEligible)",
		// Member comes before Facilitator: status.roles orders the cohort's roles; a
		// role it does not list comes last.
		"Lakeside Bank/Member/Gus Berg/Seated",
		"Lakeside Bank/Facilitator/Fay Lowe/Unknown (not evaluated yet)",
		"Northstar Health/Lead/Ada Lind/Seated",
		"Northstar Health/Member/Cleo Ruiz/Waitlisted #1",
		"Northstar Health/Member/Ben Okafor/Waitlisted #2",
		"/Member/Eve Park/Withdrawn",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roster order (-want +got):\n%s", diff)
	}
}

func TestRosterTable(t *testing.T) {
	for name, hideUsers := range map[string]bool{"roster": false, "roster-hide-users": true} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := BuildRoster(cohort(), rosterMembers(), hideUsers).WriteTable(&out); err != nil {
				t.Fatal(err)
			}
			golden(t, name, out.String())
		})
	}
}

func TestRosterTableShowsTeamRoles(t *testing.T) {
	m := member("m-ed", "Ed Moss", "ed", "Prairie Foods", "Leader", seated("2026-01-01", "2026-06-30", nil))
	m.Spec.TeamRole = "ExecutiveDirector"
	plain := member("m-jo", "Jo Tran", "jo", "Prairie Foods", "Leader", seated("2026-01-01", "2026-06-30", nil))
	c := cohort()
	c.Status.Seats = ""
	var out bytes.Buffer
	if err := BuildRoster(c, []learningv1alpha1.Membership{m, plain}, true).WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	want := `ORGANIZATION    ROLE     TEAM ROLE           NAME      SEAT     PHASE    TERM
Prairie Foods   Leader   ExecutiveDirector   Ed Moss   Seated   Active   2026-01-01 to 2026-06-30
Prairie Foods   Leader   <none>              Jo Tran   Seated   Active   2026-01-01 to 2026-06-30
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestBuildRosterHideUsersLeavesMemberOutOfData(t *testing.T) {
	for _, e := range BuildRoster(cohort(), rosterMembers(), true).Members {
		if e.Member != "" {
			t.Errorf("%s: member %q shown with hideUsers", e.Membership, e.Member)
		}
	}
}
