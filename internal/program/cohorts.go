package program

import (
	"fmt"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// maxProjected bounds how many future occurrences of a schedule are projected: a daily
// schedule over ten years stays inside it.
const maxProjected = 5000

// cohortView is one Cohort as the evaluation sees it.
type cohortView struct {
	obj *learningv1alpha1.Cohort
	loc *time.Location

	// err is a policy or date problem: the cohort is Stalled and its seats are frozen.
	err     error
	policy  rules.Policy
	term    rules.Term
	lastDay learningv1alpha1.Date
	phase   learningv1alpha1.CohortPhase

	// scheduleErr is a schedule that cannot be expanded; the cohort is Stalled, but its
	// seats and attendance are still evaluated.
	scheduleErr error
	// projected are the starts of the schedule's future occurrences inside the cohort
	// that exist as no LearningEvent yet.
	projected []time.Time
	// nextOccurrence is the start of the schedule's next occurrence, zero when none.
	nextOccurrence time.Time

	members []*memberView // by name
	// counts are the memberships by phase, once its status is built.
	counts    *learningv1alpha1.MemberCounts
	events    []*eventView // its own and its community's, by name
	roleSeats []rules.RoleSeats
}

// valid reports whether seats can be evaluated: the policy and dates resolve.
func (cv *cohortView) valid() bool { return cv.err == nil }

// resolveCohorts resolves every cohort's policy, term, phase and schedule.
func (u *unit) resolveCohorts() {
	for _, cv := range u.cohorts {
		u.resolveCohort(cv)
	}
}

func (u *unit) resolveCohort(cv *cohortView) {
	spec := cv.obj.Spec
	loc, term, lastDay, windowErr := cohortWindow(cv.obj)
	if loc == nil {
		cv.loc, cv.err = time.UTC, windowErr
		return
	}
	cv.loc = loc
	var communityPolicy *learningv1alpha1.ProgramPolicy
	var eligible []learningv1alpha1.OrganizationName
	if u.community != nil {
		communityPolicy = &u.community.Spec.Policy
		eligible = u.community.Spec.EligibleOrganizations
	}
	cv.policy, cv.err = rules.EffectivePolicy(communityPolicy, eligible, spec.Policy)
	if cv.err != nil {
		if ref := spec.CommunityRef; ref != nil && u.community == nil {
			cv.err = fmt.Errorf("community %s not found and %w", ref.Name, cv.err)
		}
		return
	}
	if windowErr != nil {
		cv.err = windowErr
		return
	}
	cv.term, cv.lastDay = term, lastDay
	var next time.Time
	cv.phase, next = rules.CohortPhase(cv.term, u.now)
	u.observeBoundary(next)
	u.projectSchedule(cv)
}

// projectSchedule expands the schedule from now to the cohort's end: the occurrences
// without a LearningEvent yet count as remaining gatherings for attendance.
func (u *unit) projectSchedule(cv *cohortView) {
	s := cv.obj.Spec.Schedule
	if s == nil {
		return
	}
	// An occurrence in progress is still upcoming: start one duration back.
	occurrences, err := calendar.Expand(*s, cv.term.Start, cv.term.End, u.now.Add(-s.Duration.Duration), maxProjected)
	if err != nil {
		cv.scheduleErr = err
		return
	}
	if len(occurrences) == 0 && cv.phase != learningv1alpha1.CohortCompleted {
		if any, err := calendar.Expand(*s, cv.term.Start, cv.term.End, cv.term.Start, 1); err == nil && len(any) == 0 {
			cv.scheduleErr = fmt.Errorf("spec.schedule.rrule: %q has no occurrence between the cohort's start and end", s.RRule)
			return
		}
	}
	if len(occurrences) == 0 {
		return
	}
	// The window of generated gatherings moves when the first one ends.
	u.observeBoundary(occurrences[0].End)
	loc, _ := time.LoadLocation(string(s.TimeZone)) // Expand has loaded it
	exists := make(map[string]bool, len(cv.events))
	for _, e := range cv.events {
		exists[e.obj.Name] = true
	}
	for _, occ := range occurrences {
		if !occ.Start.After(u.now) {
			continue
		}
		if cv.nextOccurrence.IsZero() {
			cv.nextOccurrence = occ.Start
			u.observeBoundary(occ.Start)
		}
		if !exists[calendar.EventName(cv.obj.Name, occ.Start, loc)] {
			cv.projected = append(cv.projected, occ.Start)
		}
	}
}

// enrollmentCloses returns the last day of the cohort's enrollment window, or "".
func (cv *cohortView) enrollmentCloses() learningv1alpha1.Date {
	if e := cv.obj.Spec.Enrollment; e != nil && e.Closes != nil {
		return *e.Closes
	}
	return ""
}

// cohortWindow resolves a cohort's time zone and dates: the location its days are
// counted in (nil when spec.timeZone is unknown), its window and its last day.
func cohortWindow(c *learningv1alpha1.Cohort) (*time.Location, rules.Term, learningv1alpha1.Date, error) {
	loc := time.UTC
	if tz := c.Spec.TimeZone; tz != "" {
		l, err := time.LoadLocation(string(tz))
		if err != nil {
			return nil, rules.Term{}, "", fmt.Errorf("spec.timeZone: unknown time zone %q", tz)
		}
		loc = l
	}
	term, lastDay, err := rules.CohortTerm(c.Spec.StartDate, c.Spec.EndDate, c.Spec.DurationMonths, loc)
	if err != nil {
		return loc, rules.Term{}, "", fmt.Errorf("spec: %w", err)
	}
	return loc, term, lastDay, nil
}
