package controllers

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// cohortStatus computes a Cohort's status from its program and schedule. It is a pure
// function of its inputs and the previous status.
func cohortStatus(cohort *learningv1alpha1.Cohort, p *program, sched scheduleResult) learningv1alpha1.CohortStatus {
	status := *cohort.Status.DeepCopy()
	status.ObservedGeneration = cohort.Generation
	conds := conditionSet{conditions: &status.Conditions, generation: cohort.Generation}

	if ref := cohort.Spec.CommunityRef; ref == nil {
		conds.remove(learningv1alpha1.CommunityFoundCondition)
	} else {
		if p.communityMissing {
			conds.set(learningv1alpha1.CommunityFoundCondition, metav1.ConditionFalse, learningv1alpha1.CommunityNotFoundReason, "community %s not found", ref.Name)
		} else {
			conds.set(learningv1alpha1.CommunityFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason, "community %s", ref.Name)
		}
	}
	if err := firstErr(p.termErr, p.policyErr); err != nil {
		// Derived fields are cleared rather than left stale next to Stalled.
		status.Phase, status.EndDate, status.Seats = "", "", ""
		status.Roles, status.Members, status.AttendancePercent, status.NextEvent = nil, nil, nil, nil
		status.Waitlisted, status.Organizations = 0, 0
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason, "%v", err)
		for _, t := range []string{learningv1alpha1.StaffedCondition, learningv1alpha1.CompositionValidCondition} {
			conds.set(t, metav1.ConditionUnknown, learningv1alpha1.InvalidPolicyReason, "%v", err)
		}
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.InvalidPolicyReason, "%v", err)
		return status
	}

	status.Phase = p.phase
	status.StartDate = cohort.Spec.StartDate
	status.EndDate = p.lastDay
	setSeats(&status, p)
	understaffed := rules.Staffing(p.roleSeats)
	if len(understaffed) > 0 {
		conds.set(learningv1alpha1.StaffedCondition, metav1.ConditionFalse, learningv1alpha1.UnderstaffedReason, "%s", strings.Join(understaffed, "; "))
	} else {
		conds.set(learningv1alpha1.StaffedCondition, metav1.ConditionTrue, learningv1alpha1.StaffedReason, "every role has its minimum: %s", status.Seats)
	}
	composition := rules.CheckComposition(p.policy.Composition, seatedTeam(p))
	status.Organizations = int32(composition.Organizations)
	if composition.Valid {
		conds.set(learningv1alpha1.CompositionValidCondition, metav1.ConditionTrue, learningv1alpha1.CompositionValidReason, "%s", compositionSummary(p.policy.Composition, composition))
	} else {
		conds.set(learningv1alpha1.CompositionValidCondition, metav1.ConditionFalse, learningv1alpha1.CompositionInvalidReason, "%s", abbreviateJoin(composition.Violations, "; ", 20))
	}
	status.AttendancePercent = cohortAttendance(p)
	status.NextEvent = nextEvent(p)

	if sched.err != nil {
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidScheduleReason, "%v", sched.err)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.InvalidScheduleReason, "%v", sched.err)
		return status
	}
	conds.remove(learningv1alpha1.StalledCondition)
	setCohortReady(conds, p, understaffed, composition)
	return status
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func compositionSummary(c *rules.Composition, r rules.CompositionResult) string {
	if c == nil {
		return "no composition policy"
	}
	return fmt.Sprintf("%d organizations; teams follow the composition policy", r.Organizations)
}

// setSeats fills the seat counts, the glance summary and the members by phase.
func setSeats(status *learningv1alpha1.CohortStatus, p *program) {
	status.Roles = make([]learningv1alpha1.RoleSeats, 0, len(p.roleSeats))
	status.Waitlisted = 0
	for _, rs := range p.roleSeats {
		status.Roles = append(status.Roles, learningv1alpha1.RoleSeats{
			Name:       learningv1alpha1.RoleName(rs.Role),
			MinMembers: int32(rs.Min),
			MaxMembers: int32(rs.Max),
			Seated:     int32(rs.Seated),
			Waitlisted: int32(rs.Waitlisted),
		})
		status.Waitlisted += int32(rs.Waitlisted)
	}
	status.Seats = rules.SeatSummary(p.roleSeats)
	counts := &learningv1alpha1.MemberCounts{}
	for _, m := range p.members {
		switch {
		case m.competing && !m.seat.Seated:
			counts.Waitlisted++
		case m.phase == learningv1alpha1.MembershipPending:
			counts.Pending++
		case m.phase == learningv1alpha1.MembershipActive && m.seat.Seated:
			counts.Active++
		case m.phase == learningv1alpha1.MembershipExpiring && m.seat.Seated:
			counts.Expiring++
		case m.phase == learningv1alpha1.MembershipExpired:
			counts.Expired++
		case m.phase == learningv1alpha1.MembershipWithdrawn:
			counts.Withdrawn++
		}
	}
	status.Members = counts
}

// seatedTeam lists the seated members for the composition rules.
func seatedTeam(p *program) []rules.TeamMember {
	var team []rules.TeamMember
	for _, m := range p.members {
		if p.policy.Composition != nil && !p.policy.Composition.Counts(string(m.obj.Spec.Role)) {
			continue
		}
		if m.competing && m.seat.Seated {
			team = append(team, rules.TeamMember{Name: m.obj.Name, Organization: string(m.obj.Spec.Organization), TeamRole: string(m.obj.Spec.TeamRole)})
		}
	}
	return team
}

// nextEvent is the start of the earliest event that has not started.
func nextEvent(p *program) *metav1.Time {
	var next *metav1.Time
	for _, e := range p.events {
		if e.Cancelled || !e.Start.After(p.now) {
			continue
		}
		if next == nil || e.Start.Before(next.Time) {
			t := metav1.NewTime(e.Start)
			next = &t
		}
	}
	return next
}

// setCohortReady: Ready is False only while the community is missing; an understaffed
// or invalid composition is a program outcome reported by Staffed and CompositionValid,
// and the message repeats it.
func setCohortReady(conds conditionSet, p *program, understaffed []string, composition rules.CompositionResult) {
	if p.communityMissing {
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.CommunityNotFoundReason, "community %s not found", p.cohort.Spec.CommunityRef.Name)
		return
	}
	msg := fmt.Sprintf("%s cohort: %s", p.phase, orDefault(rules.SeatSummary(p.roleSeats), "no roles"))
	if len(understaffed) > 0 {
		msg += "; understaffed: " + strings.Join(understaffed, "; ")
	}
	if !composition.Valid {
		msg += "; composition: " + abbreviateJoin(composition.Violations, "; ", 3)
	}
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s", msg)
}

// cohortAttendance is the attendance of the cohort's seated members over ended events.
func cohortAttendance(p *program) *int32 {
	var results []rules.AttendanceResult
	for _, m := range p.members {
		if m.attendance != nil {
			results = append(results, *m.attendance)
		}
	}
	pct := rules.CohortAttendancePercent(results, p.policy.Attendance.LateWeightPercent)
	if pct == nil {
		return nil
	}
	v := int32(*pct)
	return &v
}
