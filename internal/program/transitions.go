package program

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Transition is a Kubernetes Event to emit for a change of status a person would want
// to know of. Controllers emit it once, after the status write that records it.
type Transition struct {
	Type    string // Normal or Warning
	Reason  string // Seated, Promoted, Waitlisted, Expired, AttendanceBelowThreshold, ActionPlanMissing, Approved, ApprovalVoided, PlanOverdue, PlanStale
	Action  string
	Message string
}

// MembershipTransitions returns the Events for a membership's status going from before
// to after: Seated, Promoted (from the waitlist), Waitlisted, Expired and
// AttendanceBelowThreshold.
func MembershipTransitions(before, after *learningv1alpha1.MembershipStatus) []Transition {
	var out []Transition
	was := reason(before.Conditions, learningv1alpha1.SeatedCondition)
	is := reason(after.Conditions, learningv1alpha1.SeatedCondition)
	seat := message(after.Conditions, learningv1alpha1.SeatedCondition)
	switch {
	case is == learningv1alpha1.SeatedReason && was == learningv1alpha1.WaitlistedReason:
		out = append(out, Transition{corev1.EventTypeNormal, "Promoted", "Promote", "promoted from the waitlist: " + seat})
	case is == learningv1alpha1.SeatedReason && was != learningv1alpha1.SeatedReason:
		out = append(out, Transition{corev1.EventTypeNormal, "Seated", "Seat", seat})
	case is == learningv1alpha1.WaitlistedReason && was != learningv1alpha1.WaitlistedReason:
		out = append(out, Transition{corev1.EventTypeNormal, "Waitlisted", "Waitlist", seat})
	}
	// A membership first evaluated after its term ended (history imported after the
	// fact) did nothing while the operator watched: its final state is in its status,
	// not in Events.
	if before.Phase == "" && after.Phase == learningv1alpha1.MembershipExpired {
		return nil
	}
	if after.Phase == learningv1alpha1.MembershipExpired && before.Phase != learningv1alpha1.MembershipExpired {
		out = append(out, Transition{corev1.EventTypeNormal, "Expired", "Expire", fmt.Sprintf("the term ended on %s; the seat is freed", after.EndDate)})
	}
	below := func(r string) bool {
		return r == learningv1alpha1.BelowThresholdReason || r == learningv1alpha1.CannotReachThresholdReason
	}
	if reason(after.Conditions, learningv1alpha1.ActionPlanCondition) == learningv1alpha1.PlanMissingReason &&
		reason(before.Conditions, learningv1alpha1.ActionPlanCondition) != learningv1alpha1.PlanMissingReason {
		out = append(out, Transition{corev1.EventTypeWarning, "ActionPlanMissing", "JudgePlan", message(after.Conditions, learningv1alpha1.ActionPlanCondition)})
	}
	if isAtt := reason(after.Conditions, learningv1alpha1.AttendanceMetCondition); below(isAtt) && !below(reason(before.Conditions, learningv1alpha1.AttendanceMetCondition)) {
		out = append(out, Transition{corev1.EventTypeWarning, "AttendanceBelowThreshold", "JudgeAttendance", message(after.Conditions, learningv1alpha1.AttendanceMetCondition)})
	}
	return out
}

// PlanTransitions returns the Events for an ActionPlan's status going from before to
// after: PlanOverdue and PlanStale, when the plan becomes so.
func PlanTransitions(before, after *learningv1alpha1.ActionPlanStatus) []Transition {
	was := reason(before.Conditions, learningv1alpha1.PlanCurrentCondition)
	is := reason(after.Conditions, learningv1alpha1.PlanCurrentCondition)
	if is == was {
		return nil
	}
	switch is {
	case learningv1alpha1.PlanOverdueReason:
		return []Transition{{corev1.EventTypeWarning, "PlanOverdue", "JudgePlan", message(after.Conditions, learningv1alpha1.PlanCurrentCondition)}}
	case learningv1alpha1.PlanStaleReason:
		return []Transition{{corev1.EventTypeWarning, "PlanStale", "JudgePlan", message(after.Conditions, learningv1alpha1.PlanCurrentCondition)}}
	}
	return nil
}

// EventTransitions returns the Events for a LearningEvent's status going from before to
// after: Approved and ApprovalVoided.
func EventTransitions(e *learningv1alpha1.LearningEvent, before, after *learningv1alpha1.LearningEventStatus) []Transition {
	was := reason(before.Conditions, learningv1alpha1.ApprovedCondition)
	is := reason(after.Conditions, learningv1alpha1.ApprovedCondition)
	switch {
	case is == learningv1alpha1.ApprovedReason && was != learningv1alpha1.ApprovedReason && e.Spec.Approval != nil:
		return []Transition{{corev1.EventTypeNormal, "Approved", "Approve", "approved by " + e.Spec.Approval.Approver}}
	case is == learningv1alpha1.PolicyMissingReason && was == learningv1alpha1.ApprovedReason:
		return []Transition{{corev1.EventTypeWarning, "ApprovalVoided", "VoidApproval", "the admission policy that verifies approvers is missing; the approval is not trusted until it is installed"}}
	case is == learningv1alpha1.ContentChangedReason && was == learningv1alpha1.ApprovedReason:
		return []Transition{{corev1.EventTypeWarning, "ApprovalVoided", "VoidApproval", "the content changed after approval; it needs a new approval"}}
	}
	return nil
}

func reason(conditions []metav1.Condition, typ string) string {
	if c := apimeta.FindStatusCondition(conditions, typ); c != nil {
		return c.Reason
	}
	return ""
}

func message(conditions []metav1.Condition, typ string) string {
	if c := apimeta.FindStatusCondition(conditions, typ); c != nil {
		return c.Message
	}
	return ""
}
