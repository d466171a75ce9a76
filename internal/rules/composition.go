package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// TeamMember is one seated member as composition sees it.
type TeamMember struct{ Name, Organization, TeamRole string }

// CompositionResult is the verdict of CheckComposition, ready for the CompositionValid
// condition.
type CompositionResult struct {
	Valid         bool
	Organizations int      // distinct non-empty organizations among the members
	Violations    []string // one readable message each, organizations sorted by name; nil when Valid
}

// CheckComposition judges the seated members of a cohort against its composition policy;
// a nil policy is always Valid. Members are grouped into teams by Organization. The
// violations come in this order: the number of organizations outside
// [MinOrganizations, MaxOrganizations] ("5 organizations, policy requires 6-8"), members
// without an organization, then per organization in name order a team whose size is not
// TeamSize ("Iowa Alliance: team of 2, policy requires 3") and each required team role
// nobody on the team holds ("Iowa Alliance: no ExecutiveDirector on the team").
func CheckComposition(c *Composition, members []TeamMember) CompositionResult {
	teams := map[string][]TeamMember{}
	var unaffiliated []string
	for _, m := range members {
		if m.Organization == "" {
			unaffiliated = append(unaffiliated, m.Name)
			continue
		}
		teams[m.Organization] = append(teams[m.Organization], m)
	}
	result := CompositionResult{Organizations: len(teams)}
	if c == nil {
		result.Valid = true
		return result
	}

	var violations []string
	if msg, ok := organizationCount(c, len(teams)); !ok {
		violations = append(violations, msg)
	}
	if len(unaffiliated) > 0 {
		sort.Strings(unaffiliated)
		violations = append(violations, "members without an organization: "+strings.Join(unaffiliated, ", "))
	}
	orgs := make([]string, 0, len(teams))
	for org := range teams {
		orgs = append(orgs, org)
	}
	sort.Strings(orgs)
	for _, org := range orgs {
		violations = append(violations, teamViolations(c, org, teams[org])...)
	}
	result.Violations = violations
	result.Valid = len(violations) == 0
	return result
}

// organizationCount checks the number of organizations against the policy's bounds and
// returns the violation message when it is outside them.
func organizationCount(c *Composition, n int) (string, bool) {
	low := c.MinOrganizations > 0 && n < c.MinOrganizations
	high := c.MaxOrganizations > 0 && n > c.MaxOrganizations
	if !low && !high {
		return "", true
	}
	var bound string
	switch {
	case c.MinOrganizations > 0 && c.MinOrganizations == c.MaxOrganizations:
		bound = fmt.Sprintf("exactly %d", c.MinOrganizations)
	case c.MinOrganizations > 0 && c.MaxOrganizations > 0:
		bound = fmt.Sprintf("%d-%d", c.MinOrganizations, c.MaxOrganizations)
	case c.MinOrganizations > 0:
		bound = fmt.Sprintf("at least %d", c.MinOrganizations)
	default:
		bound = fmt.Sprintf("at most %d", c.MaxOrganizations)
	}
	return fmt.Sprintf("%s, policy requires %s", plural(n, "organization"), bound), false
}

// teamViolations checks one organization's team against the size and required roles.
func teamViolations(c *Composition, org string, team []TeamMember) []string {
	var violations []string
	if c.TeamSize > 0 && len(team) != c.TeamSize {
		violations = append(violations, fmt.Sprintf("%s: team of %d, policy requires %d", org, len(team), c.TeamSize))
	}
	for _, role := range c.RequiredTeamRoles {
		if !slices.ContainsFunc(team, func(m TeamMember) bool { return m.TeamRole == role }) {
			violations = append(violations, fmt.Sprintf("%s: no %s on the team", org, role))
		}
	}
	return violations
}

// plural formats a count with its noun, adding an s unless the count is one.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
