package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Defaults applied by EffectivePolicy when neither the community nor the cohort sets a
// field. They mirror the defaults documented on the API types.
const (
	// DefaultTermMonths is the length of a role's term when termMonths is unset.
	DefaultTermMonths = 12
	// DefaultRequiredPercent is the attendance commitment when requiredPercent is unset.
	DefaultRequiredPercent = 80
	// DefaultMinimumEvents is how many events must have ended before attendance is judged.
	DefaultMinimumEvents = 3
	// DefaultLateWeightPercent is how much a Late arrival counts, in percent of a Present one.
	DefaultLateWeightPercent = 100
	// DefaultTermNoticeDays is the length of the Expiring window before a term ends.
	DefaultTermNoticeDays = 30
	// DefaultPlanDueDays is how many days after its start a required plan is due.
	DefaultPlanDueDays = 30
	// DefaultPlanStaleAfter is how many counting events may end without a check-in
	// before a plan is stale.
	DefaultPlanStaleAfter = 2
)

// RolePolicy is the effective seat and term policy of one role.
type RolePolicy struct {
	Name                string
	Min, Max            int
	TermMonths          int
	MaxConsecutiveTerms int // 0 means unlimited
	// Access is what the role's seated members may do in the cluster; Read unless a
	// policy says Edit.
	Access learningv1alpha1.AccessLevel
}

// Composition is the effective team composition policy of a cohort of organizations.
type Composition struct {
	MinOrganizations, MaxOrganizations, TeamSize int // 0 means unset (no bound)
	RequiredTeamRoles                            []string
	// Roles are the program roles whose members form the teams; empty means all.
	Roles []string
}

// Counts reports whether members of the program role take part in the composition.
func (c *Composition) Counts(role string) bool {
	return len(c.Roles) == 0 || slices.Contains(c.Roles, role)
}

// AttendancePolicy is the effective attendance commitment of a cohort's members.
type AttendancePolicy struct{ RequiredPercent, MinimumEvents, LateWeightPercent int }

// PlanPolicy is the effective ActionPlan policy of a cohort.
type PlanPolicy struct {
	// Required is None, Personal or Team.
	Required            learningv1alpha1.PlanRequirement
	DueDays, StaleAfter int
}

// Policy is the effective policy of one cohort: its community's policy with the cohort's
// overrides and the defaults applied.
type Policy struct {
	Roles                 []RolePolicy // in declaration order: community roles first, then roles only the cohort adds
	Composition           *Composition // nil when neither community nor cohort sets one
	Attendance            AttendancePolicy
	TermNoticeDays        int
	ActionPlans           PlanPolicy
	EligibleOrganizations []string // nil means every organization is eligible
}

// Role returns the effective policy of the named role and whether the policy has it.
func (p Policy) Role(name string) (RolePolicy, bool) {
	for _, r := range p.Roles {
		if r.Name == name {
			return r, true
		}
	}
	return RolePolicy{}, false
}

// EffectivePolicy merges a community's policy (nil for a standalone cohort) with a
// cohort's overrides (nil allowed) field by field: a role is matched by name and each of
// its set fields overrides the community's; composition and attendance fields likewise;
// then defaults apply. A cohort may add roles the community lacks. The error names every
// offending field (for example `role "Member": maxMembers is not set`) when the merged
// policy is unusable.
func EffectivePolicy(community *learningv1alpha1.ProgramPolicy, eligibleOrganizations []learningv1alpha1.OrganizationName, cohort *learningv1alpha1.ProgramPolicy) (Policy, error) {
	if community == nil {
		community = &learningv1alpha1.ProgramPolicy{}
	}
	if cohort == nil {
		cohort = &learningv1alpha1.ProgramPolicy{}
	}
	var problems []string
	roles, roleProblems := mergeRoles(community.Roles, cohort.Roles)
	problems = append(problems, roleProblems...)
	composition, compositionProblems := mergeComposition(community.Composition, cohort.Composition)
	problems = append(problems, compositionProblems...)
	attendance, attendanceProblems := mergeAttendance(community.Attendance, cohort.Attendance)
	problems = append(problems, attendanceProblems...)

	notice := DefaultTermNoticeDays
	if v := firstSet(cohort.TermNoticeDays, community.TermNoticeDays); v != nil {
		notice = int(*v)
	}
	if notice < 0 {
		problems = append(problems, fmt.Sprintf("termNoticeDays %d is negative", notice))
	}

	p := Policy{
		Roles:          roles,
		Composition:    composition,
		Attendance:     attendance,
		TermNoticeDays: notice,
		ActionPlans:    mergePlans(community.ActionPlans, cohort.ActionPlans),
	}
	// An empty list does not survive a JSON round trip (omitempty), so treating it as
	// "nobody is eligible" would make the rule depend on how the object was read.
	if len(eligibleOrganizations) > 0 {
		p.EligibleOrganizations = make([]string, len(eligibleOrganizations))
		for i, o := range eligibleOrganizations {
			p.EligibleOrganizations[i] = string(o)
		}
	}
	if len(problems) > 0 {
		return Policy{}, errors.New(strings.Join(problems, "; "))
	}
	return p, nil
}

// mergeRoles overlays the cohort's roles on the community's by name and applies the
// defaults, returning one problem per unusable field.
func mergeRoles(community, cohort []learningv1alpha1.RolePolicy) ([]RolePolicy, []string) {
	var (
		merged   []learningv1alpha1.RolePolicy
		index    = map[learningv1alpha1.RoleName]int{}
		problems []string
	)
	for _, r := range community {
		if _, dup := index[r.Name]; dup {
			problems = append(problems, fmt.Sprintf("role %q is declared more than once", r.Name))
			continue
		}
		index[r.Name] = len(merged)
		merged = append(merged, r)
	}
	overridden := map[learningv1alpha1.RoleName]bool{}
	for _, r := range cohort {
		if overridden[r.Name] {
			problems = append(problems, fmt.Sprintf("role %q is overridden more than once", r.Name))
			continue
		}
		overridden[r.Name] = true
		i, ok := index[r.Name]
		if !ok {
			index[r.Name] = len(merged)
			merged = append(merged, r)
			continue
		}
		base := &merged[i]
		base.MinMembers = firstSet(r.MinMembers, base.MinMembers)
		base.MaxMembers = firstSet(r.MaxMembers, base.MaxMembers)
		base.TermMonths = firstSet(r.TermMonths, base.TermMonths)
		base.MaxConsecutiveTerms = firstSet(r.MaxConsecutiveTerms, base.MaxConsecutiveTerms)
		if r.Access != "" {
			base.Access = r.Access
		}
	}
	if len(merged) == 0 {
		return nil, append(problems, "roles: no role is declared")
	}
	out := make([]RolePolicy, 0, len(merged))
	for _, r := range merged {
		role, roleProblems := resolveRole(r)
		problems = append(problems, roleProblems...)
		out = append(out, role)
	}
	return out, problems
}

// resolveRole applies the defaults to one merged role and checks the bounds the API
// server enforces on each object, because a merge can combine values no single object
// declared together.
func resolveRole(r learningv1alpha1.RolePolicy) (RolePolicy, []string) {
	role := RolePolicy{
		Name:                string(r.Name),
		Min:                 intOr(r.MinMembers, 0),
		Max:                 intOr(r.MaxMembers, 0),
		TermMonths:          intOr(r.TermMonths, DefaultTermMonths),
		MaxConsecutiveTerms: intOr(r.MaxConsecutiveTerms, 0),
		Access:              learningv1alpha1.AccessRead,
	}
	if r.Access != "" {
		role.Access = r.Access
	}
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("role %q: ", r.Name)+fmt.Sprintf(format, args...))
	}
	if role.Name == "" {
		add("name is not set")
	}
	switch {
	case r.MaxMembers == nil:
		add("maxMembers is not set")
	case role.Max < 1:
		add("maxMembers %d is less than 1", role.Max)
	}
	if role.Min < 0 {
		add("minMembers %d is negative", role.Min)
	}
	if r.MaxMembers != nil && role.Min > role.Max {
		add("minMembers %d is greater than maxMembers %d", role.Min, role.Max)
	}
	if role.TermMonths < 1 {
		add("termMonths %d is less than 1", role.TermMonths)
	}
	if role.MaxConsecutiveTerms < 0 {
		add("maxConsecutiveTerms %d is negative", role.MaxConsecutiveTerms)
	}
	return role, problems
}

// mergeComposition overlays the cohort's composition fields on the community's.
func mergeComposition(community, cohort *learningv1alpha1.CompositionPolicy) (*Composition, []string) {
	if community == nil && cohort == nil {
		return nil, nil
	}
	if community == nil {
		community = &learningv1alpha1.CompositionPolicy{}
	}
	if cohort == nil {
		cohort = &learningv1alpha1.CompositionPolicy{}
	}
	c := &Composition{
		MinOrganizations: intOr(firstSet(cohort.MinOrganizations, community.MinOrganizations), 0),
		MaxOrganizations: intOr(firstSet(cohort.MaxOrganizations, community.MaxOrganizations), 0),
		TeamSize:         intOr(firstSet(cohort.TeamSize, community.TeamSize), 0),
	}
	required := community.RequiredTeamRoles
	if cohort.RequiredTeamRoles != nil {
		required = cohort.RequiredTeamRoles
	}
	for _, r := range required {
		c.RequiredTeamRoles = append(c.RequiredTeamRoles, string(r))
	}
	roles := community.Roles
	if cohort.Roles != nil {
		roles = cohort.Roles
	}
	for _, r := range roles {
		c.Roles = append(c.Roles, string(r))
	}

	var problems []string
	for _, f := range []struct {
		name  string
		value int
	}{
		{"minOrganizations", c.MinOrganizations},
		{"maxOrganizations", c.MaxOrganizations},
		{"teamSize", c.TeamSize},
	} {
		if f.value < 0 {
			problems = append(problems, fmt.Sprintf("composition: %s %d is negative", f.name, f.value))
		}
	}
	if c.MaxOrganizations > 0 && c.MinOrganizations > c.MaxOrganizations {
		problems = append(problems, fmt.Sprintf("composition: minOrganizations %d is greater than maxOrganizations %d",
			c.MinOrganizations, c.MaxOrganizations))
	}
	return c, problems
}

// mergeAttendance overlays the cohort's attendance fields on the community's and applies
// the defaults.
func mergeAttendance(community, cohort *learningv1alpha1.AttendancePolicy) (AttendancePolicy, []string) {
	if community == nil {
		community = &learningv1alpha1.AttendancePolicy{}
	}
	if cohort == nil {
		cohort = &learningv1alpha1.AttendancePolicy{}
	}
	a := AttendancePolicy{
		RequiredPercent:   intOr(firstSet(cohort.RequiredPercent, community.RequiredPercent), DefaultRequiredPercent),
		MinimumEvents:     intOr(firstSet(cohort.MinimumEvents, community.MinimumEvents), DefaultMinimumEvents),
		LateWeightPercent: intOr(firstSet(cohort.LateWeightPercent, community.LateWeightPercent), DefaultLateWeightPercent),
	}
	var problems []string
	if a.RequiredPercent < 0 || a.RequiredPercent > 100 {
		problems = append(problems, fmt.Sprintf("attendance: requiredPercent %d is outside 0-100", a.RequiredPercent))
	}
	if a.MinimumEvents < 0 {
		problems = append(problems, fmt.Sprintf("attendance: minimumEvents %d is negative", a.MinimumEvents))
	}
	if a.LateWeightPercent < 0 || a.LateWeightPercent > 100 {
		problems = append(problems, fmt.Sprintf("attendance: lateWeightPercent %d is outside 0-100", a.LateWeightPercent))
	}
	return a, problems
}

// mergePlans overlays the cohort's ActionPlan policy on the community's field by field
// and applies the defaults. The API bounds every field, so no value is unusable.
func mergePlans(community, cohort *learningv1alpha1.ActionPlanPolicy) PlanPolicy {
	if community == nil {
		community = &learningv1alpha1.ActionPlanPolicy{}
	}
	if cohort == nil {
		cohort = &learningv1alpha1.ActionPlanPolicy{}
	}
	return PlanPolicy{
		Required:   cmp.Or(cohort.Required, community.Required, learningv1alpha1.PlansNotRequired),
		DueDays:    max(intOr(firstSet(cohort.DueDays, community.DueDays), DefaultPlanDueDays), 1),
		StaleAfter: max(intOr(firstSet(cohort.StaleAfter, community.StaleAfter), DefaultPlanStaleAfter), 1),
	}
}

// firstSet returns the first non-nil pointer: the override when set, else the base.
func firstSet(override, base *int32) *int32 {
	if override != nil {
		return override
	}
	return base
}

// intOr dereferences v, or returns def when v is unset.
func intOr(v *int32, def int) int {
	if v == nil {
		return def
	}
	return int(*v)
}
