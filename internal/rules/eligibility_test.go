package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// year is the calendar year y as a term, in UTC.
func year(y int) Term {
	return Term{Start: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// eligibilityBase is ana's 2026 Lead membership in the allyship community, whose Lead
// role allows 2 consecutive terms.
var eligibilityBase = EligibilityInput{
	Name:         "ana-2026",
	Cohort:       "allyship-2026",
	Role:         "Lead",
	Organization: "Iowa Alliance",
	Created:      epoch,
	Term:         year(2026),
	Policy: Policy{
		Roles:                 seedRoles(),
		EligibleOrganizations: []string{"Iowa Alliance", "Ohio Coalition"},
	},
}

// withInput returns eligibilityBase changed by mutate.
func withInput(mutate func(*EligibilityInput)) EligibilityInput {
	in := eligibilityBase
	mutate(&in)
	return in
}

// overlapping is ana's earlier membership in another active cohort for the same year.
var overlapping = Claim{
	Name: "ana-equity", Cohort: "equity-1", Role: "Member",
	Created: epoch.Add(-time.Hour), Term: year(2026), CohortActive: true,
}

// pastLead is ana's Lead membership in an earlier cohort.
func pastLead(name string, term Term) Claim {
	return Claim{Name: name, Cohort: "allyship-" + name, Role: "Lead", Created: epoch.Add(-time.Hour), Term: term}
}

var (
	eligible      = Eligibility{Eligible: true, Reason: ReasonEligible, Message: "eligible for a seat as Lead"}
	alreadySeated = Eligibility{
		Reason:  ReasonAlreadySeated,
		Message: `the person already holds membership "ana-equity" in cohort "equity-1" for an overlapping term`,
	}
	termLimit = Eligibility{
		Reason:  ReasonTermLimitReached,
		Message: `role "Lead" allows at most 2 consecutive terms and this would be consecutive term 3`,
	}
)

type eligibilityCase struct {
	in   EligibilityInput
	want Eligibility
}

func runEligibility(t *testing.T, cases map[string]eligibilityCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CheckEligibility(tc.in)); diff != "" {
				t.Errorf("CheckEligibility (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckEligibilityRoleAndOrganization covers the role and organization rules and the order in which the rules apply.
func TestCheckEligibilityRoleAndOrganization(t *testing.T) {
	runEligibility(t, map[string]eligibilityCase{
		"eligible": {in: eligibilityBase, want: eligible},
		"unknown role lists the known ones": {
			in: withInput(func(in *EligibilityInput) { in.Role = "Facilitator" }),
			want: Eligibility{
				Reason:  ReasonUnknownRole,
				Message: `role "Facilitator" is not in the policy; known roles: Lead, Member`,
			},
		},
		"unknown role comes before the organization": {
			in: withInput(func(in *EligibilityInput) {
				in.Role = "Facilitator"
				in.Organization = "Elsewhere"
				in.Policy.Roles = nil
			}),
			want: Eligibility{
				Reason:  ReasonUnknownRole,
				Message: `role "Facilitator" is not in the policy, which declares no roles`,
			},
		},
		"organization not eligible": {
			in: withInput(func(in *EligibilityInput) { in.Organization = "Texas Network" }),
			want: Eligibility{
				Reason:  ReasonOrganizationNotEligible,
				Message: `organization "Texas Network" is not one of the community's eligible organizations`,
			},
		},
		"no organization when the community restricts them": {
			in: withInput(func(in *EligibilityInput) { in.Organization = "" }),
			want: Eligibility{
				Reason:  ReasonOrganizationNotEligible,
				Message: "no organization is set and the community admits only its eligible organizations",
			},
		},
		"every organization when the list is nil": {
			in:   withInput(func(in *EligibilityInput) { in.Organization = "Texas Network"; in.Policy.EligibleOrganizations = nil }),
			want: eligible,
		},
		"organization comes before an earlier seat": {
			in: withInput(func(in *EligibilityInput) { in.Organization = "Texas Network"; in.Others = []Claim{overlapping} }),
			want: Eligibility{
				Reason:  ReasonOrganizationNotEligible,
				Message: `organization "Texas Network" is not one of the community's eligible organizations`,
			},
		},
		"earlier seat comes before the term limit": {
			in: withInput(func(in *EligibilityInput) {
				in.Others = []Claim{pastLead("2024", year(2024)), pastLead("2025", year(2025)), overlapping}
			}),
			want: alreadySeated,
		},
	})
}

// TestCheckEligibilityAlreadySeated covers which of a person's overlapping memberships holds the claim.
func TestCheckEligibilityAlreadySeated(t *testing.T) {
	runEligibility(t, map[string]eligibilityCase{
		"already seated in an earlier overlapping membership": {
			in:   withInput(func(in *EligibilityInput) { in.Others = []Claim{overlapping} }),
			want: alreadySeated,
		},
		"the earliest of several claims is named": {
			in: withInput(func(in *EligibilityInput) {
				later := overlapping
				later.Name, later.Cohort, later.Created = "ana-other", "other-1", epoch.Add(-time.Minute)
				in.Others = []Claim{later, overlapping}
			}),
			want: alreadySeated,
		},
		"creation tie goes to the smaller name": {
			in: withInput(func(in *EligibilityInput) {
				c := overlapping
				c.Created = eligibilityBase.Created
				c.Name = "ana-0-equity" // sorts before "ana-2026"
				in.Others = []Claim{c}
			}),
			want: Eligibility{
				Reason:  ReasonAlreadySeated,
				Message: `the person already holds membership "ana-0-equity" in cohort "equity-1" for an overlapping term`,
			},
		},
		"creation tie with a larger name does not block": {
			in: withInput(func(in *EligibilityInput) {
				c := overlapping
				c.Created = eligibilityBase.Created // "ana-equity" sorts after "ana-2026"
				in.Others = []Claim{c}
			}),
			want: eligible,
		},
		"a later membership does not block": {
			in: withInput(func(in *EligibilityInput) {
				c := overlapping
				c.Created = epoch.Add(time.Hour)
				in.Others = []Claim{c}
			}),
			want: eligible,
		},
		"a withdrawn membership does not block": {
			in: withInput(func(in *EligibilityInput) {
				c := overlapping
				c.Withdrawn = true
				in.Others = []Claim{c}
			}),
			want: eligible,
		},
		"a completed cohort does not block": {
			in: withInput(func(in *EligibilityInput) {
				c := overlapping
				c.CohortActive = false
				in.Others = []Claim{c}
			}),
			want: eligible,
		},
		"a term that ends as this one starts does not overlap": {
			in: withInput(func(in *EligibilityInput) {
				c := overlapping
				c.Term = year(2025)
				in.Others = []Claim{c}
			}),
			want: eligible,
		},
	})
}

// TestCheckEligibilityTermLimit covers runs of consecutive terms.
func TestCheckEligibilityTermLimit(t *testing.T) {
	runEligibility(t, map[string]eligibilityCase{
		"two consecutive terms reach a limit of two": {
			in: withInput(func(in *EligibilityInput) {
				in.Others = []Claim{pastLead("2025", year(2025)), pastLead("2024", year(2024))}
			}),
			want: termLimit,
		},
		"one previous term is under the limit": {
			in:   withInput(func(in *EligibilityInput) { in.Others = []Claim{pastLead("2025", year(2025))} }),
			want: eligible,
		},
		"a gap of 31 days still chains": {
			in: withInput(func(in *EligibilityInput) {
				in.Term = Term{Start: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)}
				in.Others = []Claim{pastLead("2025", year(2025)), pastLead("2024", year(2024))}
			}),
			want: termLimit,
		},
		"a gap of 32 days breaks the run": {
			in: withInput(func(in *EligibilityInput) {
				in.Term = Term{Start: time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 2, 2, 0, 0, 0, 0, time.UTC)}
				in.Others = []Claim{pastLead("2025", year(2025)), pastLead("2024", year(2024))}
			}),
			want: eligible,
		},
		"a gap inside the chain breaks it": {
			in: withInput(func(in *EligibilityInput) {
				in.Others = []Claim{pastLead("2025", year(2025)), pastLead("2023", year(2023))}
			}),
			want: eligible,
		},
		"a withdrawn term breaks the run": {
			in: withInput(func(in *EligibilityInput) {
				w := pastLead("2025", year(2025))
				w.Withdrawn = true
				in.Others = []Claim{w, pastLead("2024", year(2024))}
			}),
			want: eligible,
		},
		"terms in another role do not count": {
			in: withInput(func(in *EligibilityInput) {
				m := pastLead("2025", year(2025))
				m.Role = "Member"
				in.Others = []Claim{m, pastLead("2024", year(2024))}
			}),
			want: eligible,
		},
		"the longest of branching chains counts": {
			in: withInput(func(in *EligibilityInput) {
				// Both "2025-h2" and "2025" end right before this term; only "2025"
				// continues a run from "2024".
				short := pastLead("2025-h2", Term{Start: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), End: year(2026).Start})
				in.Others = []Claim{short, pastLead("2025", year(2025)), pastLead("2024", year(2024))}
			}),
			want: termLimit,
		},
		"a longer run reports its length": {
			in: withInput(func(in *EligibilityInput) {
				in.Policy.Roles = []RolePolicy{{Name: "Lead", Max: 2, TermMonths: 12, MaxConsecutiveTerms: 3}}
				in.Others = []Claim{pastLead("2023", year(2023)), pastLead("2025", year(2025)), pastLead("2024", year(2024))}
			}),
			want: Eligibility{
				Reason:  ReasonTermLimitReached,
				Message: `role "Lead" allows at most 3 consecutive terms and this would be consecutive term 4`,
			},
		},
		"unlimited terms": {
			in: withInput(func(in *EligibilityInput) {
				in.Role = "Member"
				in.Others = []Claim{pastLead("2025", year(2025)), pastLead("2024", year(2024))}
				for i := range in.Others {
					in.Others[i].Role = "Member"
				}
			}),
			want: Eligibility{Eligible: true, Reason: ReasonEligible, Message: "eligible for a seat as Member"},
		},
		"empty terms never chain": {
			in: withInput(func(in *EligibilityInput) {
				empty := Term{Start: year(2026).Start, End: year(2026).Start}
				in.Others = []Claim{pastLead("a", empty), pastLead("b", empty), pastLead("c", empty)}
			}),
			want: eligible,
		},
	})
}
