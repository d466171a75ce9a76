package rules

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// team returns a full team of three for org: an ExecutiveDirector and two staff.
func team(org string) []TeamMember {
	return []TeamMember{
		{Name: org + "-ed", Organization: org, TeamRole: "ExecutiveDirector"},
		{Name: org + "-1", Organization: org, TeamRole: "ProgramStaff"},
		{Name: org + "-2", Organization: org, TeamRole: "ProgramStaff"},
	}
}

// teams returns full teams for organizations Org 1 ... Org n.
func teams(n int) []TeamMember {
	var out []TeamMember
	for i := 1; i <= n; i++ {
		out = append(out, team(fmt.Sprintf("Org %d", i))...)
	}
	return out
}

// seedComposition is the seed's rule: 6-8 organizations, teams of 3 that include the
// ExecutiveDirector.
var seedComposition = &Composition{MinOrganizations: 6, MaxOrganizations: 8, TeamSize: 3, RequiredTeamRoles: []string{"ExecutiveDirector"}}

type compositionCase struct {
	policy  *Composition
	members []TeamMember
	want    CompositionResult
}

func runCheckComposition(t *testing.T, cases map[string]compositionCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CheckComposition(tc.policy, tc.members)); diff != "" {
				t.Errorf("CheckComposition (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckComposition covers the policy-wide rules: no policy, organization counts and missing organizations.
func TestCheckComposition(t *testing.T) {
	runCheckComposition(t, map[string]compositionCase{
		"no policy is valid": {
			members: append(teams(2), TeamMember{Name: "solo"}),
			want:    CompositionResult{Valid: true, Organizations: 2},
		},
		"six full teams": {
			policy:  seedComposition,
			members: teams(6),
			want:    CompositionResult{Valid: true, Organizations: 6},
		},
		"too few organizations": {
			policy:  seedComposition,
			members: teams(5),
			want: CompositionResult{Organizations: 5, Violations: []string{
				"5 organizations, policy requires 6-8",
			}},
		},
		"too many organizations": {
			policy:  seedComposition,
			members: teams(9),
			want: CompositionResult{Organizations: 9, Violations: []string{
				"9 organizations, policy requires 6-8",
			}},
		},
		"members without an organization": {
			policy:  seedComposition,
			members: append(teams(6), TeamMember{Name: "zed"}, TeamMember{Name: "amy", TeamRole: "ExecutiveDirector"}),
			want: CompositionResult{Organizations: 6, Violations: []string{
				"members without an organization: amy, zed",
			}},
		},
		"only a minimum": {
			policy:  &Composition{MinOrganizations: 2},
			members: teams(1),
			want: CompositionResult{Organizations: 1, Violations: []string{
				"1 organization, policy requires at least 2",
			}},
		},
		"only a maximum": {
			policy:  &Composition{MaxOrganizations: 1},
			members: teams(3),
			want: CompositionResult{Organizations: 3, Violations: []string{
				"3 organizations, policy requires at most 1",
			}},
		},
		"exact number": {
			policy: &Composition{MinOrganizations: 4, MaxOrganizations: 4},
			want: CompositionResult{Violations: []string{
				"0 organizations, policy requires exactly 4",
			}},
		},
		"empty policy is valid": {
			policy:  &Composition{},
			members: teams(2),
			want:    CompositionResult{Valid: true, Organizations: 2},
		},
	})
}

// TestCheckCompositionTeams covers the per-organization team rules.
func TestCheckCompositionTeams(t *testing.T) {
	iowa := team("Iowa Alliance")
	runCheckComposition(t, map[string]compositionCase{
		"team of the wrong size": {
			policy:  seedComposition,
			members: append(teams(5), iowa[:2]...),
			want: CompositionResult{Organizations: 6, Violations: []string{
				"Iowa Alliance: team of 2, policy requires 3",
			}},
		},
		"missing executive director names the organization": {
			policy:  seedComposition,
			members: append(teams(5), iowa[1], iowa[2], TeamMember{Name: "x", Organization: "Iowa Alliance", TeamRole: "Board"}),
			want: CompositionResult{Organizations: 6, Violations: []string{
				"Iowa Alliance: no ExecutiveDirector on the team",
			}},
		},
		"violations are sorted by organization": {
			policy: seedComposition,
			members: append(append(teams(4), team("Zeta Fund")[1:]...),
				TeamMember{Name: "a1", Organization: "Alpha Trust", TeamRole: "ExecutiveDirector"}),
			want: CompositionResult{Organizations: 6, Violations: []string{
				"Alpha Trust: team of 1, policy requires 3",
				"Zeta Fund: team of 2, policy requires 3",
				"Zeta Fund: no ExecutiveDirector on the team",
			}},
		},
	})
}
