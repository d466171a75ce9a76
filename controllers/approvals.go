package controllers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/config/admission"
	"github.com/cohort-dev/cohort-operator/internal/names"
)

// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=cohort-approver
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices/finalizers,verbs=update

// Defaults of the names under which config/ installs the approval policy and the
// approvers' ClusterRole (config/admission and config/rbac, with the cohort- prefix).
const (
	DefaultApprovalPolicy      = "cohort-approvals"
	DefaultApproverClusterRole = "cohort-approver"
)

// componentApprovals labels the approvers' RoleBinding of a community.
const componentApprovals = "approvals"

// CommunityLabel names the community an object was provisioned for.
const CommunityLabel = "learning.cohort.dev/community"

// approvalPolicyMissing says why the admission policy that verifies approvers cannot
// be relied on, or "" when it and its binding are installed exactly as this version of
// the operator ships them (config/admission, embedded in the binary). Anything else
// fails closed: a missing object, a policy that does not fail closed, a binding that
// only warns or audits, match rules narrowed by selectors, exclusions or conditions,
// a kind no longer covered, a validation changed. It reads from reader: the cache,
// which holds only the two objects of that name, or the API server itself.
func (r *ProgramReconciler) approvalPolicyMissing(ctx context.Context, reader client.Reader) (string, error) {
	name := r.ApprovalPolicy
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	switch err := reader.Get(ctx, client.ObjectKey{Name: name}, policy); {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the ValidatingAdmissionPolicy %s is not installed (config/admission)", name), nil
	case err != nil:
		return "", fmt.Errorf("reading the ValidatingAdmissionPolicy %s: %w", name, err)
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	switch err := reader.Get(ctx, client.ObjectKey{Name: name}, binding); {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the ValidatingAdmissionPolicyBinding %s is not installed (config/admission)", name), nil
	case err != nil:
		return "", fmt.Errorf("reading the ValidatingAdmissionPolicyBinding %s: %w", name, err)
	}
	shipped, err := shippedApprovalPolicy()
	if err != nil {
		return "", err
	}
	return approvalPolicyDiffers(shipped, policy, binding, name), nil
}

// approvalPolicyDiffers compares the installed policy and binding, named name, with the
// shipped ones, and says how the first difference found weakens the check ("" when
// they are the same). Fields the API server defaults are compared with their defaults.
func approvalPolicyDiffers(shipped approvalPolicyObjects, policy *admissionregistrationv1.ValidatingAdmissionPolicy, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding, name string) string {
	want, have := shipped.policy.Spec.DeepCopy(), policy.Spec.DeepCopy()
	normalizePolicySpec(want)
	normalizePolicySpec(have)
	wantBinding, haveBinding := shipped.binding.Spec.DeepCopy(), binding.Spec.DeepCopy()
	wantBinding.PolicyName = name
	defaultMatchResources(wantBinding.MatchResources)
	defaultMatchResources(haveBinding.MatchResources)
	policyKind := "the ValidatingAdmissionPolicy " + name
	bindingKind := "the ValidatingAdmissionPolicyBinding " + name
	for _, c := range []struct {
		what, how  string
		want, have any
	}{
		{policyKind, "does not fail closed (spec.failurePolicy)", want.FailurePolicy, have.FailurePolicy},
		{policyKind, "does not match every LearningEvent, CommunityOfPractice, Cohort and ProgramReport (spec.matchConstraints)", want.MatchConstraints, have.MatchConstraints},
		{policyKind, "checks other requests (spec.matchConditions)", want.MatchConditions, have.MatchConditions},
		{policyKind, "computes its checks differently (spec.variables)", want.Variables, have.Variables},
		{policyKind, "validates differently (spec.validations)", want.Validations, have.Validations},
		{policyKind, "takes parameters (spec.paramKind)", want.ParamKind, have.ParamKind},
		{policyKind, "audits differently (spec.auditAnnotations)", want.AuditAnnotations, have.AuditAnnotations},
		{bindingKind, fmt.Sprintf("binds %q, not the policy %s (spec.policyName)", haveBinding.PolicyName, name), wantBinding.PolicyName, haveBinding.PolicyName},
		{bindingKind, fmt.Sprintf("does not deny (spec.validationActions %v)", haveBinding.ValidationActions), wantBinding.ValidationActions, haveBinding.ValidationActions},
		{bindingKind, "is narrowed (spec.matchResources)", wantBinding.MatchResources, haveBinding.MatchResources},
		{bindingKind, "takes parameters (spec.paramRef)", wantBinding.ParamRef, haveBinding.ParamRef},
	} {
		if !equality.Semantic.DeepEqual(c.want, c.have) {
			return fmt.Sprintf("%s differs from the one this version of the operator ships (config/admission): it %s", c.what, c.how)
		}
	}
	return ""
}

// normalizePolicySpec sets the fields the API server defaults in a policy's spec, and
// reduces the white space of its CEL expressions, so that a policy as shipped compares
// equal to the same policy as stored, whichever tool wrote it: kustomize, for one,
// writes the shipped folded YAML strings back with other line breaks.
func normalizePolicySpec(spec *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
	if spec.FailurePolicy == nil {
		spec.FailurePolicy = ptrTo(admissionregistrationv1.Fail)
	}
	defaultMatchResources(spec.MatchConstraints)
	for i := range spec.MatchConditions {
		spec.MatchConditions[i].Expression = compactCEL(spec.MatchConditions[i].Expression)
	}
	for i := range spec.Variables {
		spec.Variables[i].Expression = compactCEL(spec.Variables[i].Expression)
	}
	for i := range spec.Validations {
		spec.Validations[i].Expression = compactCEL(spec.Validations[i].Expression)
		spec.Validations[i].MessageExpression = compactCEL(spec.Validations[i].MessageExpression)
	}
	for i := range spec.AuditAnnotations {
		spec.AuditAnnotations[i].ValueExpression = compactCEL(spec.AuditAnnotations[i].ValueExpression)
	}
}

// compactCEL replaces every run of white space outside string literals by one space
// and trims the ends: CEL ignores that white space, and inside literals it is kept.
func compactCEL(expr string) string {
	var b strings.Builder
	var quote rune
	escaped, space := false, false
	for _, c := range strings.TrimSpace(expr) {
		switch {
		case quote != 0:
			b.WriteRune(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == quote:
				quote = 0
			}
			continue
		case unicode.IsSpace(c):
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if c == '\'' || c == '"' {
			quote = c
		}
		b.WriteRune(c)
	}
	return b.String()
}

func defaultMatchResources(m *admissionregistrationv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		m.MatchPolicy = ptrTo(admissionregistrationv1.Equivalent)
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rules := range [][]admissionregistrationv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rules {
			if rules[i].Scope == nil {
				rules[i].Scope = ptrTo(admissionregistrationv1.AllScopes)
			}
		}
	}
}

// approvalPolicyObjects are the approval policy and its binding as this version of the
// operator ships them.
type approvalPolicyObjects struct {
	policy  *admissionregistrationv1.ValidatingAdmissionPolicy
	binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
}

// shippedApprovalPolicy decodes the embedded config/admission once.
var shippedApprovalPolicy = sync.OnceValues(func() (approvalPolicyObjects, error) {
	var objs approvalPolicyObjects
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(admission.ApprovalPolicy), 4096)
	for {
		var raw map[string]any
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return objs, fmt.Errorf("decoding the shipped approval policy: %w", err)
		}
		var err error
		switch raw["kind"] {
		case "ValidatingAdmissionPolicy":
			objs.policy = &admissionregistrationv1.ValidatingAdmissionPolicy{}
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(raw, objs.policy)
		case "ValidatingAdmissionPolicyBinding":
			objs.binding = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(raw, objs.binding)
		}
		if err != nil {
			return objs, fmt.Errorf("decoding the shipped approval policy: %w", err)
		}
	}
	if objs.policy == nil || objs.binding == nil {
		return objs, errors.New("the shipped approval policy lacks the policy or its binding")
	}
	return objs, nil
})

// approversBinding grants a program's approvers (a community's, or a standalone
// cohort's) the approvers' ClusterRole in the program's namespace: reading
// LearningEvents and ProgramReports and the verb approve, which the admission policy
// checks. Owned by the program, so removing it removes the binding; removing someone
// from spec.approvers removes them from its subjects. A cohort's binding carries no
// cohort label: it is not one of the cohort's services, which provisionCohort prunes.
func approversBinding(owner client.Object, kind string, approvers []learningv1alpha1.Approver, clusterRole string) *rbacv1.RoleBinding {
	subjects := make([]rbacv1.Subject, 0, len(approvers))
	for _, a := range approvers {
		subjects = append(subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: string(a.Kind), Name: a.Name})
	}
	b := &rbacv1.RoleBinding{
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects: subjects,
	}
	b.Name = names.Derive(owner.GetName(), "approvers", names.ObjectLimit)
	b.Namespace = owner.GetNamespace()
	b.Labels = map[string]string{
		ManagedByLabel: ManagedBy,
		ComponentLabel: componentApprovals,
	}
	if kind == "CommunityOfPractice" {
		b.Labels[CommunityLabel] = names.Derive(owner.GetName(), "", names.LabelLimit)
	}
	b.OwnerReferences = []metav1.OwnerReference{controllerRef(owner, kind)}
	return b
}
