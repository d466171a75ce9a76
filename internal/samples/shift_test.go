package samples

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestShiftMonths(t *testing.T) {
	tests := map[string]struct {
		text   string
		months int
		want   string
	}{
		"shift 0 is the identity, comments and odd dates included": {
			text:   "# started 2026-01-31\nstartDate: '2026-01-31' # 2026-02-30 is no date\nstart: 2026-11-10T18:00:00Z\n",
			months: 0,
			want:   "# started 2026-01-31\nstartDate: '2026-01-31' # 2026-02-30 is no date\nstart: 2026-11-10T18:00:00Z\n",
		},
		"text without dates is returned as is": {
			text:   "kind: Cohort\nmetadata:\n  name: allyship-2026\n",
			months: 5,
			want:   "kind: Cohort\nmetadata:\n  name: allyship-2026\n",
		},
		"a title's month moves with the dates, across the year too": {
			text:   "  title: Allyship monthly gathering, November\n  start: '2026-11-10T18:00:00Z'\n",
			months: 3,
			want:   "  title: Allyship monthly gathering, February\n  start: '2027-02-10T18:00:00Z'\n",
		},
		"every month a title names moves, backwards too; a list item's title too": {
			text:   "- title: \"March to May: a review\"\n",
			months: -4,
			want:   "- title: \"November to January: a review\"\n",
		},
		"month names outside titles, or inside longer words, stay": {
			text:   "# recorded through October\ndescription: Marchers in June\nsubtitle: June\ntitle: Mayday, Junebug\n",
			months: 1,
			want:   "# recorded through October\ndescription: Marchers in June\nsubtitle: June\ntitle: Mayday, Junebug\n",
		},
		"a date in single quotes moves within the year": {
			text:   "  startDate: '2026-01-01'\n",
			months: 2,
			want:   "  startDate: '2026-03-01'\n",
		},
		"a date-time rolls over into the next year and keeps its time": {
			text:   "  start: '2026-11-10T18:00:00Z'\n",
			months: 3,
			want:   "  start: '2027-02-10T18:00:00Z'\n",
		},
		"a date rolls over several years": {
			text:   "opens: 2025-11-01\n",
			months: 26,
			want:   "opens: 2028-01-01\n",
		},
		"the day is clamped to the end of a shorter month": {
			text:   `closes: "2026-01-31"`,
			months: 1,
			want:   `closes: "2026-02-28"`,
		},
		"the day is clamped to 29 February in a leap year": {
			text:   "closes: 2027-12-31",
			months: 2,
			want:   "closes: 2028-02-29",
		},
		"31 March plus one month is 30 April": {
			text:   "- 2026-03-31",
			months: 1,
			want:   "- 2026-04-30",
		},
		"a negative shift moves back across the year": {
			text:   "start: '2026-01-13T18:00:00Z'",
			months: -2,
			want:   "start: '2025-11-13T18:00:00Z'",
		},
		"a negative shift clamps too": {
			text:   "end: 2026-05-31",
			months: -3,
			want:   "end: 2026-02-28",
		},
		"fractional seconds and a numeric offset are kept": {
			text:   "at: 2026-05-31T23:59:59.123+02:00",
			months: 1,
			want:   "at: 2026-06-30T23:59:59.123+02:00",
		},
		"every date of a flow collection and a comment moves": {
			text:   "dates: [2026-01-01, \"2026-02-01\"] # until 2026-12-31\n{a: 2026-06-15}",
			months: 1,
			want:   "dates: [2026-02-01, \"2026-03-01\"] # until 2027-01-31\n{a: 2026-07-15}",
		},
		"the UNTIL date of a recurrence rule moves, time kept": {
			text:   "rrule: FREQ=MONTHLY;UNTIL=20261231T235959Z;BYDAY=2TU",
			months: 2,
			want:   "rrule: FREQ=MONTHLY;UNTIL=20270228T235959Z;BYDAY=2TU",
		},
		"a date-only UNTIL at the end of a quoted rule moves": {
			text:   "rrule: 'FREQ=WEEKLY;UNTIL=20260131'",
			months: -1,
			want:   "rrule: 'FREQ=WEEKLY;UNTIL=20251231'",
		},
		"dates glued to a longer token stay as written": {
			text:   "name: gathering-2026-11-10\nid: x2026-11-10\nn: 12026-11-10\nv: 2026-11-10-b\np: a/2026-11-10\nq: 2026-11-10.yaml\nr: 2026-11-10_x\nk: v1.2026-11-10",
			months: 1,
			want:   "name: gathering-2026-11-10\nid: x2026-11-10\nn: 12026-11-10\nv: 2026-11-10-b\np: a/2026-11-10\nq: 2026-11-10.yaml\nr: 2026-11-10_x\nk: v1.2026-11-10",
		},
		"a date-time without seconds or offset is not a whole token": {
			text:   "a: 2026-11-10T18:00\nb: 2026-11-10T18:00:00\nc: 2026-11-10 18:00",
			months: 1,
			want:   "a: 2026-11-10T18:00\nb: 2026-11-10T18:00:00\nc: 2026-12-10 18:00",
		},
		"invalid calendar dates stay as written": {
			text:   "a: 2026-02-30\nb: 2026-13-01\nc: 2026-00-10\nd: 2026-04-00",
			months: 1,
			want:   "a: 2026-02-30\nb: 2026-13-01\nc: 2026-00-10\nd: 2026-04-00",
		},
		"UNTIL glued to a letter or digit and bare digits stay as written": {
			text:   "a: XUNTIL=20261231\nb: UNTIL=202612310\nc: 20261231\nd: UNTIL=20261331",
			months: 1,
			want:   "a: XUNTIL=20261231\nb: UNTIL=202612310\nc: 20261231\nd: UNTIL=20261331",
		},
		"a shift beyond year 9999 or before year 0 leaves the date": {
			text:   "a: 9999-12-01\nb: 0000-01-01\nc: 2026-01-01",
			months: -1,
			want:   "a: 9999-11-01\nb: 0000-01-01\nc: 2025-12-01",
		},
		"several dates on one line and at both ends of the text": {
			text:   "2026-01-01 to 2026-06-30",
			months: 12,
			want:   "2027-01-01 to 2027-06-30",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ShiftMonths(tc.text, tc.months)); diff != "" {
				t.Errorf("ShiftMonths(%d) mismatch (-want +got):\n%s", tc.months, diff)
			}
		})
	}
}

func TestShiftMonthsThereAndBack(t *testing.T) {
	// Days up to the 28th survive any round trip; later days may be clamped.
	text := "a: 2026-01-28\nb: '2026-11-10T18:00:00Z'\nc: FREQ=DAILY;UNTIL=20261215\ntitle: December and January\n"
	for _, months := range []int{-25, -12, -1, 1, 3, 11, 12, 13, 120} {
		if diff := cmp.Diff(text, ShiftMonths(ShiftMonths(text, months), -months)); diff != "" {
			t.Errorf("shifting by %d and back (-want +got):\n%s", months, diff)
		}
	}
}

func TestShiftFor(t *testing.T) {
	tests := map[string]struct {
		now  time.Time
		want int
	}{
		"the reference day itself":           {now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), want: 0},
		"the first day of the same month":    {now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), want: 0},
		"the last instant of the same month": {now: time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC), want: 0},
		"the next month":                     {now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), want: 1},
		"across the new year":                {now: time.Date(2027, 1, 5, 8, 0, 0, 0, time.UTC), want: 2},
		"years later":                        {now: time.Date(2030, 11, 30, 0, 0, 0, 0, time.UTC), want: 48},
		"the month before":                   {now: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), want: -1},
		"a year and a month before":          {now: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), want: -13},
		"now is read in its own location": {
			now:  time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC).In(time.FixedZone("CST", -6*3600)),
			want: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ShiftFor(tc.now)); diff != "" {
				t.Errorf("ShiftFor(%s) mismatch (-want +got):\n%s", tc.now, diff)
			}
		})
	}
}

func TestShiftForMovesTheReferenceDayIntoTheCurrentMonth(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2031, 7, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC),
	} {
		got := ShiftMonths(ReferenceDay, ShiftFor(now))
		want := time.Date(now.Year(), now.Month(), 22, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if got != want {
			t.Errorf("on %s the reference day becomes %s, want %s", now.Format(time.DateOnly), got, want)
		}
	}
}
