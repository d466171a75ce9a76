package program

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// cohortStatus computes a Cohort's status from the evaluated unit and its previous
// status.
func (u *unit) cohortStatus(cv *cohortView) learningv1alpha1.CohortStatus {
	obj := cv.obj
	status := *obj.Status.DeepCopy()
	status.ObservedGeneration = obj.Generation
	conds := conditions{list: &status.Conditions, generation: obj.Generation, now: u.stamp()}

	communityMissing := false
	if ref := obj.Spec.CommunityRef; ref == nil {
		conds.remove(learningv1alpha1.CommunityFoundCondition)
	} else if u.community == nil {
		communityMissing = true
		conds.set(learningv1alpha1.CommunityFoundCondition, metav1.ConditionFalse, learningv1alpha1.CommunityNotFoundReason, "community %s not found", ref.Name)
	} else {
		conds.set(learningv1alpha1.CommunityFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason, "community %s", ref.Name)
	}
	if cv.err != nil {
		// Seats are frozen: the figures stay as last evaluated.
		msg := cv.frozenMessage()
		for _, t := range []string{learningv1alpha1.StaffedCondition, learningv1alpha1.CompositionValidCondition} {
			conds.set(t, metav1.ConditionUnknown, cv.reason(), "%s", msg)
		}
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, cv.reason(), "%s", msg)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, cv.reason(), "%s", msg)
		return status
	}

	status.Phase = cv.phase
	status.StartDate = obj.Spec.StartDate
	status.EndDate = cv.lastDay
	seats, team := cv.roleSeats, seatedTeam(cv, func(m *memberView) bool { return m.seated })
	if cv.phase == learningv1alpha1.CohortCompleted {
		seats, team = finalSeats(cv), seatedTeam(cv, heldToTheEnd(cv))
	}
	setRoles(&status, seats)
	cv.counts = memberCounts(cv)
	status.Members = cv.counts
	understaffed := setStaffed(conds, cv, seats, status.Seats)
	composition := rules.CheckComposition(cv.policy.Composition, team)
	status.Organizations = int32(composition.Organizations)
	if composition.Valid {
		conds.set(learningv1alpha1.CompositionValidCondition, metav1.ConditionTrue, learningv1alpha1.CompositionValidReason, "%s", compositionSummary(cv.policy.Composition, composition))
	} else {
		conds.set(learningv1alpha1.CompositionValidCondition, metav1.ConditionFalse, learningv1alpha1.CompositionInvalidReason, "%s", abbreviate(composition.Violations, "; ", 20))
	}
	status.AttendancePercent = cohortAttendance(cv)
	status.ActionPlans = planFigures(cv)
	status.NextEvent = u.nextEvent(cv)

	switch {
	case cv.scheduleErr != nil:
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidScheduleReason, "%v", cv.scheduleErr)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.InvalidScheduleReason, "%v", cv.scheduleErr)
	case communityMissing:
		conds.remove(learningv1alpha1.StalledCondition)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.CommunityNotFoundReason, "community %s not found", obj.Spec.CommunityRef.Name)
	default:
		// Understaffed or an invalid composition is a program outcome that Staffed and
		// CompositionValid report; the cohort itself is reconciled.
		conds.remove(learningv1alpha1.StalledCondition)
		msg := fmt.Sprintf("%s cohort: %s", cv.phase, orDefault(status.Seats, "no roles"))
		if len(understaffed) > 0 {
			msg += "; understaffed: " + strings.Join(understaffed, "; ")
		}
		if over := overCapacity(seats); len(over) > 0 && cv.phase != learningv1alpha1.CohortCompleted {
			msg += "; " + strings.Join(over, "; ")
		}
		if !composition.Valid {
			msg += "; composition: " + abbreviate(composition.Violations, "; ", 3)
		}
		if len(cv.skipped) > 0 {
			msg += fmt.Sprintf("; the schedule skips %d occurrences whose names hold events the operator did not generate: %s",
				len(cv.skipped), abbreviate(cv.skipped, ", ", 5))
		}
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s", msg)
	}
	return status
}

// frozenMessage says why the cohort's seats are frozen.
func (cv *cohortView) frozenMessage() string {
	switch cv.reason() {
	case learningv1alpha1.InvalidScheduleReason:
		return fmt.Sprintf("seats are frozen until spec.schedule can be expanded: %v", cv.err)
	case learningv1alpha1.InternalErrorReason:
		return fmt.Sprintf("seats are frozen until the cohort can be evaluated: %v", cv.err)
	}
	return fmt.Sprintf("seats are frozen until the policy can be applied: %v", cv.err)
}

// guardedCohortStatus is cohortStatus, which when it panics leaves the cohort's status
// as it was and records the failure, reported by reportFailures.
func (u *unit) guardedCohortStatus(cv *cohortView) learningv1alpha1.CohortStatus {
	var status learningv1alpha1.CohortStatus
	if f := Guard(cv.obj.Name, StepEvaluation, func() { status = u.cohortStatus(cv) }); f != nil {
		cv.failures = append(cv.failures, f)
		status = *cv.obj.Status.DeepCopy()
		status.ObservedGeneration = cv.obj.Generation
	}
	return status
}

// reportFailures reports the failed steps of a cohort on its status. A panic is a bug
// a person must report: Stalled=True and Ready=False, reason InternalError. An error
// (the API server refused a write) is retried: Ready=False, reason ApplyFailed.
func (u *unit) reportFailures(status *learningv1alpha1.CohortStatus, cv *cohortView) {
	conds := conditions{list: &status.Conditions, generation: cv.obj.Generation, now: u.stamp()}
	var panics, errs []string
	for _, f := range cv.failures {
		if f.Panicked {
			panics = append(panics, f.Message())
		} else {
			errs = append(errs, f.Message())
		}
	}
	if len(panics) > 0 {
		msg := strings.Join(panics, "; ")
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InternalErrorReason, "%s", msg)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.InternalErrorReason, "%s", msg)
		return
	}
	if ready := conds.find(learningv1alpha1.ReadyCondition); ready == nil || ready.Status == metav1.ConditionTrue {
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.ApplyFailedReason, "%s", strings.Join(errs, "; "))
	}
}

// setRoles fills the seat counts and the glance summary.
func setRoles(status *learningv1alpha1.CohortStatus, seats []rules.RoleSeats) {
	status.Roles = make([]learningv1alpha1.RoleSeats, 0, len(seats))
	status.Waitlisted = 0
	for _, rs := range seats {
		status.Roles = append(status.Roles, learningv1alpha1.RoleSeats{
			Name:       learningv1alpha1.RoleName(rs.Role),
			MinMembers: int32(rs.Min),
			MaxMembers: int32(rs.Max),
			Seated:     int32(rs.Seated),
			Waitlisted: int32(rs.Waitlisted),
		})
		status.Waitlisted += int32(rs.Waitlisted)
	}
	status.Seats = rules.SeatSummary(seats)
}

// setStaffed sets Staffed and returns the roles below their minimum. A completed cohort
// reports its final figures and is never understaffed.
func setStaffed(conds conditions, cv *cohortView, seats []rules.RoleSeats, summary string) []string {
	if cv.phase == learningv1alpha1.CohortCompleted {
		conds.set(learningv1alpha1.StaffedCondition, metav1.ConditionTrue, learningv1alpha1.CompletedReason,
			"the cohort completed on %s with %s", cv.lastDay, orDefault(summary, "no roles"))
		return nil
	}
	understaffed := rules.Staffing(seats)
	if len(understaffed) > 0 {
		conds.set(learningv1alpha1.StaffedCondition, metav1.ConditionFalse, learningv1alpha1.UnderstaffedReason, "%s", strings.Join(understaffed, "; "))
		return understaffed
	}
	msg := "every role has its minimum: " + summary
	if over := overCapacity(seats); len(over) > 0 {
		msg += "; " + strings.Join(over, "; ")
	}
	conds.set(learningv1alpha1.StaffedCondition, metav1.ConditionTrue, learningv1alpha1.StaffedReason, "%s", msg)
	return nil
}

// overCapacity describes the roles with more seated members than seats, after
// maxMembers was lowered: nobody is unseated, and nobody is promoted until the count is
// below the new maximum.
func overCapacity(seats []rules.RoleSeats) []string {
	var over []string
	for _, rs := range seats {
		if rs.Seated > rs.Max {
			over = append(over, fmt.Sprintf("%s: %d seated, %d over the maximum of %d; no one is promoted until a seat is free", rs.Role, rs.Seated, rs.Seated-rs.Max, rs.Max))
		}
	}
	return over
}

// heldToTheEnd selects the memberships that held their seat until the cohort ended.
func heldToTheEnd(cv *cohortView) func(*memberView) bool {
	return func(m *memberView) bool {
		return m.evaluated() && m.heldSeat() && m.seatedSince.Before(cv.term.End) && !m.term.End.Before(cv.term.End)
	}
}

// finalSeats counts, for a completed cohort, the memberships of each role that held
// their seat until the end: the outcome program owners read after the cohort.
func finalSeats(cv *cohortView) []rules.RoleSeats {
	held := heldToTheEnd(cv)
	seats := make([]rules.RoleSeats, len(cv.policy.Roles))
	for i, r := range cv.policy.Roles {
		seats[i] = rules.RoleSeats{Role: r.Name, Min: r.Min, Max: r.Max}
		for _, m := range cv.members {
			if m.role.Name == r.Name && held(m) {
				seats[i].Seated++
			}
		}
	}
	return seats
}

// memberCounts counts a cohort's memberships by phase, and those waiting for a seat.
func memberCounts(cv *cohortView) *learningv1alpha1.MemberCounts {
	counts := &learningv1alpha1.MemberCounts{}
	for _, m := range cv.members {
		if !m.evaluated() {
			continue
		}
		switch {
		case m.position > 0:
			counts.Waitlisted++
		case m.phase == learningv1alpha1.MembershipPending:
			counts.Pending++
		case m.phase == learningv1alpha1.MembershipActive && m.seated:
			counts.Active++
		case m.phase == learningv1alpha1.MembershipExpiring && m.seated:
			counts.Expiring++
		case m.phase == learningv1alpha1.MembershipExpired:
			counts.Expired++
		case m.phase == learningv1alpha1.MembershipWithdrawn:
			counts.Withdrawn++
		}
	}
	return counts
}

// seatedTeam lists the members the composition rules judge: those selected, in the
// roles that form teams.
func seatedTeam(cv *cohortView, selected func(*memberView) bool) []rules.TeamMember {
	var team []rules.TeamMember
	for _, m := range cv.members {
		if !selected(m) || (cv.policy.Composition != nil && !cv.policy.Composition.Counts(m.role.Name)) {
			continue
		}
		team = append(team, rules.TeamMember{Name: m.obj.Name, Organization: string(m.obj.Spec.Organization), TeamRole: string(m.obj.Spec.TeamRole)})
	}
	return team
}

func compositionSummary(c *rules.Composition, r rules.CompositionResult) string {
	if c == nil {
		return "no composition policy"
	}
	return fmt.Sprintf("%d organizations; teams follow the composition policy", r.Organizations)
}

// cohortAttendance pools the attendance of the members judged, over ended events.
func cohortAttendance(cv *cohortView) *int32 {
	var results []rules.AttendanceResult
	for _, m := range cv.members {
		if m.attendance != nil {
			results = append(results, *m.attendance)
		}
	}
	pct := rules.CohortAttendancePercent(results, cv.policy.Attendance.LateWeightPercent)
	if pct == nil {
		return nil
	}
	v := int32(*pct)
	return &v
}

// nextEvent is the start of the cohort's earliest event or scheduled occurrence that
// has not started.
func (u *unit) nextEvent(cv *cohortView) *metav1.Time {
	next := cv.nextOccurrence
	for _, e := range cv.events {
		if e.record.Cancelled || !e.record.Start.After(u.now) {
			continue
		}
		if next.IsZero() || e.record.Start.Before(next) {
			next = e.record.Start
		}
	}
	if next.IsZero() {
		return nil
	}
	t := metav1.NewTime(next).Rfc3339Copy()
	return &t
}

// communityStatus adds up the community's cohorts.
func (u *unit) communityStatus() learningv1alpha1.CommunityOfPracticeStatus {
	obj := u.community
	status := *obj.Status.DeepCopy()
	status.ObservedGeneration = obj.Generation
	status.Cohorts = int32(len(u.cohorts))
	status.ActiveCohorts = 0
	members := &learningv1alpha1.MemberCounts{}
	var plans *learningv1alpha1.ActionPlanFigures
	for _, cv := range u.cohorts {
		if cv.valid() && cv.phase == learningv1alpha1.CohortActive {
			status.ActiveCohorts++
		}
		c := cv.counts
		if c == nil {
			continue // frozen: its memberships are not evaluated
		}
		plans = addFigures(plans, planFigures(cv))
		members.Pending += c.Pending
		members.Active += c.Active
		members.Expiring += c.Expiring
		members.Expired += c.Expired
		members.Withdrawn += c.Withdrawn
		members.Waitlisted += c.Waitlisted
	}
	status.Members = members
	status.ActionPlans = plans
	conds := conditions{list: &status.Conditions, generation: obj.Generation, now: u.stamp()}
	if len(u.neighbours) == 0 {
		conds.set(learningv1alpha1.IsolatedCondition, metav1.ConditionTrue, learningv1alpha1.OwnNamespaceReason,
			"no other community shares namespace %s", obj.Namespace)
	} else {
		conds.set(learningv1alpha1.IsolatedCondition, metav1.ConditionFalse, learningv1alpha1.SharedNamespaceReason,
			"namespace %s is shared with %s; approvals and members' access are granted per namespace, so this community's approvers may approve their events too: give each community its own namespace",
			obj.Namespace, abbreviate(u.neighbours, ", ", 10))
	}
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason,
		"%d cohorts, %d active, %d active members", status.Cohorts, status.ActiveCohorts, members.Active+members.Expiring)
	return status
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
