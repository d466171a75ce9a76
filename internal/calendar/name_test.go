package calendar

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cohort-dev/cohort-operator/internal/names"
)

func TestEventName(t *testing.T) {
	jan13 := time.Date(2026, 1, 13, 18, 0, 0, 0, time.UTC)
	// A name of exactly the longest cohort part that fits: 253 - len("-20260113-1200").
	longest := strings.Repeat("a", 239)

	tests := map[string]struct {
		cohort string
		start  time.Time
		loc    *time.Location
		want   string
	}{
		"local date and time in the schedule's zone": {
			cohort: "allyship-2026", start: jan13, loc: chicago,
			want: "allyship-2026-20260113-1200",
		},
		"the same instant given in another zone names the same event": {
			cohort: "allyship-2026", start: jan13.In(kolkata), loc: chicago,
			want: "allyship-2026-20260113-1200",
		},
		"local date, not the UTC date": {
			cohort: "operationalizing-equity-1", start: time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC), loc: newYork,
			want: "operationalizing-equity-1-20261105-1900",
		},
		"minutes and a half-hour zone": {
			cohort: "cop.allyship", start: time.Date(2026, 1, 2, 14, 35, 0, 0, time.UTC), loc: kolkata,
			want: "cop.allyship-20260102-2005",
		},
		"nil location means UTC": {
			cohort: "allyship-2026", start: jan13, loc: nil,
			want: "allyship-2026-20260113-1800",
		},
		"longest cohort part is kept whole": {
			cohort: longest, start: jan13, loc: chicago,
			want: longest + "-20260113-1200",
		},
		"longer cohort follows the naming rule: truncated prefix and a hash": {
			cohort: longest + "bcdef", start: jan13, loc: chicago,
			want: names.Derive(longest+"bcdef", "20260113-1200", names.ObjectLimit),
		},
		"a 253-character cohort name": {
			cohort: strings.Repeat("x", 253), start: jan13, loc: chicago,
			want: strings.Repeat("x", 244) + "-" + names.Derive(strings.Repeat("x", 253)+"-20260113-1200", "", 8),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := EventName(tc.cohort, tc.start, tc.loc)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EventName (-want +got):\n%s", diff)
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("EventName = %q is not a DNS subdomain name: %v", got, errs)
			}
			if again := EventName(tc.cohort, tc.start, tc.loc); again != got {
				t.Errorf("EventName is not stable: %q then %q", got, again)
			}
		})
	}
}

// TestEventNamesOfLongCohortsDiffer: two cohorts whose names share their first 240
// characters never generate the same event name.
func TestEventNamesOfLongCohortsDiffer(t *testing.T) {
	jan13 := time.Date(2026, 1, 13, 18, 0, 0, 0, time.UTC)
	a := EventName(strings.Repeat("a", 245)+"-one", jan13, chicago)
	b := EventName(strings.Repeat("a", 245)+"-two", jan13, chicago)
	if a == b {
		t.Fatalf("both cohorts generate %q", a)
	}
}

// TestEventNameOfExpandedOccurrences ties the two halves together: the names of a
// schedule's occurrences are distinct and carry the local start time.
func TestEventNameOfExpandedOccurrences(t *testing.T) {
	from := midnight(chicago, 2026, 1, 1)
	occ, err := Expand(sched("FREQ=MONTHLY;BYDAY=2TU", "12:00", chicago), from, from.AddDate(1, 0, 0), from, 52)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range occ {
		got = append(got, EventName("allyship-2026", o.Start, chicago))
	}
	want := []string{
		"allyship-2026-20260113-1200", "allyship-2026-20260210-1200", "allyship-2026-20260310-1200",
		"allyship-2026-20260414-1200", "allyship-2026-20260512-1200", "allyship-2026-20260609-1200",
		"allyship-2026-20260714-1200", "allyship-2026-20260811-1200", "allyship-2026-20260908-1200",
		"allyship-2026-20261013-1200", "allyship-2026-20261110-1200", "allyship-2026-20261208-1200",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
