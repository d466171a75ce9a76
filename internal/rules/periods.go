package rules

import (
	"fmt"
	"time"
)

// Cadence is how often a program reports: every month or every quarter of the calendar
// year, in the program's time zone.
type Cadence string

const (
	// Monthly periods run from the first day of a month to the first of the next.
	Monthly Cadence = "Monthly"
	// Quarterly periods run from the first day of January, April, July or October to
	// the first day of the next quarter.
	Quarterly Cadence = "Quarterly"
)

// Period is one reporting period: from Start (inclusive) to End (exclusive), both at
// midnight in the program's time zone, so a period holds whole local days whatever
// daylight saving time does to the number of hours in it.
type Period struct {
	Cadence    Cadence
	Start, End time.Time
}

// PeriodAt is the period of cadence that holds the instant t, in loc. It errs on an
// unknown cadence.
func PeriodAt(cadence Cadence, t time.Time, loc *time.Location) (Period, error) {
	local := t.In(loc)
	var months time.Month
	switch cadence {
	case Monthly:
		months = 1
	case Quarterly:
		months = 3
	default:
		return Period{}, fmt.Errorf("unknown reporting cadence %q: use Monthly or Quarterly", cadence)
	}
	first := (local.Month()-1)/months*months + 1
	return Period{Cadence: cadence, Start: firstInstant(local.Year(), first, loc), End: firstInstant(local.Year(), first+months, loc)}, nil
}

// firstInstant is the first instant of the first day of a month (month 13 is the next
// year's January) in loc: its midnight, or, where clocks spring forward at midnight
// (Paraguay on October 1, 2017), the transition, when the day begins at 01:00.
func firstInstant(year int, month time.Month, loc *time.Location) time.Time {
	t := time.Date(year, month, 1, 0, 0, 0, 0, loc)
	if t.Day() == 1 {
		return t
	}
	// The midnight does not exist, and time.Date gave an instant of the day before:
	// the day begins at the first instant whose local date is the first.
	before, after := t, t.Add(4*time.Hour)
	for after.Sub(before) > time.Nanosecond {
		mid := before.Add(after.Sub(before) / 2)
		if mid.Day() == 1 {
			after = mid
		} else {
			before = mid
		}
	}
	return after
}

// Next is the period that starts when p ends.
func (p Period) Next() Period {
	p2, _ := PeriodAt(p.Cadence, p.End, p.Start.Location()) // p's cadence is known
	return p2
}

// Previous is the period that ends when p starts.
func (p Period) Previous() Period {
	last := p.Start.AddDate(0, 0, -1)                      // a local day before the start: inside the previous period
	p2, _ := PeriodAt(p.Cadence, last, p.Start.Location()) // p's cadence is known
	return p2
}

// Contains reports whether the instant t falls in the period.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// Name is the period as report names and labels carry it: "2026-11" for a month,
// "2026-q4" for a quarter (lower case, so that it fits an object name).
func (p Period) Name() string {
	if p.Cadence == Quarterly {
		return fmt.Sprintf("%04d-q%d", p.Start.Year(), (int(p.Start.Month())-1)/3+1)
	}
	return fmt.Sprintf("%04d-%02d", p.Start.Year(), int(p.Start.Month()))
}

// FreezesAt is when a period's report freezes: graceDays local days after the period
// closes, at midnight, so that attendance recorded late still counts.
func (p Period) FreezesAt(graceDays int) time.Time {
	return p.End.AddDate(0, 0, graceDays)
}

// ParsePeriod reads a period name (Name) back, in loc. It errs on anything Name does
// not produce.
func ParsePeriod(name string, loc *time.Location) (Period, error) {
	var year, n int
	if _, err := fmt.Sscanf(name, "%04d-q%d", &year, &n); err == nil && len(name) == 7 && n >= 1 && n <= 4 {
		return PeriodAt(Quarterly, time.Date(year, time.Month(3*n-2), 1, 12, 0, 0, 0, loc), loc)
	}
	if _, err := fmt.Sscanf(name, "%04d-%02d", &year, &n); err == nil && len(name) == 7 && n >= 1 && n <= 12 {
		return PeriodAt(Monthly, time.Date(year, time.Month(n), 1, 12, 0, 0, 0, loc), loc)
	}
	return Period{}, fmt.Errorf("period %q: want YYYY-MM (a month) or YYYY-qN (a quarter)", name)
}

// MinPopulation is the fewest people a reported figure may describe: a figure over
// fewer (the attendance rate of a cohort of three, say) would tell about a person, so
// it is suppressed.
const MinPopulation = 5

// Direction says which side of its target a KPI should be on.
type Direction string

const (
	// AtLeast KPIs meet their target at or above it (attendance rate, seats filled).
	AtLeast Direction = "AtLeast"
	// AtMost KPIs meet their target at or below it (waitlist length, withdrawals,
	// approval time).
	AtMost Direction = "AtMost"
)

// Verdict is a KPI's standing in a period.
type Verdict string

const (
	// Met means the figure is on the target's side (Direction), the target included.
	Met Verdict = "Met"
	// Below means the figure misses the target.
	Below Verdict = "Below"
	// NoData means nothing happened in the period that the figure measures (no gathering
	// ended, no external event was approved).
	NoData Verdict = "NoData"
	// Suppressed means the figure describes fewer than MinPopulation people and is not
	// reported.
	Suppressed Verdict = "Suppressed"
)

// Measure is one KPI's figure in a period.
type Measure struct {
	// Value is the figure: a count, a percentage (0-100) or hours.
	Value int64
	// Population is how many people the figure describes; 0 when it counts things
	// (gatherings held, events approved), which are never suppressed.
	Population int
	// Known is false when the period holds nothing to measure.
	Known bool
}

// Judgement is what a report says of one KPI.
type Judgement struct {
	Verdict Verdict
	// Value is the figure, nil unless the verdict is Met or Below.
	Value *int64
	// Change is Value less the previous period's reported value, nil when either was
	// not reported.
	Change *int64
}

// reportable is the figure as a report may show it, nil when it may not.
func (m Measure) reportable() *int64 {
	if !m.Known || (m.Population > 0 && m.Population < MinPopulation) {
		return nil
	}
	v := m.Value
	return &v
}

// JudgeKPI judges a figure against its target and compares it with the previous
// period's figure (nil when there was none).
func JudgeKPI(m Measure, target int64, direction Direction, previous *Measure) Judgement {
	v := m.reportable()
	switch {
	case !m.Known:
		return Judgement{Verdict: NoData}
	case v == nil:
		return Judgement{Verdict: Suppressed}
	}
	j := Judgement{Verdict: Below, Value: v}
	if (direction == AtMost && *v <= target) || (direction != AtMost && *v >= target) {
		j.Verdict = Met
	}
	if previous != nil {
		if before := previous.reportable(); before != nil {
			change := *v - *before
			j.Change = &change
		}
	}
	return j
}

// KPI names a figure a program reports per period. Flow figures count what happened in
// the period (attendance at the gatherings that ended in it, gatherings held, external
// events approved); state figures are the unit as it stands when the report is
// computed (seats, waitlist, organizations, plans).
type KPI string

const (
	// AttendanceRate is the percentage of the expected attendance at the counting
	// events that ended in the period (Late weighted by the policy, Excused left out).
	AttendanceRate KPI = "AttendanceRate"
	// SeatsFilled counts the seated memberships (of one role, with a qualifier).
	SeatsFilled KPI = "SeatsFilled"
	// WaitlistLength counts the memberships waiting for a seat.
	WaitlistLength KPI = "WaitlistLength"
	// Organizations counts the organizations with a seated member.
	Organizations KPI = "Organizations"
	// GatheringsHeld counts the events that ended in the period, not cancelled (of
	// one type, with a qualifier).
	GatheringsHeld KPI = "GatheringsHeld"
	// ExternalEventsApproved counts the External events approved in the period.
	ExternalEventsApproved KPI = "ExternalEventsApproved"
	// ApprovalHours is the median time from an External event's creation to its
	// approval, in whole hours, over those approved in the period.
	ApprovalHours KPI = "ApprovalHours"
	// PlansCurrent is the percentage of ActionPlans that are current.
	PlansCurrent KPI = "PlansCurrent"
	// ActionsDone is the percentage of the plans' actions that are Done.
	ActionsDone KPI = "ActionsDone"
	// Withdrawals counts the memberships that held a seat and were withdrawn in the
	// period.
	Withdrawals KPI = "Withdrawals"
)

// State reports whether a KPI measures the program as it stands (seats, waitlist,
// organizations, plans) rather than what happened in the period. A state figure of
// a period is the one computed before the period closed: the records cannot tell it
// afterwards.
func (k KPI) State() bool {
	switch k {
	case SeatsFilled, WaitlistLength, Organizations, PlansCurrent, ActionsDone:
		return true
	}
	return false
}

// Unit is what a KPI's figure counts in: "%" for a percentage, "hours", or "" for a
// count.
func (k KPI) Unit() string {
	switch k {
	case AttendanceRate, PlansCurrent, ActionsDone:
		return "%"
	case ApprovalHours:
		return "hours"
	}
	return ""
}

// FigureKey names one figure: a KPI and its qualifier (a role for SeatsFilled, an
// event type for GatheringsHeld; empty for the whole unit).
type FigureKey struct {
	KPI       KPI
	Qualifier string
}
