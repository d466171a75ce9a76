package program

import (
	"fmt"
	"slices"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// memberView is one Membership as the evaluation sees it.
type memberView struct {
	obj *learningv1alpha1.Membership
	// cohort is nil when the membership's cohort does not exist.
	cohort *cohortView

	role      rules.RolePolicy
	roleKnown bool
	term      rules.Term
	// termErr is a problem with the membership's own dates: it is Stalled.
	termErr error
	phase   learningv1alpha1.MembershipPhase

	// reason and message say why the membership may not hold a seat; reason is empty
	// while it is eligible.
	reason, message string
	// kept, when not empty, says which term limit the seat it holds breaks: the seat
	// was given before the terms that break it were known, and is kept.
	kept string
	// seatsTaken is, for a membership that never held a seat, how many seats of its
	// role and cohort others held during its term.
	seatsTaken int

	// prevSeated is whether it held a seat before this evaluation, and history since
	// when it held the seat it held or last held then (zero when never).
	prevSeated bool
	history    time.Time
	// neverEvaluated is whether no evaluation has placed it yet: it has no Seated
	// condition, or only one saying its cohort did not exist or its seats were frozen
	// before it was ever placed.
	neverEvaluated bool
	// seatedSince is when it got the seat it holds or last held; zero when it never
	// held one.
	seatedSince time.Time
	seated      bool
	// position is its place on its role's waitlist, from 1; 0 when not waiting.
	position int

	attendance *rules.AttendanceResult
	// plans are its personal ActionPlans.
	plans []*planView
}

// person is the user name that identifies the membership's person across cohorts.
func (m *memberView) person() string { return m.obj.Spec.Member }

// frozen reports whether the membership's seat is kept exactly as it was, because its
// cohort's policy or dates cannot be resolved.
func (m *memberView) frozen() bool { return m.cohort != nil && !m.cohort.valid() }

// evaluated reports whether the rules apply to the membership in this evaluation.
func (m *memberView) evaluated() bool {
	return m.cohort != nil && m.cohort.valid() && m.termErr == nil
}

// claiming reports whether the membership may hold a seat at all: it is not withdrawn
// and its term has not ended.
func (m *memberView) claiming() bool {
	switch m.phase {
	case learningv1alpha1.MembershipPending, learningv1alpha1.MembershipActive, learningv1alpha1.MembershipExpiring:
		return true
	}
	return false
}

// resolveMembers resolves every membership's term, phase, seat history and the
// eligibility rules that depend on the membership alone.
func (u *unit) resolveMembers() {
	for _, m := range u.members {
		m.resolveHistory()
		if m.cohort != nil && m.cohort.valid() {
			u.resolveMember(m)
		}
	}
}

// resolveHistory reads whether the membership held a seat before, and since when.
// Memberships seated before status.seatedSince existed take the time from the Seated
// condition, so an upgrade displaces nobody.
func (m *memberView) resolveHistory() {
	status := m.obj.Status
	seated := apimeta.FindStatusCondition(status.Conditions, learningv1alpha1.SeatedCondition)
	m.prevSeated = seated != nil && seated.Status == metav1.ConditionTrue
	m.neverEvaluated = seated == nil || seated.Reason == learningv1alpha1.CohortNotFoundReason ||
		seated.Reason == learningv1alpha1.SeatsFrozenReason
	switch {
	case status.SeatedSince != nil:
		m.history = status.SeatedSince.Time
	case m.prevSeated:
		m.history = seated.LastTransitionTime.Time
	}
	m.seatedSince = m.history
}

func (u *unit) resolveMember(m *memberView) {
	cv, spec := m.cohort, m.obj.Spec
	m.role, m.roleKnown = cv.policy.Role(string(spec.Role))
	if !m.roleKnown {
		m.role = rules.RolePolicy{Name: string(spec.Role), TermMonths: rules.DefaultTermMonths}
	}
	m.term, m.termErr = rules.MembershipTerm(cv.term, m.role, spec.StartDate, spec.EndDate, cv.loc)
	if m.termErr != nil {
		m.termErr = fmt.Errorf("spec: %w", m.termErr)
		return
	}
	var next time.Time
	m.phase, next = rules.MembershipPhase(m.term, spec.Withdrawn, cv.policy.TermNoticeDays, u.now)
	u.observeBoundary(next)
}

// basicEligibility applies the eligibility rules that depend on the membership alone:
// a known role, an eligible organization and the enrollment window.
func basicEligibility(m *memberView) (reason, message string) {
	policy, spec := m.cohort.policy, m.obj.Spec
	if !m.roleKnown {
		names := make([]string, len(policy.Roles))
		for i, r := range policy.Roles {
			names[i] = r.Name
		}
		return learningv1alpha1.UnknownRoleReason, fmt.Sprintf("spec.role %q is not in the cohort's policy; known roles: %s", spec.Role, strings.Join(names, ", "))
	}
	if policy.EligibleOrganizations != nil && !slices.Contains(policy.EligibleOrganizations, string(spec.Organization)) {
		if spec.Organization == "" {
			return learningv1alpha1.OrganizationNotEligibleReason, "spec.organization is not set and the community admits only its eligible organizations"
		}
		return learningv1alpha1.OrganizationNotEligibleReason, fmt.Sprintf("spec.organization %q is not one of the community's eligible organizations", spec.Organization)
	}
	if closes := m.cohort.enrollmentCloses(); closes != "" && spec.StartDate != nil && *spec.StartDate > closes {
		return learningv1alpha1.EnrollmentClosedReason, fmt.Sprintf("spec.startDate %s is after enrollment closed on %s", *spec.StartDate, closes)
	}
	return "", ""
}

// judgeAttendance judges every membership that holds or held a seat over the events of
// its term. Withdrawn memberships keep the judgement they had (see membershipStatus).
func (u *unit) judgeAttendance() {
	for _, cv := range u.cohorts {
		if !cv.valid() {
			continue
		}
		if f := Guard(cv.obj.Name, StepEvaluation, func() { u.judgeCohortAttendance(cv) }); f != nil {
			cv.failures = append(cv.failures, f)
		}
	}
}

// judgeCohortAttendance judges the attendance of one cohort's memberships.
func (u *unit) judgeCohortAttendance(cv *cohortView) {
	records := make([]rules.EventRecord, 0, len(cv.events))
	for _, e := range cv.events {
		records = append(records, e.record)
	}
	for _, m := range cv.members {
		if !m.judged() {
			continue
		}
		result := rules.MemberAttendance(rules.AttendanceInput{
			Policy:      cv.policy.Attendance,
			Member:      m.obj.Name,
			Term:        m.term,
			SeatedSince: m.seatedSince,
			Events:      records,
			Projected:   cv.projected,
			Now:         u.now,
		})
		m.attendance = &result
	}
}

// judged reports whether the membership's attendance is judged now: it holds a seat,
// or held one until its term or its cohort ended (the final outcome stays).
func (m *memberView) judged() bool {
	return m.evaluated() && m.heldSeat()
}

// heldSeat reports whether the membership holds a seat, or held one when its term ended
// or its cohort completed.
func (m *memberView) heldSeat() bool {
	if m.seated {
		return true
	}
	ended := m.phase == learningv1alpha1.MembershipExpired || m.cohort.phase == learningv1alpha1.CohortCompleted
	return ended && m.phase != learningv1alpha1.MembershipWithdrawn && !m.seatedSince.IsZero()
}
