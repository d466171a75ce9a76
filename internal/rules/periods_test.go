package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPeriodAt(t *testing.T) {
	la, chi := zone(t, "America/Los_Angeles"), chicago(t)
	cases := []struct {
		name       string
		cadence    Cadence
		at         string
		loc        *time.Location
		period     string
		start, end string // in UTC
		hours      float64
	}{
		{"a month in UTC", Monthly, "2026-11-15T10:00:00Z", time.UTC, "2026-11", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 30 * 24},
		{"still November in Los Angeles after midnight UTC", Monthly, "2026-12-01T03:00:00Z", la, "2026-11", "2026-11-01T07:00:00Z", "2026-12-01T08:00:00Z", 30*24 + 1},
		{"the first instant of a month is in it", Monthly, "2026-12-01T08:00:00Z", la, "2026-12", "2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z", 31 * 24},
		{"the last instant of a month is in it", Monthly, "2026-12-01T07:59:59.999999999Z", la, "2026-11", "2026-11-01T07:00:00Z", "2026-12-01T08:00:00Z", 30*24 + 1},
		{"a month that springs forward is an hour short", Monthly, "2026-03-20T12:00:00Z", chi, "2026-03", "2026-03-01T06:00:00Z", "2026-04-01T05:00:00Z", 31*24 - 1},
		{"a month that falls back is an hour long", Monthly, "2026-11-01T05:30:00Z", chi, "2026-11", "2026-11-01T05:00:00Z", "2026-12-01T06:00:00Z", 30*24 + 1},
		{"February of a leap year", Monthly, "2028-02-29T23:00:00Z", time.UTC, "2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", 29 * 24},
		{"February of a century that is not a leap year", Monthly, "2100-02-10T00:00:00Z", time.UTC, "2100-02", "2100-02-01T00:00:00Z", "2100-03-01T00:00:00Z", 28 * 24},
		{"the fourth quarter runs into the new year", Quarterly, "2026-12-31T23:00:00Z", time.UTC, "2026-q4", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", 92 * 24},
		{"New Year's Eve in Chicago is still the fourth quarter", Quarterly, "2027-01-01T05:59:00Z", chi, "2026-q4", "2026-10-01T05:00:00Z", "2027-01-01T06:00:00Z", 92*24 + 1},
		{"a month whose first midnight does not exist begins at the transition", Monthly, "2017-10-01T04:30:00Z", zone(t, "America/Asuncion"), "2017-10", "2017-10-01T04:00:00Z", "2017-11-01T03:00:00Z", 31*24 - 1},
		{"the first quarter of a leap year", Quarterly, "2028-03-31T12:00:00Z", chi, "2028-q1", "2028-01-01T06:00:00Z", "2028-04-01T05:00:00Z", 91*24 - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PeriodAt(tc.cadence, utc(tc.at), tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{p.Name(), p.Start.UTC().Format(time.RFC3339), p.End.UTC().Format(time.RFC3339)}
			if diff := cmp.Diff([]string{tc.period, tc.start, tc.end}, got); diff != "" {
				t.Errorf("period (-want +got):\n%s", diff)
			}
			if h := p.End.Sub(p.Start).Hours(); h != tc.hours {
				t.Errorf("the period lasts %vh, want %vh", h, tc.hours)
			}
			if !p.Contains(utc(tc.at)) {
				t.Errorf("%s does not contain %s", p.Name(), tc.at)
			}
		})
	}
	if _, err := PeriodAt("Weekly", time.Now(), time.UTC); err == nil {
		t.Error("an unknown cadence was accepted")
	}
}

func TestPeriodNeighboursAndFreeze(t *testing.T) {
	chi := chicago(t)
	oct, err := PeriodAt(Monthly, utc("2026-10-15T12:00:00Z"), chi)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{oct.Previous().Name(), oct.Name(), oct.Next().Name(), oct.Next().Next().Next().Name()}; !cmp.Equal(got, []string{"2026-09", "2026-10", "2026-11", "2027-01"}) {
		t.Errorf("neighbours %v", got)
	}
	// Seven local days after October closes, across the end of daylight saving time
	// on November 1: midnight of November 8 in Chicago is 06:00 UTC.
	if got, want := oct.FreezesAt(7), utc("2026-11-08T06:00:00Z"); !got.Equal(want) {
		t.Errorf("October freezes at %s, want %s", got.UTC(), want)
	}
	q1, err := PeriodAt(Quarterly, utc("2027-02-01T00:00:00Z"), chi)
	if err != nil {
		t.Fatal(err)
	}
	if got := q1.Previous().Name(); got != "2026-q4" {
		t.Errorf("the quarter before 2027-q1 is %s", got)
	}
}

func TestParsePeriod(t *testing.T) {
	chi := chicago(t)
	for _, name := range []string{"2026-01", "2026-12", "2028-02", "2026-q1", "2026-q4"} {
		p, err := ParsePeriod(name, chi)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.Name() != name {
			t.Errorf("%s reads back as %s", name, p.Name())
		}
	}
	for _, name := range []string{"2026-13", "2026-00", "2026-q5", "2026-q0", "2026-Q1", "2026-1", "26-01", "2026-011", "2026-01x", ""} {
		if p, err := ParsePeriod(name, chi); err == nil {
			t.Errorf("%q was read as %s", name, p.Name())
		}
	}
}

// FuzzPeriods: for any instant, zone and cadence, the period holds the instant, starts
// at local midnight of a first day, meets its neighbours exactly, and its name reads
// back as the same period.
func FuzzPeriods(f *testing.F) {
	zones := []string{"UTC", "America/Chicago", "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia", "America/Havana", "America/Asuncion"}
	f.Add(int64(1793491200), uint8(1), true)
	f.Add(int64(1835481600), uint8(6), false)
	// Paraguay sprang forward at midnight of October 1, 2017: that month's first local
	// midnight does not exist.
	f.Add(int64(1506832200), uint8(8), false)
	f.Fuzz(func(t *testing.T, seconds int64, z uint8, quarterly bool) {
		at := time.Unix(seconds%(200*365*24*3600), 0) // within about 1770-2170
		loc := zone(t, zones[int(z)%len(zones)])
		cadence := Monthly
		if quarterly {
			cadence = Quarterly
		}
		p, err := PeriodAt(cadence, at, loc)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Contains(at) {
			t.Fatalf("%s [%s, %s) does not hold %s", p.Name(), p.Start, p.End, at.In(loc))
		}
		if s := p.Start.In(loc); s.Day() != 1 {
			t.Fatalf("%s starts at %s", p.Name(), s)
		}
		if !p.Next().Start.Equal(p.End) || !p.Previous().End.Equal(p.Start) {
			t.Fatalf("%s does not meet its neighbours: %s, %s", p.Name(), p.Previous().Name(), p.Next().Name())
		}
		back, err := ParsePeriod(p.Name(), loc)
		if err != nil || !back.Start.Equal(p.Start) || !back.End.Equal(p.End) {
			t.Fatalf("%s reads back as %+v (%v)", p.Name(), back, err)
		}
	})
}

func TestJudgeKPI(t *testing.T) {
	v := func(n int64) *int64 { return &n }
	cases := []struct {
		name      string
		m         Measure
		target    int64
		direction Direction
		previous  *Measure
		want      Judgement
	}{
		{"at the target is met", Measure{Value: 80, Population: 18, Known: true}, 80, AtLeast, nil, Judgement{Verdict: Met, Value: v(80)}},
		{"under the target is below", Measure{Value: 79, Population: 18, Known: true}, 80, AtLeast, &Measure{Value: 85, Population: 17, Known: true}, Judgement{Verdict: Below, Value: v(79), Change: v(-6)}},
		{"at most: under the target is met", Measure{Value: 2, Population: 20, Known: true}, 3, AtMost, nil, Judgement{Verdict: Met, Value: v(2)}},
		{"at most: over the target is below", Measure{Value: 4, Population: 20, Known: true}, 3, AtMost, nil, Judgement{Verdict: Below, Value: v(4)}},
		{"over four people is suppressed", Measure{Value: 100, Population: 4, Known: true}, 80, AtLeast, nil, Judgement{Verdict: Suppressed}},
		{"five people are reported", Measure{Value: 100, Population: 5, Known: true}, 80, AtLeast, nil, Judgement{Verdict: Met, Value: v(100)}},
		{"a count of things is never suppressed", Measure{Value: 1, Known: true}, 1, AtLeast, nil, Judgement{Verdict: Met, Value: v(1)}},
		{"nothing to measure", Measure{}, 80, AtLeast, &Measure{Value: 90, Population: 9, Known: true}, Judgement{Verdict: NoData}},
		{"no change against a suppressed period", Measure{Value: 90, Population: 9, Known: true}, 80, AtLeast, &Measure{Value: 100, Population: 3, Known: true}, Judgement{Verdict: Met, Value: v(90)}},
		{"no change against a period without data", Measure{Value: 90, Population: 9, Known: true}, 80, AtLeast, &Measure{}, Judgement{Verdict: Met, Value: v(90)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, JudgeKPI(tc.m, tc.target, tc.direction, tc.previous)); diff != "" {
				t.Errorf("judgement (-want +got):\n%s", diff)
			}
		})
	}
}
