package rules

import (
	"testing"
	"time"
)

// TestEndedClaimStopsBlocking: a person's earlier membership elsewhere blocks a new
// one only while its term runs; afterwards it still counts toward the term limit.
func TestEndedClaimStopsBlocking(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	earlier := Claim{Name: "x", Cohort: "a", Role: "Member", Created: day(1, 1), Term: Term{Start: day(1, 1), End: day(4, 1)}, CohortActive: true}
	in := EligibilityInput{
		Name: "y", Cohort: "b", Role: "Member", Created: day(1, 2),
		Term:   Term{Start: day(2, 1), End: day(12, 1)},
		Policy: Policy{Roles: []RolePolicy{{Name: "Member", Max: 10, TermMonths: 12}}},
		Others: []Claim{earlier},
	}
	tests := map[string]struct {
		now  time.Time
		want string
	}{
		"no clock: the overlap blocks":   {want: ReasonAlreadySeated},
		"while the other term runs":      {now: day(3, 15), want: ReasonAlreadySeated},
		"after the other term has ended": {now: day(4, 1), want: ReasonEligible},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := in
			in.Now = tc.now
			if got := CheckEligibility(in); got.Reason != tc.want {
				t.Fatalf("reason %s (%s), want %s", got.Reason, got.Message, tc.want)
			}
		})
	}
}
