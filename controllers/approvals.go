package controllers

import (
	"context"
	"fmt"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
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
// be relied on, or "" when it and its binding are installed and deny. The cache holds
// only the two objects of that name.
func (r *ProgramReconciler) approvalPolicyMissing(ctx context.Context) (string, error) {
	name := r.ApprovalPolicy
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	switch err := r.Client.Get(ctx, client.ObjectKey{Name: name}, policy); {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the ValidatingAdmissionPolicy %s is not installed (config/admission)", name), nil
	case err != nil:
		return "", fmt.Errorf("reading the ValidatingAdmissionPolicy %s: %w", name, err)
	}
	if fp := policy.Spec.FailurePolicy; fp != nil && *fp != admissionregistrationv1.Fail {
		return fmt.Sprintf("the ValidatingAdmissionPolicy %s does not fail closed (failurePolicy %s)", name, *fp), nil
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	switch err := r.Client.Get(ctx, client.ObjectKey{Name: name}, binding); {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the ValidatingAdmissionPolicyBinding %s is not installed (config/admission)", name), nil
	case err != nil:
		return "", fmt.Errorf("reading the ValidatingAdmissionPolicyBinding %s: %w", name, err)
	}
	switch {
	case binding.Spec.PolicyName != name:
		return fmt.Sprintf("the ValidatingAdmissionPolicyBinding %s binds %q, not the policy %s", name, binding.Spec.PolicyName, name), nil
	case !slices.Contains(binding.Spec.ValidationActions, admissionregistrationv1.Deny):
		return fmt.Sprintf("the ValidatingAdmissionPolicyBinding %s does not deny (validationActions %v)", name, binding.Spec.ValidationActions), nil
	case narrowed(binding.Spec.MatchResources):
		return fmt.Sprintf("the ValidatingAdmissionPolicyBinding %s is narrowed by selectors or excluded resources, so it may not cover every LearningEvent", name), nil
	case narrowed(policy.Spec.MatchConstraints):
		return fmt.Sprintf("the ValidatingAdmissionPolicy %s is narrowed by selectors or excluded resources, so it may not cover every LearningEvent", name), nil
	}
	return "", nil
}

// narrowed reports whether match resources leave objects out: a namespace or object
// selector that selects anything less than everything, or excluded resources. The
// shipped policy and binding have none, so any of them is a change that may exempt
// LearningEvents from the check.
func narrowed(m *admissionregistrationv1.MatchResources) bool {
	if m == nil {
		return false
	}
	selects := func(s *metav1.LabelSelector) bool {
		return s != nil && len(s.MatchLabels)+len(s.MatchExpressions) > 0
	}
	return selects(m.NamespaceSelector) || selects(m.ObjectSelector) || len(m.ExcludeResourceRules) > 0
}

// approversBinding grants the community's approvers the approvers' ClusterRole in the
// community's namespace: reading LearningEvents and the verb approve, which the
// admission policy checks. Owned by the community, so removing the community removes
// it; removing someone from spec.approvers removes them from its subjects.
func approversBinding(community *learningv1alpha1.CommunityOfPractice, clusterRole string) *rbacv1.RoleBinding {
	subjects := make([]rbacv1.Subject, 0, len(community.Spec.Approvers))
	for _, a := range community.Spec.Approvers {
		subjects = append(subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: string(a.Kind), Name: a.Name})
	}
	b := &rbacv1.RoleBinding{
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects: subjects,
	}
	b.Name = names.Derive(community.Name, "approvers", names.ObjectLimit)
	b.Namespace = community.Namespace
	b.Labels = map[string]string{
		ManagedByLabel: ManagedBy,
		CommunityLabel: names.Derive(community.Name, "", names.LabelLimit),
		ComponentLabel: componentApprovals,
	}
	b.OwnerReferences = []metav1.OwnerReference{controllerRef(community, "CommunityOfPractice")}
	return b
}
