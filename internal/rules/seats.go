package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Candidate is one Membership competing for a seat in its role.
type Candidate struct {
	Name     string    // Membership name, unique within the cohort
	Created  time.Time // creation timestamp
	Role     string
	Eligible bool // false: neither seated nor waitlisted
	Claiming bool // true while the membership may hold a seat: not withdrawn and term not expired (Pending, Active, Expiring)
}

// Seat is the outcome of seat allocation for one competing candidate.
type Seat struct {
	Seated   bool
	Position int // 1-based waitlist position; 0 when seated or not competing
}

// RoleSeats counts the seats of one role after allocation.
type RoleSeats struct {
	Role                         string
	Min, Max, Seated, Waitlisted int
}

// AllocateSeats decides, per role, which candidates hold a seat: the claiming eligible
// candidates are ordered by Created then Name, the first Max are seated and the rest are
// waitlisted with positions 1, 2, ... Candidates that are not eligible, not claiming, or
// whose role is not in roles get no entry in the map. The RoleSeats slice has one entry
// per role in roles order, also for roles without candidates; a role listed twice counts
// once, under its first entry.
func AllocateSeats(roles []RolePolicy, candidates []Candidate) (map[string]Seat, []RoleSeats) {
	index := make(map[string]int, len(roles))
	summary := make([]RoleSeats, 0, len(roles))
	for _, r := range roles {
		if _, dup := index[r.Name]; dup {
			continue
		}
		index[r.Name] = len(summary)
		summary = append(summary, RoleSeats{Role: r.Name, Min: r.Min, Max: r.Max})
	}

	competing := make([][]Candidate, len(summary))
	for _, c := range candidates {
		i, ok := index[c.Role]
		if !ok || !c.Eligible || !c.Claiming {
			continue
		}
		competing[i] = append(competing[i], c)
	}

	seats := make(map[string]Seat, len(candidates))
	for i, queue := range competing {
		// Creation order is first come, first served; the name only breaks ties so the
		// outcome does not depend on the order the cache lists objects in.
		slices.SortStableFunc(queue, compareCandidates)
		for n, c := range queue {
			if n < summary[i].Max {
				seats[c.Name] = Seat{Seated: true}
				summary[i].Seated++
				continue
			}
			summary[i].Waitlisted++
			seats[c.Name] = Seat{Position: summary[i].Waitlisted}
		}
	}
	return seats, summary
}

// compareCandidates orders candidates by creation time, then name.
func compareCandidates(a, b Candidate) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
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
