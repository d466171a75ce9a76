package rules

import (
	"fmt"
	"maps"
	"testing"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/fuzzbytes"
)

// FuzzMemberAttendance decodes a policy, a clock and events with ana's statuses, then
// checks: Percent is nil exactly when NotEnoughEvents, else in 0..100; Met iff Percent >=
// RequiredPercent; the counts add up; and CannotReachThreshold is right, by replaying
// the remaining events as attended.
func FuzzMemberAttendance(f *testing.F) {
	f.Add(80, 3, 100, uint8(100), []byte{1, 1, 1, 1, 1, 1, 1, 1, 5, 1, 1, 4, 9, 1, 1, 1})
	f.Add(80, 0, 50, uint8(50), []byte{1, 1, 1, 2, 3, 1, 1, 3, 5, 1, 1, 4, 7, 1, 1, 0})
	f.Add(100, 1, 0, uint8(0), []byte{0, 0, 0, 0, 200, 200, 0, 1})
	f.Fuzz(func(t *testing.T, required, minimum, lateWeight int, nowDays uint8, data []byte) {
		p := AttendancePolicy{RequiredPercent: required % 101, MinimumEvents: minimum % 10, LateWeightPercent: lateWeight % 101}
		term := Term{Start: epoch.AddDate(0, 0, 10), End: epoch.AddDate(0, 0, 200)}
		now := epoch.Add(time.Duration(nowDays) * 24 * time.Hour)
		events := decodeEvents(fuzzbytes.New(data))

		got := MemberAttendance(AttendanceInput{Policy: p, Member: "ana", Term: term, Events: events, Now: now})
		if got.Present+got.Late+got.Excused+got.Absent != got.EligibleEvents || got.Remaining < 0 {
			t.Fatalf("counts do not add up: %+v", got)
		}
		if (got.Percent == nil) != (got.State == AttendanceNotEnoughEvents) {
			t.Fatalf("percent %v with state %s", got.Percent, got.State)
		}
		if got.Percent == nil {
			return
		}
		if *got.Percent < 0 || *got.Percent > 100 {
			t.Fatalf("percent %d outside 0..100: %+v", *got.Percent, got)
		}
		if (got.State == AttendanceMet) != (*got.Percent >= p.RequiredPercent) {
			t.Fatalf("state %s with %d%% against %d%%", got.State, *got.Percent, p.RequiredPercent)
		}
		if got.State == AttendanceMet {
			return
		}
		// Attend every remaining event and judge again once they have all ended: the
		// requirement is met exactly when the state was not CannotReachThreshold.
		later := now
		perfect := make([]EventRecord, len(events))
		for i, e := range events {
			if e.Counts && !e.Cancelled && term.contains(e.Start) && e.End.After(now) {
				e.Status = maps.Clone(e.Status)
				if e.Status == nil {
					e.Status = map[string]learningv1alpha1.AttendanceStatus{}
				}
				e.Status["ana"] = learningv1alpha1.AttendancePresent
				if e.End.After(later) {
					later = e.End
				}
			}
			perfect[i] = e
		}
		best := MemberAttendance(AttendanceInput{Policy: p, Member: "ana", Term: term, Events: perfect, Now: later})
		if (best.State == AttendanceMet) == (got.State == AttendanceCannotReach) {
			t.Fatalf("state %s, but perfect attendance at %d remaining events gives %+v", got.State, got.Remaining, best)
		}
	})
}

// decodeEvents turns each four bytes into an event: its start day, length in hours,
// flags (counts, cancelled) and ana's status.
func decodeEvents(r *fuzzbytes.Reader) []EventRecord {
	statuses := []learningv1alpha1.AttendanceStatus{"", "Present", "Late", "Excused", "Absent", "Unknown"}
	var events []EventRecord
	for i := 0; !r.Empty() && i < 100; i++ {
		start := epoch.Add(time.Duration(int(r.Byte())) * 24 * time.Hour)
		length, flags, status := int(r.Byte())%48, int(r.Byte()), statuses[int(r.Byte())%len(statuses)]
		e := EventRecord{
			Name:      fmt.Sprintf("e%d", i),
			Start:     start,
			End:       start.Add(time.Duration(length) * time.Hour),
			Counts:    flags&1 == 0,
			Cancelled: flags&2 != 0,
		}
		if status != "" {
			e.Status = map[string]learningv1alpha1.AttendanceStatus{"ana": status}
		}
		events = append(events, e)
	}
	return events
}

// FuzzCheckComposition decodes a composition policy (or none) and members from a few
// organizations and team roles, then checks that nothing panics, Valid iff there are no
// violations, and Organizations counts the distinct non-empty organizations.
func FuzzCheckComposition(f *testing.F) {
	f.Add([]byte{1, 6, 8, 3, 1, 0, 0, 1, 0, 1, 1, 1, 0, 2, 2, 3, 0})
	f.Add([]byte{0, 1, 1, 1, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fuzzbytes.New(data)
		orgs := []string{"", "Iowa Alliance", "Ohio Coalition", "Texas Network", "Zeta Fund"}
		teamRoles := []string{"", "ExecutiveDirector", "ProgramStaff", "Board"}
		var c *Composition
		if int(r.Byte())%2 == 1 {
			c = &Composition{
				MinOrganizations: int(r.Byte())%8 - 1,
				MaxOrganizations: int(r.Byte())%8 - 1,
				TeamSize:         int(r.Byte())%5 - 1,
			}
			for n := int(r.Byte()) % 3; n > 0; n-- {
				c.RequiredTeamRoles = append(c.RequiredTeamRoles, teamRoles[int(r.Byte())%len(teamRoles)])
			}
		}
		var members []TeamMember
		distinct := map[string]bool{}
		for i := 0; !r.Empty() && i < 100; i++ {
			m := TeamMember{Name: fmt.Sprintf("m%d", i), Organization: orgs[int(r.Byte())%len(orgs)], TeamRole: teamRoles[int(r.Byte())%len(teamRoles)]}
			if m.Organization != "" {
				distinct[m.Organization] = true
			}
			members = append(members, m)
		}

		got := CheckComposition(c, members)
		if got.Valid != (len(got.Violations) == 0) {
			t.Fatalf("valid %v with violations %q", got.Valid, got.Violations)
		}
		if c == nil && !got.Valid {
			t.Fatalf("no policy but invalid: %q", got.Violations)
		}
		if got.Organizations != len(distinct) {
			t.Fatalf("%d organizations, want %d", got.Organizations, len(distinct))
		}
	})
}
