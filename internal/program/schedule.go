package program

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
)

// maxProjected bounds how many future occurrences of a schedule are projected: a daily
// schedule over ten years stays inside it.
const maxProjected = 5000

// Schedule is a cohort's schedule expanded once for one pass of its unit. Every
// consumer of the pass reads it: the gatherings step (PlanGatherings), attendance's
// projection of the gatherings still to come, and the cohort's next event.
type Schedule struct {
	// Occurrences are the schedule's occurrences from one duration before the pass's
	// clock (so one in progress is included) to the cohort's end, at most maxProjected.
	Occurrences []calendar.Occurrence
	// Earlier counts the occurrences inside the cohort before those.
	Earlier int
	// Loc is the schedule's time zone.
	Loc *time.Location
	// Err says why the schedule cannot be expanded (the cohort reports
	// InvalidSchedule); nil when it expanded.
	Err error
	// Frozen says the expansion did not finish (ErrTooManyCandidates, or a panic):
	// nothing is known about the gatherings still to come, so the cohort's seats freeze.
	Frozen bool
	// Failure is the panic the expansion met; nil when none.
	Failure *StepFailure
}

// ExpandSchedules expands the schedule of every cohort that has one, once, at now. A
// cohort whose expansion panics gets a Schedule with the failure; the others are
// unaffected.
func ExpandSchedules(cohorts []*learningv1alpha1.Cohort, now time.Time) map[string]*Schedule {
	out := make(map[string]*Schedule, len(cohorts))
	for _, c := range cohorts {
		if c.Spec.Schedule != nil {
			out[c.Name] = ExpandSchedule(c, now)
		}
	}
	return out
}

// ExpandSchedule expands a cohort's schedule at now (see Schedule); nil when the cohort
// has none. A panic of the recurrence library (it indexes out of range on some dates
// of year 0) is recovered and reported as the cohort's failure.
func ExpandSchedule(c *learningv1alpha1.Cohort, now time.Time) *Schedule {
	s := c.Spec.Schedule
	if s == nil {
		return nil
	}
	var sched *Schedule
	if failure := Guard(c.Name, StepSchedule, func() { sched = expandSchedule(c, now) }); failure != nil {
		return &Schedule{Err: failure.Err, Frozen: true, Failure: failure}
	}
	return sched
}

func expandSchedule(c *learningv1alpha1.Cohort, now time.Time) *Schedule {
	s := c.Spec.Schedule
	loc, term, _, err := cohortWindow(c)
	if err != nil || loc == nil {
		// The cohort's own dates do not resolve: it is Stalled for them already.
		return &Schedule{Err: err}
	}
	walk, err := walkSchedule(*s, term.Start, term.End, now.Add(-s.Duration.Duration), maxProjected)
	switch {
	case errors.Is(err, calendar.ErrTooManyCandidates):
		return &Schedule{Err: fmt.Errorf("spec.%w", err), Frozen: true}
	case err != nil:
		return &Schedule{Err: fmt.Errorf("spec.%w", err)}
	}
	tz, _ := calendar.LoadLocation(string(s.TimeZone)) // Walk has loaded it
	return &Schedule{Occurrences: walk.Occurrences, Earlier: walk.Earlier, Loc: tz}
}

// walkSchedule is calendar.Walk; tests count the expansions through it.
var walkSchedule = calendar.Walk

// The steps of a cohort's pass, as failures name them.
const (
	StepSchedule     = "expanding spec.schedule"
	StepEvaluation   = "evaluating the cohort"
	StepPublication  = "deciding the cohort's access and documents"
	StepGatherings   = "generating the cohort's gatherings"
	StepProvisioning = "provisioning the cohort's services"
)

// StepFailure is a step of one cohort's pass that failed. It is reported on that cohort
// alone; its siblings are still evaluated and provisioned.
type StepFailure struct {
	// Cohort names the cohort.
	Cohort string
	// Step is one of the Step constants.
	Step string
	// Err is the error, or the panic's value.
	Err error
	// Panicked says the step panicked: a bug, which no retry fixes. Stack is the
	// goroutine's stack at the panic, for the log.
	Panicked bool
	Stack    string
}

// Message is the failure as the cohort's conditions report it.
func (f *StepFailure) Message() string {
	if f.Panicked {
		return fmt.Sprintf("%s failed: %v; this is a bug in the operator: please report it with the operator's log, which holds the stack", f.Step, f.Err)
	}
	return fmt.Sprintf("%s failed: %v; retrying", f.Step, f.Err)
}

// Guard runs do and turns a panic into a StepFailure of the cohort; nil when do
// returned normally.
func Guard(cohort, step string, do func()) (failure *StepFailure) {
	defer func() {
		if r := recover(); r != nil {
			failure = &StepFailure{Cohort: cohort, Step: step, Err: fmt.Errorf("panic: %v", r), Panicked: true, Stack: string(debug.Stack())}
		}
	}()
	do()
	return nil
}

// guardedPublication is publication, which when it panics keeps the cohort's access
// and documents as they were (a frozen publication) and records the failure.
func (u *unit) guardedPublication(cv *cohortView, out *Outcome) Publication {
	var p Publication
	if f := Guard(cv.obj.Name, StepPublication, func() { p = u.publication(cv, out) }); f != nil {
		cv.failures = append(cv.failures, f)
		return Publication{Frozen: true}
	}
	return p
}
