package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var epoch = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)

// members returns n claiming, eligible Member candidates m01, m02, ... created a minute
// apart in that order.
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
