package program

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// membershipConditions are the conditions that report the rules' outcome for a
// membership, besides Ready and Stalled.
var membershipConditions = []string{
	learningv1alpha1.SeatedCondition, learningv1alpha1.EligibleCondition,
	learningv1alpha1.TermActiveCondition, learningv1alpha1.AttendanceMetCondition,
}

// membershipStatus computes a Membership's status from the evaluated unit and its
// previous status.
func (u *unit) membershipStatus(m *memberView) learningv1alpha1.MembershipStatus {
	status := *m.obj.Status.DeepCopy()
	status.ObservedGeneration = m.obj.Generation
	conds := conditions{list: &status.Conditions, generation: m.obj.Generation, now: u.stamp()}
	cohort := m.obj.Spec.CohortRef.Name

	if m.cohort == nil {
		// The record stays as it was last observed; the conditions say why nothing is
		// evaluated.
		msg := fmt.Sprintf("cohort %s not found", cohort)
		conds.set(learningv1alpha1.CohortFoundCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "%s", msg)
		for _, t := range membershipConditions {
			conds.set(t, metav1.ConditionUnknown, learningv1alpha1.CohortNotFoundReason, "%s", msg)
		}
		conds.remove(learningv1alpha1.StalledCondition)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "%s", msg)
		return status
	}
	conds.set(learningv1alpha1.CohortFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason, "cohort %s", cohort)

	switch {
	case m.frozen():
		// The seat stays exactly as it was until the cohort's policy resolves again.
		msg := fmt.Sprintf("seats are frozen while cohort %s cannot be evaluated: %v", cohort, m.cohort.err)
		for _, t := range membershipConditions {
			if conds.find(t) == nil {
				conds.set(t, metav1.ConditionUnknown, learningv1alpha1.SeatsFrozenReason, "%s", msg)
			}
		}
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, m.cohort.reason(), "%s", msg)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, m.cohort.reason(), "%s", msg)
		return status
	case m.termErr != nil:
		// This membership's own dates must change: derived fields are cleared rather
		// than left stale, and Stalled tells GitOps tools. The seat history stays.
		status.Phase, status.StartDate, status.EndDate = "", "", ""
		status.WaitlistPosition, status.Attendance = nil, nil
		for _, t := range membershipConditions {
			conds.set(t, metav1.ConditionUnknown, learningv1alpha1.InvalidPolicyReason, "%v", m.termErr)
		}
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason, "%v", m.termErr)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.InvalidPolicyReason, "%v", m.termErr)
		return status
	}
	conds.remove(learningv1alpha1.StalledCondition)

	loc := m.cohort.loc
	status.Phase = m.phase
	status.StartDate = rules.FormatDate(m.term.Start, loc)
	status.EndDate = rules.FormatDate(m.term.End.Add(-time.Nanosecond), loc)
	status.SeatedSince = nil
	if !m.seatedSince.IsZero() {
		t := metav1.NewTime(m.seatedSince).Rfc3339Copy()
		status.SeatedSince = &t
	}
	status.WaitlistPosition = nil
	if m.position > 0 {
		pos := int32(m.position)
		status.WaitlistPosition = &pos
	}
	setEligible(conds, m)
	u.setSeated(conds, m)
	setTermActive(conds, &status)
	if m.phase != learningv1alpha1.MembershipWithdrawn || conds.find(learningv1alpha1.AttendanceMetCondition) == nil {
		// A withdrawn membership keeps its last judgement: the final outcome.
		status.Attendance = setAttendance(conds, m)
	}
	u.setActionPlan(conds, m)
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s", membershipSummary(m))
	return status
}

func setEligible(conds conditions, m *memberView) {
	if m.reason == "" && m.kept != "" {
		conds.set(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, learningv1alpha1.SeatKeptReason,
			"keeps the %s seat it holds since %s, although %s: a term limit is judged when a seat is given, and terms recorded later never take it back",
			m.role.Name, rules.FormatDate(m.seatedSince, m.cohort.loc), m.kept)
		return
	}
	if m.reason == "" {
		conds.set(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, learningv1alpha1.EligibleReason, "eligible for a %s seat", m.role.Name)
		return
	}
	conds.set(learningv1alpha1.EligibleCondition, metav1.ConditionFalse, m.reason, "%s", m.message)
}

func (u *unit) setSeated(conds conditions, m *memberView) {
	role := m.role.Name
	var seats rules.RoleSeats
	for _, rs := range m.cohort.roleSeats {
		if rs.Role == role {
			seats = rs
		}
	}
	switch {
	case m.phase == learningv1alpha1.MembershipWithdrawn:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn; the seat is freed")
	case m.neverSeated():
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NeverSeatedReason, "%s", neverSeatedMessage(m))
	case m.phase == learningv1alpha1.MembershipExpired:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.TermExpiredReason, "the term ended; the seat is freed")
	case m.cohort.phase == learningv1alpha1.CohortCompleted:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.CompletedReason, "the cohort completed on %s; the seat is freed", m.cohort.lastDay)
	case m.reason != "":
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NotEligibleReason, "not eligible: %s", m.message)
	case m.seated:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason, "holds one of %d %s seats", seats.Max, role)
	default:
		conds.set(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WaitlistedReason,
			"position %d of %d on the %s waitlist; all %d seats are taken", m.position, seats.Waitlisted, role, seats.Max)
	}
}

// neverSeated reports whether the membership's term ended, or its cohort completed,
// without it ever holding a seat.
func (m *memberView) neverSeated() bool {
	ended := m.phase == learningv1alpha1.MembershipExpired || m.cohort.phase == learningv1alpha1.CohortCompleted
	return ended && m.phase != learningv1alpha1.MembershipWithdrawn && m.seatedSince.IsZero()
}

// neverSeatedMessage says when the membership's chance of a seat ended and, when every
// seat of its role was held for its term, that this is why.
func neverSeatedMessage(m *memberView) string {
	msg := fmt.Sprintf("the term ended on %s without a seat", rules.FormatDate(m.term.End.Add(-time.Nanosecond), m.cohort.loc))
	if m.cohort.phase == learningv1alpha1.CohortCompleted {
		msg = fmt.Sprintf("the cohort completed on %s without a seat for this membership", m.cohort.lastDay)
	}
	if m.roleKnown && m.role.Max > 0 && m.seatsTaken >= m.role.Max {
		msg += fmt.Sprintf(": all %d %s seats were held by other memberships for its term", m.role.Max, m.role.Name)
	}
	return msg + "; the term does not count toward term limits and its attendance is not judged"
}

func setTermActive(conds conditions, status *learningv1alpha1.MembershipStatus) {
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

// setAttendance sets AttendanceMet and returns the attendance summary of a member
// that holds or held a seat.
func setAttendance(conds conditions, m *memberView) *learningv1alpha1.AttendanceSummary {
	a := m.attendance
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

// membershipSummary says in a sentence where the membership stands. A waitlist or an
// ineligible membership is a steady state, not a failure of the operator, so Ready is
// True and GitOps health checks do not wait on it.
func membershipSummary(m *memberView) string {
	switch {
	case m.neverSeated() && !m.claiming():
		return fmt.Sprintf("the membership is %s; it never held a seat", m.phase)
	case m.neverSeated():
		return "the cohort completed; the membership never held a seat"
	case !m.claiming():
		return fmt.Sprintf("the membership is %s", m.phase)
	case m.cohort.phase == learningv1alpha1.CohortCompleted:
		return "the cohort completed"
	case m.reason != "":
		return "not eligible: " + m.message
	case !m.seated:
		return fmt.Sprintf("waiting for a %s seat at position %d", m.role.Name, m.position)
	case m.kept != "":
		return fmt.Sprintf("seated as %s; the seat is kept although %s", m.role.Name, m.kept)
	}
	return fmt.Sprintf("seated as %s", m.role.Name)
}
