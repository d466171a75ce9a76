package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/cohort-dev/cohort-operator/controllers"
)

// builtinScopes says, for the built-in resources the manager's rules may name, whether
// the manager uses them inside the namespaces it watches (true) or cluster-wide
// (false). A rule on a resource missing here fails generation: decide where it
// belongs before the chart grants it under --namespace.
var builtinScopes = map[string]bool{
	"/configmaps":                            true,
	"/endpoints":                             true,
	"/events":                                true,
	"/pods":                                  true,
	"/secrets":                               true,
	"/serviceaccounts":                       true,
	"/services":                              true,
	"/services/proxy":                        true,
	"apps/deployments":                       true,
	"coordination.k8s.io/leases":             true,
	"events.k8s.io/events":                   true,
	"networking.k8s.io/networkpolicies":      true,
	"rbac.authorization.k8s.io/rolebindings": true,
	"rbac.authorization.k8s.io/roles":        true,
	// Binding a ClusterRole with a RoleBinding needs the verb bind on it in the
	// RoleBinding's namespace.
	"rbac.authorization.k8s.io/clusterroles":                         true,
	"admissionregistration.k8s.io/validatingadmissionpolicies":       false,
	"admissionregistration.k8s.io/validatingadmissionpolicybindings": false,
}

// generateManagerRules turns the rules of config/rbac/role.yaml into
// templates/_manager-rules.tpl, three named templates:
//
//   - cohort-operator.managerRules: every rule, for a ClusterRole bound cluster-wide;
//   - cohort-operator.managerNamespacedRules: the rules a namespace-scoped manager
//     (--namespace) needs in the namespace it watches, for a RoleBinding there;
//   - cohort-operator.managerClusterRules: the rest, on cluster-scoped objects or, for
//     the kubernetes Service's endpoints, outside the watched namespace.
//
// The rule that lets the manager bind the approvers' ClusterRole names the chart's
// approvers' ClusterRole instead of the marker's default.
func generateManagerRules(configDir string, crdScopes map[string]bool, out files) error {
	path := filepath.Join(configDir, "rbac", "role.yaml")
	src := relSource(configDir, path)
	objs, err := readObjects(path)
	if err != nil {
		return err
	}
	if len(objs) != 1 || objs[0]["kind"] != "ClusterRole" {
		return fmt.Errorf("%s: want exactly one ClusterRole", src)
	}
	rules, _ := objs[0]["rules"].([]any)
	var namespaced, cluster []any
	binds := 0
	for i, r := range rules {
		rule, _ := r.(map[string]any)
		if isApproverBind(rule) {
			rule["resourceNames"] = []any{approverRolePlaceholder}
			binds++
		}
		inNamespace, err := ruleScope(rule, crdScopes)
		if err != nil {
			return fmt.Errorf("%s: rule %d: %w", src, i, err)
		}
		if inNamespace {
			namespaced = append(namespaced, rule)
		} else {
			cluster = append(cluster, rule)
		}
	}
	if binds != 1 {
		return fmt.Errorf("%s: want one rule granting bind on the ClusterRole %s (the marker in controllers/approvals.go), found %d",
			src, controllers.DefaultApproverClusterRole, binds)
	}
	var b bytes.Buffer
	b.WriteString(header(src))
	for _, def := range []struct {
		name  string
		rules []any
	}{{"cohort-operator.managerRules", rules}, {"cohort-operator.managerNamespacedRules", namespaced}, {"cohort-operator.managerClusterRules", cluster}} {
		fmt.Fprintf(&b, "{{- define %q -}}\n", def.name)
		if err := writeYAML(&b, def.rules, 0); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		b.WriteString("{{- end }}\n\n")
	}
	out[filepath.Join("templates", "_manager-rules.tpl")] = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return nil
}

// isApproverBind reports whether rule is the marker's grant of bind on the approvers'
// ClusterRole.
func isApproverBind(rule map[string]any) bool {
	return slices.Equal(stringList(rule["resources"]), []string{"clusterroles"}) &&
		slices.Equal(stringList(rule["verbs"]), []string{"bind"}) &&
		slices.Equal(stringList(rule["resourceNames"]), []string{controllers.DefaultApproverClusterRole})
}

// ruleScope reports whether a rule is used inside the watched namespace, from the
// scopes of every group and resource it names; they must agree.
func ruleScope(rule map[string]any, crdScopes map[string]bool) (bool, error) {
	resources := stringList(rule["resources"])
	// The manager reads the kubernetes Service's endpoints in the default namespace
	// (the API server's addresses), whatever namespace it watches.
	if slices.Equal(resources, []string{"endpoints"}) && slices.Equal(stringList(rule["resourceNames"]), []string{"kubernetes"}) {
		return false, nil
	}
	var scopes []bool
	for _, group := range stringList(rule["apiGroups"]) {
		for _, resource := range resources {
			key := group + "/" + resource
			scope, ok := crdScopes[key]
			if !ok {
				scope, ok = builtinScopes[key]
			}
			if !ok {
				return false, fmt.Errorf("no scope known for %s: add it to builtinScopes in hack/chart", key)
			}
			scopes = append(scopes, scope)
		}
	}
	if len(scopes) == 0 {
		return false, fmt.Errorf("names no resource")
	}
	if slices.Contains(scopes, !scopes[0]) {
		return false, fmt.Errorf("mixes namespaced and cluster-scoped resources: split the marker")
	}
	return scopes[0], nil
}

// stringList converts a decoded list of strings.
func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, fmt.Sprint(s))
	}
	return out
}
