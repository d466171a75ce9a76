// Package samples renders the committed samples of config/samples for the current
// calendar day. The samples describe programs in progress on ReferenceDay; applied
// unchanged on another day they describe programs that have not started or have long
// ended. Shifting every date they contain by a whole number of calendar months keeps the
// programs in progress: the same months of attendance are recorded, the same terms
// run, the same events are still to come.
//
// Shifting by months rather than days keeps the day of the month (and so the order of
// gatherings inside a month) but changes weekdays: the gatherings the samples declare
// are explicit instants and may fall on another weekday than their cohort's schedule,
// while the gatherings that schedule generates fall on real weekdays.
package samples

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ReferenceDay is the day the samples were written for (YYYY-MM-DD): the allyship
// cohort (2026-01-01, 12 months) has attendance recorded through October and
// November's gathering (2026-11-10) still to record, the speaker series of the equity
// cohort (2026-12-03) is still to come, and no term has ended.
const ReferenceDay = "2026-11-22"

// reference is ReferenceDay parsed once; a malformed constant fails every test.
var reference = mustParseDay(ReferenceDay)

// ShiftFor returns the number of calendar months that moves ReferenceDay into the
// month of now: the months from ReferenceDay's month to now's month, negative before
// it. The day of the month does not count, so the samples describe the same program
// for every day of a month. now is read in its own location; pass a UTC time for a
// result that does not depend on the machine's time zone.
func ShiftFor(now time.Time) int {
	return monthIndex(now.Year(), now.Month()) - monthIndex(reference.Year(), reference.Month())
}

// datePattern finds candidate dates: YYYY-MM-DD, optionally followed by an RFC 3339
// time with seconds and an offset (T18:00:00Z, T18:00:00.5+02:00), and the UNTIL part
// of an RFC 5545 recurrence rule (UNTIL=YYYYMMDD, optionally with THHMMSS and Z).
// Whether a candidate is a whole token is decided by isWhole, since RE2 has no
// look-around.
var datePattern = regexp.MustCompile(
	`UNTIL=(\d{4})(\d{2})(\d{2})(T\d{6}Z?)?` +
		`|(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))?`)

// ShiftMonths returns text with every date in it moved by months calendar months
// (negative moves back), and every other byte unchanged. The day of the month is kept
// when the target month has it and clamped to that month's last day otherwise
// (2026-01-31 + 1 month is 2026-02-28); the time of day and the offset of a date-time
// are kept as written.
//
// A date is shifted only when it is a whole token: a valid calendar date (2026-02-30 is
// not) in the forms datePattern accepts, neither preceded nor followed by a letter, a
// digit or one of - _ . / : + (so the date in a name such as gathering-2026-11-10, in
// 12026-11-10 or in 2026-11-10T18:00 without seconds stays as written). Quotes, blanks,
// commas, brackets and braces delimit tokens, so dates in quoted scalars, flow
// collections and comments are all shifted. An UNTIL=YYYYMMDD part is shifted when
// neither UNTIL nor the value is glued to a letter or digit (;UNTIL=20261231;). A
// date whose shifted year would leave 0000-9999 stays as written.
//
// The month a title names moves with the dates: in the value of a title: key (a YAML
// mapping's, on the key's line), each English month name (January ... December, as a
// whole word) becomes the name of the month months later, so that a gathering titled
// for January and dated in January stays titled for its month after the shift.
func ShiftMonths(text string, months int) string {
	if months == 0 {
		return text
	}
	text = shiftTitleMonths(text, months)
	var b strings.Builder
	last := 0
	for _, m := range datePattern.FindAllStringSubmatchIndex(text, -1) {
		shifted, ok := shiftMatch(text, m, months)
		if !ok {
			continue
		}
		b.WriteString(text[last:m[0]])
		b.WriteString(shifted)
		last = m[1]
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// shiftMatch returns the shifted form of one match of datePattern, given as submatch
// indexes into text, and false when the match is not a whole token or not a date.
func shiftMatch(text string, m []int, months int) (string, bool) {
	group := func(i int) string {
		if m[2*i] < 0 {
			return ""
		}
		return text[m[2*i]:m[2*i+1]]
	}
	if m[2] >= 0 { // UNTIL=YYYYMMDD
		if !isWhole(text, m[0], m[1], isAlnum) {
			return "", false
		}
		y, mo, d, ok := shiftDay(group(1), group(2), group(3), months)
		return fmt.Sprintf("UNTIL=%04d%02d%02d%s", y, mo, d, group(4)), ok
	}
	if !isWhole(text, m[0], m[1], isTokenByte) {
		return "", false
	}
	y, mo, d, ok := shiftDay(group(5), group(6), group(7), months)
	return fmt.Sprintf("%04d-%02d-%02d%s", y, mo, d, group(8)), ok
}

// isWhole reports whether text[start:end] is neither preceded nor followed by a byte
// for which glued reports true.
func isWhole(text string, start, end int, glued func(byte) bool) bool {
	if start > 0 && glued(text[start-1]) {
		return false
	}
	return end == len(text) || !glued(text[end])
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isTokenByte reports whether c can continue a name, a number or a time next to a
// date, which makes the date part of a longer token.
func isTokenByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-_./:+", c) >= 0
}

// shiftDay moves the calendar date year-month-day, given as decimal digits, by months
// calendar months, clamping the day to the target month's length. It reports false
// when the input is not a valid calendar date or the result leaves years 0000-9999.
func shiftDay(year, month, day string, months int) (int, time.Month, int, bool) {
	y, _ := strconv.Atoi(year)
	mo, _ := strconv.Atoi(month)
	d, _ := strconv.Atoi(day)
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, time.Month(mo)) {
		return 0, 0, 0, false
	}
	index := monthIndex(y, time.Month(mo)) + months
	ty, tm := index/12, time.Month(index%12+1)
	if index < 0 || ty > 9999 {
		return 0, 0, 0, false
	}
	return ty, tm, min(d, daysIn(ty, tm)), true
}

// monthIndex counts the months from January of year 0 to month of year.
func monthIndex(year int, month time.Month) int {
	return year*12 + int(month) - 1
}

// daysIn returns the number of days of month in year (proleptic Gregorian calendar).
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// mustParseDay parses a YYYY-MM-DD constant and panics when it is malformed.
func mustParseDay(day string) time.Time {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(fmt.Sprintf("samples: bad day %q: %v", day, err))
	}
	return t
}

// titlePattern finds the key of a title and its value on the same line.
var titlePattern = regexp.MustCompile(`(?m)^([ \t]*(?:-[ \t]+)?title:)(.*)$`)

// monthNamePattern finds an English month name as a whole word.
var monthNamePattern = regexp.MustCompile(`\b(January|February|March|April|May|June|July|August|September|October|November|December)\b`)

// shiftTitleMonths renames the months that titles name by months calendar months (see
// ShiftMonths).
func shiftTitleMonths(text string, months int) string {
	return titlePattern.ReplaceAllStringFunc(text, func(line string) string {
		colon := strings.Index(line, "title:") + len("title:")
		return line[:colon] + monthNamePattern.ReplaceAllStringFunc(line[colon:], func(name string) string {
			return shiftMonthName(name, months)
		})
	})
}

// shiftMonthName returns the name of the month months after the month named name.
func shiftMonthName(name string, months int) string {
	for m := time.January; m <= time.December; m++ {
		if m.String() == name {
			return time.Month(((int(m)-1+months)%12+12)%12 + 1).String()
		}
	}
	return name
}
