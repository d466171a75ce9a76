package rules

import (
	"errors"
	"fmt"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// dateLayout is the ISO 8601 calendar date form of learningv1alpha1.Date.
const dateLayout = "2006-01-02"

// maxNoticeDays bounds the notice window far beyond any term; the API caps it at 365.
const maxNoticeDays = 100_000

// Term is a half-open interval of absolute instants [Start, End).
type Term struct{ Start, End time.Time }

// contains reports whether at falls inside the term.
func (t Term) contains(at time.Time) bool {
	return !at.Before(t.Start) && at.Before(t.End)
}

// ParseDate returns the instant at which the calendar day d begins in loc (UTC when loc
// is nil), i.e. time.Date(y, m, d, 0, 0, 0, 0, loc).
func ParseDate(d learningv1alpha1.Date, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(dateLayout, string(d), orUTC(loc))
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not a valid YYYY-MM-DD day", d)
	}
	return t, nil
}

// FormatDate returns the calendar day, in loc (UTC when nil), that contains t.
func FormatDate(t time.Time, loc *time.Location) learningv1alpha1.Date {
	return learningv1alpha1.Date(t.In(orUTC(loc)).Format(dateLayout))
}

// CohortTerm resolves a cohort's window: Start is startDate's midnight; End is the
// midnight after endDate, or the end of durationMonths calendar months from startDate
// when endDate is nil (see addMonths: Jan 31 + 1 month ends with Feb 28).
// lastDay is the last day inside the window, for status.endDate.
func CohortTerm(startDate learningv1alpha1.Date, endDate *learningv1alpha1.Date, durationMonths *int32, loc *time.Location) (term Term, lastDay learningv1alpha1.Date, err error) {
	loc = orUTC(loc)
	start, err := ParseDate(startDate, loc)
	if err != nil {
		return Term{}, "", fmt.Errorf("startDate: %w", err)
	}
	var end time.Time
	switch {
	case endDate != nil:
		last, err := ParseDate(*endDate, loc)
		if err != nil {
			return Term{}, "", fmt.Errorf("endDate: %w", err)
		}
		if last.Before(start) {
			return Term{}, "", fmt.Errorf("endDate %s is before startDate %s", *endDate, startDate)
		}
		end = addDays(last, 1, loc)
	case durationMonths != nil:
		if *durationMonths < 1 {
			return Term{}, "", fmt.Errorf("durationMonths %d is less than 1", *durationMonths)
		}
		end = addMonths(start, int(*durationMonths), loc)
	default:
		return Term{}, "", errors.New("one of endDate or durationMonths is required")
	}
	term = Term{Start: start, End: end}
	return term, lastDayOf(term, loc), nil
}

// lastDayOf returns the last calendar day, in loc, that begins inside the term: the day
// before the one End begins.
func lastDayOf(term Term, loc *time.Location) learningv1alpha1.Date {
	loc = orUTC(loc)
	// Calendar arithmetic, not End-24h: a day that springs forward lasts 23 hours, and
	// 24 hours before its following midnight is still the day before.
	return FormatDate(addDays(term.End, -1, loc), loc)
}

// MembershipTerm resolves a membership's term: Start is specStart's midnight, else the
// cohort's start; End is the midnight after specEnd when set, else the earlier of Start
// plus the role's termMonths and the cohort's end.
func MembershipTerm(cohort Term, role RolePolicy, specStart, specEnd *learningv1alpha1.Date, loc *time.Location) (Term, error) {
	loc = orUTC(loc)
	start := cohort.Start
	if specStart != nil {
		t, err := ParseDate(*specStart, loc)
		if err != nil {
			return Term{}, fmt.Errorf("startDate: %w", err)
		}
		start = t
	}
	if specEnd != nil {
		last, err := ParseDate(*specEnd, loc)
		if err != nil {
			return Term{}, fmt.Errorf("endDate: %w", err)
		}
		if last.Before(start) {
			return Term{}, fmt.Errorf("endDate %s is before startDate %s", *specEnd, FormatDate(start, loc))
		}
		return Term{Start: start, End: addDays(last, 1, loc)}, nil
	}
	months := role.TermMonths
	if months < 1 {
		months = DefaultTermMonths
	}
	end := addMonths(start, months, loc)
	if cohort.End.Before(end) {
		end = cohort.End
	}
	if !start.Before(end) {
		return Term{}, fmt.Errorf("startDate %s is not before the cohort's end (last day %s)",
			FormatDate(start, loc), lastDayOf(cohort, loc))
	}
	return Term{Start: start, End: end}, nil
}

// MembershipPhase returns where a membership is in its term at now, and the next instant
// at which that phase changes (zero when it never changes again): Withdrawn when
// withdrawn; Pending before Start; Expired at or after End; Expiring from noticeDays
// calendar days before End, counted in End's location (the cohort's time zone), so a
// daylight-saving change does not shift the window by an hour; else Active.
func MembershipPhase(term Term, withdrawn bool, noticeDays int, now time.Time) (phase learningv1alpha1.MembershipPhase, next time.Time) {
	if withdrawn {
		return learningv1alpha1.MembershipWithdrawn, time.Time{}
	}
	if now.Before(term.Start) {
		return learningv1alpha1.MembershipPending, term.Start
	}
	if !now.Before(term.End) {
		return learningv1alpha1.MembershipExpired, time.Time{}
	}
	noticeDays = min(max(noticeDays, 0), maxNoticeDays)
	expiring := term.End.AddDate(0, 0, -noticeDays)
	if !now.Before(expiring) {
		return learningv1alpha1.MembershipExpiring, term.End
	}
	return learningv1alpha1.MembershipActive, expiring
}

// CohortPhase returns where a cohort is at now (Enrolling before Start, Active inside the
// term, Completed at or after End) and the next instant at which that phase changes (zero
// once Completed).
func CohortPhase(term Term, now time.Time) (phase learningv1alpha1.CohortPhase, next time.Time) {
	switch {
	case now.Before(term.Start):
		return learningv1alpha1.CohortEnrolling, term.Start
	case now.Before(term.End):
		return learningv1alpha1.CohortActive, term.End
	default:
		return learningv1alpha1.CohortCompleted, time.Time{}
	}
}

// addMonths returns the midnight, in loc, that ends a period of months calendar months
// starting on the day t falls on: the period's last day is the day before day d of the
// month months later, or that month's last day when it has fewer than d days (Jan 15
// -> Feb 14, Jan 31 -> Feb 28, Mar 31 -> Apr 30), so the result is day d of that month
// or the first day of the month after it. time.AddDate would instead overflow Jan 31 +
// 1 month into March 3. Rebuilding from the date keeps the result at midnight even when
// t itself was shifted by a skipped midnight.
func addMonths(t time.Time, months int, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, loc)
	if days := daysIn(first); d > days {
		return time.Date(first.Year(), first.Month()+1, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, loc)
}

// daysIn returns the number of days of the month that begins at first.
func daysIn(first time.Time) int {
	return time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// addDays returns the midnight, in loc, that begins the day days calendar days after the
// day t falls on.
func addDays(t time.Time, days int, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, loc)
}

// orUTC treats a nil location as UTC, which is the API's default time zone.
func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
