package program

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func TestTermLimits(t *testing.T) {
	lead := func(limit int32) []learningv1alpha1.RolePolicy {
		return []learningv1alpha1.RolePolicy{role("Lead", 0, 2, termLimit(limit), termMonths(12))}
	}
	program := []*learningv1alpha1.Cohort{cohort("program", "2024-01-01", 60)}
	yearly := []*learningv1alpha1.Cohort{
		cohort("y2024", "2024-01-01", 12), cohort("y2025", "2025-01-01", 12), cohort("y2026", "2026-01-01", 12),
	}
	limited := seat{Seated: notEligible, Eligible: learningv1alpha1.TermLimitReachedReason}
	runSeatCases(t, map[string]seatCase{
		"terms served in other cohorts count": {
			roles: lead(2), cohorts: yearly,
			members: []*learningv1alpha1.Membership{
				member("pat-2024", "y2024", "pat", "Lead", day("2023-12-01"), heldSince(day("2024-01-01"))),
				member("pat-2025", "y2025", "pat", "Lead", day("2024-12-01"), heldSince(day("2025-01-01"))),
				member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01")),
			},
			want: map[string]seat{
				"pat-2024": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2024-01-01T00:00:00Z"},
				"pat-2025": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"pat-2026": limited,
			},
		},
		"terms served in the same cohort count": {
			roles: lead(2), cohorts: program,
			members: []*learningv1alpha1.Membership{
				member("pat-1", "program", "pat", "Lead", day("2023-12-01"), heldSince(day("2024-01-01"))),
				member("pat-2", "program", "pat", "Lead", day("2024-12-01"), starting("2025-01-01"), heldSince(day("2025-01-01"))),
				member("pat-3", "program", "pat", "Lead", day("2025-12-01"), starting("2026-01-01")),
			},
			want: map[string]seat{
				"pat-1": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2024-01-01T00:00:00Z"},
				"pat-2": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"pat-3": limited,
			},
		},
		"a term in which the person never held a seat does not count": {
			roles: lead(2), cohorts: yearly,
			members: []*learningv1alpha1.Membership{
				member("pat-2024", "y2024", "pat", "Lead", day("2023-12-01"), heldSince(day("2024-01-01"))),
				member("pat-2025", "y2025", "pat", "Lead", day("2024-12-01"), waitingAt(1, day("2025-01-01"))),
				member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01")),
			},
			want: map[string]seat{
				"pat-2024": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2024-01-01T00:00:00Z"},
				"pat-2025": {Seated: learningv1alpha1.NeverSeatedReason, Eligible: eligible},
				"pat-2026": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
			},
		},
		"a term starting 31 days after the last one ended is consecutive": {
			roles: lead(1), cohorts: program, now: day("2026-01-15"),
			members: []*learningv1alpha1.Membership{
				member("pat-1", "program", "pat", "Lead", day("2024-12-01"), starting("2025-01-01"), until("2025-12-31"), heldSince(day("2025-01-01"))),
				member("pat-2", "program", "pat", "Lead", day("2025-12-01"), starting("2026-02-01")),
			},
			want: map[string]seat{
				"pat-1": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"pat-2": limited,
			},
		},
		"a term starting 32 days after the last one ended starts a new run": {
			roles: lead(1), cohorts: program, now: day("2026-01-15"),
			members: []*learningv1alpha1.Membership{
				member("pat-1", "program", "pat", "Lead", day("2024-12-01"), starting("2025-01-01"), until("2025-12-31"), heldSince(day("2025-01-01"))),
				member("pat-2", "program", "pat", "Lead", day("2025-12-01"), starting("2026-02-02")),
			},
			want: map[string]seat{
				"pat-1": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"pat-2": {Seated: seated, Eligible: eligible, Since: "2026-01-15T00:00:00Z"},
			},
		},
		"a term that breaks its limit does not count against a later one": {
			// o follows n within 31 days, so o is refused; m follows n by more than 31
			// days and o never held a seat, so m is seated in the same evaluation.
			roles: lead(1), cohorts: program, now: day("2025-12-01"),
			members: []*learningv1alpha1.Membership{
				member("m", "program", "pat", "Lead", day("2025-11-01"), starting("2026-07-15"), until("2026-09-30")),
				member("o", "program", "pat", "Lead", day("2025-11-02"), starting("2026-04-15"), until("2026-06-30")),
				member("n", "program", "pat", "Lead", day("2025-11-03"), starting("2026-01-01"), until("2026-03-31")),
			},
			want: map[string]seat{
				"n": {Seated: seated, Eligible: eligible, Since: "2025-12-01T00:00:00Z"},
				"o": limited,
				"m": {Seated: seated, Eligible: eligible, Since: "2025-12-01T00:00:00Z"},
			},
		},
		"overlapping terms are consecutive": {
			roles: lead(1), cohorts: program,
			members: []*learningv1alpha1.Membership{
				member("pat-1", "program", "pat", "Lead", day("2025-05-01"), starting("2025-06-01"), withdrawn(), heldSince(day("2025-06-01"))),
				member("pat-2", "program", "pat", "Lead", day("2025-12-01"), starting("2026-01-01")),
			},
			want: map[string]seat{
				"pat-1": {Seated: learningv1alpha1.WithdrawnReason, Eligible: eligible, Since: "2025-06-01T00:00:00Z"},
				"pat-2": limited,
			},
		},
		"the term in progress counts for the next one": {
			roles: lead(1), cohorts: program,
			members: []*learningv1alpha1.Membership{
				member("pat-1", "program", "pat", "Lead", day("2025-12-01"), starting("2026-01-01"), heldSince(day("2026-01-01"))),
				member("pat-2", "program", "pat", "Lead", day("2026-02-01"), starting("2027-01-01")),
			},
			want: map[string]seat{
				"pat-1": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"pat-2": limited,
			},
		},
		"other roles and other people do not count": {
			roles:   []learningv1alpha1.RolePolicy{role("Lead", 0, 2, termLimit(1)), role("Member", 0, 5)},
			cohorts: yearly,
			members: []*learningv1alpha1.Membership{
				member("pat-2025", "y2025", "pat", "Member", day("2024-12-01"), heldSince(day("2025-01-01"))),
				member("ann-2025", "y2025", "ann", "Lead", day("2024-12-01"), heldSince(day("2025-01-01"))),
				member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01")),
			},
			want: map[string]seat{
				"pat-2025": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"ann-2025": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"pat-2026": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
			},
		},
	})
}

func TestTermLimitMessage(t *testing.T) {
	out := Evaluate(Snapshot{
		Now:       now,
		Community: community(role("Lead", 0, 2, termLimit(1))),
		Cohorts:   []*learningv1alpha1.Cohort{cohort("y2025", "2025-01-01", 12), cohort("y2026", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("pat-2025", "y2025", "pat", "Lead", day("2024-12-01"), heldSince(day("2025-01-01"))),
			member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01")),
		},
	})
	want := verdict{metav1.ConditionFalse, learningv1alpha1.TermLimitReachedReason,
		"role Lead allows at most 1 consecutive terms and this would be consecutive term 2"}
	if diff := cmp.Diff(want, verdictOf(out.Memberships["pat-2026"].Conditions, learningv1alpha1.EligibleCondition)); diff != "" {
		t.Errorf("Eligible (-want +got):\n%s", diff)
	}
}

func TestEligibility(t *testing.T) {
	roles := []learningv1alpha1.RolePolicy{role("Lead", 0, 2), role("Member", 0, 5)}
	closing := []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12, enrollmentCloses("2026-01-15"))}
	cases := map[string]struct {
		orgs    []learningv1alpha1.OrganizationName
		cohorts []*learningv1alpha1.Cohort
		member  *learningv1alpha1.Membership
		want    verdict
	}{
		"eligible": {
			member: member("ann", "alpha", "ann", "Member", day("2025-12-01")),
			want:   verdict{metav1.ConditionTrue, eligible, "eligible for a Member seat"},
		},
		"unknown role": {
			member: member("ann", "alpha", "ann", "Organizer", day("2025-12-01")),
			want: verdict{metav1.ConditionFalse, learningv1alpha1.UnknownRoleReason,
				`spec.role "Organizer" is not in the cohort's policy; known roles: Lead, Member`},
		},
		"organization outside the eligible organizations": {
			orgs:   []learningv1alpha1.OrganizationName{"Iowa Alliance"},
			member: member("ann", "alpha", "ann", "Member", day("2025-12-01"), from("Ohio Coalition")),
			want: verdict{metav1.ConditionFalse, learningv1alpha1.OrganizationNotEligibleReason,
				`spec.organization "Ohio Coalition" is not one of the community's eligible organizations`},
		},
		"no organization when only eligible organizations are admitted": {
			orgs:   []learningv1alpha1.OrganizationName{"Iowa Alliance"},
			member: member("ann", "alpha", "ann", "Member", day("2025-12-01")),
			want: verdict{metav1.ConditionFalse, learningv1alpha1.OrganizationNotEligibleReason,
				"spec.organization is not set and the community admits only its eligible organizations"},
		},
		"eligible organization": {
			orgs:   []learningv1alpha1.OrganizationName{"Iowa Alliance"},
			member: member("ann", "alpha", "ann", "Member", day("2025-12-01"), from("Iowa Alliance")),
			want:   verdict{metav1.ConditionTrue, eligible, "eligible for a Member seat"},
		},
		"explicit start after enrollment closed": {
			cohorts: closing,
			member:  member("ann", "alpha", "ann", "Member", day("2025-12-01"), starting("2026-02-01")),
			want: verdict{metav1.ConditionFalse, learningv1alpha1.EnrollmentClosedReason,
				"spec.startDate 2026-02-01 is after enrollment closed on 2026-01-15"},
		},
		"explicit start on the day enrollment closes": {
			cohorts: closing,
			member:  member("ann", "alpha", "ann", "Member", day("2025-12-01"), starting("2026-01-15")),
			want:    verdict{metav1.ConditionTrue, eligible, "eligible for a Member seat"},
		},
		"no start date after enrollment closed: the term starts with the cohort": {
			cohorts: closing,
			// Created long after enrollment closed: creation time never counts.
			member: member("ann", "alpha", "ann", "Member", day("2026-03-01")),
			want:   verdict{metav1.ConditionTrue, eligible, "eligible for a Member seat"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := seatCase{roles: roles, orgs: tc.orgs, cohorts: tc.cohorts, members: []*learningv1alpha1.Membership{tc.member}}
			status := Evaluate(s.snapshot()).Memberships["ann"]
			if diff := cmp.Diff(tc.want, verdictOf(status.Conditions, learningv1alpha1.EligibleCondition)); diff != "" {
				t.Errorf("Eligible (-want +got):\n%s", diff)
			}
			wantSeated := metav1.ConditionFalse
			if tc.want.Status == metav1.ConditionTrue {
				wantSeated = metav1.ConditionTrue
			}
			if got := verdictOf(status.Conditions, learningv1alpha1.SeatedCondition).Status; got != wantSeated {
				t.Errorf("Seated = %s, want %s", got, wantSeated)
			}
		})
	}
}
