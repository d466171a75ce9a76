// Package admission embeds the approval policy of config/admission, so that the
// manager compares the policy and binding installed in the cluster with the ones it
// ships, and binds approvers only while they are the same.
package admission

import _ "embed"

// ApprovalPolicy is approval_policy.yaml: the ValidatingAdmissionPolicy that verifies
// who approves external communications and who appoints approvers, and its binding,
// both named "approvals" before an overlay or the chart renames them.
//
//go:embed approval_policy.yaml
var ApprovalPolicy []byte
