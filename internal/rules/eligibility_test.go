package rules

import (
	"testing"
	"time"
)

// year is the calendar year y as a term, in UTC.
func year(y int) Term {
	return Term{Start: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestConsecutiveRun(t *testing.T) {
	cases := map[string]struct {
		served []Term
		term   Term
		want   int
	}{
		"no history":                         {term: year(2026), want: 0},
		"the year before":                    {served: []Term{year(2025)}, term: year(2026), want: 1},
		"two years before":                   {served: []Term{year(2025), year(2024)}, term: year(2026), want: 2},
		"a gap inside the chain breaks it":   {served: []Term{year(2025), year(2023)}, term: year(2026), want: 1},
		"a later term does not count":        {served: []Term{year(2027)}, term: year(2026), want: 0},
		"a gap of 31 days still chains":      {served: []Term{year(2025)}, term: Term{Start: day(2026, 2, 1), End: day(2027, 2, 1)}, want: 1},
		"a gap of 32 days breaks the run":    {served: []Term{year(2025)}, term: Term{Start: day(2026, 2, 2), End: day(2027, 2, 2)}, want: 0},
		"an overlapping term is consecutive": {served: []Term{{Start: day(2025, 7, 1), End: day(2026, 7, 1)}}, term: year(2026), want: 1},
		"a term in progress counts":          {served: []Term{{Start: day(2026, 1, 1), End: day(2026, 12, 31)}}, term: Term{Start: day(2026, 6, 1), End: day(2027, 6, 1)}, want: 1},
		"same start counts once":             {served: []Term{year(2026)}, term: year(2026), want: 1},
		"the longest of branching chains counts": {
			served: []Term{{Start: day(2025, 7, 1), End: day(2026, 1, 1)}, year(2025), year(2024)},
			term:   year(2026), want: 3,
		},
		"empty terms never chain": {served: []Term{{Start: day(2026, 1, 1), End: day(2026, 1, 1)}}, term: year(2026), want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ConsecutiveRun(tc.served, tc.term); got != tc.want {
				t.Errorf("ConsecutiveRun = %d, want %d", got, tc.want)
			}
		})
	}
}
