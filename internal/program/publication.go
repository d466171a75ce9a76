package program

import (
	"cmp"
	"slices"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/ics"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// Publication is what the operator grants and publishes for one cohort, decided with
// the rest of its unit so that access and documents follow the same seats.
type Publication struct {
	// Frozen says the cohort's policy or dates cannot be resolved: its seats are
	// frozen (the cohort is Stalled), and so are its access and documents. Nothing
	// else is set.
	Frozen bool

	// Edit and Read are the user names (spec.member) holding each access level:
	// members who hold a seat in a role with that access and whose membership is
	// Pending, Active or Expiring. Sorted, without duplicates; a person with both is
	// listed under Edit only.
	Edit, Read []string

	// Events are the names of the LearningEvents of the cohort and of its community,
	// which seated members may read; OwnEvents those declared for the cohort itself
	// (generated gatherings included), which Edit may update. Sorted.
	Events, OwnEvents []string

	Roster   publish.Roster
	Overview publish.Overview
	Calendar ics.Calendar
}

// upcomingLimit is how many upcoming events the overview lists.
const upcomingLimit = 10

// publications decides every cohort's publication once the statuses are built.
func (u *unit) publications(out *Outcome) map[string]Publication {
	pubs := make(map[string]Publication, len(u.cohorts))
	for _, cv := range u.cohorts {
		pubs[cv.obj.Name] = u.publication(cv, out)
	}
	return pubs
}

func (u *unit) publication(cv *cohortView, out *Outcome) Publication {
	var p Publication
	if !cv.valid() {
		return Publication{Frozen: true}
	}
	edit, read := map[string]bool{}, map[string]bool{}
	for _, m := range cv.members {
		if !m.seated || !m.roleKnown {
			continue
		}
		switch m.phase {
		case learningv1alpha1.MembershipPending, learningv1alpha1.MembershipActive, learningv1alpha1.MembershipExpiring:
		default:
			continue
		}
		if m.role.Access == learningv1alpha1.AccessEdit {
			edit[m.obj.Spec.Member] = true
		} else {
			read[m.obj.Spec.Member] = true
		}
	}
	for name := range edit {
		delete(read, name)
	}
	p.Edit, p.Read = sortedKeys(edit), sortedKeys(read)

	for _, e := range cv.events {
		p.Events = append(p.Events, e.obj.Name)
		if e.obj.Spec.CohortRef != nil && string(e.obj.Spec.CohortRef.Name) == cv.obj.Name {
			p.OwnEvents = append(p.OwnEvents, e.obj.Name)
		}
	}
	p.Roster = u.roster(cv, out)
	p.Overview = u.overview(cv, out)
	p.Calendar = u.calendar(cv, out)
	return p
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// roster lists who holds, held or waits for a seat. spec.member is never published.
func (u *unit) roster(cv *cohortView, out *Outcome) publish.Roster {
	r := publish.Roster{Cohort: cv.obj.Name, Members: []publish.RosterEntry{}}
	for _, m := range cv.members {
		status := out.Memberships[m.obj.Name]
		entry := publish.RosterEntry{
			DisplayName:  cmp.Or(m.obj.Spec.DisplayName, m.obj.Name),
			Organization: string(m.obj.Spec.Organization),
			Role:         string(m.obj.Spec.Role),
			TeamRole:     string(m.obj.Spec.TeamRole),
			Phase:        string(status.Phase),
			TermStart:    string(status.StartDate),
			TermEnd:      string(status.EndDate),
		}
		switch {
		case m.obj.Spec.Withdrawn || status.Phase == learningv1alpha1.MembershipWithdrawn:
			continue
		case m.seated, status.Phase == learningv1alpha1.MembershipExpired && status.SeatedSince != nil:
			entry.Seat = publish.SeatHeld
		case status.WaitlistPosition != nil:
			entry.Seat = publish.SeatWaitlisted
			entry.WaitlistPosition = *status.WaitlistPosition
		default:
			continue
		}
		if a := status.Attendance; a != nil && a.Percent != nil {
			percent := *a.Percent
			entry.AttendancePercent = &percent
		}
		r.Members = append(r.Members, entry)
	}
	slices.SortStableFunc(r.Members, func(a, b publish.RosterEntry) int {
		return cmp.Or(
			cmp.Compare(a.Organization, b.Organization),
			cmp.Compare(a.Role, b.Role),
			cmp.Compare(seatOrder(a), seatOrder(b)),
			cmp.Compare(a.DisplayName, b.DisplayName),
		)
	})
	return r
}

// seatOrder puts the seated before the waitlist, and the waitlist in its order.
func seatOrder(e publish.RosterEntry) int32 {
	if e.Seat == publish.SeatHeld {
		return 0
	}
	return e.WaitlistPosition
}

// overview is the summary the portal shows besides the roster.
func (u *unit) overview(cv *cohortView, out *Outcome) publish.Overview {
	status := out.Cohorts[cv.obj.Name]
	o := publish.Overview{
		Cohort: publish.CohortSummary{
			Name:        cv.obj.Name,
			DisplayName: cmp.Or(cv.obj.Spec.DisplayName, cv.obj.Name),
			Phase:       string(status.Phase),
			StartDate:   string(status.StartDate),
			EndDate:     string(status.EndDate),
			TimeZone:    string(cv.obj.Spec.TimeZone),
		},
		Roles:             []publish.RoleSeats{},
		Waitlisted:        status.Waitlisted,
		AttendancePercent: status.AttendancePercent,
		RequiredPercent:   int32(cv.policy.Attendance.RequiredPercent), //nolint:gosec // bounded by the API (0-100)
		Upcoming:          []publish.Event{},
		Attendance:        []publish.EventAttendance{},
	}
	if c := u.community; c != nil && cv.obj.Spec.CommunityRef != nil {
		o.Community = &publish.Community{Name: c.Name, DisplayName: cmp.Or(c.Spec.DisplayName, c.Name)}
		if c.Spec.Charter != nil {
			o.Community.Purpose = c.Spec.Charter.Purpose
		}
	}
	for _, r := range status.Roles {
		o.Roles = append(o.Roles, publish.RoleSeats{
			Name: string(r.Name), MinMembers: r.MinMembers, MaxMembers: r.MaxMembers,
			Seated: r.Seated, Waitlisted: r.Waitlisted,
		})
	}

	members := make(map[string]bool, len(cv.members))
	for _, m := range cv.members {
		members[m.obj.Name] = true
	}
	for _, e := range publishedEvents(cv, out) {
		if e.record.End.After(u.now) && len(o.Upcoming) < upcomingLimit {
			o.Upcoming = append(o.Upcoming, publish.Event{
				Title: e.obj.Spec.Title, Type: string(e.obj.Spec.Type),
				Start: e.record.Start.UTC(), End: e.record.End.UTC(),
				TimeZone: string(e.obj.Spec.TimeZone), Location: e.obj.Spec.Location,
				Cancelled: e.record.Cancelled,
			})
		}
		if !e.record.End.After(u.now) && e.record.Counts && !e.record.Cancelled {
			o.Attendance = append(o.Attendance, eventAttendance(e, members, cv.policy.Attendance.LateWeightPercent))
		}
	}
	return o
}

// eventAttendance counts the attendance the cohort's members have recorded at one event.
func eventAttendance(e *eventView, members map[string]bool, lateWeightPercent int) publish.EventAttendance {
	a := publish.EventAttendance{Title: e.obj.Spec.Title, Start: e.record.Start.UTC()}
	for _, entry := range e.obj.Spec.Attendance {
		if !members[string(entry.Member)] {
			continue
		}
		switch entry.Status {
		case learningv1alpha1.AttendancePresent:
			a.Present++
		case learningv1alpha1.AttendanceLate:
			a.Late++
		case learningv1alpha1.AttendanceExcused:
			a.Excused++
		case learningv1alpha1.AttendanceAbsent:
			a.Absent++
		}
	}
	if judged := a.Present + a.Late + a.Absent; judged > 0 {
		percent := (100*a.Present + a.Late*int32(lateWeightPercent)) / judged //nolint:gosec // bounded by the API (0-100)
		a.Percent = &percent
	}
	return a
}

// publishedEvents are the cohort's published events (its own and its community's),
// by start, then name.
func publishedEvents(cv *cohortView, out *Outcome) []*eventView {
	events := make([]*eventView, 0, len(cv.events))
	for _, e := range cv.events {
		if published(e, out) {
			events = append(events, e)
		}
	}
	slices.SortStableFunc(events, func(a, b *eventView) int {
		return cmp.Or(a.record.Start.Compare(b.record.Start), cmp.Compare(a.obj.Name, b.obj.Name))
	})
	return events
}

// published reports whether an event appears in the cohort's calendar and portal:
// Internal events always, External ones only while approved.
func published(e *eventView, out *Outcome) bool {
	if e.obj.Spec.Audience != learningv1alpha1.ExternalAudience {
		return true
	}
	status := out.Events[e.obj.Name]
	return apimeta.IsStatusConditionTrue(status.Conditions, learningv1alpha1.ApprovedCondition)
}

// calendar is the cohort's feed: every published event of the cohort and its
// community, past ones included, each in UTC, cancelled ones marked so.
func (u *unit) calendar(cv *cohortView, out *Outcome) ics.Calendar {
	c := ics.Calendar{Name: cmp.Or(cv.obj.Spec.DisplayName, cv.obj.Name)}
	if u.community != nil && cv.obj.Spec.CommunityRef != nil {
		c.Description = cmp.Or(u.community.Spec.DisplayName, u.community.Name)
	}
	for _, e := range publishedEvents(cv, out) {
		if !feedHolds(e.record.Start, e.record.End) {
			continue
		}
		status := out.Events[e.obj.Name]
		entry := ics.Event{
			UID:         ics.UID(e.obj.Namespace, e.obj.Name),
			Summary:     e.obj.Spec.Title,
			Description: e.obj.Spec.Description,
			Location:    e.obj.Spec.Location,
			Categories:  string(e.obj.Spec.Type),
			Start:       e.record.Start.UTC(),
			End:         e.record.End.UTC(),
			Cancelled:   e.record.Cancelled,
			Stamp:       e.obj.CreationTimestamp.UTC(),
		}
		if cal := status.Calendar; cal != nil {
			entry.Sequence = cal.Sequence
			if cal.Revised != nil {
				entry.Stamp = cal.Revised.UTC()
			}
		}
		if entry.Stamp.IsZero() {
			entry.Stamp = time.Unix(0, 0).UTC()
		}
		c.Events = append(c.Events, entry)
	}
	return c
}

// The instants a feed can hold: RFC 5545 writes years with four digits, and the zero
// time (0001-01-01T00:00:00Z) reads as unset. Admission keeps an event's start from
// 1900 until before 9000, but an event admitted before that rule existed may lie
// outside, and one event of year 9999 or of the zero time would otherwise fail the
// render of its cohort's whole calendar, and with it the cohort's documents.
var (
	feedFirst = time.Date(1, time.January, 1, 0, 0, 1, 0, time.UTC)
	feedEnd   = time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// feedHolds reports whether an event from start to end can be written in the feed;
// an event it cannot hold is left out of the calendar (it still shows in the portal).
func feedHolds(start, end time.Time) bool {
	return !start.Before(feedFirst) && end.Before(feedEnd)
}
