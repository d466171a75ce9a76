package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func TestCompositionRoles(t *testing.T) {
	seats := int32(24)
	community := &learningv1alpha1.ProgramPolicy{
		Roles: []learningv1alpha1.RolePolicy{{Name: "Leader", MaxMembers: &seats}, {Name: "Facilitator", MaxMembers: &seats}},
		Composition: &learningv1alpha1.CompositionPolicy{
			Roles: []learningv1alpha1.RoleName{"Leader"},
		},
	}
	tests := map[string]struct {
		cohort    *learningv1alpha1.ProgramPolicy
		wantRoles []string
		counts    map[string]bool
	}{
		"community roles": {
			wantRoles: []string{"Leader"},
			counts:    map[string]bool{"Leader": true, "Facilitator": false},
		},
		"cohort replaces the roles": {
			cohort:    &learningv1alpha1.ProgramPolicy{Composition: &learningv1alpha1.CompositionPolicy{Roles: []learningv1alpha1.RoleName{"Facilitator"}}},
			wantRoles: []string{"Facilitator"},
			counts:    map[string]bool{"Leader": false, "Facilitator": true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := EffectivePolicy(community, nil, tc.cohort)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantRoles, p.Composition.Roles); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			for role, want := range tc.counts {
				if got := p.Composition.Counts(role); got != want {
					t.Errorf("Counts(%s) = %v, want %v", role, got, want)
				}
			}
		})
	}
	if !(&Composition{}).Counts("Anyone") {
		t.Error("a composition without roles must count every role")
	}
}
