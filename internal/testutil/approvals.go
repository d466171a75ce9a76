package testutil

import (
	"context"
	"fmt"
	"os"

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
