package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reasons of the Eligible condition, one per eligibility rule.
const (
	// ReasonEligible means the membership may compete for a seat.
	ReasonEligible = "Eligible"
	// ReasonUnknownRole means the membership's role is not in the cohort's policy.
	ReasonUnknownRole = "UnknownRole"
	// ReasonOrganizationNotEligible means the organization is not among the community's
	// eligible organizations.
	ReasonOrganizationNotEligible = "OrganizationNotEligible"
	// ReasonAlreadySeated means the person holds an earlier claim in another active cohort
	// of the community for an overlapping term.
	ReasonAlreadySeated = "AlreadySeated"
	// ReasonTermLimitReached means the person has served the role's maximum number of
	// consecutive terms.
	ReasonTermLimitReached = "TermLimitReached"
)

// consecutiveGapDays is how long a break between two terms may last for them to still
// count as consecutive: a month, so that a new cohort starting soon after the last one
// ended continues the run.
const consecutiveGapDays = 31

// Claim is another membership of the same person, in another cohort of the same
// community.
type Claim struct {
	Name, Cohort, Role string
	Created            time.Time
	Term               Term
	Withdrawn          bool
	CohortActive       bool // its cohort is Enrolling or Active (not Completed)
}

// EligibilityInput is everything CheckEligibility needs to judge one membership.
type EligibilityInput struct {
	Name         string // this membership
	Cohort       string
	Role         string
	Organization string
	Created      time.Time
	Term         Term
	Policy       Policy
	Others       []Claim // the same person's memberships in other cohorts of the same community
	// Now, when set, lets a claim whose term has ended stop blocking this one; ended
	// terms still count toward the consecutive-term limit.
	Now time.Time
}

// Eligibility is the verdict of CheckEligibility, ready for the Eligible condition.
type Eligibility struct {
	Eligible bool
	Reason   string
	Message  string
}

// CheckEligibility decides whether a membership may compete for a seat. The rules apply
// in this order, and the first that fails gives the reason: the role must be in the
// policy; the organization must be eligible when the policy lists eligible
// organizations; the person must not hold an earlier claim (created earlier, ties broken
// by the smaller name) that is not withdrawn, in an active cohort, for an overlapping
// term; and the person's run of consecutive terms in the role right before this one
// must be shorter than the role's MaxConsecutiveTerms, when that is set.
func CheckEligibility(in EligibilityInput) Eligibility {
	role, ok := in.Policy.Role(in.Role)
	if !ok {
		return Eligibility{Reason: ReasonUnknownRole, Message: unknownRoleMessage(in.Role, in.Policy)}
	}
	if in.Policy.EligibleOrganizations != nil && !slices.Contains(in.Policy.EligibleOrganizations, in.Organization) {
		msg := fmt.Sprintf("organization %q is not one of the community's eligible organizations", in.Organization)
		if in.Organization == "" {
			msg = "no organization is set and the community admits only its eligible organizations"
		}
		return Eligibility{Reason: ReasonOrganizationNotEligible, Message: msg}
	}
	if c, ok := earliestConflict(in); ok {
		return Eligibility{
			Reason: ReasonAlreadySeated,
			Message: fmt.Sprintf("the person already holds membership %q in cohort %q for an overlapping term",
				c.Name, c.Cohort),
		}
	}
	if role.MaxConsecutiveTerms > 0 {
		if run := consecutiveRun(in); run >= role.MaxConsecutiveTerms {
			return Eligibility{
				Reason: ReasonTermLimitReached,
				Message: fmt.Sprintf("role %q allows at most %d consecutive terms and this would be consecutive term %d",
					role.Name, role.MaxConsecutiveTerms, run+1),
			}
		}
	}
	return Eligibility{
		Eligible: true,
		Reason:   ReasonEligible,
		Message:  fmt.Sprintf("eligible for a seat as %s", role.Name),
	}
}

// unknownRoleMessage names the role and lists the ones the policy knows.
func unknownRoleMessage(role string, p Policy) string {
	if len(p.Roles) == 0 {
		return fmt.Sprintf("role %q is not in the policy, which declares no roles", role)
	}
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = r.Name
	}
	return fmt.Sprintf("role %q is not in the policy; known roles: %s", role, strings.Join(names, ", "))
}

// earliestConflict returns the earliest-created claim that takes precedence over this
// membership. Only earlier claims win, so of two overlapping memberships exactly one is
// blocked and the rule never flips back and forth between them.
func earliestConflict(in EligibilityInput) (Claim, bool) {
	var (
		best  Claim
		found bool
	)
	for _, c := range in.Others {
		if c.Withdrawn || !c.CohortActive || !c.Term.overlaps(in.Term) {
			continue
		}
		if !in.Now.IsZero() && !in.Now.Before(c.Term.End) {
			continue
		}
		if !claimedBefore(c.Created, c.Name, in.Created, in.Name) {
			continue
		}
		if !found || claimedBefore(c.Created, c.Name, best.Created, best.Name) {
			best, found = c, true
		}
	}
	return best, found
}

// claimedBefore orders claims by creation time, then name.
func claimedBefore(aCreated time.Time, aName string, bCreated time.Time, bName string) bool {
	if c := aCreated.Compare(bCreated); c != 0 {
		return c < 0
	}
	return aName < bName
}

// consecutiveRun returns the length of the longest run of the person's non-withdrawn
// terms in the same role that ends right before this term, each term starting within
// consecutiveGapDays after the previous one ends.
func consecutiveRun(in EligibilityInput) int {
	var terms []Term
	for _, c := range in.Others {
		// Empty or inverted terms are skipped: they could follow themselves and make the
		// chain cyclic.
		if c.Withdrawn || c.Role != in.Role || !c.Term.Start.Before(c.Term.End) {
			continue
		}
		terms = append(terms, c.Term)
	}
	// Every link goes to a term that started strictly earlier, so the chains form a DAG
	// and memoising the longest run ending at each term is enough.
	memo := make([]int, len(terms))
	var runEndingAt func(i int) int
	runEndingAt = func(i int) int {
		if memo[i] > 0 {
			return memo[i]
		}
		longest := 0
		for j := range terms {
			if follows(terms[j], terms[i].Start) {
				longest = max(longest, runEndingAt(j))
			}
		}
		memo[i] = longest + 1
		return memo[i]
	}
	run := 0
	for i := range terms {
		if follows(terms[i], in.Term.Start) {
			run = max(run, runEndingAt(i))
		}
	}
	return run
}

// follows reports whether a term starting at start continues prev: it starts at or after
// prev's end, and within consecutiveGapDays calendar days of it (in the location of
// prev.End, so a daylight-saving change does not shift the limit by an hour).
func follows(prev Term, start time.Time) bool {
	return !start.Before(prev.End) && !start.After(prev.End.AddDate(0, 0, consecutiveGapDays))
}
