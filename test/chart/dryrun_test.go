package chart

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTemplateAppliesWithServerDryRun renders the chart with its defaults and as a
// non-default release in another namespace with other names (testdata), checks that
// the manager's flags, its rules and the objects installed name the same approval
// policy and approvers' ClusterRole, and has the API server validate every object with
// kubectl apply --dry-run=server.
func TestTemplateAppliesWithServerDryRun(t *testing.T) {
	for _, tc := range []struct {
		name, release, namespace string
		args                     []string
		policy, approver         string
		// watched is the namespace the manager is limited to, if any.
		watched string
	}{{
		name: "defaults", release: defaultRelease, namespace: defaultNamespace,
		policy: "cohort-approvals", approver: "cohort-approver",
	}, {
		name: "other release, namespace and names", release: "learning-platform", namespace: "platform-ops",
		args:   []string{"-f", filepath.Join("testdata", "nondefault-values.yaml")},
		policy: "learning-approvals", approver: "learning-approver", watched: "team-a",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			text, m := render(t, chartDir, tc.release, tc.namespace, tc.args...)
			// The shared portals (the non-default release runs one) are checked by
			// TestSharedPortal; the wiring is the manager's.
			checkWiring(t, m.without("shared-portal"), tc.namespace, tc.policy, tc.approver, tc.watched)
			for _, ns := range []string{tc.namespace, tc.watched} {
				if ns != "" {
					ensureNamespace(t, ns)
				}
			}
			out, err := kubectlApply(text, "--dry-run=server")
			if err != nil {
				t.Fatalf("the API server refused the render: %v\n%s", err, out)
			}
			if n := strings.Count(out, "(server dry run)"); n != len(m) {
				t.Errorf("the dry run applied %d objects, the render has %d:\n%s", n, len(m), out)
			}
		})
	}
}

// checkWiring checks that a render is consistent: the manager's flags name the
// approval policy and approvers' ClusterRole the release installs, its rules let it
// bind that ClusterRole and no other, its bindings name its ServiceAccount, and with
// a watched namespace its namespaced rules are granted there only.
func checkWiring(t *testing.T, m manifest, namespace, policy, approver, watched string) {
	t.Helper()
	deploys := m.ofKind("Deployment")
	if len(deploys) != 1 {
		t.Fatalf("want one Deployment, got %v", deploys.names())
	}
	deploy := deploys[0]
	a := args(managerContainer(t, deploy))
	for _, want := range []string{"--approval-policy=" + policy, "--approver-cluster-role=" + approver} {
		if !slices.Contains(a, want) {
			t.Errorf("the manager's args %v lack %s", a, want)
		}
	}
	hasNamespaceFlag := slices.Contains(a, "--namespace="+watched)
	if (watched != "") != hasNamespaceFlag {
		t.Errorf("the manager's args %v and watchNamespace %q disagree", a, watched)
	}
	m.get(t, "ClusterRole", approver)
	m.get(t, "ValidatingAdmissionPolicy", policy)
	if got := nested(t, m.get(t, "ValidatingAdmissionPolicyBinding", policy), "spec", "policyName"); got != policy {
		t.Errorf("the policy binding binds %v, want %s", got, policy)
	}
	sa := fmt.Sprint(nested(t, deploy, "spec", "template", "spec", "serviceAccountName"))
	m.get(t, "ServiceAccount", sa)
	binds := 0
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, b := range m.ofKind(kind) {
			subjects, _ := b.Object["subjects"].([]any)
			want := []any{map[string]any{"kind": "ServiceAccount", "name": sa, "namespace": namespace}}
			if diff := cmp.Diff(want, subjects); diff != "" {
				t.Errorf("%s %s subjects (-want +got):\n%s", kind, b.GetName(), diff)
			}
			if kind == "RoleBinding" && b.GetNamespace() != namespace && b.GetNamespace() != watched {
				t.Errorf("RoleBinding %s is in namespace %s", b.GetName(), b.GetNamespace())
			}
			if watched != "" && kind == "ClusterRoleBinding" {
				role := m.get(t, "ClusterRole", fmt.Sprint(nested(t, b, "roleRef", "name")))
				if len(rulesGranting(t, role, "deployments", "create")) > 0 {
					t.Errorf("ClusterRoleBinding %s grants namespaced rules cluster-wide while only %s is watched", b.GetName(), watched)
				}
			}
		}
	}
	for _, role := range m.ofKind("ClusterRole") {
		for _, rule := range rulesGranting(t, role, "clusterroles", "bind") {
			binds++
			if diff := cmp.Diff([]any{approver}, rule["resourceNames"]); diff != "" {
				t.Errorf("ClusterRole %s lets the manager bind (-want +got):\n%s", role.GetName(), diff)
			}
		}
	}
	if binds != 1 {
		t.Errorf("want one rule granting bind on the approvers' ClusterRole, got %d", binds)
	}
}
