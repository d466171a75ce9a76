package calendar

import (
	"errors"
	"testing"
	"time"
)

// TestWalkCap checks that a walk stops at MaxCandidates dates with
// ErrTooManyCandidates, and only when it had to go on: the cohort's end, the rule's
// UNTIL or COUNT, or enough occurrences end it first.
func TestWalkCap(t *testing.T) {
	const never = "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO"
	start := midnight(time.UTC, 2026, 1, 1)
	forever := midnight(time.UTC, 9999, 12, 31)
	cases := map[string]struct {
		rule      string
		end       time.Time
		n         int
		wantErr   bool
		wantCount int
	}{
		"a rule that never matches until the year 9999 reaches the cap": {rule: never, end: forever, n: 5000, wantErr: true},
		"the same rule over the longest admitted cohort does not":       {rule: never, end: midnight(time.UTC, 2199, 12, 31), n: 5000},
		"its UNTIL ends the walk before the cap":                        {rule: never + ";UNTIL=20271231T000000Z", end: forever, n: 5000},
		"its COUNT ends the walk before the cap":                        {rule: "FREQ=YEARLY;COUNT=3", end: forever, n: 5000, wantCount: 3},
		"enough occurrences end the walk before the cap":                {rule: "FREQ=WEEKLY;BYDAY=TU", end: forever, n: 10, wantCount: 10},
		"a daily rule over the longest admitted cohort does not":        {rule: "FREQ=DAILY", end: midnight(time.UTC, 2199, 12, 31), n: 100_000, wantCount: 63_551},
		"a weekly rule to the year 9999 reaches it":                     {rule: "FREQ=WEEKLY;BYDAY=TU", end: forever, n: 1_000_000, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := Walk(sched(tc.rule, "12:00", time.UTC), start, tc.end, start, tc.n)
			if got := errors.Is(err, ErrTooManyCandidates); got != tc.wantErr {
				t.Fatalf("error %v, want ErrTooManyCandidates: %v", err, tc.wantErr)
			}
			if err == nil && len(w.Occurrences) != tc.wantCount {
				t.Errorf("%d occurrences, want %d", len(w.Occurrences), tc.wantCount)
			}
		})
	}
}

// TestWalkCountsEarlierOccurrences checks that one walk tells what comes next and
// whether the schedule occurs in the cohort at all.
func TestWalkCountsEarlierOccurrences(t *testing.T) {
	w, err := Walk(twoTueNoonChicago, jan1, jan1Next, midnight(chicago, 2026, 7, 1), 2)
	if err != nil {
		t.Fatal(err)
	}
	if w.Earlier != 6 || len(w.Occurrences) != 2 {
		t.Errorf("earlier %d, next %d; want 6 (January to June) and 2", w.Earlier, len(w.Occurrences))
	}
}
