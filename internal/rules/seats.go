package rules

import (
	"fmt"
	"strings"
)

// RoleSeats counts the seats of one role.
type RoleSeats struct {
	Role                         string
	Min, Max, Seated, Waitlisted int
}

// Staffing returns one message per role below its minimum, such as
// "Lead: 0 of minimum 1", in the order of seats; nil when every role is staffed.
func Staffing(seats []RoleSeats) []string {
	var short []string
	for _, s := range seats {
		if s.Seated < s.Min {
			short = append(short, fmt.Sprintf("%s: %d of minimum %d", s.Role, s.Seated, s.Min))
		}
	}
	return short
}

// SeatSummary formats the seated and maximum counts per role in the order of seats, such
// as "Lead 2/2, Member 18/20"; empty when there are no roles.
func SeatSummary(seats []RoleSeats) string {
	parts := make([]string, 0, len(seats))
	for _, s := range seats {
		parts = append(parts, fmt.Sprintf("%s %d/%d", s.Role, s.Seated, s.Max))
	}
	return strings.Join(parts, ", ")
}
