package transitions

import (
	"context"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestCreatedSuspended applies the workload with its cohort suspended from the start
// (a restore or a GitOps sync of a suspended cohort) to an empty namespace. Suspension
// stops provisioning changes, not access: the cohort reports Provisioned=False with
// reason Suspended (not a failure), and the members' Roles and RoleBindings exist and
// bind the seated members, the lead with Edit and the seated members with Read.
func TestCreatedSuspended(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, admin)
	startManager(t, ns)
	first, later := baseWorkload(t)
	for _, o := range first {
		if o.kind == "Cohort" {
			o.spec["suspend"] = true
		}
	}
	build(t, ns, first, later, map[string]map[string]any{})
	s := converge(t, ns, "the suspended cohort")
	status, _ := s.objects["Cohort/spring"]["status"].(map[string]any)
	for _, c := range status["conditions"].([]any) {
		if m := c.(map[string]any); m["type"] == "Provisioned" && m["reason"] != "Suspended" {
			t.Errorf("Provisioned is %s/%s: %s, want reason Suspended", m["status"], m["reason"], m["message"])
		}
	}
	for binding, want := range map[string][]string{"spring-edit": {"u-lead@example.org"}, "spring-read": {"u-a@example.org", "u-b@example.org"}} {
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: binding}, &rbacv1.Role{}); err != nil {
			t.Errorf("Role %s: %v", binding, err)
		}
		rb := &rbacv1.RoleBinding{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: binding}, rb); err != nil {
			t.Errorf("RoleBinding %s: %v", binding, err)
			continue
		}
		var got []string
		for _, s := range rb.Subjects {
			got = append(got, s.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("RoleBinding %s binds %v, want %v", binding, got, want)
		}
	}
}
