package controllers

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestWithoutConflicts: each kind of name in conflict is taken out of every rule and
// binding that would grant through it, and nothing else changes.
func TestWithoutConflicts(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	desired := buildChildren(t, cohort, childrenPublication(), childrenPortal)
	// namesIn are the names the Read Role grants of resource.
	namesIn := func(objs []client.Object, resource string) []string {
		var out []string
		for _, o := range objs {
			if role, ok := o.(*rbacv1.Role); ok && role.Name == n.Read {
				for _, r := range role.Rules {
					if slices.Contains(r.Resources, resource) {
						out = append(out, r.ResourceNames...)
					}
				}
			}
		}
		return out
	}
	subjectsOf := func(objs []client.Object, name string) []rbacv1.Subject {
		for _, o := range objs {
			if b, ok := o.(*rbacv1.RoleBinding); ok && b.Name == name {
				return b.Subjects
			}
		}
		t.Fatalf("no RoleBinding %s", name)
		return nil
	}
	hasDeployment := func(objs []client.Object) bool {
		return slices.ContainsFunc(objs, func(o client.Object) bool { _, ok := o.(*appsv1.Deployment); return ok })
	}

	t.Run("nothing blocked", func(t *testing.T) {
		got := withoutConflicts(desired, grantable{})
		if diff := cmp.Diff(desired, got); diff != "" {
			t.Errorf("changed (-want +got):\n%s", diff)
		}
	})
	t.Run("a ConfigMap", func(t *testing.T) {
		got := withoutConflicts(desired, grantable{conflictKey("ConfigMap", n.Overview): true})
		if diff := cmp.Diff([]string{n.Roster, n.Calendar}, namesIn(got, "configmaps")); diff != "" {
			t.Errorf("Read's ConfigMaps (-want +got):\n%s", diff)
		}
		for _, o := range got {
			if role, ok := o.(*rbacv1.Role); ok && role.Name == n.Portal && slices.Contains(role.Rules[0].ResourceNames, n.Overview) {
				t.Errorf("the portal's Role still names %s", n.Overview)
			}
		}
	})
	t.Run("the portal's Service", func(t *testing.T) {
		got := withoutConflicts(desired, grantable{conflictKey("Service", n.PortalService): true})
		if proxy := namesIn(got, "services/proxy"); len(proxy) > 0 {
			t.Errorf("Read still grants the service proxy of %v", proxy)
		}
		for _, o := range got {
			role, ok := o.(*rbacv1.Role)
			if !ok {
				continue
			}
			for _, r := range role.Rules {
				if len(r.ResourceNames) == 0 && !createsPlans(r) {
					t.Errorf("%s has a rule with no names left, which grants every object: %+v", describe(role), r)
				}
			}
		}
	})
	t.Run("every document", func(t *testing.T) {
		blocked := grantable{}
		for _, d := range n.documents() {
			blocked[conflictKey("ConfigMap", d)] = true
		}
		got := withoutConflicts(desired, blocked)
		for _, o := range got {
			if role, ok := o.(*rbacv1.Role); ok {
				for _, r := range role.Rules {
					if slices.Contains(r.Resources, "configmaps") {
						t.Errorf("%s keeps a ConfigMap rule: %+v", describe(role), r)
					}
				}
			}
		}
	})
	t.Run("a members' Role", func(t *testing.T) {
		got := withoutConflicts(desired, grantable{conflictKey("Role", n.Read): true})
		if s := subjectsOf(got, n.Read); len(s) != 0 {
			t.Errorf("the Read binding to a foreign Role still binds %v", s)
		}
		if s := subjectsOf(got, n.Edit); len(s) == 0 {
			t.Errorf("the Edit binding lost its subjects though its Role is the cohort's")
		}
	})
	t.Run("the portal's ServiceAccount", func(t *testing.T) {
		got := withoutConflicts(desired, grantable{conflictKey("ServiceAccount", n.Portal): true})
		if s := subjectsOf(got, n.Portal); len(s) != 0 {
			t.Errorf("the portal's binding still binds the foreign ServiceAccount: %v", s)
		}
		if hasDeployment(got) {
			t.Errorf("the portal would run as a ServiceAccount the cohort does not control")
		}
	})
	if !hasDeployment(desired) || len(subjectsOf(desired, n.Read)) == 0 {
		t.Fatal("withoutConflicts modified its input")
	}
}

func TestProxiedService(t *testing.T) {
	for in, want := range map[string]string{"p": "p", "p:http": "p", "http:p:http": "p", "https:p:": "p"} {
		if got := proxiedService(in); got != want {
			t.Errorf("proxiedService(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestApprovalPolicyDiffers: the shipped policy and binding, as the API server stores
// them (defaults filled in), are trusted; each way of weakening them is not, and is
// named.
func TestApprovalPolicyDiffers(t *testing.T) {
	shipped, err := shippedApprovalPolicy()
	if err != nil {
		t.Fatal(err)
	}
	const name = "cohort-approvals"
	installed := func() (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		p, b := shipped.policy.DeepCopy(), shipped.binding.DeepCopy()
		p.Name, b.Name, b.Spec.PolicyName = name, name, name
		normalizePolicySpec(&p.Spec) // as the API server stores it
		return p, b
	}
	cases := map[string]struct {
		change func(*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding)
		want   string
	}{
		"as shipped": {change: func(*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
		}},
		"labels and annotations added": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Labels, b.Annotations = map[string]string{"team": "platform"}, map[string]string{"meta.helm.sh/release-name": "x"}
		}},
		"expressions written back with other line breaks (kustomize)": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			for i := range p.Spec.MatchConditions {
				p.Spec.MatchConditions[i].Expression = strings.ReplaceAll(p.Spec.MatchConditions[i].Expression, " ? ", "\n\n    ? ")
			}
			p.Spec.Validations[0].MessageExpression = "\n  " + strings.ReplaceAll(p.Spec.Validations[0].MessageExpression, " + ", "\n + ") + "\n"
		}},
		"a string literal changed": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.Variables[0].Expression = strings.Replace(p.Spec.Variables[0].Expression, "'learningevents'", "'learning events'", 1)
		}, want: "spec.variables"},
		"failure policy Ignore": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.FailurePolicy = ptrTo(admissionregistrationv1.Ignore)
		}, want: "spec.failurePolicy"},
		"CommunityOfPractice no longer matched": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.MatchConstraints.ResourceRules[0].Resources = []string{"learningevents"}
		}, want: "does not match every LearningEvent, CommunityOfPractice, Cohort and ProgramReport"},
		"UPDATE no longer matched": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.MatchConstraints.ResourceRules[0].Operations = []admissionregistrationv1.OperationType{admissionregistrationv1.Create}
		}, want: "spec.matchConstraints"},
		"a namespace selector": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.MatchConstraints.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"checked": "yes"}}
		}, want: "spec.matchConstraints"},
		"an excluded resource": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.MatchConstraints.ExcludeResourceRules = p.Spec.MatchConstraints.ResourceRules
		}, want: "spec.matchConstraints"},
		"a match condition added": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.MatchConditions = append(p.Spec.MatchConditions, admissionregistrationv1.MatchCondition{Name: "never", Expression: "false"})
		}, want: "spec.matchConditions"},
		"a validation weakened": {change: func(p *admissionregistrationv1.ValidatingAdmissionPolicy, _ *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			p.Spec.Validations[0].Expression = "true"
		}, want: "spec.validations"},
		"binding only warns": {change: func(_ *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			b.Spec.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}
		}, want: "does not deny"},
		"binding of another policy": {change: func(_ *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			b.Spec.PolicyName = "other"
		}, want: `binds "other"`},
		"binding narrowed to some namespaces": {change: func(_ *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
			b.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}}
		}, want: "spec.matchResources"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, b := installed()
			tc.change(p, b)
			got := approvalPolicyDiffers(shipped, p, b, "cohort-approvals")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("a trusted policy is reported: %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("got %q, want a message naming %q", got, tc.want)
			}
		})
	}
}

func TestCompactCEL(t *testing.T) {
	for in, want := range map[string]string{
		"  a ==\n\n   b  ":          "a == b",
		"x == 'two  spaces'":        "x == 'two  spaces'",
		"x == \"dq \\\" in\"\t&& y": "x == \"dq \\\" in\" && y",
		"'it\\'s  kept'  +  z":      "'it\\'s  kept' + z",
	} {
		if got := compactCEL(in); got != want {
			t.Errorf("compactCEL(%q) = %q, want %q", in, got, want)
		}
	}
}
