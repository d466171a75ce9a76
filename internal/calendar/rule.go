package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// floatingRule is a parsed schedule.rrule. The library expands it in floating time
// (see plan.expand); COUNT and UNTIL are taken out of the library's hands and applied to
// real instants by plan.expand, so that they mean the same thing in every time zone.
type floatingRule struct {
	// opts are the validated options without COUNT and UNTIL.
	opts rrule.ROption
	// count is the rule's COUNT, 0 when unbounded.
	count int
	// last is the latest instant an occurrence may start at (UNTIL, inclusive); it
	// applies only when hasUntil is set.
	last     time.Time
	hasUntil bool
}

// at returns the library rule recurring from dtstart to bound, both floating
// wall-clock times. The library checks the bound only against occurrences it finds;
// what keeps it from searching to the year 9999 for a rule that matches nothing more
// is the shift plan.expand applies (libraryShift).
func (f floatingRule) at(dtstart, bound time.Time) *rrule.RRule {
	opts := f.opts
	opts.Dtstart, opts.Until = dtstart, bound
	r, err := rrule.NewRRule(opts)
	if err != nil {
		// parseRule validated the same options with another DTSTART; a rejection here
		// can only mean an empty window, which has no occurrences.
		return nil
	}
	return r
}

// pastUntil reports whether an occurrence starting at start is after the rule's UNTIL.
func (f floatingRule) pastUntil(start time.Time) bool {
	return f.hasUntil && start.After(f.last)
}

// parseRule validates schedule.rrule. Sub-daily frequencies and the BYHOUR, BYMINUTE and
// BYSECOND parts are refused: the time of day is schedule.startTime, and a rule that
// moves it would break the one-gathering-per-day mapping from floating to real time.
func parseRule(raw string, loc *time.Location, hour, minute int) (floatingRule, error) {
	if strings.TrimSpace(raw) == "" {
		return floatingRule{}, errors.New("schedule.rrule: must be set, for example FREQ=MONTHLY;BYDAY=2TU")
	}
	if strings.ContainsAny(raw, "\r\n") {
		return floatingRule{}, errors.New("schedule.rrule: must be a single RRULE value without DTSTART or line breaks")
	}
	opts, err := rrule.StrToROption(raw)
	if err != nil {
		return floatingRule{}, fmt.Errorf("schedule.rrule: %w", err)
	}
	if err := checkSupported(raw, opts); err != nil {
		return floatingRule{}, err
	}
	f := floatingRule{count: opts.Count}
	f.last, f.hasUntil = untilInstant(raw, opts.Until, loc)
	opts.Count, opts.Until = 0, time.Time{}
	// Any fixed DTSTART validates the rule; at() replaces it. Setting one here also keeps
	// the library from reading the clock for its default.
	opts.Dtstart = time.Date(2000, time.January, 1, hour, minute, 0, 0, time.UTC)
	if _, err = rrule.NewRRule(*opts); err != nil {
		return floatingRule{}, fmt.Errorf("schedule.rrule: %w", err)
	}
	f.opts = *opts
	return f, nil
}

// checkSupported refuses what the library parses but a schedule cannot mean.
func checkSupported(raw string, opts *rrule.ROption) error {
	switch {
	case opts.Freq > rrule.DAILY:
		return fmt.Errorf("schedule.rrule: FREQ=%v is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY", opts.Freq)
	case !opts.Dtstart.IsZero():
		return errors.New("schedule.rrule: DTSTART is not supported; the schedule starts on the cohort's first day")
	case len(opts.Byhour) > 0 || len(opts.Byminute) > 0 || len(opts.Bysecond) > 0:
		return errors.New("schedule.rrule: BYHOUR, BYMINUTE and BYSECOND are not supported; the time of day is schedule.startTime")
	}
	if _, ok := rruleValue(raw, "COUNT"); ok && opts.Count < 1 {
		return errors.New("schedule.rrule: COUNT must be at least 1")
	}
	return checkMonthDays(opts.Bymonth, opts.Bymonthday)
}

// checkMonthDays refuses BYMONTHDAY values that fall in none of the BYMONTH months, such
// as the 30th of February: such a rule has no occurrence at all, and the library would
// search up to the year 9999 to find out.
func checkMonthDays(months, days []int) error {
	if len(months) == 0 || len(days) == 0 {
		return nil
	}
	for _, m := range months {
		// 2000 is a leap year, so February offers its 29th.
		length := time.Date(2000, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		for _, d := range days {
			if d != 0 && abs(d) <= length {
				return nil
			}
		}
	}
	return fmt.Errorf("schedule.rrule: BYMONTHDAY=%s falls in none of the months BYMONTH=%s, so the rule never occurs",
		joinInts(days), joinInts(months))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func joinInts(values []int) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

// untilInstant turns the rule's UNTIL into the latest instant an occurrence may start at.
// The library parsed it in UTC; the form of the raw value says what it meant:
//   - a date (20261231) includes the whole of that local day;
//   - a UTC date-time (20261231T170000Z) is that instant;
//   - a local date-time without Z (20261231T120000, not RFC 5545 for a zoned DTSTART but
//     accepted by the library) is that wall-clock time in loc.
func untilInstant(raw string, parsed time.Time, loc *time.Location) (time.Time, bool) {
	v, ok := rruleValue(raw, "UNTIL")
	if !ok {
		return time.Time{}, false
	}
	y, m, d := parsed.Date()
	switch len(v) {
	case len(rrule.DateFormat):
		return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Nanosecond), true
	case len(rrule.LocalDateTimeFormat):
		return time.Date(y, m, d, parsed.Hour(), parsed.Minute(), parsed.Second(), 0, loc), true
	default:
		return parsed, true
	}
}

// rruleValue returns the value of key in an RRULE string, and whether it is present. It
// splits the way the library does and, like the library, lets the last repetition of a
// key win, so it reads the value the library used.
func rruleValue(raw, key string) (value string, found bool) {
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimSpace(raw), "RRULE:"), ";") {
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			value, found = v, true
		}
	}
	return value, found
}
