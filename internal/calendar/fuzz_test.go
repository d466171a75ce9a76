package calendar

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fuzzRules are valid rules covering ordinals, BYSETPOS, negative month days, INTERVAL,
// COUNT and both UNTIL forms.
var fuzzRules = []string{
	"FREQ=MONTHLY;BYDAY=2TU",
	"FREQ=WEEKLY;BYDAY=TH",
	"FREQ=DAILY",
	"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
	"FREQ=MONTHLY;BYMONTHDAY=-1",
	"FREQ=MONTHLY;BYDAY=1TH",
	"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
	"FREQ=MONTHLY;BYDAY=2TU;COUNT=6",
	"FREQ=WEEKLY;BYDAY=SU;UNTIL=20260901",
	"FREQ=DAILY;UNTIL=20260310T080000Z",
	"FREQ=YEARLY;BYMONTH=3,4,9,10,11;BYDAY=1SU",
	"FREQ=DAILY;INTERVAL=3;COUNT=40",
}

// fuzzZones have DST in both hemispheres, a transition at midnight (Santiago), a
// half-hour transition (Lord Howe) and none at all.
var fuzzZones = []*time.Location{time.UTC, chicago, berlin, newYork, santiago, lordHowe, kolkata}

func FuzzExpand(f *testing.F) {
	f.Add(uint8(0), uint8(12), uint8(0), uint8(1), int16(0), uint8(12))   // 2TU, Chicago noon
	f.Add(uint8(2), uint8(2), uint8(30), uint8(1), int16(60), uint8(10))  // daily into Chicago's gap
	f.Add(uint8(2), uint8(0), uint8(30), uint8(4), int16(240), uint8(20)) // daily into Santiago's midnight gap
	f.Add(uint8(2), uint8(2), uint8(15), uint8(5), int16(270), uint8(10)) // daily into Lord Howe's half-hour gap
	f.Add(uint8(7), uint8(18), uint8(0), uint8(2), int16(120), uint8(5))  // COUNT with a later from
	f.Add(uint8(9), uint8(23), uint8(59), uint8(3), int16(-30), uint8(0)) // n = 0
	f.Fuzz(func(t *testing.T, rule, hour, minute, zone uint8, fromDays int16, n uint8) {
		loc := fuzzZones[int(zone)%len(fuzzZones)]
		hh, mm := int(hour)%24, int(minute)%60
		s := sched(fuzzRules[int(rule)%len(fuzzRules)], fmt.Sprintf("%02d:%02d", hh, mm), loc)
		notBefore := midnight(loc, 2026, 1, 1)
		until := notBefore.AddDate(1, 0, 0)
		from := notBefore.AddDate(0, 0, int(fromDays)%500)
		limit := int(n) % 64

		got, err := Expand(s, notBefore, until, from, limit)
		if err != nil {
			t.Fatalf("Expand(%q at %s in %s): %v", s.RRule, s.StartTime, loc, err)
		}
		all, err := Expand(s, notBefore, until, notBefore, 1<<20)
		if err != nil {
			t.Fatalf("Expand of the whole cohort: %v", err)
		}

		if len(got) > limit {
			t.Errorf("got %d occurrences, want at most %d", len(got), limit)
		}
		lower := from
		if notBefore.After(lower) {
			lower = notBefore
		}
		for i, o := range got {
			if i > 0 && !o.Start.After(got[i-1].Start) {
				t.Errorf("occurrence %d at %s does not follow %s", i, o.Start, got[i-1].Start)
			}
			if o.Start.Before(lower) || !o.Start.Before(until) {
				t.Errorf("occurrence at %s is outside [%s, %s)", o.Start, lower, until)
			}
			if d := o.End.Sub(o.Start); d != defaultDuration {
				t.Errorf("occurrence at %s lasts %s, want %s", o.Start, d, defaultDuration)
			}
			checkWallClock(t, o.Start, loc, hh, mm)
		}
		names := map[string]time.Time{}
		for _, o := range all {
			name := EventName("allyship-2026", o.Start, loc)
			if prev, ok := names[name]; ok {
				t.Errorf("occurrences at %s and %s are both named %q", prev, o.Start, name)
			}
			names[name] = o.Start
		}
		// Asking from a later point must give the next occurrences of the same schedule.
		var want []string
		for _, o := range all {
			if len(want) < limit && !o.Start.Before(from) {
				want = append(want, o.Start.UTC().Format(time.RFC3339))
			}
		}
		if diff := cmp.Diff(want, utcStarts(got)); diff != "" {
			t.Errorf("from %s differs from the whole cohort's expansion (-want +got):\n%s", from, diff)
		}
	})
}

// checkWallClock asserts that start is hh:mm on the local clock or, when hh:mm does not
// exist on that day, the instant time.Date resolves it to.
func checkWallClock(t *testing.T, start time.Time, loc *time.Location, hh, mm int) {
	t.Helper()
	local := start.In(loc)
	if local.Hour() == hh && local.Minute() == mm {
		return
	}
	// A gap at midnight can resolve to the evening before, so look at the neighbours too.
	for _, days := range []int{-1, 0, 1} {
		day := local.AddDate(0, 0, days)
		resolved := time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, loc)
		exists := resolved.Hour() == hh && resolved.Minute() == mm
		if !exists && resolved.Equal(start) {
			return
		}
	}
	t.Errorf("occurrence at %s is %s local, want %02d:%02d (which exists that day)", start.UTC(), local.Format("15:04"), hh, mm)
}
