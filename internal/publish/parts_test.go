package publish

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// longRoster is a roster of n members whose display names are 128 characters of four
// bytes each, the longest the API admits.
func longRoster(n int) Roster {
	r := Roster{Cohort: "allyship-2026", Members: make([]RosterEntry, n)}
	for i := range r.Members {
		percent := int32(i % 101)
		r.Members[i] = RosterEntry{
			DisplayName:       fmt.Sprintf("%05d ", i) + strings.Repeat("\U0001F600", 122),
			Organization:      fmt.Sprintf("org-%03d", i%250),
			Role:              "Member",
			TeamRole:          "Facilitator",
			Seat:              SeatHeld,
			Phase:             "Active",
			TermStart:         "2026-01-01",
			TermEnd:           "2026-12-31",
			AttendancePercent: &percent,
		}
	}
	return r
}

func decodeParts[T any](t *testing.T, d Document) []T {
	t.Helper()
	parts := make([]T, len(d.Parts))
	for i, p := range d.Parts {
		if err := json.Unmarshal(p, &parts[i]); err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
	}
	return parts
}

// TestSplitRosterOfFiveThousand: a roster far over one ConfigMap is split into parts
// that each fit the budget and together hold every member once, in order.
func TestSplitRosterOfFiveThousand(t *testing.T) {
	r := longRoster(5000)
	whole, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	d, err := SplitRoster(r, Budget)
	if err != nil {
		t.Fatalf("SplitRoster: %v", err)
	}
	// The parts hold the whole document plus a little per part: never more parts than
	// the whole needs plus one.
	if lo, hi := len(whole)/Budget+1, len(whole)/Budget+2; len(d.Parts) < lo || len(d.Parts) > hi {
		t.Errorf("%d parts for %d bytes, want %d to %d", len(d.Parts), len(whole), lo, hi)
	}
	for i, p := range d.Parts {
		if len(p) > Budget {
			t.Errorf("part %d is %d bytes, over the budget of %d", i+1, len(p), Budget)
		}
	}
	parts := decodeParts[Roster](t, d)
	for i, p := range parts {
		if p.Cohort != r.Cohort {
			t.Errorf("part %d is of cohort %q", i+1, p.Cohort)
		}
		if i < len(parts)-1 {
			// Full: the next member would have taken the part over the budget.
			next := parts[i+1].Members[0]
			fuller := Roster{Cohort: p.Cohort, Members: append(p.Members, next)}
			if b, _ := Encode(fuller); len(b) <= Budget {
				t.Errorf("part %d (%d members) closed while the next member fits (%d bytes)", i+1, len(p.Members), len(b))
			}
		}
	}
	if diff := cmp.Diff(r, MergeRoster(parts)); diff != "" {
		t.Errorf("merged parts differ from the roster (-want +got):\n%s", diff)
	}
}

func TestSplitRosterSmall(t *testing.T) {
	cases := map[string]struct {
		roster Roster
		budget int
		parts  []int // members per part
	}{
		"an empty roster is one part":    {roster: Roster{Cohort: "c", Members: []RosterEntry{}}, budget: 100, parts: []int{0}},
		"a roster that fits is one part": {roster: longRoster(3), budget: Budget, parts: []int{3}},
		"one member per part":            {roster: longRoster(3), budget: 900, parts: []int{1, 1, 1}},
		"two members per part":           {roster: longRoster(5), budget: 1700, parts: []int{2, 2, 1}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := SplitRoster(tc.roster, tc.budget)
			if err != nil {
				t.Fatalf("SplitRoster: %v", err)
			}
			var got []int
			for i, p := range decodeParts[Roster](t, d) {
				got = append(got, len(p.Members))
				if len(d.Parts[i]) > tc.budget {
					t.Errorf("part %d is %d bytes, over %d", i+1, len(d.Parts[i]), tc.budget)
				}
			}
			if diff := cmp.Diff(tc.parts, got); diff != "" {
				t.Errorf("members per part (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitRosterMemberOverBudget(t *testing.T) {
	if _, err := SplitRoster(longRoster(2), 300); err == nil || !strings.Contains(err.Error(), "over the budget of 300") {
		t.Errorf("error = %v, want a part over the budget", err)
	}
}

func TestSplitDigest(t *testing.T) {
	a, _ := SplitRoster(longRoster(4), 1700)
	again, _ := SplitRoster(longRoster(4), 1700)
	changed := longRoster(4)
	changed.Members[3].Phase = "Expired"
	b, _ := SplitRoster(changed, 1700)
	if a.Digest != again.Digest || !strings.HasPrefix(a.Digest, "sha256:") {
		t.Errorf("digests of one roster: %q and %q", a.Digest, again.Digest)
	}
	if a.Digest == b.Digest {
		t.Errorf("a change in the last part leaves the digest %q", a.Digest)
	}
}

// TestSplitOverview: the attendance list is split; the first part holds the rest.
func TestSplitOverview(t *testing.T) {
	start := time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)
	o := Overview{
		Cohort:    CohortSummary{Name: "allyship-2026", DisplayName: "Allyship 2026", Phase: "Active", StartDate: "2026-01-01", EndDate: "2026-12-31", TimeZone: "UTC"},
		Community: &Community{Name: "allyship", DisplayName: "Allyship", Purpose: strings.Repeat("p", 500)},
		Roles:     []RoleSeats{{Name: "Member", MaxMembers: 20, Seated: 18}},
		Upcoming:  []Event{{Title: "Next", Type: "Gathering", Start: start, End: start.Add(time.Hour)}},
	}
	for i := range 2000 {
		o.Attendance = append(o.Attendance, EventAttendance{Title: fmt.Sprintf("%04d ", i) + strings.Repeat("界", 195), Start: start.AddDate(0, 0, -i), Present: 18})
	}
	d, err := SplitOverview(o, Budget)
	if err != nil {
		t.Fatalf("SplitOverview: %v", err)
	}
	if len(d.Parts) < 2 {
		t.Fatalf("%d parts, want the overview split", len(d.Parts))
	}
	parts := decodeParts[Overview](t, d)
	for i, p := range parts[1:] {
		if p.Cohort != o.Cohort || p.Community != nil || len(p.Upcoming) != 0 {
			t.Errorf("part %d holds more than the cohort and attendance: %+v", i+2, p)
		}
	}
	if diff := cmp.Diff(o, MergeOverview(parts)); diff != "" {
		t.Errorf("merged parts differ from the overview (-want +got):\n%s", diff)
	}
}
