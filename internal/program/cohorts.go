package program

import (
	"fmt"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// cohortView is one Cohort as the evaluation sees it.
type cohortView struct {
	obj *learningv1alpha1.Cohort
	loc *time.Location

	// err is a policy or date problem, or a schedule that could not be expanded to its
	// end: the cohort is Stalled and its seats are frozen. frozenReason is the reason
	// reported with it (InvalidPolicy when empty).
	err          error
	frozenReason string
	// failures are the steps of this cohort's pass that failed (see StepFailure).
	failures []*StepFailure
	policy   rules.Policy
	term     rules.Term
	lastDay  learningv1alpha1.Date
	phase    learningv1alpha1.CohortPhase

	// schedule is the cohort's schedule expanded for this pass; nil without one.
	schedule *Schedule
	// skipped are the occurrences the schedule skips: their names hold events the
	// operator did not generate (GatheringPlan.Skipped).
	skipped []string
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
	plans     []*planView  // its memberships' and teams' ActionPlans
	roleSeats []rules.RoleSeats
}

// valid reports whether seats can be evaluated: the policy and dates resolve.
func (cv *cohortView) valid() bool { return cv.err == nil }

// resolveCohorts resolves every cohort's policy, term, phase and schedule. A cohort
// whose resolution panics is frozen and reports the failure; the others go on.
func (u *unit) resolveCohorts() {
	for _, cv := range u.cohorts {
		if f := Guard(cv.obj.Name, StepEvaluation, func() { u.resolveCohort(cv) }); f != nil {
			cv.freeze(f.Err, learningv1alpha1.InternalErrorReason)
			cv.failures = append(cv.failures, f)
		}
	}
}

// freeze stops the evaluation of the cohort's seats for err, reported with reason.
func (cv *cohortView) freeze(err error, reason string) {
	if cv.loc == nil {
		cv.loc = time.UTC
	}
	cv.err, cv.frozenReason = err, reason
}

// reason is the reason the cohort's frozen seats are reported with.
func (cv *cohortView) reason() string {
	if cv.frozenReason == "" {
		return learningv1alpha1.InvalidPolicyReason
	}
	return cv.frozenReason
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

// projectSchedule reads the schedule's expansion (Snapshot.Schedules, or expanded here
// when the snapshot has none): the occurrences from now to the cohort's end without a
// LearningEvent yet count as remaining gatherings for attendance. A schedule that
// could not be expanded to its end freezes the cohort's seats.
func (u *unit) projectSchedule(cv *cohortView) {
	if cv.obj.Spec.Schedule == nil {
		return
	}
	if cv.schedule == nil {
		cv.schedule = ExpandSchedule(cv.obj, u.now)
	}
	sched := cv.schedule
	switch {
	case sched.Failure != nil:
		cv.failures = append(cv.failures, sched.Failure)
		cv.freeze(sched.Err, learningv1alpha1.InternalErrorReason)
		return
	case sched.Frozen:
		cv.freeze(sched.Err, learningv1alpha1.InvalidScheduleReason)
		return
	case sched.Err != nil:
		cv.scheduleErr = sched.Err
		return
	}
	occurrences := sched.Occurrences
	if len(occurrences) == 0 && sched.Earlier == 0 && cv.phase != learningv1alpha1.CohortCompleted {
		cv.scheduleErr = fmt.Errorf("spec.schedule.rrule: %q has no occurrence between the cohort's start and end", cv.obj.Spec.Schedule.RRule)
		return
	}
	if len(occurrences) == 0 {
		return
	}
	// The window of generated gatherings moves when the first one ends.
	u.observeBoundary(occurrences[0].End)
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
		if !exists[calendar.EventName(cv.obj.Name, occ.Start, sched.Loc)] {
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
		l, err := calendar.LoadLocation(string(tz))
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
