package testutil

import (
	"context"
	"fmt"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Names the approval objects get when installed as config/ installs them (with the
// cohort- prefix of its overlays): the controllers' defaults.
const (
	ApprovalPolicy      = "cohort-approvals"
	ApproverClusterRole = "cohort-approver"
)

// InstallApprovals creates the approval policy and its binding (config/admission) and
// the approvers' ClusterRole (config/rbac/approver_role.yaml) under the names the
// overlays give them.
func InstallApprovals(ctx context.Context, c client.Client) error {
	objs, err := ApprovalObjects()
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// ApprovalObjects reads the approval policy, its binding and the approvers'
// ClusterRole from config/, renamed as the overlays rename them.
func ApprovalObjects() ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, file := range [][]string{{"config", "admission", "approval_policy.yaml"}, {"config", "rbac", "approver_role.yaml"}} {
		data, err := os.ReadFile(Path(file...))
		if err != nil {
			return nil, err
		}
		decoded, err := DecodeManifests(data)
		if err != nil {
			return nil, fmt.Errorf("decoding %v: %w", file, err)
		}
		objs = append(objs, decoded...)
	}
	for _, obj := range objs {
		switch obj.GetKind() {
		case "ValidatingAdmissionPolicy":
			obj.SetName(ApprovalPolicy)
		case "ValidatingAdmissionPolicyBinding":
			obj.SetName(ApprovalPolicy)
			if err := unstructured.SetNestedField(obj.Object, ApprovalPolicy, "spec", "policyName"); err != nil {
				return nil, err
			}
		case "ClusterRole":
			obj.SetName(ApproverClusterRole)
		}
	}
	return objs, nil
}

// ActionPlanPolicy is the name config/default gives the action-plan policy and its
// binding.
const ActionPlanPolicy = "cohort-action-plans"

// InstallActionPlanPolicy creates the action-plan policy and its binding
// (config/admission) under name, unless they exist. With namespaceLabels the binding
// covers only the namespaces carrying them, so that a suite whose other tests write
// plans as the administrator can check the policy in its own namespaces; without, it
// covers every namespace, as installed.
func InstallActionPlanPolicy(ctx context.Context, c client.Client, name string, namespaceLabels map[string]string) error {
	data, err := os.ReadFile(Path("config", "admission", "actionplan_policy.yaml"))
	if err != nil {
		return err
	}
	objs, err := DecodeManifests(data)
	if err != nil {
		return fmt.Errorf("decoding the action-plan policy: %w", err)
	}
	for _, obj := range objs {
		obj.SetName(name)
		if obj.GetKind() == "ValidatingAdmissionPolicyBinding" {
			if err := unstructured.SetNestedField(obj.Object, name, "spec", "policyName"); err != nil {
				return err
			}
			if namespaceLabels != nil {
				labels := map[string]any{}
				for k, v := range namespaceLabels {
					labels[k] = v
				}
				if err := unstructured.SetNestedMap(obj.Object, labels, "spec", "matchResources", "namespaceSelector", "matchLabels"); err != nil {
					return err
				}
			}
		}
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}
