package controllers

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Access names only what the cohort controls. Derived names can collide: with an object
// the operator never made (a ConfigMap customer-overview that predates the cohort
// customer), or with another cohort's child (the Service name folds "team.a" and
// "team-a" to one). A rule that named such an object would hand the cohort's members
// access to something that is not theirs, and the manager holds every verb it grants
// cluster-wide, so RBAC's escalation check would not stop it. So once the live objects
// are known, every name that is in conflict (or could not be looked up) is taken out
// of every rule, and nothing binds to a Role or ServiceAccount of a conflicting name.

// conflictKey names a child by kind and name, e.g. "ConfigMap/allyship-2026-roster".
func conflictKey(kind, name string) string { return kind + "/" + name }

// grantable says which derived names may appear in the cohort's rules and bindings:
// those whose key is not in blocked.
type grantable map[string]bool

func (b grantable) blocks(kind, name string) bool { return b[conflictKey(kind, name)] }

// withoutConflicts returns desired with every grant through a blocked name removed:
//   - a rule loses the resource names of blocked ConfigMaps, Services (their service
//     proxy names) and LearningEvents, and is dropped when no name is left (a rule with
//     no names would grant every object of the kind);
//   - a RoleBinding to a blocked Role, or for a blocked ServiceAccount, keeps no subject;
//   - a Deployment that would run as a blocked ServiceAccount is left out, so no
//     workload runs under an identity that is not the cohort's.
//
// The objects are copied, desired is not modified.
func withoutConflicts(desired []client.Object, blocked grantable) []client.Object {
	if len(blocked) == 0 {
		return desired
	}
	out := make([]client.Object, 0, len(desired))
	for _, obj := range desired {
		switch o := obj.(type) {
		case *rbacv1.Role:
			role := o.DeepCopy()
			role.Rules = grantedRules(role.Rules, blocked)
			out = append(out, role)
		case *rbacv1.RoleBinding:
			binding := o.DeepCopy()
			if bindsBlocked(binding, blocked) {
				binding.Subjects = []rbacv1.Subject{}
			}
			out = append(out, binding)
		case *appsv1.Deployment:
			if sa := o.Spec.Template.Spec.ServiceAccountName; sa != "" && blocked.blocks("ServiceAccount", sa) {
				continue
			}
			out = append(out, obj)
		default:
			out = append(out, obj)
		}
	}
	return out
}

// grantedRules are rules without the names that blocked refuses.
func grantedRules(rules []rbacv1.PolicyRule, blocked grantable) []rbacv1.PolicyRule {
	kept := make([]rbacv1.PolicyRule, 0, len(rules))
	for _, rule := range rules {
		if len(rule.ResourceNames) == 0 {
			kept = append(kept, rule)
			continue
		}
		kind := ruleKind(rule)
		rule.ResourceNames = slices.DeleteFunc(slices.Clone(rule.ResourceNames), func(name string) bool {
			if kind == "Service" {
				name = proxiedService(name)
			}
			return blocked.blocks(kind, name)
		})
		if len(rule.ResourceNames) > 0 {
			kept = append(kept, rule)
		}
	}
	return kept
}

// ruleKind is the kind of the objects a rule's resource names name.
func ruleKind(rule rbacv1.PolicyRule) string {
	for _, resource := range rule.Resources {
		switch resource {
		case "configmaps":
			return "ConfigMap"
		case "services", "services/proxy":
			return "Service"
		case "learningevents":
			return "LearningEvent"
		case "cohorts":
			return "Cohort"
		}
	}
	return ""
}

// proxiedService is the Service a service proxy resource name refers to: "NAME",
// "NAME:PORT" or "SCHEME:NAME:PORT".
func proxiedService(name string) string {
	parts := strings.Split(name, ":")
	if len(parts) == 3 {
		return parts[1]
	}
	return parts[0]
}

// bindsBlocked reports whether a RoleBinding refers to a blocked Role or binds a blocked
// ServiceAccount of its namespace.
func bindsBlocked(b *rbacv1.RoleBinding, blocked grantable) bool {
	if b.RoleRef.Kind == "Role" && blocked.blocks("Role", b.RoleRef.Name) {
		return true
	}
	return slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
		return s.Kind == rbacv1.ServiceAccountKind && (s.Namespace == "" || s.Namespace == b.Namespace) && blocked.blocks("ServiceAccount", s.Name)
	})
}
