package program

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

	// OwnEvents are the names of the LearningEvents declared for the cohort itself
	// (generated gatherings included), which Edit may read and update; no Read role
	// gets an event, since attendance notes hold reasons for absences. Sorted.
	OwnEvents []string

	// Reports are the names of the ProgramReports the cohort's leads (Edit) may read
	// and write the narrative of: those the reporting policies of its community (or,
	// standalone, its own) and of its run keep. Their figures and approval are the
	// admission policy's to guard. Sorted.
	Reports []string

	// Plans are the seated members' access to the cohort's ActionPlans, one grant per
	// member with any, ordered by membership. Access to plans follows the seat like
	// the rest: a member who withdraws, whose term ends or who is waitlisted keeps none.
	Plans []PlanGrant

	// Roster, Overview and Calendar are the documents' content. The calendar holds
	// the events of its window (see calendarWindow) that fit the budget.
	Roster   publish.Roster
	Overview publish.Overview
	Calendar ics.Calendar

	// Documents are Roster, Overview and Calendar as they are published, each part
	// within publish.Budget (see RenderDocuments).
	Documents publish.Documents
	// Omitted is what the documents leave out; the roster and the overview are split,
	// never cut, so only the calendar's events and a failed render count.
	Omitted Omissions
}

// PlanGrant is one seated member's access to ActionPlans of the cohort, by name: a
// plan's owner, and for a team workplan every seated member of the team, may get and
// update it; its accountability partner may get it. Nobody else may read a plan: the
// leads see its counts in the cohort's status and its shared reflections in the
// published documents, never its private text.
type PlanGrant struct {
	// Membership is the member's seated membership, after which the grant's Role and
	// RoleBinding are named.
	Membership string
	// User is the member (spec.member).
	User string
	// Update are the plans the member owns, or that are their team's. Sorted.
	Update []string
	// Get are the plans the member is the accountability partner of and may not
	// update. Sorted.
	Get []string
}

// Omissions are what a cohort's published documents leave out, which the
// DocumentsComplete condition reports.
type Omissions struct {
	// Window is how many published events of the calendar's window there are, those
	// left out included.
	Window int
	// OverBudget is how many of them were left out, oldest first, so that the
	// calendar fits publish.Budget.
	OverBudget int
	// Unwritable is how many of them the feed cannot hold: times outside years 1 to
	// 9999, or an end that is not after the start once cut to whole seconds.
	Unwritable int
	// Failed describes each document that could not be rendered and was published in
	// its empty form instead.
	Failed []string
}

// Complete reports whether nothing was left out.
func (o Omissions) Complete() bool {
	return o.OverBudget == 0 && o.Unwritable == 0 && len(o.Failed) == 0
}

// upcomingLimit is how many upcoming events the overview lists.
const upcomingLimit = 10

// publications decides every cohort's publication once the statuses are built.
func (u *unit) publications(out *Outcome) map[string]Publication {
	pubs := make(map[string]Publication, len(u.cohorts))
	for _, cv := range u.cohorts {
		p := u.guardedPublication(cv, out)
		pubs[cv.obj.Name] = p
		if !p.Frozen {
			status := out.Cohorts[cv.obj.Name]
			conds := conditions{list: &status.Conditions, generation: cv.obj.Generation, now: u.stamp()}
			setDocumentsComplete(conds, p)
			out.Cohorts[cv.obj.Name] = status
		}
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
		if !m.hasAccess() {
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
		if e.obj.Spec.CohortRef != nil && string(e.obj.Spec.CohortRef.Name) == cv.obj.Name {
			p.OwnEvents = append(p.OwnEvents, e.obj.Name)
		}
	}
	p.Reports = u.reportNames(cv)
	p.Plans = planGrants(cv)
	p.Roster = u.roster(cv, out)
	p.Overview = u.overview(cv, out)
	p.Calendar, p.Omitted.Unwritable = u.calendar(cv, out)
	p.Omitted.Window = len(p.Calendar.Events) + p.Omitted.Unwritable
	RenderDocuments(&p)
	return p
}

// hasAccess reports whether the membership gives its member access to the cohort: it
// holds a seat of a known role and is Pending, Active or Expiring.
func (m *memberView) hasAccess() bool {
	if !m.seated || !m.roleKnown {
		return false
	}
	switch m.phase {
	case learningv1alpha1.MembershipPending, learningv1alpha1.MembershipActive, learningv1alpha1.MembershipExpiring:
		return true
	}
	return false
}

// planGrants decides who may get and update each of the cohort's plans: the owner of
// a personal plan, when they are the member of its membership; every member of a team
// with a workplan; and a plan's partner, read only. Only members with access to the
// cohort get any.
func planGrants(cv *cohortView) []PlanGrant {
	var grants []PlanGrant
	for _, m := range cv.members {
		if !m.hasAccess() {
			continue
		}
		var update, get []string
		for _, p := range cv.plans {
			spec := p.obj.Spec
			switch {
			case p.member == m && spec.Owner == m.person():
				update = append(update, p.obj.Name)
			case spec.Team != nil && m.obj.Spec.Organization != "" && p.team() == string(m.obj.Spec.Organization):
				update = append(update, p.obj.Name)
			case spec.PartnerRef != nil && string(spec.PartnerRef.Name) == m.obj.Name && p.member != m:
				get = append(get, p.obj.Name)
			}
		}
		if len(update)+len(get) == 0 {
			continue
		}
		slices.Sort(update)
		slices.Sort(get)
		grants = append(grants, PlanGrant{Membership: m.obj.Name, User: m.person(), Update: update, Get: get})
	}
	slices.SortFunc(grants, func(a, b PlanGrant) int { return cmp.Compare(a.Membership, b.Membership) })
	return grants
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
			DisplayName:  displayName(m),
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
		Reports:           u.approvedReports(cv, out),
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
		if !feedHolds(e.record.Start, e.record.End) {
			continue
		}
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
	o.Plans = planProgress(status.ActionPlans)
	o.Agenda = u.agenda(cv, out)
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

// The calendar's window, relative to the evaluation's clock: it holds the events that
// overlap [now - calendarPast, now + calendarAhead), that is, those that end after
// the window's start and start before its end. A recurring schedule's occurrences are
// LearningEvents of their own (each its own VEVENT, no RRULE), so a series is bounded
// occurrence by occurrence, like any event.
const (
	calendarPast  = 90 * 24 * time.Hour
	calendarAhead = 366 * 24 * time.Hour
)

// calendarWindow returns the window of the calendar at now.
func calendarWindow(now time.Time) (from, to time.Time) {
	return now.Add(-calendarPast), now.Add(calendarAhead)
}

// inWindow reports whether an event from start to end overlaps the window.
func inWindow(start, end, from, to time.Time) bool {
	return end.After(from) && start.Before(to)
}

// calendar is the cohort's feed: the published events of the cohort and its community
// that overlap the calendar's window, oldest first, each in UTC, cancelled ones
// marked so. It also returns how many published events the feed cannot hold (see
// feedHolds and ics.Check). Each event's entering and leaving the window is a
// boundary of the outcome.
func (u *unit) calendar(cv *cohortView, out *Outcome) (ics.Calendar, int) {
	c := ics.Calendar{Name: cmp.Or(cv.obj.Spec.DisplayName, cv.obj.Name)}
	if u.community != nil && cv.obj.Spec.CommunityRef != nil {
		c.Description = cmp.Or(u.community.Spec.DisplayName, u.community.Name)
	}
	from, to := calendarWindow(u.now)
	unwritable := 0
	for _, e := range publishedEvents(cv, out) {
		u.observeBoundary(e.record.Start.Add(-calendarAhead))
		u.observeBoundary(e.record.End.Add(calendarPast))
		if !inWindow(e.record.Start, e.record.End, from, to) {
			continue
		}
		entry := calendarEntry(e, out)
		if !feedHolds(e.record.Start, e.record.End) || ics.Check(entry) != nil {
			unwritable++
			continue
		}
		c.Events = append(c.Events, entry)
	}
	return c, unwritable
}

// calendarEntry is an event as the calendar lists it.
func calendarEntry(e *eventView, out *Outcome) ics.Event {
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
	if cal := out.Events[e.obj.Name].Calendar; cal != nil {
		entry.Sequence = cal.Sequence
		if cal.Revised != nil {
			entry.Stamp = cal.Revised.UTC()
		}
	}
	if entry.Stamp.IsZero() {
		entry.Stamp = time.Unix(0, 0).UTC()
	}
	return entry
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

// feedHolds reports whether an event from start to end can be written in the feed,
// and its times in the overview's JSON; an event it cannot hold is left out of both.
func feedHolds(start, end time.Time) bool {
	return !start.Before(feedFirst) && end.Before(feedEnd)
}

// RenderDocuments renders p's roster, overview and calendar into p.Documents as they
// are published. The roster and the overview are split into parts of at most
// publish.Budget bytes; the calendar leaves out its oldest events until it fits the
// budget (p.Calendar keeps the events it holds, p.Omitted.OverBudget counts the
// others). A document that cannot be rendered, which the evaluation's filters
// should make impossible, is published in its empty form and recorded in
// p.Omitted.Failed, so that the cohort's other services never wait on it.
func RenderDocuments(p *Publication) {
	var err error
	p.Calendar, p.Documents.Calendar, p.Omitted.OverBudget, err = fitCalendar(p.Calendar, publish.Budget)
	if err != nil {
		p.Omitted.Failed = append(p.Omitted.Failed, fmt.Sprintf("calendar (published without events): %v", err))
		p.Omitted.OverBudget = 0
		p.Calendar.Events = nil
		p.Documents.Calendar, _ = ics.Render(p.Calendar) // no events: nothing to fail
	}
	if p.Documents.Roster, err = publish.SplitRoster(p.Roster, publish.Budget); err != nil {
		p.Omitted.Failed = append(p.Omitted.Failed, fmt.Sprintf("roster (published without members): %v", err))
		p.Documents.Roster, _ = publish.SplitRoster(publish.Roster{Cohort: p.Roster.Cohort}, publish.Budget)
	}
	if p.Documents.Overview, err = publish.SplitOverview(p.Overview, publish.Budget); err != nil {
		p.Omitted.Failed = append(p.Omitted.Failed, fmt.Sprintf("overview (published without events): %v", err))
		empty := p.Overview
		empty.Upcoming, empty.Attendance = []publish.Event{}, []publish.EventAttendance{}
		p.Documents.Overview, _ = publish.SplitOverview(empty, publish.Budget)
	}
}

// fitCalendar renders c, leaving out its first (oldest) events until the feed is at
// most budget bytes. It returns the calendar as rendered, the feed, and how many
// events it left out. The feed's size grows with every event, so the fewest events
// to leave out are found by bisection, with a handful of renders.
func fitCalendar(c ics.Calendar, budget int) (ics.Calendar, []byte, int, error) {
	feed, err := ics.Render(c)
	if err != nil || len(feed) <= budget {
		return c, feed, 0, err
	}
	all := c.Events
	fits := func(drop int) ([]byte, bool, error) {
		c.Events = all[drop:]
		b, err := ics.Render(c)
		return b, err == nil && len(b) <= budget, err
	}
	lo, hi := 1, len(all) // the fewest to drop lies in [lo, hi]
	if _, ok, err := fits(hi); err != nil || !ok {
		return c, nil, 0, cmp.Or(err, fmt.Errorf("a calendar without events is over the budget of %d bytes", budget))
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		_, ok, err := fits(mid)
		switch {
		case err != nil:
			return c, nil, 0, err
		case ok:
			hi = mid
		default:
			lo = mid + 1
		}
	}
	feed, _, err = fits(lo)
	return c, feed, lo, err
}

// setDocumentsComplete sets the informational DocumentsComplete condition from what
// p's documents leave out. It never affects Ready: the documents are published as far
// as they can be, and the condition says what is missing.
func setDocumentsComplete(conds conditions, p Publication) {
	o := p.Omitted
	parts := fmt.Sprintf("the roster (%d members) is published in %s, the overview in %s",
		len(p.Roster.Members), plural(len(p.Documents.Roster.Parts), "ConfigMap"), plural(len(p.Documents.Overview.Parts), "ConfigMap"))
	switch {
	case len(o.Failed) > 0:
		conds.set(learningv1alpha1.DocumentsCompleteCondition, metav1.ConditionFalse, learningv1alpha1.RenderFailedReason,
			"could not be rendered: %s", strings.Join(o.Failed, "; "))
	case !o.Complete():
		var why []string
		if o.OverBudget > 0 {
			why = append(why, fmt.Sprintf("the %d oldest, to keep the calendar within %d KiB", o.OverBudget, publish.Budget>>10))
		}
		if o.Unwritable > 0 {
			why = append(why, fmt.Sprintf("%d whose times cannot be written in iCalendar", o.Unwritable))
		}
		conds.set(learningv1alpha1.DocumentsCompleteCondition, metav1.ConditionFalse, learningv1alpha1.CalendarTruncatedReason,
			"%d of the %d published events from the past 90 days to the next 366 days are left out of the calendar: %s; %s",
			o.OverBudget+o.Unwritable, o.Window, strings.Join(why, ", "), parts)
	default:
		conds.set(learningv1alpha1.DocumentsCompleteCondition, metav1.ConditionTrue, learningv1alpha1.DocumentsCompleteReason,
			"the calendar holds all %d published events from the past 90 days to the next 366 days; %s", o.Window, parts)
	}
}

// plural says "1 ConfigMap" or "3 ConfigMaps".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
