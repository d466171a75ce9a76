// Package admission embeds the admission policies of config/admission, so that the
// manager compares the policies and bindings installed in the cluster with the ones
// it ships, and binds approvers only while they are the same.
package admission

import _ "embed"

// ApprovalPolicy is approval_policy.yaml: the ValidatingAdmissionPolicy that verifies
// who approves external communications and who appoints approvers, and its binding,
// both named "approvals" before an overlay or the chart renames them.
//
//go:embed approval_policy.yaml
var ApprovalPolicy []byte

// ActionPlanPolicy is actionplan_policy.yaml: the ValidatingAdmissionPolicy that admits
// an ActionPlan's spec.owner only from its creator and each check-in only from its
// author, and refuses changes to another author's check-in, and its binding, both
// named "action-plans" before an overlay or the chart renames them.
//
//go:embed actionplan_policy.yaml
var ActionPlanPolicy []byte
