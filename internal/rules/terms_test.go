package rules

import (
	// The tests need time-zone data on every machine, with or without a zoneinfo
	// database installed.
	_ "time/tzdata"

	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// chicago observes daylight saving time: in 2026 clocks spring forward on March 8 and
// fall back on November 1.
func chicago(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatalf("loading America/Chicago: %v", err)
	}
	return loc
}

func date(d string) *learningv1alpha1.Date {
	v := learningv1alpha1.Date(d)
	return &v
}

func TestParseAndFormatDate(t *testing.T) {
	loc := chicago(t)
	cases := map[string]struct {
		in      learningv1alpha1.Date
		want    time.Time
		wantErr string
	}{
		"standard time":        {in: "2026-01-15", want: time.Date(2026, 1, 15, 6, 0, 0, 0, time.UTC)},
		"day clocks spring":    {in: "2026-03-08", want: time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC)},
		"day after spring":     {in: "2026-03-09", want: time.Date(2026, 3, 9, 5, 0, 0, 0, time.UTC)},
		"leap day":             {in: "2028-02-29", want: time.Date(2028, 2, 29, 6, 0, 0, 0, time.UTC)},
		"no such day":          {in: "2026-02-29", wantErr: `date "2026-02-29" is not a valid YYYY-MM-DD day`},
		"single digit month":   {in: "2026-1-05", wantErr: `date "2026-1-05" is not a valid YYYY-MM-DD day`},
		"timestamp not a date": {in: "2026-01-05T00:00:00Z", wantErr: `date "2026-01-05T00:00:00Z" is not a valid YYYY-MM-DD day`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDate(tc.in, loc)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseDate (-want +got):\n%s", diff)
			}
			if err == nil {
				if back := FormatDate(got, loc); back != tc.in {
					t.Errorf("FormatDate(ParseDate(%q)) = %q", tc.in, back)
				}
			}
		})
	}
}

func TestFormatDateUsesLocation(t *testing.T) {
	loc := chicago(t)
	instant := time.Date(2026, 3, 9, 4, 59, 0, 0, time.UTC) // 23:59 CDT on March 8
	if got := FormatDate(instant, loc); got != "2026-03-08" {
		t.Errorf("FormatDate in Chicago = %q, want 2026-03-08", got)
	}
	if got := FormatDate(instant, nil); got != "2026-03-09" {
		t.Errorf("FormatDate with nil location = %q, want 2026-03-09 (UTC)", got)
	}
}

func TestCohortTerm(t *testing.T) {
	loc := chicago(t)
	cases := map[string]struct {
		start       learningv1alpha1.Date
		end         *learningv1alpha1.Date
		months      *int32
		want        Term
		wantLastDay learningv1alpha1.Date
		wantErr     string
	}{
		"end date ends at the following midnight across spring forward": {
			start:       "2026-01-15",
			end:         date("2026-03-08"),
			want:        Term{Start: time.Date(2026, 1, 15, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 9, 0, 0, 0, 0, loc)},
			wantLastDay: "2026-03-08",
		},
		"duration in calendar months keeps local midnight": {
			start:       "2026-01-15",
			months:      ptr[int32](6),
			want:        Term{Start: time.Date(2026, 1, 15, 0, 0, 0, 0, loc), End: time.Date(2026, 7, 15, 0, 0, 0, 0, loc)},
			wantLastDay: "2026-07-14",
		},
		"twelve months across both changes": {
			start:       "2026-03-01",
			months:      ptr[int32](12),
			want:        Term{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, loc), End: time.Date(2027, 3, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2027-02-28",
		},
		"Jan 31 plus one month ends on Feb 28": {
			start:       "2026-01-31",
			months:      ptr[int32](1),
			want:        Term{Start: time.Date(2026, 1, 31, 0, 0, 0, 0, loc), End: time.Date(2026, 3, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2026-02-28",
		},
		"Jan 31 plus one month in a leap year ends on Feb 29": {
			start:       "2028-01-31",
			months:      ptr[int32](1),
			want:        Term{Start: time.Date(2028, 1, 31, 0, 0, 0, 0, loc), End: time.Date(2028, 3, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2028-02-29",
		},
		"Jan 29 plus one month in a leap year ends on Feb 28": {
			start:       "2028-01-29",
			months:      ptr[int32](1),
			want:        Term{Start: time.Date(2028, 1, 29, 0, 0, 0, 0, loc), End: time.Date(2028, 2, 29, 0, 0, 0, 0, loc)},
			wantLastDay: "2028-02-28",
		},
		"Mar 31 plus one month ends on Apr 30": {
			start:       "2026-03-31",
			months:      ptr[int32](1),
			want:        Term{Start: time.Date(2026, 3, 31, 0, 0, 0, 0, loc), End: time.Date(2026, 5, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2026-04-30",
		},
		"Jan 1 plus twelve months ends on Dec 31": {
			start:       "2026-01-01",
			months:      ptr[int32](12),
			want:        Term{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, loc), End: time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2026-12-31",
		},
		"Aug 31 plus six months ends on the last day of February": {
			start:       "2026-08-31",
			months:      ptr[int32](6),
			want:        Term{Start: time.Date(2026, 8, 31, 0, 0, 0, 0, loc), End: time.Date(2027, 3, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2027-02-28",
		},
		"end date wins over duration": {
			start:       "2026-01-01",
			end:         date("2026-01-31"),
			months:      ptr[int32](12),
			want:        Term{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, loc), End: time.Date(2026, 2, 1, 0, 0, 0, 0, loc)},
			wantLastDay: "2026-01-31",
		},
		"end before start": {start: "2026-05-01", end: date("2026-04-30"), wantErr: "endDate 2026-04-30 is before startDate 2026-05-01"},
		"neither":          {start: "2026-05-01", wantErr: "one of endDate or durationMonths is required"},
		"zero duration":    {start: "2026-05-01", months: ptr[int32](0), wantErr: "durationMonths 0 is less than 1"},
		"bad start date":   {start: "2026-13-01", months: ptr[int32](1), wantErr: `startDate: date "2026-13-01" is not a valid YYYY-MM-DD day`},
		"bad end date":     {start: "2026-01-01", end: date("tomorrow"), wantErr: `endDate: date "tomorrow" is not a valid YYYY-MM-DD day`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, lastDay, err := CohortTerm(tc.start, tc.end, tc.months, loc)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("term (-want +got):\n%s", diff)
			}
			if lastDay != tc.wantLastDay {
				t.Errorf("lastDay = %q, want %q", lastDay, tc.wantLastDay)
			}
		})
	}
}

func TestMembershipTerm(t *testing.T) {
	loc := chicago(t)
	cohort := Term{Start: time.Date(2026, 1, 15, 0, 0, 0, 0, loc), End: time.Date(2027, 1, 15, 0, 0, 0, 0, loc)}
	member := RolePolicy{Name: "Member", Max: 20, TermMonths: 12}
	cases := map[string]struct {
		role       RolePolicy
		start, end *learningv1alpha1.Date
		want       Term
		wantErr    string
	}{
		"defaults to the cohort's window": {role: member, want: cohort},
		"shorter role term": {
			role: RolePolicy{Name: "Facilitator", TermMonths: 3},
			want: Term{Start: cohort.Start, End: time.Date(2026, 4, 15, 0, 0, 0, 0, loc)},
		},
		"late start is capped by the cohort's end": {
			role:  member,
			start: date("2026-06-01"),
			want:  Term{Start: time.Date(2026, 6, 1, 0, 0, 0, 0, loc), End: cohort.End},
		},
		"explicit end date is the last day": {
			role:  member,
			start: date("2026-03-08"),
			end:   date("2026-11-01"),
			want:  Term{Start: time.Date(2026, 3, 8, 0, 0, 0, 0, loc), End: time.Date(2026, 11, 2, 0, 0, 0, 0, loc)},
		},
		"unset term months fall back to the default": {
			role: RolePolicy{Name: "Member"},
			want: cohort,
		},
		"start after the cohort ends": {
			role:    member,
			start:   date("2027-02-01"),
			wantErr: "startDate 2027-02-01 is not before the cohort's end (last day 2027-01-14)",
		},
		"end before start": {
			role:    member,
			start:   date("2026-05-01"),
			end:     date("2026-04-01"),
			wantErr: "endDate 2026-04-01 is before startDate 2026-05-01",
		},
		"bad start": {role: member, start: date("2026-02-30"), wantErr: `startDate: date "2026-02-30" is not a valid YYYY-MM-DD day`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := MembershipTerm(cohort, tc.role, tc.start, tc.end, loc)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("term (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMembershipPhase(t *testing.T) {
	loc := chicago(t)
	// Starts in standard time, ends in daylight time: the notice window counts 30
	// calendar days of the cohort's time zone, so it opens at midnight on March 2 (an
	// hour later than 30*24 hours would).
	spring := Term{Start: time.Date(2026, 1, 15, 0, 0, 0, 0, loc), End: time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}
	springNotice := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	// Ends after clocks fall back: the window opens at midnight on October 16.
	fall := Term{Start: time.Date(2026, 6, 1, 0, 0, 0, 0, loc), End: time.Date(2026, 11, 15, 0, 0, 0, 0, loc)}
	fallNotice := time.Date(2026, 10, 16, 0, 0, 0, 0, loc)

	cases := map[string]struct {
		term       Term
		withdrawn  bool
		noticeDays int
		now        time.Time
		want       learningv1alpha1.MembershipPhase
		wantNext   time.Time
	}{
		"pending until the start": {
			term: spring, noticeDays: 30, now: spring.Start.Add(-time.Nanosecond),
			want: learningv1alpha1.MembershipPending, wantNext: spring.Start,
		},
		"active from the start": {
			term: spring, noticeDays: 30, now: spring.Start,
			want: learningv1alpha1.MembershipActive, wantNext: springNotice,
		},
		"active just before the notice window": {
			term: spring, noticeDays: 30, now: springNotice.Add(-time.Nanosecond),
			want: learningv1alpha1.MembershipActive, wantNext: springNotice,
		},
		"expiring inside the 30-day window": {
			term: spring, noticeDays: 30, now: springNotice,
			want: learningv1alpha1.MembershipExpiring, wantNext: spring.End,
		},
		"expiring on the last day": {
			term: spring, noticeDays: 30, now: time.Date(2026, 3, 31, 23, 59, 0, 0, loc),
			want: learningv1alpha1.MembershipExpiring, wantNext: spring.End,
		},
		"expired at the end": {
			term: spring, noticeDays: 30, now: spring.End,
			want: learningv1alpha1.MembershipExpired,
		},
		"withdrawn whatever the clock": {
			term: spring, withdrawn: true, noticeDays: 30, now: spring.Start,
			want: learningv1alpha1.MembershipWithdrawn,
		},
		"window after falling back": {
			term: fall, noticeDays: 30, now: time.Date(2026, 8, 1, 0, 0, 0, 0, loc),
			want: learningv1alpha1.MembershipActive, wantNext: fallNotice,
		},
		"no notice window": {
			term: spring, now: springNotice,
			want: learningv1alpha1.MembershipActive, wantNext: spring.End,
		},
		"notice longer than the term": {
			term: spring, noticeDays: 365, now: spring.Start,
			want: learningv1alpha1.MembershipExpiring, wantNext: spring.End,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, next := MembershipPhase(tc.term, tc.withdrawn, tc.noticeDays, tc.now)
			if got != tc.want {
				t.Errorf("phase = %s, want %s", got, tc.want)
			}
			if diff := cmp.Diff(tc.wantNext, next); diff != "" {
				t.Errorf("next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCohortPhase(t *testing.T) {
	loc := chicago(t)
	term := Term{Start: time.Date(2026, 3, 8, 0, 0, 0, 0, loc), End: time.Date(2026, 11, 1, 0, 0, 0, 0, loc)}
	cases := map[string]struct {
		now      time.Time
		want     learningv1alpha1.CohortPhase
		wantNext time.Time
	}{
		"enrolling before the start": {now: term.Start.Add(-time.Hour), want: learningv1alpha1.CohortEnrolling, wantNext: term.Start},
		"active from the start":      {now: term.Start, want: learningv1alpha1.CohortActive, wantNext: term.End},
		"active on the last day":     {now: term.End.Add(-time.Nanosecond), want: learningv1alpha1.CohortActive, wantNext: term.End},
		"completed at the end":       {now: term.End, want: learningv1alpha1.CohortCompleted},
		"completed long after":       {now: term.End.AddDate(1, 0, 0), want: learningv1alpha1.CohortCompleted},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, next := CohortPhase(term, tc.now)
			if got != tc.want {
				t.Errorf("phase = %s, want %s", got, tc.want)
			}
			if diff := cmp.Diff(tc.wantNext, next); diff != "" {
				t.Errorf("next (-want +got):\n%s", diff)
			}
		})
	}
}
