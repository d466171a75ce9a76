package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var epoch = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)

// members returns n claiming, eligible Member candidates m01, m02, ... created a minute
// apart in that order.
func members(n int) []Candidate {
	out := make([]Candidate, n)
	for i := range out {
		out[i] = Candidate{
			Name:     fmt.Sprintf("m%02d", i+1),
			Created:  epoch.Add(time.Duration(i) * time.Minute),
			Role:     "Member",
			Eligible: true,
			Claiming: true,
		}
	}
	return out
}

// lead is a claiming, eligible Lead candidate.
func lead(name string, created time.Time) Candidate {
	return Candidate{Name: name, Created: created, Role: "Lead", Eligible: true, Claiming: true}
}

type seatsCase struct {
	roles      []RolePolicy
	candidates []Candidate
	want       map[string]Seat
	wantRoles  []RoleSeats
}

func runAllocateSeats(t *testing.T, cases map[string]seatsCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, gotRoles := AllocateSeats(tc.roles, tc.candidates)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("seats (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRoles, gotRoles); diff != "" {
				t.Errorf("role seats (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAllocateSeats covers seat order and waitlist positions.
func TestAllocateSeats(t *testing.T) {
	twentyTwo := members(22)
	seatedTwenty := map[string]Seat{"m21": {Position: 1}, "m22": {Position: 2}}
	for _, c := range twentyTwo[:20] {
		seatedTwenty[c.Name] = Seat{Seated: true}
	}
	runAllocateSeats(t, map[string]seatsCase{
		"22 candidates for 20 seats": {
			roles:      seedRoles(),
			candidates: twentyTwo,
			want:       seatedTwenty,
			wantRoles: []RoleSeats{
				{Role: "Lead", Min: 1, Max: 2},
				{Role: "Member", Min: 15, Max: 20, Seated: 20, Waitlisted: 2},
			},
		},
		"input order does not matter": {
			roles:      seedRoles(),
			candidates: append(append([]Candidate{}, twentyTwo[11:]...), twentyTwo[:11]...),
			want:       seatedTwenty,
			wantRoles: []RoleSeats{
				{Role: "Lead", Min: 1, Max: 2},
				{Role: "Member", Min: 15, Max: 20, Seated: 20, Waitlisted: 2},
			},
		},
		"ordered by creation time, then name": {
			roles: seedRoles(),
			candidates: []Candidate{
				lead("bea", epoch),
				lead("ana", epoch),
				lead("cal", epoch.Add(-time.Second)),
				lead("dee", epoch.Add(time.Second)),
			},
			want: map[string]Seat{
				"cal": {Seated: true},
				"ana": {Seated: true},
				"bea": {Position: 1},
				"dee": {Position: 2},
			},
			wantRoles: []RoleSeats{
				{Role: "Lead", Min: 1, Max: 2, Seated: 2, Waitlisted: 2},
				{Role: "Member", Min: 15, Max: 20},
			},
		},
		"no roles": {
			candidates: []Candidate{lead("ana", epoch)},
			want:       map[string]Seat{},
			wantRoles:  []RoleSeats{},
		},
		"role listed twice counts once": {
			roles:      []RolePolicy{{Name: "Lead", Max: 1}, {Name: "Lead", Max: 5}},
			candidates: []Candidate{lead("ana", epoch), lead("bea", epoch)},
			want:       map[string]Seat{"ana": {Seated: true}, "bea": {Position: 1}},
			wantRoles:  []RoleSeats{{Role: "Lead", Max: 1, Seated: 1, Waitlisted: 1}},
		},
	})
}

// TestAllocateSeatsCompetition covers who competes at all: claiming, eligible candidates of a known role.
func TestAllocateSeatsCompetition(t *testing.T) {
	runAllocateSeats(t, map[string]seatsCase{
		"a seated one that stops claiming promotes the head of the waitlist": {
			roles: seedRoles(),
			candidates: []Candidate{
				{Name: "ana", Created: epoch, Role: "Lead", Eligible: true, Claiming: false},
				lead("bea", epoch.Add(time.Minute)),
				lead("cal", epoch.Add(2*time.Minute)),
				lead("dee", epoch.Add(3*time.Minute)),
			},
			want: map[string]Seat{
				"bea": {Seated: true},
				"cal": {Seated: true},
				"dee": {Position: 1},
			},
			wantRoles: []RoleSeats{
				{Role: "Lead", Min: 1, Max: 2, Seated: 2, Waitlisted: 1},
				{Role: "Member", Min: 15, Max: 20},
			},
		},
		"ineligible candidates are skipped": {
			roles: seedRoles(),
			candidates: []Candidate{
				{Name: "ana", Created: epoch, Role: "Lead", Eligible: false, Claiming: true},
				lead("bea", epoch.Add(time.Minute)),
				lead("cal", epoch.Add(2*time.Minute)),
			},
			want: map[string]Seat{"bea": {Seated: true}, "cal": {Seated: true}},
			wantRoles: []RoleSeats{
				{Role: "Lead", Min: 1, Max: 2, Seated: 2},
				{Role: "Member", Min: 15, Max: 20},
			},
		},
		"unknown role gets no entry": {
			roles: seedRoles(),
			candidates: []Candidate{
				{Name: "ana", Created: epoch, Role: "Facilitator", Eligible: true, Claiming: true},
				lead("bea", epoch.Add(time.Minute)),
			},
			want: map[string]Seat{"bea": {Seated: true}},
			wantRoles: []RoleSeats{
				{Role: "Lead", Min: 1, Max: 2, Seated: 1},
				{Role: "Member", Min: 15, Max: 20},
			},
		},
	})
}

func TestStaffing(t *testing.T) {
	cases := map[string]struct {
		seats []RoleSeats
		want  []string
	}{
		"staffed": {
			seats: []RoleSeats{{Role: "Lead", Min: 1, Max: 2, Seated: 1}, {Role: "Member", Max: 20}},
		},
		"no lead": {
			seats: []RoleSeats{{Role: "Lead", Min: 1, Max: 2}, {Role: "Member", Min: 15, Max: 20, Seated: 18}},
			want:  []string{"Lead: 0 of minimum 1"},
		},
		"several roles short, in roles order": {
			seats: []RoleSeats{{Role: "Lead", Min: 1, Max: 2}, {Role: "Member", Min: 15, Max: 20, Seated: 14}},
			want:  []string{"Lead: 0 of minimum 1", "Member: 14 of minimum 15"},
		},
		"no roles": {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Staffing(tc.seats)); diff != "" {
				t.Errorf("Staffing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeatSummary(t *testing.T) {
	cases := map[string]struct {
		seats []RoleSeats
		want  string
	}{
		"two roles": {
			seats: []RoleSeats{{Role: "Lead", Max: 2, Seated: 2}, {Role: "Member", Max: 20, Seated: 18, Waitlisted: 3}},
			want:  "Lead 2/2, Member 18/20",
		},
		"one role": {seats: []RoleSeats{{Role: "Facilitator", Max: 3}}, want: "Facilitator 0/3"},
		"no roles": {want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := SeatSummary(tc.seats); got != tc.want {
				t.Errorf("SeatSummary = %q, want %q", got, tc.want)
			}
		})
	}
}
