package controllers

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// membershipStatus computes a Membership's status from its program; p is nil when the
// cohort does not exist. It is a pure function of its inputs and the previous status.
func membershipStatus(m *learningv1alpha1.Membership, p *program) learningv1alpha1.MembershipStatus {
	status := *m.Status.DeepCopy()
	status.ObservedGeneration = m.Generation
	conds := conditionSet{conditions: &status.Conditions, generation: m.Generation}

	if p == nil {
		// The record stays as it was last observed; only the conditions say why
		// nothing is evaluated.
		msg := fmt.Sprintf("cohort %s not found", m.Spec.CohortRef.Name)
		conds.set(learningv1alpha1.CohortFoundCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "%s", msg)
		for _, t := range []string{learningv1alpha1.SeatedCondition, learningv1alpha1.EligibleCondition, learningv1alpha1.TermActiveCondition, learningv1alpha1.AttendanceMetCondition} {
			conds.set(t, metav1.ConditionUnknown, learningv1alpha1.CohortNotFoundReason, "%s", msg)
		}
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "%s", msg)
		conds.remove(learningv1alpha1.StalledCondition)
		return status
	}
	conds.set(learningv1alpha1.CohortFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason, "cohort %s", p.cohort.Name)

	mv := p.member(m.Name)
	var problem error
	switch {
	case !p.valid():
		problem = fmt.Errorf("the cohort's policy cannot be applied: %w", firstErr(p.policyErr, p.termErr))
	case mv == nil:
		// The cache has not caught up; the membership's own create or delete event
		// brings it back here.
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionUnknown, learningv1alpha1.ProgressingReason, "the cohort has not observed this membership yet")
		return status
	case mv.termErr != nil:
		problem = mv.termErr
	}
	if problem != nil {
		// The spec (this one's dates or the cohort's policy) must change: derived
		// fields are cleared rather than left stale, and Stalled tells GitOps tools.
		status.Phase, status.StartDate, status.EndDate = "", "", ""
		status.WaitlistPosition, status.Attendance = nil, nil
		for _, t := range []string{learningv1alpha1.SeatedCondition, learningv1alpha1.EligibleCondition, learningv1alpha1.TermActiveCondition, learningv1alpha1.AttendanceMetCondition} {
			conds.set(t, metav1.ConditionUnknown, learningv1alpha1.InvalidPolicyReason, "%v", problem)
		}
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason, "%v", problem)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.InvalidPolicyReason, "%v", problem)
		return status
	}
	conds.remove(learningv1alpha1.StalledCondition)

	status.Phase = mv.phase
	status.StartDate = rules.FormatDate(mv.term.Start, p.loc)
	status.EndDate = rules.FormatDate(mv.term.End.Add(-time.Nanosecond), p.loc)
	status.WaitlistPosition = nil
	if mv.competing && !mv.seat.Seated {
		pos := int32(mv.seat.Position)
		status.WaitlistPosition = &pos
	}
	setEligible(conds, mv)
	setSeated(conds, mv, p)
	setTermActive(conds, &status)
	status.Attendance = setAttendance(conds, mv)
	setMembershipReady(conds, mv)
	return status
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func setEligible(conds conditionSet, mv *member) {
	if mv.eligibility.Eligible {
		conds.set(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, rules.ReasonEligible, "eligible for a %s seat", mv.obj.Spec.Role)
		return
	}
	conds.set(learningv1alpha1.EligibleCondition, metav1.ConditionFalse, mv.eligibility.Reason, "%s", mv.eligibility.Message)
}

func setSeated(conds conditionSet, mv *member, p *program) {
	role := string(mv.obj.Spec.Role)
	var seats rules.RoleSeats
	for _, rs := range p.roleSeats {
		if rs.Role == role {
			seats = rs
		}
	}
	switch {
	case mv.phase == learningv1alpha1.MembershipWithdrawn:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn; the seat is freed")
	case mv.phase == learningv1alpha1.MembershipExpired:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.TermExpiredReason, "the term ended; the seat is freed")
	case !mv.eligibility.Eligible:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NotEligibleReason, "not eligible: %s", mv.eligibility.Message)
	case mv.seat.Seated:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason, "holds one of %d %s seats", seats.Max, role)
	default:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WaitlistedReason,
			"position %d of %d on the %s waitlist; all %d seats are taken", mv.seat.Position, seats.Waitlisted, role, seats.Max)
	}
}

func setTermActive(conds conditionSet, status *learningv1alpha1.MembershipStatus) {
	switch status.Phase {
	case learningv1alpha1.MembershipPending:
		conds.set(learningv1alpha1.TermActiveCondition, metav1.ConditionFalse, learningv1alpha1.TermPendingReason, "the term starts on %s", status.StartDate)
	case learningv1alpha1.MembershipActive:
		conds.set(learningv1alpha1.TermActiveCondition, metav1.ConditionTrue, learningv1alpha1.TermActiveReason, "the term runs until %s", status.EndDate)
	case learningv1alpha1.MembershipExpiring:
		conds.set(learningv1alpha1.TermActiveCondition, metav1.ConditionTrue, learningv1alpha1.TermExpiringReason, "the term ends on %s", status.EndDate)
	case learningv1alpha1.MembershipExpired:
		conds.set(learningv1alpha1.TermActiveCondition, metav1.ConditionFalse, learningv1alpha1.TermExpiredReason, "the term ended on %s", status.EndDate)
	case learningv1alpha1.MembershipWithdrawn:
		conds.set(learningv1alpha1.TermActiveCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn")
	}
}

// setAttendance sets AttendanceMet and returns the attendance summary of a seated member.
func setAttendance(conds conditionSet, mv *member) *learningv1alpha1.AttendanceSummary {
	a := mv.attendance
	if a == nil {
		conds.set(learningv1alpha1.AttendanceMetCondition, metav1.ConditionUnknown, learningv1alpha1.NotSeatedReason, "attendance is judged for seated members only")
		return nil
	}
	switch a.State {
	case rules.AttendanceMet:
		conds.set(learningv1alpha1.AttendanceMetCondition, metav1.ConditionTrue, learningv1alpha1.AttendanceMetReason, "%s", a.Message)
	case rules.AttendanceNotEnoughEvents:
		conds.set(learningv1alpha1.AttendanceMetCondition, metav1.ConditionUnknown, learningv1alpha1.NotEnoughEventsReason, "%s", a.Message)
	case rules.AttendanceBelowThreshold:
		conds.set(learningv1alpha1.AttendanceMetCondition, metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, "%s", a.Message)
	case rules.AttendanceCannotReach:
		conds.set(learningv1alpha1.AttendanceMetCondition, metav1.ConditionFalse, learningv1alpha1.CannotReachThresholdReason, "%s", a.Message)
	}
	summary := &learningv1alpha1.AttendanceSummary{
		EligibleEvents: int32(a.EligibleEvents),
		Present:        int32(a.Present),
		Late:           int32(a.Late),
		Excused:        int32(a.Excused),
		Absent:         int32(a.Absent),
	}
	if a.Percent != nil {
		pct := int32(*a.Percent)
		summary.Percent = &pct
	}
	return summary
}

// setMembershipReady: the membership was evaluated, so Ready is True; the message
// summarises the outcome, which the specific conditions carry. A waitlist or an
// ineligible membership is a steady state, not a failure of the operator, and GitOps
// health checks must not wait on it.
func setMembershipReady(conds conditionSet, mv *member) {
	msg := fmt.Sprintf("seated as %s", mv.obj.Spec.Role)
	switch {
	case !claiming(mv.phase):
		msg = fmt.Sprintf("the membership is %s", mv.phase)
	case !mv.eligibility.Eligible:
		msg = "not eligible: " + mv.eligibility.Message
	case !mv.seat.Seated:
		msg = fmt.Sprintf("waiting for a %s seat at position %d", mv.obj.Spec.Role, mv.seat.Position)
	}
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s", msg)
}
