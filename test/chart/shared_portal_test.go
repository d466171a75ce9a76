package chart

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSharedPortal renders shared portals for two namespaces: each gets its
// ServiceAccount, Role, RoleBinding, Service and Deployment; one ClusterRole grants
// exactly the reviews they ask for, bound to both ServiceAccounts; the manager is told
// the namespaces; and a proxy CA without TLS is refused with a message naming both
// values. The default render has none of it.
func TestSharedPortal(t *testing.T) {
	_, m := render(t, chartDir, defaultRelease, defaultNamespace,
		"--set", "portal.shared.namespaces={team-a,team-b}",
		"--set", "portal.shared.tlsSecretName=portal-tls",
		"--set", "portal.shared.proxy.clientCAConfigMap=front-proxy-ca",
		"--set", "portal.shared.proxy.allowedNames={front-proxy}")
	const name = defaultRelease + "-portal"

	role := m.get(t, "ClusterRole", name+"-shared")
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	var granted []string
	for _, r := range rules {
		rule := r.(map[string]any)
		for _, g := range rule["apiGroups"].([]any) {
			for _, res := range rule["resources"].([]any) {
				for _, v := range rule["verbs"].([]any) {
					granted = append(granted, g.(string)+"/"+res.(string)+":"+v.(string))
				}
			}
		}
	}
	slices.Sort(granted)
	if want := []string{"authentication.k8s.io/tokenreviews:create", "authorization.k8s.io/subjectaccessreviews:create"}; !slices.Equal(granted, want) {
		t.Errorf("the shared portals' ClusterRole grants %v, want %v", granted, want)
	}
	binding := m.get(t, "ClusterRoleBinding", name+"-shared")
	subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
	var bound []string
	for _, s := range subjects {
		s := s.(map[string]any)
		bound = append(bound, s["kind"].(string)+" "+s["namespace"].(string)+"/"+s["name"].(string))
	}
	if want := []string{"ServiceAccount team-a/" + name, "ServiceAccount team-b/" + name}; !slices.Equal(bound, want) {
		t.Errorf("the ClusterRoleBinding binds %v, want %v", bound, want)
	}

	for _, ns := range []string{"team-a", "team-b"} {
		for _, kind := range []string{"ServiceAccount", "Role", "RoleBinding", "Service", "Deployment"} {
			if o := namespaced(m, kind, ns, name); o == nil {
				t.Errorf("no %s %s/%s", kind, ns, name)
			}
		}
		r := namespaced(m, "Role", ns, name)
		if r == nil {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(r.Object, "rules")
		if len(rules) != 1 || !sameStrings(rules[0], "resources", "configmaps") || !sameStrings(rules[0], "verbs", "get") {
			t.Errorf("the Role of %s grants %v, want get on configmaps only", ns, rules)
		}
		d := namespaced(m, "Deployment", ns, name)
		if d == nil {
			continue
		}
		c := podContainers(d.Object)[0]
		args := strings.Join(toStrings(c["args"]), " ")
		for _, want := range []string{"portal --shared", "--namespace=" + ns, "--audience=cohort-portal",
			"--tls-cert-file=/etc/cohort-portal/tls/tls.crt", "--proxy-client-ca-file=/etc/cohort-portal/proxy-ca/ca.crt", "--proxy-allowed-names=front-proxy"} {
			if !strings.Contains(args, want) {
				t.Errorf("the shared portal of %s runs %q, want %q in it", ns, args, want)
			}
		}
		if sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName"); sa != name {
			t.Errorf("the shared portal of %s runs as %q, want %q", ns, sa, name)
		}
	}

	manager := m.get(t, "Deployment", defaultRelease+"-manager")
	if args := strings.Join(toStrings(podContainers(manager.Object)[0]["args"]), " "); !strings.Contains(args, "--portal-shared-namespaces=team-a,team-b") {
		t.Errorf("the manager runs %q, want --portal-shared-namespaces=team-a,team-b", args)
	}

	// Other tests of the suite leave releases behind: a dry run takes no ownership of
	// their objects, but must not refuse because of them.
	notes := mustHelm(t, "install", "notes", chartDir, "-n", "notes", "--dry-run=client", "--take-ownership", "--set", "portal.shared.namespaces={team-a,team-b}")
	if want := "A shared portal serves every cohort of team-a, team-b under /cohorts/<cohort>/"; !strings.Contains(notes, want) {
		t.Errorf("the install's notes do not say %q:\n%s", want, notes)
	}

	_, plain := render(t, chartDir, defaultRelease, defaultNamespace)
	for _, o := range plain {
		if o.GetLabels()["app.kubernetes.io/component"] == "shared-portal" {
			t.Errorf("the default render has the shared portal's %s %s", o.GetKind(), o.GetName())
		}
	}

	out, err := helm("template", defaultRelease, chartDir, "--set", "portal.shared.namespaces={team-a}", "--set", "portal.shared.proxy.clientCAConfigMap=front-proxy-ca")
	if err == nil || !strings.Contains(out+err.Error(), "portal.shared.tlsSecretName") {
		t.Errorf("a proxy CA without TLS rendered, or failed without naming portal.shared.tlsSecretName: %v\n%s", err, out)
	}
}

// without returns the objects but those of a component.
func (m manifest) without(component string) manifest {
	var out manifest
	for _, o := range m {
		if o.GetLabels()["app.kubernetes.io/component"] != component {
			out = append(out, o)
		}
	}
	return out
}

func namespaced(m manifest, kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range m {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

func sameStrings(rule any, field string, want ...string) bool {
	return slices.Equal(toStrings(rule.(map[string]any)[field]), want)
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}
