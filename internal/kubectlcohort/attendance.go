package kubectlcohort

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// Cell values of the attendance grid besides the recorded AttendanceStatus values.
const (
	// CellNotRecorded is an ended event with nothing recorded for a member who was
	// expected: it counts as an absence.
	CellNotRecorded = "NotRecorded"
	// CellNotExpected is an event outside the member's term, or before they held their
	// seat, with nothing recorded: it does not count for them.
	CellNotExpected = "NotExpected"
)

// marks are the letters the grid shows for each cell value.
var marks = map[string]string{
	string(learningv1alpha1.AttendancePresent): "P",
	string(learningv1alpha1.AttendanceLate):    "L",
	string(learningv1alpha1.AttendanceExcused): "E",
	string(learningv1alpha1.AttendanceAbsent):  "A",
	CellNotRecorded: "-",
	CellNotExpected: ".",
}

// Where the attendance threshold comes from.
const (
	thresholdFromCohort    = "cohort"
	thresholdFromCommunity = "community"
	thresholdFromDefault   = "default"
)

// GridEvent is one column of the attendance grid: an ended event that counts.
type GridEvent struct {
	Name  string      `json:"name"`
	Title string      `json:"title"`
	Start metav1.Time `json:"start"`
	// Date is the day the event started, in the cohort's time zone.
	Date string `json:"date"`
	// Community names the community of a community-wide event.
	Community string `json:"community,omitempty"`
}

// GridRow is one member's row of the attendance grid.
type GridRow struct {
	Membership  string `json:"membership"`
	DisplayName string `json:"displayName,omitempty"`
	Role        string `json:"role"`
	// Attendance maps each column's event name to Present, Late, Excused, Absent,
	// NotRecorded or NotExpected.
	Attendance map[string]string `json:"attendance"`
	// Percent is the member's status.attendance.percent: unset until enough events
	// have ended to judge.
	Percent *int32 `json:"percent,omitempty"`
	// BelowThreshold is true when Percent is below the required percent.
	BelowThreshold bool `json:"belowThreshold"`
	// Summary is the member's status.attendance.
	Summary *learningv1alpha1.AttendanceSummary `json:"summary,omitempty"`
}

// AttendanceGrid is the attendance of a cohort's members at its ended events that
// count toward attendance.
type AttendanceGrid struct {
	Cohort    string `json:"cohort"`
	Namespace string `json:"namespace"`
	TimeZone  string `json:"timeZone"`
	// RequiredPercent is the policy's attendance.requiredPercent; RequiredFrom says
	// whose policy sets it: cohort, community or default.
	RequiredPercent int32       `json:"requiredPercent"`
	RequiredFrom    string      `json:"requiredFrom"`
	Events          []GridEvent `json:"events"`
	Members         []GridRow   `json:"members"`
}

// RequiredPercent is the attendance threshold of a cohort: its own policy's
// requiredPercent, else its community's (community may be nil), else the default 80,
// and which of the three set it.
func RequiredPercent(cohort *learningv1alpha1.Cohort, community *learningv1alpha1.CommunityOfPractice) (int32, string) {
	if p := cohort.Spec.Policy; p != nil && p.Attendance != nil && p.Attendance.RequiredPercent != nil {
		return *p.Attendance.RequiredPercent, thresholdFromCohort
	}
	if community != nil && community.Spec.Policy.Attendance != nil && community.Spec.Policy.Attendance.RequiredPercent != nil {
		return *community.Spec.Policy.Attendance.RequiredPercent, thresholdFromCommunity
	}
	return rules.DefaultRequiredPercent, thresholdFromDefault
}

// cohortLocation is the cohort's time zone, UTC when it is unset or unknown.
func cohortLocation(cohort *learningv1alpha1.Cohort) *time.Location {
	if loc, err := time.LoadLocation(string(cohort.Spec.TimeZone)); err == nil && cohort.Spec.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// eventEnd is when an event ends: status.end, or its start plus duration while the
// operator has not reported it.
func eventEnd(e *learningv1alpha1.LearningEvent) time.Time {
	if e.Status.End != nil {
		return e.Status.End.Time
	}
	return e.Spec.Start.Add(e.Spec.Duration.Duration)
}

// ofCohort reports whether an event is the cohort's own or its community's.
func ofCohort(e *learningv1alpha1.LearningEvent, cohort *learningv1alpha1.Cohort) bool {
	if ref := e.Spec.CohortRef; ref != nil {
		return string(ref.Name) == cohort.Name
	}
	return e.Spec.CommunityRef != nil && cohort.Spec.CommunityRef != nil && e.Spec.CommunityRef.Name == cohort.Spec.CommunityRef.Name
}

// BuildAttendance builds the attendance grid of cohort at now. Its columns are the
// events of the cohort and of its community that count toward attendance, are not
// cancelled and have ended by now, by start. Its rows are the cohort's memberships
// that hold or held a seat, or have an entry on a column, by role (in the order of
// status.roles) and name. community may be nil.
func BuildAttendance(cohort *learningv1alpha1.Cohort, community *learningv1alpha1.CommunityOfPractice, memberships []learningv1alpha1.Membership, events []learningv1alpha1.LearningEvent, now time.Time) AttendanceGrid {
	loc := cohortLocation(cohort)
	g := AttendanceGrid{Cohort: cohort.Name, Namespace: cohort.Namespace, TimeZone: loc.String(), Events: []GridEvent{}, Members: []GridRow{}}
	g.RequiredPercent, g.RequiredFrom = RequiredPercent(cohort, community)

	var columns []*learningv1alpha1.LearningEvent
	for i := range events {
		e := &events[i]
		if ofCohort(e, cohort) && program.CountsTowardAttendance(e) && !e.Spec.Cancelled && !eventEnd(e).After(now) {
			columns = append(columns, e)
		}
	}
	slices.SortStableFunc(columns, func(a, b *learningv1alpha1.LearningEvent) int {
		return cmp.Or(a.Spec.Start.Compare(b.Spec.Start.Time), cmp.Compare(a.Name, b.Name))
	})
	recorded := map[string]map[string]learningv1alpha1.AttendanceStatus{} // event -> membership -> status
	for _, e := range columns {
		ge := GridEvent{Name: e.Name, Title: e.Spec.Title, Start: e.Spec.Start, Date: e.Spec.Start.In(loc).Format(time.DateOnly)}
		if e.Spec.CommunityRef != nil {
			ge.Community = string(e.Spec.CommunityRef.Name)
		}
		g.Events = append(g.Events, ge)
		recorded[e.Name] = map[string]learningv1alpha1.AttendanceStatus{}
		for _, a := range e.Spec.Attendance {
			recorded[e.Name][string(a.Member)] = a.Status
		}
	}

	for i := range memberships {
		m := &memberships[i]
		if string(m.Spec.CohortRef.Name) != cohort.Name {
			continue
		}
		r := GridRow{Membership: m.Name, DisplayName: m.Spec.DisplayName, Role: string(m.Spec.Role), Attendance: map[string]string{}, Summary: m.Status.Attendance}
		anyRecord := false
		for _, ge := range g.Events {
			if status, ok := recorded[ge.Name][m.Name]; ok {
				r.Attendance[ge.Name], anyRecord = string(status), true
				continue
			}
			r.Attendance[ge.Name] = CellNotRecorded
			if !expected(m, ge) {
				r.Attendance[ge.Name] = CellNotExpected
			}
		}
		if !anyRecord && !heldSeat(m) {
			continue
		}
		if a := m.Status.Attendance; a != nil && a.Percent != nil {
			r.Percent = a.Percent
			r.BelowThreshold = *a.Percent < g.RequiredPercent
		}
		g.Members = append(g.Members, r)
	}
	roleRank := roleOrder(cohort)
	slices.SortStableFunc(g.Members, func(a, b GridRow) int {
		return cmp.Or(roleRank(a.Role, b.Role), cmp.Compare(cmp.Or(a.DisplayName, a.Membership), cmp.Or(b.DisplayName, b.Membership)), cmp.Compare(a.Membership, b.Membership))
	})
	return g
}

// heldSeat reports whether a membership holds a seat or has held one.
func heldSeat(m *learningv1alpha1.Membership) bool {
	return m.Status.SeatedSince != nil || apimeta.IsStatusConditionTrue(m.Status.Conditions, learningv1alpha1.SeatedCondition)
}

// expected reports whether a member with nothing recorded at an event is held to it,
// as the operator expects members at events: the event starts inside their term and
// not before they got their seat, and they have not withdrawn (a withdrawn member is
// expected nowhere; their last judgement stays in their status).
func expected(m *learningv1alpha1.Membership, e GridEvent) bool {
	st := m.Status
	if st.SeatedSince == nil || e.Start.Before(st.SeatedSince) || m.Spec.Withdrawn || st.Phase == learningv1alpha1.MembershipWithdrawn {
		return false
	}
	return (st.StartDate == "" || e.Date >= string(st.StartDate)) && (st.EndDate == "" || e.Date <= string(st.EndDate))
}

// WriteTable writes the grid: one row per member, one column per event headed by its
// date (MM-DD; the footer gives the years), the member's percent marked with * when
// below the threshold, then a legend.
func (g AttendanceGrid) WriteTable(w io.Writer) error {
	t := newTable(w)
	header := []string{"NAME", "ROLE"}
	for _, e := range g.Events {
		header = append(header, e.Date[len("2006-"):])
	}
	t.row(append(header, "ATTENDANCE")...)
	for _, r := range g.Members {
		cells := []string{cmp.Or(r.DisplayName, r.Membership), r.Role}
		for _, e := range g.Events {
			cells = append(cells, marks[r.Attendance[e.Name]])
		}
		pct := "n/a"
		if r.Percent != nil {
			pct = fmt.Sprintf("%d%%", *r.Percent)
		}
		if r.BelowThreshold {
			pct += " *"
		}
		t.row(append(cells, pct)...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	p := &printer{w: w}
	switch n := len(g.Events); n {
	case 0:
		p.printf("\nNo ended events that count toward attendance yet.\n")
	default:
		p.printf("\n%d ended %s that count, %s to %s (%s).\n", n, plural(n, "event", "events"), g.Events[0].Date, g.Events[n-1].Date, g.TimeZone)
	}
	source := map[string]string{thresholdFromCohort: "the cohort's policy", thresholdFromCommunity: "the community's policy", thresholdFromDefault: "the default"}[g.RequiredFrom]
	p.printf("Required attendance: %d%% (%s); * marks members below it; n/a: too few events to judge yet.\n", g.RequiredPercent, source)
	p.printf("P present, L late, E excused, A absent, - not recorded (counts as absent), . not expected (outside the term, before the seat, or withdrawn).\n")
	return p.err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
