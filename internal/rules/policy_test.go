package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func ptr[T any](v T) *T { return &v }

// seedCommunity is the seed's allyship community: Lead 1-2, Member 15-20, 12-month terms.
func seedCommunity() *learningv1alpha1.ProgramPolicy {
	return &learningv1alpha1.ProgramPolicy{
		Roles: []learningv1alpha1.RolePolicy{
			{Name: "Lead", MinMembers: ptr[int32](1), MaxMembers: ptr[int32](2), MaxConsecutiveTerms: ptr[int32](2)},
			{Name: "Member", MinMembers: ptr[int32](15), MaxMembers: ptr[int32](20)},
		},
	}
}

func seedRoles() []RolePolicy {
	return []RolePolicy{
		{Name: "Lead", Min: 1, Max: 2, TermMonths: 12, MaxConsecutiveTerms: 2, Access: learningv1alpha1.AccessRead},
		{Name: "Member", Min: 15, Max: 20, TermMonths: 12, Access: learningv1alpha1.AccessRead},
	}
}

var defaultAttendance = AttendancePolicy{RequiredPercent: 80, MinimumEvents: 3, LateWeightPercent: 100}

// defaultPlans is the ActionPlan policy when nothing sets one.
var defaultPlans = PlanPolicy{Required: learningv1alpha1.PlansNotRequired, DueDays: 30, StaleAfter: 2}

type policyCase struct {
	community *learningv1alpha1.ProgramPolicy
	eligible  []learningv1alpha1.OrganizationName
	cohort    *learningv1alpha1.ProgramPolicy
	want      Policy
	wantErr   string
}

// runEffectivePolicy checks the error first, then the policy (the zero Policy on error).
func runEffectivePolicy(t *testing.T, cases map[string]policyCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := EffectivePolicy(tc.community, tc.eligible, tc.cohort)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			want := tc.want
			if err == nil && want.ActionPlans == (PlanPolicy{}) {
				// Cases about other fields expect the default plan policy.
				want.ActionPlans = defaultPlans
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEffectivePolicy checks field-by-field merging and defaults.
func TestEffectivePolicy(t *testing.T) {
	runEffectivePolicy(t, map[string]policyCase{
		"the cohort overrides the plan policy field by field": {
			community: func() *learningv1alpha1.ProgramPolicy {
				p := seedCommunity()
				p.ActionPlans = &learningv1alpha1.ActionPlanPolicy{Required: learningv1alpha1.PersonalPlansRequired, DueDays: ptr[int32](45), StaleAfter: ptr[int32](3)}
				return p
			}(),
			cohort: &learningv1alpha1.ProgramPolicy{ActionPlans: &learningv1alpha1.ActionPlanPolicy{Required: learningv1alpha1.TeamPlansRequired, StaleAfter: ptr[int32](1)}},
			want: Policy{Roles: seedRoles(), Attendance: defaultAttendance, TermNoticeDays: 30,
				ActionPlans: PlanPolicy{Required: learningv1alpha1.TeamPlansRequired, DueDays: 45, StaleAfter: 1}},
		},
		"community only gets the defaults": {
			community: seedCommunity(),
			want:      Policy{Roles: seedRoles(), Attendance: defaultAttendance, TermNoticeDays: 30},
		},
		"cohort overrides one field of one role": {
			community: seedCommunity(),
			cohort: &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{
				{Name: "Member", MaxMembers: ptr[int32](25)},
			}},
			want: Policy{
				Roles: []RolePolicy{
					{Name: "Lead", Min: 1, Max: 2, TermMonths: 12, MaxConsecutiveTerms: 2, Access: learningv1alpha1.AccessRead},
					{Name: "Member", Min: 15, Max: 25, TermMonths: 12, Access: learningv1alpha1.AccessRead},
				},
				Attendance:     defaultAttendance,
				TermNoticeDays: 30,
			},
		},
		"cohort adds a role after the community's": {
			community: seedCommunity(),
			cohort: &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{
				{Name: "Facilitator", MaxMembers: ptr[int32](2), TermMonths: ptr[int32](6), Access: learningv1alpha1.AccessEdit},
				{Name: "Lead", TermMonths: ptr[int32](24), Access: learningv1alpha1.AccessEdit},
			}},
			want: Policy{
				Roles: []RolePolicy{
					{Name: "Lead", Min: 1, Max: 2, TermMonths: 24, MaxConsecutiveTerms: 2, Access: learningv1alpha1.AccessEdit},
					{Name: "Member", Min: 15, Max: 20, TermMonths: 12, Access: learningv1alpha1.AccessRead},
					{Name: "Facilitator", Max: 2, TermMonths: 6, Access: learningv1alpha1.AccessEdit},
				},
				Attendance:     defaultAttendance,
				TermNoticeDays: 30,
			},
		},
		"composition, attendance and notice merge field by field": {
			community: &learningv1alpha1.ProgramPolicy{
				Roles: seedCommunity().Roles,
				Composition: &learningv1alpha1.CompositionPolicy{
					MinOrganizations: ptr[int32](6), MaxOrganizations: ptr[int32](8), TeamSize: ptr[int32](3),
					RequiredTeamRoles: []learningv1alpha1.RoleName{"ExecutiveDirector"},
				},
				Attendance:     &learningv1alpha1.AttendancePolicy{RequiredPercent: ptr[int32](75)},
				TermNoticeDays: ptr[int32](45),
			},
			eligible: []learningv1alpha1.OrganizationName{"Iowa Alliance", "Ohio Coalition"},
			cohort: &learningv1alpha1.ProgramPolicy{
				Composition:    &learningv1alpha1.CompositionPolicy{MaxOrganizations: ptr[int32](10)},
				Attendance:     &learningv1alpha1.AttendancePolicy{LateWeightPercent: ptr[int32](50)},
				TermNoticeDays: ptr[int32](14),
			},
			want: Policy{
				Roles: seedRoles(),
				Composition: &Composition{
					MinOrganizations: 6, MaxOrganizations: 10, TeamSize: 3,
					RequiredTeamRoles: []string{"ExecutiveDirector"},
				},
				Attendance:            AttendancePolicy{RequiredPercent: 75, MinimumEvents: 3, LateWeightPercent: 50},
				TermNoticeDays:        14,
				EligibleOrganizations: []string{"Iowa Alliance", "Ohio Coalition"},
			},
		},
		"cohort sets a composition the community lacks": {
			community: seedCommunity(),
			cohort: &learningv1alpha1.ProgramPolicy{
				Composition: &learningv1alpha1.CompositionPolicy{TeamSize: ptr[int32](2)},
			},
			want: Policy{
				Roles:          seedRoles(),
				Composition:    &Composition{TeamSize: 2},
				Attendance:     defaultAttendance,
				TermNoticeDays: 30,
			},
		},
		"standalone cohort declares its whole policy": {
			cohort: &learningv1alpha1.ProgramPolicy{
				Roles:          []learningv1alpha1.RolePolicy{{Name: "Member", MaxMembers: ptr[int32](10)}},
				TermNoticeDays: ptr[int32](0),
			},
			want: Policy{
				Roles:      []RolePolicy{{Name: "Member", Max: 10, TermMonths: 12, Access: learningv1alpha1.AccessRead}},
				Attendance: defaultAttendance,
			},
		},
		"empty eligible organizations means every organization": {
			community: seedCommunity(),
			eligible:  []learningv1alpha1.OrganizationName{},
			want:      Policy{Roles: seedRoles(), Attendance: defaultAttendance, TermNoticeDays: 30},
		},
	})
}

// TestEffectivePolicyErrors checks that an unusable merged policy is an error naming each offending field.
func TestEffectivePolicyErrors(t *testing.T) {
	runEffectivePolicy(t, map[string]policyCase{
		"role without maxMembers": {
			cohort:  &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{{Name: "Member"}}},
			wantErr: `role "Member": maxMembers is not set`,
		},
		"override makes minMembers exceed maxMembers": {
			community: seedCommunity(),
			cohort: &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{
				{Name: "Lead", MinMembers: ptr[int32](3)},
			}},
			wantErr: `role "Lead": minMembers 3 is greater than maxMembers 2`,
		},
		"override makes minOrganizations exceed maxOrganizations": {
			community: &learningv1alpha1.ProgramPolicy{
				Roles:       seedCommunity().Roles,
				Composition: &learningv1alpha1.CompositionPolicy{MaxOrganizations: ptr[int32](6)},
			},
			cohort: &learningv1alpha1.ProgramPolicy{
				Composition: &learningv1alpha1.CompositionPolicy{MinOrganizations: ptr[int32](8)},
			},
			wantErr: `composition: minOrganizations 8 is greater than maxOrganizations 6`,
		},
		"no roles at all": {
			wantErr: `roles: no role is declared`,
		},
		"attendance out of range": {
			community: seedCommunity(),
			cohort: &learningv1alpha1.ProgramPolicy{
				Attendance: &learningv1alpha1.AttendancePolicy{RequiredPercent: ptr[int32](120)},
			},
			wantErr: `attendance: requiredPercent 120 is outside 0-100`,
		},
		"every problem is reported": {
			cohort: &learningv1alpha1.ProgramPolicy{
				Roles: []learningv1alpha1.RolePolicy{
					{Name: "Lead", MaxMembers: ptr[int32](0), TermMonths: ptr[int32](0)},
					{Name: "Member"},
				},
				TermNoticeDays: ptr[int32](-1),
			},
			wantErr: `role "Lead": maxMembers 0 is less than 1; role "Lead": termMonths 0 is less than 1; ` +
				`role "Member": maxMembers is not set; termNoticeDays -1 is negative`,
		},
	})
}

func TestEffectivePolicyDoesNotAliasInputs(t *testing.T) {
	community := seedCommunity()
	cohort := &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{
		{Name: "Lead", MaxMembers: ptr[int32](5)},
	}}
	if _, err := EffectivePolicy(community, nil, cohort); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seedCommunity(), community); diff != "" {
		t.Errorf("community policy changed (-want +got):\n%s", diff)
	}
}

func TestPolicyRole(t *testing.T) {
	p := Policy{Roles: seedRoles()}
	cases := map[string]struct {
		name   string
		want   RolePolicy
		wantOK bool
	}{
		"known":       {name: "Member", want: seedRoles()[1], wantOK: true},
		"unknown":     {name: "Facilitator"},
		"exact match": {name: "lead"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := p.Role(tc.name)
			if diff := cmp.Diff(tc.want, got); diff != "" || ok != tc.wantOK {
				t.Errorf("Role(%q) = _, %v (want %v); (-want +got):\n%s", tc.name, ok, tc.wantOK, diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
