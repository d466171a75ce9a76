package rules

import (
	"fmt"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// EventRecord is one LearningEvent as attendance sees it.
type EventRecord struct {
	Name       string
	Start, End time.Time
	Counts     bool // countsTowardAttendance resolved
	Cancelled  bool
	Status     map[string]learningv1alpha1.AttendanceStatus // Membership name -> recorded status
}

// AttendanceState is the verdict of MemberAttendance.
type AttendanceState string

// Attendance states, each mapping to a status and reason of the AttendanceMet condition.
const (
	// AttendanceMet means the member attends at least the required share of events.
	AttendanceMet AttendanceState = "Met"
	// AttendanceNotEnoughEvents means too few events have ended to judge attendance yet.
	AttendanceNotEnoughEvents AttendanceState = "NotEnoughEvents"
	// AttendanceBelowThreshold means the member is below the requirement but can still
	// reach it at the events left in the term.
	AttendanceBelowThreshold AttendanceState = "BelowThreshold"
	// AttendanceCannotReach means even perfect attendance at the events left in the term
	// cannot reach the requirement.
	AttendanceCannotReach AttendanceState = "CannotReachThreshold"
)

// AttendanceResult is one member's attendance over the events of their term.
type AttendanceResult struct {
	EligibleEvents, Present, Late, Excused, Absent int // Absent includes ended events with nothing recorded
	// Percent is floor(100 * (Present + Late*LateWeightPercent/100) / (EligibleEvents -
	// Excused)), and nil when State is NotEnoughEvents (too few events, or all excused).
	Percent   *int
	Remaining int // events that count, not cancelled, not ended at now, starting inside the term, projected ones included
	State     AttendanceState
	Message   string // e.g. "75% of 4 events, requires 80%"
}

// AttendanceInput is everything MemberAttendance judges one member by.
type AttendanceInput struct {
	Policy AttendancePolicy
	Member string // Membership name, the key of EventRecord.Status
	Term   Term
	// SeatedSince is when the member got its seat. An ended event that started before
	// it counts only when the member has an entry on it: recorded history is honoured,
	// but a gathering held while the member had no seat is not held against them.
	SeatedSince time.Time
	Events      []EventRecord
	// Projected are the starts of the schedule's future occurrences that exist as no
	// LearningEvent yet; they count as remaining events.
	Projected []time.Time
	Now       time.Time
}

// MemberAttendance judges the attendance of one membership that holds or held a seat.
// Its eligible events are those that count, are not cancelled, have ended (End <= Now)
// and start inside the term (see SeatedSince for events before the seat). With fewer
// eligible events than MinimumEvents, or when every one was excused, the state is
// NotEnoughEvents; with Percent >=
// RequiredPercent it is Met; otherwise it is CannotReachThreshold when even perfect
// attendance at the remaining events of the term (declared ones that have not ended and
// projected occurrences) cannot reach RequiredPercent, else BelowThreshold. The
// decision uses exact integer arithmetic, so 4 of 5 is 80% and meets 80%.
func MemberAttendance(in AttendanceInput) AttendanceResult {
	var r AttendanceResult
	p, term, now := in.Policy, in.Term, in.Now
	for _, e := range in.Events {
		if !e.Counts || e.Cancelled || !term.contains(e.Start) {
			continue
		}
		if e.End.After(now) {
			r.Remaining++
			continue
		}
		status, recorded := e.Status[in.Member]
		if !recorded && e.Start.Before(in.SeatedSince) {
			continue
		}
		r.EligibleEvents++
		switch status {
		case learningv1alpha1.AttendancePresent:
			r.Present++
		case learningv1alpha1.AttendanceLate:
			r.Late++
		case learningv1alpha1.AttendanceExcused:
			r.Excused++
		default:
			// Nothing recorded after the event ended counts as an absence, so that
			// missing records cannot inflate the rate.
			r.Absent++
		}
	}
	for _, start := range in.Projected {
		if term.contains(start) && start.After(now) {
			r.Remaining++
		}
	}

	if r.EligibleEvents < p.MinimumEvents {
		r.State = AttendanceNotEnoughEvents
		r.Message = fmt.Sprintf("%d of %d events needed before attendance is judged",
			r.EligibleEvents, p.MinimumEvents)
		return r
	}

	credit, denominator := r.credit(p.LateWeightPercent)
	if denominator == 0 {
		r.State = AttendanceNotEnoughEvents
		r.Message = fmt.Sprintf("every one of the %s was excused; nothing to judge yet", plural(r.EligibleEvents, "event"))
		return r
	}
	percent := percentOf(credit, denominator)
	r.Percent = &percent
	if percent >= p.RequiredPercent {
		r.State = AttendanceMet
		r.Message = fmt.Sprintf("%d%% of %s, requires %d%%", percent, plural(r.EligibleEvents, "event"), p.RequiredPercent)
		return r
	}
	best := percentOf(credit+100*r.Remaining, denominator+r.Remaining)
	if best < p.RequiredPercent {
		r.State = AttendanceCannotReach
		r.Message = fmt.Sprintf("at most %d%% reachable with %s left, requires %d%%",
			best, plural(r.Remaining, "event"), p.RequiredPercent)
		return r
	}
	r.State = AttendanceBelowThreshold
	r.Message = fmt.Sprintf("%d%% of %s, requires %d%%", percent, plural(r.EligibleEvents, "event"), p.RequiredPercent)
	return r
}

// credit returns the attended events in hundredths of an event (a Late one weighs
// lateWeightPercent hundredths) and the number of events that judge them (Excused ones
// leave the denominator). Hundredths keep every step in integers.
func (r AttendanceResult) credit(lateWeightPercent int) (credit, denominator int) {
	w := min(max(lateWeightPercent, 0), 100)
	return 100*r.Present + w*r.Late, r.EligibleEvents - r.Excused
}

// percentOf returns floor(credit / denominator), credit being in hundredths of an event,
// which is the attendance rate in whole percent; 100 when nothing is judged.
func percentOf(credit, denominator int) int {
	if denominator <= 0 {
		return 100
	}
	return credit / denominator
}

// CohortAttendancePercent returns the attendance rate of a whole cohort: the floor of the
// total credit over the total denominator of the judged results (those with a Percent),
// weighing Late arrivals by lateWeightPercent, the cohort's AttendancePolicy value the
// results were computed with. Pooling counts instead of averaging percents weighs each
// member by the events they were judged on. nil when no result is judged.
func CohortAttendancePercent(results []AttendanceResult, lateWeightPercent int) *int {
	var credit, denominator int
	judged := false
	for _, r := range results {
		if r.Percent == nil {
			continue
		}
		judged = true
		c, d := r.credit(lateWeightPercent)
		credit += c
		denominator += d
	}
	if !judged {
		return nil
	}
	percent := percentOf(credit, denominator)
	return &percent
}
