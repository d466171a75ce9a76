package calendar

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// expandCase is one call of Expand and the UTC starts it must return.
type expandCase struct {
	schedule               learningv1alpha1.Schedule
	notBefore, until, from time.Time
	n                      int
	want                   []string
}

// twoTue is the second Tuesday of every month.
const twoTue = "FREQ=MONTHLY;BYDAY=2TU"

var (
	twoTueNoonChicago = sched(twoTue, "12:00", chicago)
	jan1, jan1Next    = midnight(chicago, 2026, 1, 1), midnight(chicago, 2027, 1, 1)
)

// utc parses an RFC 3339 instant of a test table.
func utc(v string) time.Time {
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		panic(err)
	}
	return ts
}

// TestExpandKeepsLocalTime checks that gatherings keep their wall-clock time across DST
// changes, and how times that do not exist or exist twice are resolved.
func TestExpandKeepsLocalTime(t *testing.T) {
	runExpandCases(t, map[string]expandCase{
		"monthly second Tuesday at noon in Chicago keeps noon across both DST changes": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: jan1Next, from: jan1, n: 52,
			want: []string{
				"2026-01-13T18:00:00Z", "2026-02-10T18:00:00Z",
				"2026-03-10T17:00:00Z", // DST began on March 8
				"2026-04-14T17:00:00Z", "2026-05-12T17:00:00Z", "2026-06-09T17:00:00Z",
				"2026-07-14T17:00:00Z", "2026-08-11T17:00:00Z", "2026-09-08T17:00:00Z",
				"2026-10-13T17:00:00Z",
				"2026-11-10T18:00:00Z", // DST ended on November 1
				"2026-12-08T18:00:00Z",
			},
		},
		"weekly Thursday 18:00 in Berlin across the March DST change": {
			schedule:  sched("FREQ=WEEKLY;BYDAY=TH", "18:00", berlin),
			notBefore: midnight(berlin, 2026, 3, 16), until: midnight(berlin, 2026, 4, 13),
			from: midnight(berlin, 2026, 3, 16), n: 10,
			want: []string{"2026-03-19T17:00:00Z", "2026-03-26T17:00:00Z", "2026-04-02T16:00:00Z", "2026-04-09T16:00:00Z"},
		},
		"weekly Thursday 18:00 in Berlin across the October DST change": {
			schedule:  sched("FREQ=WEEKLY;BYDAY=TH", "18:00", berlin),
			notBefore: midnight(berlin, 2026, 10, 19), until: midnight(berlin, 2026, 11, 2),
			from: midnight(berlin, 2026, 10, 19), n: 10,
			want: []string{"2026-10-22T16:00:00Z", "2026-10-29T17:00:00Z"},
		},
		"first Thursday at 19:00 in New York, some on the next UTC day": {
			schedule:  sched("FREQ=MONTHLY;BYDAY=1TH", "19:00", newYork),
			notBefore: midnight(newYork, 2026, 9, 1), until: midnight(newYork, 2027, 1, 1), from: midnight(newYork, 2026, 9, 1), n: 10,
			want: []string{"2026-09-03T23:00:00Z", "2026-10-01T23:00:00Z", "2026-11-06T00:00:00Z", "2026-12-04T00:00:00Z"},
		},
		"the cohort's first day in the schedule's zone, not in UTC": {
			schedule:  sched("FREQ=DAILY;COUNT=2", "20:00", kolkata),
			notBefore: utc("2026-01-01T20:00:00Z"), // already January 2 in Kolkata
			until:     midnight(kolkata, 2026, 2, 1), from: midnight(kolkata, 2026, 1, 1), n: 10,
			want: []string{"2026-01-02T14:30:00Z", "2026-01-03T14:30:00Z"},
		},
		"a start time in the spring-forward gap is resolved as time.Date resolves it": {
			schedule:  sched("FREQ=DAILY", "02:30", chicago),
			notBefore: midnight(chicago, 2026, 3, 7), until: midnight(chicago, 2026, 3, 10), from: midnight(chicago, 2026, 3, 7), n: 10,
			// March 8 has no 02:30; time.Date reads it as 01:30 CST.
			want: []string{"2026-03-07T08:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T07:30:00Z"},
		},
		"a start time in the fall-back overlap is the instant time.Date picks": {
			schedule:  sched("FREQ=DAILY", "01:30", chicago),
			notBefore: midnight(chicago, 2026, 10, 31), until: midnight(chicago, 2026, 11, 3), from: midnight(chicago, 2026, 10, 31), n: 10,
			want: []string{"2026-10-31T06:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T07:30:00Z"},
		},
	})
}

// TestExpandWindow checks the window [max(from, notBefore), until) and the limit n.
func TestExpandWindow(t *testing.T) {
	runExpandCases(t, map[string]expandCase{
		"from in the middle of the cohort returns the next n": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: jan1Next, from: midnight(chicago, 2026, 6, 1), n: 3,
			want: []string{"2026-06-09T17:00:00Z", "2026-07-14T17:00:00Z", "2026-08-11T17:00:00Z"},
		},
		"from exactly at an occurrence includes it": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: jan1Next, from: utc("2026-06-09T17:00:00Z"), n: 1,
			want: []string{"2026-06-09T17:00:00Z"},
		},
		"from before the cohort starts is clamped to its start": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: jan1Next, from: midnight(chicago, 2025, 6, 1), n: 1,
			want: []string{"2026-01-13T18:00:00Z"},
		},
		"until cuts off, exclusive of an occurrence at that instant": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: utc("2026-03-10T17:00:00Z"), from: jan1, n: 52,
			want: []string{"2026-01-13T18:00:00Z", "2026-02-10T18:00:00Z"},
		},
		"a cohort starting after the first day's start time skips that day": {
			schedule: twoTueNoonChicago, notBefore: time.Date(2026, 1, 13, 13, 0, 0, 0, chicago), until: jan1Next, from: jan1, n: 1,
			want: []string{"2026-02-10T18:00:00Z"},
		},
		"n of zero yields nothing": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: jan1Next, from: jan1, n: 0,
		},
		"from at or after until yields nothing": {
			schedule: twoTueNoonChicago, notBefore: jan1, until: jan1Next, from: jan1Next, n: 10,
		},
		"until before the cohort starts yields nothing": {
			schedule: twoTueNoonChicago, notBefore: jan1Next, until: jan1, from: jan1, n: 10,
		},
	})
}

// TestExpandRuleParts checks the RRULE parts whose meaning depends on where the
// schedule starts or on real instants.
func TestExpandRuleParts(t *testing.T) {
	runExpandCases(t, map[string]expandCase{
		"COUNT=6 counts from the cohort start even when from is later": {
			schedule: sched(twoTue+";COUNT=6", "12:00", chicago), notBefore: jan1, until: jan1Next,
			from: midnight(chicago, 2026, 4, 1), n: 52,
			want: []string{"2026-04-14T17:00:00Z", "2026-05-12T17:00:00Z", "2026-06-09T17:00:00Z"},
		},
		"COUNT counts from the cohort's first day, not from the year": {
			schedule: sched(twoTue+";COUNT=2", "12:00", chicago), notBefore: midnight(chicago, 2026, 2, 11),
			until: jan1Next, from: jan1, n: 52,
			want: []string{"2026-03-10T17:00:00Z", "2026-04-14T17:00:00Z"},
		},
		"UNTIL as a date includes occurrences on that local date": {
			schedule: sched(twoTue+";UNTIL=20260414", "12:00", chicago), notBefore: jan1, until: jan1Next, from: jan1, n: 52,
			want: []string{"2026-01-13T18:00:00Z", "2026-02-10T18:00:00Z", "2026-03-10T17:00:00Z", "2026-04-14T17:00:00Z"},
		},
		"UNTIL as a UTC date-time is inclusive": {
			schedule: sched(twoTue+";UNTIL=20260414T170000Z", "12:00", chicago), notBefore: jan1, until: jan1Next, from: jan1, n: 52,
			want: []string{"2026-01-13T18:00:00Z", "2026-02-10T18:00:00Z", "2026-03-10T17:00:00Z", "2026-04-14T17:00:00Z"},
		},
		"UNTIL as a UTC date-time is compared with the real instant, not the wall clock": {
			schedule: sched(twoTue+";UNTIL=20260414T165959Z", "12:00", chicago), notBefore: jan1, until: jan1Next, from: jan1, n: 52,
			want: []string{"2026-01-13T18:00:00Z", "2026-02-10T18:00:00Z", "2026-03-10T17:00:00Z"},
		},
		"BYMONTHDAY=-1 is the last day of each month, leap day included": {
			schedule:  sched("FREQ=MONTHLY;BYMONTHDAY=-1", "09:00", berlin),
			notBefore: midnight(berlin, 2027, 12, 1), until: midnight(berlin, 2028, 4, 1), from: midnight(berlin, 2027, 12, 1), n: 10,
			want: []string{"2027-12-31T08:00:00Z", "2028-01-31T08:00:00Z", "2028-02-29T08:00:00Z", "2028-03-31T07:00:00Z"},
		},
		"BYSETPOS=-1 picks the last weekday of the month": {
			schedule:  sched("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "16:00", chicago),
			notBefore: jan1, until: midnight(chicago, 2026, 4, 1), from: jan1, n: 10,
			want: []string{"2026-01-30T22:00:00Z", "2026-02-27T22:00:00Z", "2026-03-31T21:00:00Z"},
		},
		"INTERVAL is anchored at the cohort's first day, not at from": {
			schedule:  sched("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "09:00", time.UTC),
			notBefore: midnight(time.UTC, 2026, 1, 5), until: midnight(time.UTC, 2026, 3, 1), from: midnight(time.UTC, 2026, 1, 10), n: 2,
			want: []string{"2026-01-19T09:00:00Z", "2026-02-02T09:00:00Z"},
		},
		"WEEKLY without BYDAY recurs on the cohort's first weekday": {
			schedule:  sched("FREQ=WEEKLY", "09:00", time.UTC),
			notBefore: midnight(time.UTC, 2026, 1, 7), until: midnight(time.UTC, 2026, 1, 22), from: midnight(time.UTC, 2026, 1, 1), n: 10,
			want: []string{"2026-01-07T09:00:00Z", "2026-01-14T09:00:00Z", "2026-01-21T09:00:00Z"},
		},
		"a rule with no day in the window yields nothing": {
			schedule: sched("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "12:00", chicago), notBefore: jan1, until: jan1Next, from: jan1, n: 10,
		},
	})
}

func runExpandCases(t *testing.T, tests map[string]expandCase) {
	t.Helper()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Expand(tc.schedule, tc.notBefore, tc.until, tc.from, tc.n)
			if err != nil {
				t.Fatalf("Expand: %v", err)
			}
			if diff := cmp.Diff(tc.want, utcStarts(got)); diff != "" {
				t.Errorf("starts (-want +got):\n%s", diff)
			}
			for _, o := range got {
				if d := o.End.Sub(o.Start); d != tc.schedule.Duration.Duration {
					t.Errorf("occurrence at %s lasts %s, want %s", o.Start, d, tc.schedule.Duration.Duration)
				}
				if o.Start.Location().String() != string(tc.schedule.TimeZone) {
					t.Errorf("occurrence at %s is in %s, want %s", o.Start, o.Start.Location(), tc.schedule.TimeZone)
				}
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	valid := sched("FREQ=MONTHLY;BYDAY=2TU", "12:00", chicago)
	with := func(edit func(*learningv1alpha1.Schedule)) learningv1alpha1.Schedule {
		s := valid
		edit(&s)
		return s
	}
	rule := func(r string) learningv1alpha1.Schedule {
		return with(func(s *learningv1alpha1.Schedule) { s.RRule = learningv1alpha1.RecurrenceRule(r) })
	}
	startTime := func(v string) learningv1alpha1.Schedule {
		return with(func(s *learningv1alpha1.Schedule) { s.StartTime = v })
	}
	zone := func(v string) learningv1alpha1.Schedule {
		return with(func(s *learningv1alpha1.Schedule) { s.TimeZone = learningv1alpha1.TimeZone(v) })
	}

	tests := map[string]struct {
		schedule learningv1alpha1.Schedule
		want     string
	}{
		"unknown time zone":        {zone("Mars/Base"), `schedule.timeZone: unknown time zone "Mars/Base"`},
		"the machine's local zone": {zone("Local"), `schedule.timeZone: unknown time zone "Local"`},
		"no time zone":             {zone(""), "schedule.timeZone: must be set to an IANA time zone name such as America/Chicago"},
		"unknown frequency":        {rule("FREQ=FORTNIGHTLY"), "schedule.rrule: undefined frequency: FORTNIGHTLY"},
		"unknown property":         {rule("FREQ=MONTHLY;COLOR=RED"), "schedule.rrule: unknown RRULE property: COLOR"},
		"malformed part":           {rule("FREQ=MONTHLY;BYDAY"), "schedule.rrule: wrong format"},
		"missing FREQ":             {rule("BYDAY=2TU"), "schedule.rrule: RRULE property FREQ is required"},
		"BYMONTHDAY out of range":  {rule("FREQ=MONTHLY;BYMONTHDAY=32"), "schedule.rrule: bymonthday must be between 1 and 31 or -1 and -31"},
		"bad weekday":              {rule("FREQ=MONTHLY;BYDAY=2XX"), "schedule.rrule: undefined weekday: 2XX"},
		"sub-daily frequency":      {rule("FREQ=HOURLY"), "schedule.rrule: FREQ=HOURLY is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY"},
		"time of day in the rule":  {rule("FREQ=DAILY;BYHOUR=9"), "schedule.rrule: BYHOUR, BYMINUTE and BYSECOND are not supported; the time of day is schedule.startTime"},
		"DTSTART in the rule":      {rule("FREQ=DAILY;DTSTART=20260101T090000Z"), "schedule.rrule: DTSTART is not supported; the schedule starts on the cohort's first day"},
		"several lines":            {rule("DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY"), "schedule.rrule: must be a single RRULE value without DTSTART or line breaks"},
		"COUNT=0":                  {rule("FREQ=DAILY;COUNT=0"), "schedule.rrule: COUNT must be at least 1"},
		"the 30th of February":     {rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31"), "schedule.rrule: BYMONTHDAY=30,31 falls in none of the months BYMONTH=2, so the rule never occurs"},
		"empty rule":               {rule(""), "schedule.rrule: must be set, for example FREQ=MONTHLY;BYDAY=2TU"},
		"hour 24":                  {startTime("24:00"), `schedule.startTime: "24:00" is not a time of day in HH:MM form (00:00 to 23:59)`},
		"minute 60":                {startTime("12:60"), `schedule.startTime: "12:60" is not a time of day in HH:MM form (00:00 to 23:59)`},
		"one-digit hour":           {startTime("9:00"), `schedule.startTime: "9:00" is not a time of day in HH:MM form (00:00 to 23:59)`},
		"words":                    {startTime("noon!"), `schedule.startTime: "noon!" is not a time of day in HH:MM form (00:00 to 23:59)`},
		"no start time":            {startTime(""), `schedule.startTime: "" is not a time of day in HH:MM form (00:00 to 23:59)`},
		"zero duration":            {with(func(s *learningv1alpha1.Schedule) { s.Duration = metav1.Duration{} }), "schedule.duration: must be positive, got 0s"},
		"negative duration":        {with(func(s *learningv1alpha1.Schedule) { s.Duration = metav1.Duration{Duration: -time.Hour} }), "schedule.duration: must be positive, got -1h0m0s"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			from := midnight(chicago, 2026, 1, 1)
			for _, n := range []int{0, 3} { // a bad schedule is reported even when nothing is asked for
				got, err := Expand(tc.schedule, from, from.AddDate(1, 0, 0), from, n)
				if err == nil {
					t.Fatalf("Expand(n=%d) returned %d occurrences and no error, want %q", n, len(got), tc.want)
				}
				if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
					t.Errorf("Expand(n=%d) error (-want +got):\n%s", n, diff)
				}
				if got != nil {
					t.Errorf("Expand(n=%d) returned occurrences with an error: %v", n, got)
				}
			}
		})
	}
}
