package calendar

import (
	"errors"
	"fmt"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Occurrence is one gathering of a schedule.
type Occurrence struct {
	Start, End time.Time // absolute instants (in the schedule's location)
}

// Expand returns, in order, at most n occurrences of the schedule whose Start is at or after
// `from` and before `until` (the cohort's end), never before `notBefore` (the cohort's start).
// The RRULE recurs from the first day of the cohort (notBefore's calendar date in the
// schedule's time zone) at s.StartTime local wall-clock time in s.TimeZone; each occurrence
// keeps that local wall-clock time across daylight-saving changes (e.g. 12:00 America/Chicago
// is 18:00Z in January and 17:00Z in July). End = Start + s.Duration. COUNT counts from the
// first occurrence of the whole schedule (not from `from`), and UNTIL (date or date-time
// form) is honoured. Errors name the field: an unknown time zone ("schedule.timeZone: unknown
// time zone \"Mars/Base\""), an RRULE the library rejects ("schedule.rrule: ..."), a bad
// startTime ("schedule.startTime: ...").
//
// Details a caller may rely on:
//   - The result is nil when no occurrence qualifies, including when n <= 0.
//   - UNTIL is inclusive. A date-time UNTIL (20261231T170000Z) is compared with each
//     occurrence's real instant; a date UNTIL (20261231) includes every occurrence on that
//     local date.
//   - A StartTime that does not exist on some day (it falls in a spring-forward gap) is
//     resolved as time.Date resolves it: the wall-clock time is read with the offset of one
//     side of the transition, so that one gathering starts earlier or later on the clock
//     (12:00 never falls in a gap in practice; 02:30 does). A StartTime that occurs twice
//     (fall-back) is likewise the instant time.Date picks.
//   - Only DAILY and coarser rules are accepted, and BYHOUR, BYMINUTE, BYSECOND and DTSTART
//     are rejected, because the time of day comes from s.StartTime and the first day from the
//     cohort.
//   - Every error means the schedule itself is invalid: retrying cannot help.
//   - A rule that matches no day at all (FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO) returns no
//     occurrences; the library discovers that by examining every day up to the cohort's
//     end or the rule's UNTIL, at most MaxCandidates of them (see Walk), in about 10 ms.
func Expand(s learningv1alpha1.Schedule, notBefore, until, from time.Time, n int) ([]Occurrence, error) {
	w, err := Walk(s, notBefore, until, from, n)
	return w.Occurrences, err
}

// MaxCandidates is how many candidate dates one expansion examines at most: the
// calendar days from the cohort's first day to the day the walk stops. The recurrence
// library examines every day of each period it generates (a MONTHLY rule builds each
// month's days and keeps those the BY parts select), so a rule that matches rarely or
// never (FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO) costs as many candidates as a DAILY one
// over the same span, however few occurrences it yields. The cap counts days rather
// than time, so the result never depends on the machine's speed. 200,000 days are
// about 547 years, almost three times the longest cohort admission accepts (2000 to
// 2199, 73,049 days, which a DAILY schedule fills with as many occurrences), so every
// schedule of an admitted cohort passes. Examining them (and the less than 400 years
// libraryShift adds) costs the library about 10 ms, whatever the rule.
const MaxCandidates = 200_000

// ErrTooManyCandidates is the error of a walk that examined MaxCandidates dates and
// still had to go on.
var ErrTooManyCandidates = fmt.Errorf("schedule.rrule: expanding it examines more than %d candidate dates (about %d years) between the cohort's start and end", MaxCandidates, MaxCandidates/365)

// Expansion is one walk of a schedule over a cohort.
type Expansion struct {
	// Occurrences are those Expand returns.
	Occurrences []Occurrence
	// Earlier counts the occurrences inside the cohort that start before from.
	Earlier int
}

// Walk expands the schedule like Expand and also counts the occurrences before from,
// so that one walk answers both "what comes next" and "does the schedule occur in the
// cohort at all". A walk that would examine more than MaxCandidates dates stops there
// with ErrTooManyCandidates (and no occurrences).
func Walk(s learningv1alpha1.Schedule, notBefore, until, from time.Time, n int) (Expansion, error) {
	p, err := compile(s)
	if err != nil {
		return Expansion{}, err
	}
	if n <= 0 || !until.After(from) || !until.After(notBefore) {
		return Expansion{}, nil
	}
	return p.expand(notBefore, until, from, n)
}

// plan is a validated schedule, ready to expand.
type plan struct {
	loc          *time.Location
	hour, minute int
	duration     time.Duration
	rule         floatingRule
}

// compile validates every field of the schedule that Expand reads.
func compile(s learningv1alpha1.Schedule) (*plan, error) {
	loc, err := loadLocation(s.TimeZone)
	if err != nil {
		return nil, err
	}
	hour, minute, err := parseStartTime(s.StartTime)
	if err != nil {
		return nil, err
	}
	if d := s.Duration.Duration; d <= 0 {
		return nil, fmt.Errorf("schedule.duration: must be positive, got %s", d)
	}
	rule, err := parseRule(string(s.RRule), loc, hour, minute)
	if err != nil {
		return nil, err
	}
	return &plan{loc: loc, hour: hour, minute: minute, duration: s.Duration.Duration, rule: rule}, nil
}

// expand walks the schedule from its first occurrence, because COUNT and INTERVAL are
// anchored there, and keeps the occurrences that fall in [max(from, notBefore), until).
//
// The rule runs in "floating" wall-clock time: its DTSTART is a UTC time whose fields
// equal the local date and StartTime, and every time it generates is mapped to a real
// instant by localInstant. github.com/teambition/rrule-go has a known upstream issue with
// non-UTC locations around daylight-saving transitions; in UTC every day has 24 hours and
// every wall-clock time exists, so the library only does calendar arithmetic (which
// weekday, which day of the month) and cannot shift a gathering by the DST offset. The one
// place a wall-clock time becomes an instant is localInstant, and UNTIL is compared there
// against real instants rather than inside the library.
func (p *plan) expand(notBefore, until, from time.Time, n int) (Expansion, error) {
	first, last := notBefore.In(p.loc), until.In(p.loc)
	firstDay := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
	bound := time.Date(last.Year(), last.Month(), last.Day()+1, 23, 59, 59, 0, time.UTC)
	if p.rule.hasUntil {
		// The rule's own UNTIL ends the walk too; a day's margin covers the offset.
		u := p.rule.last.In(p.loc)
		bound = earliest(bound, time.Date(u.Year(), u.Month(), u.Day()+1, 23, 59, 59, 0, time.UTC))
	}
	capped := false
	if limit := firstDay.AddDate(0, 0, MaxCandidates); limit.Before(bound) {
		bound, capped = limit, true
	}
	shift := libraryShift(bound)
	dtstart := firstDay.Add(time.Duration(p.hour)*time.Hour + time.Duration(p.minute)*time.Minute)
	r := p.rule.at(dtstart.AddDate(shift, 0, 0), bound.AddDate(shift, 0, 0))
	if r == nil {
		return Expansion{}, nil
	}
	next := r.Iterator()

	var out Expansion
	counted := 0
	for wall, ok := next(); ok; wall, ok = next() {
		start := localInstant(wall.AddDate(-shift, 0, 0), p.loc)
		if start.Before(notBefore) {
			continue // the first day's StartTime can precede the cohort's start instant
		}
		// Occurrences are one per local day at a fixed wall-clock time, so their instants
		// strictly increase: the first one past a bound ends the walk.
		if !start.Before(until) || p.rule.pastUntil(start) {
			return out, nil
		}
		counted++
		if p.rule.count > 0 && counted > p.rule.count {
			return out, nil
		}
		if start.Before(from) {
			out.Earlier++
			continue
		}
		out.Occurrences = append(out.Occurrences, Occurrence{Start: start, End: start.Add(p.duration)})
		if len(out.Occurrences) == n {
			return out, nil
		}
	}
	if capped {
		// The library stopped at the cap, not at the cohort's end or the rule's UNTIL.
		return Expansion{}, ErrTooManyCandidates
	}
	return out, nil
}

// gregorianCycle is the period of the Gregorian calendar in years: 146,097 days, a
// whole number of weeks, so every date falls on the same weekday, in a year of the
// same length, 400 years later.
const gregorianCycle = 400

// lastLibraryYear is the last year the recurrence library generates (rrule.MAXYEAR).
const lastLibraryYear = 9999

// libraryShift is how many years (a multiple of gregorianCycle) the walk is moved
// forward for the library, so that the walk's bound lies in the last cycle before the
// library's end of time. The library checks its UNTIL only against the occurrences it
// finds: a rule that matches nothing more keeps it iterating, period after period, to
// the year 9999. Moved this way, it stops less than one cycle after the bound whatever
// the rule, and every date keeps its weekday and its place in the month and the year,
// so the occurrences, moved back, are the same. A walk from the year 0 (on which the
// library indexes out of range) is moved out of its reach the same way.
func libraryShift(bound time.Time) int {
	return max(0, (lastLibraryYear-bound.Year())/gregorianCycle) * gregorianCycle
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// localInstant maps a floating wall-clock time (a UTC time whose fields are local) to the
// instant at which that wall-clock time occurs in loc. Gaps and overlaps are resolved by
// time.Date; see Expand.
func localInstant(wall time.Time, loc *time.Location) time.Time {
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, loc)
}

// loadLocation resolves schedule.timeZone. "Local" is refused: it would make the schedule
// depend on the time zone of the machine running the operator.
func loadLocation(tz learningv1alpha1.TimeZone) (*time.Location, error) {
	name := string(tz)
	if name == "" {
		return nil, errors.New("schedule.timeZone: must be set to an IANA time zone name such as America/Chicago")
	}
	if name == "Local" {
		return nil, fmt.Errorf("schedule.timeZone: unknown time zone %q", name)
	}
	loc, err := LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("schedule.timeZone: unknown time zone %q", name)
	}
	return loc, nil
}

// parseStartTime reads schedule.startTime, strictly HH:MM on a 24-hour clock.
func parseStartTime(v string) (hour, minute int, err error) {
	bad := fmt.Errorf("schedule.startTime: %q is not a time of day in HH:MM form (00:00 to 23:59)", v)
	if len(v) != 5 || v[2] != ':' {
		return 0, 0, bad
	}
	for _, i := range []int{0, 1, 3, 4} {
		if v[i] < '0' || v[i] > '9' {
			return 0, 0, bad
		}
	}
	hour = int(v[0]-'0')*10 + int(v[1]-'0')
	minute = int(v[3]-'0')*10 + int(v[4]-'0')
	if hour > 23 || minute > 59 {
		return 0, 0, bad
	}
	return hour, minute, nil
}
