package portal

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // event and cohort time zones work the same in every image

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// page is what the overview template shows. buildPage computes every text and number
// in it, so the template only lays them out; html/template escapes all of it.
type page struct {
	Title     string
	Community string
	Purpose   string
	Phase     string
	// PhaseClass picks the phase badge's colours.
	PhaseClass string
	Dates      string
	TimeZone   string

	Attendance      string
	AttendanceMet   bool
	HasAttendance   bool
	RequiredPercent int32
	RecordedEvents  int

	Roles      []roleView
	Waitlisted int32

	Next   *eventView
	Events []eventView

	Chart          *chart
	AttendanceRows []attendanceRow

	// Plans and Agenda are the action plans' progress and the reflections shared
	// for the next gathering; nil when the cohort has no plan.
	Plans  *plansView
	Agenda *agendaView

	// Reports are the program's approved reports: the newest in full and each KPI's
	// trend over the periods published; nil when none is approved.
	Reports *reportsView

	Organizations []organizationView
	MemberCount   int
	SeatedCount   int
	WaitingCount  int

	Updated    string
	UpdatedISO string
}

// roleView is one role's seats.
type roleView struct {
	Name       string
	Seated     int32
	Max        int32
	Min        int32
	Waitlisted int32
	BelowMin   bool
	// FillPercent is the share of the role's seats that are taken, for the meter.
	FillPercent string
}

// eventView is one upcoming event.
type eventView struct {
	Title     string
	Type      string
	Month     string
	Day       string
	Date      string
	Time      string
	StartISO  string
	Location  string
	Cancelled bool
	Next      bool
	Now       bool
}

// attendanceRow is one ended event's attendance, as the table under the chart shows it.
type attendanceRow struct {
	Title   string
	Date    string
	DateISO string
	Present int32
	Late    int32
	Excused int32
	Absent  int32
	Percent string
	Below   bool
}

// plansView is the progress of the cohort's action plans, in counts.
type plansView struct {
	// Required says "3 of 4 required plans written", empty when none is required.
	Required string
	Plans    int32
	Current  int32
	Overdue  int32
	Stale    int32
	// Actions says "5 of 12 actions done".
	Actions string
	// DonePercent fills the actions meter.
	DonePercent string
}

// agendaView is the agenda of the next gathering: the reflections shared since the
// last one.
type agendaView struct {
	// For names the next gathering and its date, or says none is scheduled.
	For   string
	Since string
	Items []reflectionView
	More  int
}

// reflectionView is one shared reflection.
type reflectionView struct {
	By      string
	Team    string
	Date    string
	DateISO string
	Learned string
	Adjust  string
	// Progress says "2 of 3 actions done".
	Progress string
}

// organizationView is one organization's part of the roster.
type organizationView struct {
	ID      string
	Name    string
	Count   int
	Seated  int
	Waiting int
	Roles   []roleGroup
}

// roleGroup are an organization's members in one role.
type roleGroup struct {
	Role    string
	Members []memberView
}

// memberView is one roster row.
type memberView struct {
	Name       string
	Role       string
	TeamRole   string
	Seat       string
	Waitlisted bool
	Term       string
	// Phase is shown next to the term when it is not Active.
	Phase      string
	Attendance string
	Below      bool
}

// maxUpcoming bounds the upcoming events the page lists.
const maxUpcoming = 12

// buildPage computes the overview page from the documents, the time they were loaded
// and the current time (events that ended since the manager published the overview
// are left out, and the next one is marked).
func buildPage(docs Documents, loadedAt, now time.Time) page {
	ov := docs.Overview
	cohortLoc := location(ov.Cohort.TimeZone, time.UTC)
	p := page{
		Title:           cmp.Or(ov.Cohort.DisplayName, ov.Cohort.Name, docs.Roster.Cohort),
		Phase:           ov.Cohort.Phase,
		PhaseClass:      strings.ToLower(ov.Cohort.Phase),
		Dates:           dateRange(ov.Cohort.StartDate, ov.Cohort.EndDate),
		TimeZone:        ov.Cohort.TimeZone,
		RequiredPercent: ov.RequiredPercent,
		Waitlisted:      ov.Waitlisted,
		RecordedEvents:  recordedEvents(ov.Attendance),
		Updated:         loadedAt.In(cohortLoc).Format("Jan 2, 2006, 3:04 PM MST"),
		UpdatedISO:      loadedAt.UTC().Format(time.RFC3339),
	}
	if c := ov.Community; c != nil {
		p.Community = cmp.Or(c.DisplayName, c.Name)
		p.Purpose = c.Purpose
	}
	if ov.AttendancePercent != nil {
		p.HasAttendance = true
		p.Attendance = percent(*ov.AttendancePercent)
		p.AttendanceMet = *ov.AttendancePercent >= ov.RequiredPercent
	}
	for _, r := range ov.Roles {
		p.Roles = append(p.Roles, roleView{
			Name:        r.Name,
			Seated:      r.Seated,
			Max:         r.MaxMembers,
			Min:         r.MinMembers,
			Waitlisted:  r.Waitlisted,
			BelowMin:    r.Seated < r.MinMembers,
			FillPercent: fill(r.Seated, r.MaxMembers),
		})
	}
	p.Events = upcoming(ov.Upcoming, cohortLoc, now)
	for i := range p.Events {
		if p.Events[i].Next {
			p.Next = &p.Events[i]
		}
	}
	p.AttendanceRows = attendanceRows(ov.Attendance, ov.RequiredPercent, cohortLoc)
	if len(ov.Attendance) > 0 {
		c := newChart(ov.Attendance, ov.RequiredPercent, ov.AttendancePercent, cohortLoc)
		p.Chart = &c
	}
	p.Plans = plansOf(ov.Plans)
	p.Reports = reportsOf(ov.Reports)
	p.Agenda = agendaOf(ov.Agenda, cohortLoc)
	p.Organizations = organizations(docs.Roster.Members, ov.Roles, ov.RequiredPercent, len(ov.Attendance) > 0)
	for _, o := range p.Organizations {
		p.MemberCount += o.Count
		p.SeatedCount += o.Seated
		p.WaitingCount += o.Waiting
	}
	return p
}

// upcoming lists the events that have not ended at now, earliest first, and marks
// the next one that is not cancelled.
func upcoming(events []publish.Event, cohortLoc *time.Location, now time.Time) []eventView {
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b publish.Event) int { return a.Start.Compare(b.Start) })
	var out []eventView
	marked := false
	for _, e := range sorted {
		end := e.End
		if end.IsZero() || end.Before(e.Start) {
			end = e.Start
		}
		if !end.After(now) || len(out) == maxUpcoming {
			continue
		}
		loc := location(e.TimeZone, cohortLoc)
		start := e.Start.In(loc)
		v := eventView{
			Title:     e.Title,
			Type:      eventType(e.Type),
			Month:     start.Format("Jan"),
			Day:       start.Format("2"),
			Date:      start.Format("Mon, Jan 2, 2006"),
			Time:      timeRange(start, end.In(loc)),
			StartISO:  e.Start.UTC().Format(time.RFC3339),
			Location:  e.Location,
			Cancelled: e.Cancelled,
		}
		if !e.Cancelled && !marked {
			marked = true
			v.Next = true
			v.Now = !e.Start.After(now)
		}
		out = append(out, v)
	}
	return out
}

// recordedEvents counts the ended events with attendance recorded, which the cohort's
// attendance figure is computed over.
func recordedEvents(events []publish.EventAttendance) int {
	n := 0
	for _, e := range events {
		if e.Percent != nil {
			n++
		}
	}
	return n
}

// attendanceRows lists the attendance at each ended event, oldest first.
func attendanceRows(att []publish.EventAttendance, required int32, loc *time.Location) []attendanceRow {
	rows := make([]attendanceRow, 0, len(att))
	for _, a := range att {
		r := attendanceRow{
			Title:   a.Title,
			Date:    a.Start.In(loc).Format("Jan 2, 2006"),
			DateISO: a.Start.UTC().Format(time.RFC3339),
			Present: a.Present,
			Late:    a.Late,
			Excused: a.Excused,
			Absent:  a.Absent,
			Percent: "–",
		}
		if a.Percent != nil {
			r.Percent = percent(*a.Percent)
			r.Below = *a.Percent < required
		}
		rows = append(rows, r)
	}
	return rows
}

// organizations groups the roster by organization (alphabetically, members without
// one last), then by role (in the policy's order of roles), each role's members
// seated first, then by waitlist position and name.
func organizations(members []publish.RosterEntry, roles []publish.RoleSeats, required int32, showBelow bool) []organizationView {
	roleOrder := map[string]int{}
	for i, r := range roles {
		roleOrder[r.Name] = i
	}
	rank := func(role string) int {
		if i, ok := roleOrder[role]; ok {
			return i
		}
		return len(roleOrder)
	}
	sorted := slices.Clone(members)
	slices.SortStableFunc(sorted, func(a, b publish.RosterEntry) int {
		return cmp.Or(
			falseFirst(a.Organization == "", b.Organization == ""),
			cmp.Compare(a.Organization, b.Organization),
			cmp.Compare(rank(a.Role), rank(b.Role)),
			cmp.Compare(a.Role, b.Role),
			falseFirst(a.Seat != publish.SeatHeld, b.Seat != publish.SeatHeld),
			cmp.Compare(a.WaitlistPosition, b.WaitlistPosition),
			cmp.Compare(a.DisplayName, b.DisplayName),
		)
	})
	var orgs []organizationView
	for _, m := range sorted {
		name := cmp.Or(m.Organization, "No organization")
		if len(orgs) == 0 || orgs[len(orgs)-1].Name != name {
			orgs = append(orgs, organizationView{ID: fmt.Sprintf("org-%d", len(orgs)+1), Name: name})
		}
		o := &orgs[len(orgs)-1]
		if len(o.Roles) == 0 || o.Roles[len(o.Roles)-1].Role != m.Role {
			o.Roles = append(o.Roles, roleGroup{Role: m.Role})
		}
		g := &o.Roles[len(o.Roles)-1]
		v := memberView{
			Name:     m.DisplayName,
			Role:     m.Role,
			TeamRole: m.TeamRole,
			Seat:     "Seated",
			Term:     dateRange(m.TermStart, m.TermEnd),
		}
		if m.Phase != "Active" {
			v.Phase = m.Phase
		}
		if m.Seat == publish.SeatWaitlisted {
			v.Waitlisted = true
			v.Seat = "Waitlisted"
			if m.WaitlistPosition > 0 {
				v.Seat = fmt.Sprintf("Waitlist #%d", m.WaitlistPosition)
			}
			o.Waiting++
		} else {
			o.Seated++
		}
		if m.AttendancePercent != nil {
			v.Attendance = percent(*m.AttendancePercent)
			v.Below = showBelow && *m.AttendancePercent < required
		}
		g.Members = append(g.Members, v)
		o.Count++
	}
	return orgs
}

// eventTypes are the display names of the LearningEvent types.
var eventTypes = map[string]string{
	"Gathering":        "Gathering",
	"CheckIn":          "Check-in",
	"Intensive":        "Intensive",
	"SpeakerSeries":    "Speaker series",
	"ListeningSession": "Listening session",
	"Workshop":         "Workshop",
	"Other":            "Event",
}

func eventType(t string) string {
	if s, ok := eventTypes[t]; ok {
		return s
	}
	return t
}

// dateRange formats two YYYY-MM-DD dates as "Jan 1, 2026 – Dec 31, 2026"; a date that
// does not parse is shown as it is.
func dateRange(start, end string) string {
	s, e := day(start), day(end)
	switch {
	case s == "" && e == "":
		return ""
	case e == "":
		return "from " + s
	case s == "":
		return "until " + e
	}
	return s + " – " + e
}

func day(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("Jan 2, 2006")
}

// timeRange formats an event's times in its time zone: "12:00 PM – 1:30 PM CST", with
// the end's date when it ends on another day.
func timeRange(start, end time.Time) string {
	const clock = "3:04 PM"
	if !end.After(start) {
		return start.Format(clock + " MST")
	}
	if start.Format(time.DateOnly) != end.Format(time.DateOnly) {
		return start.Format(clock) + " – " + end.Format("Jan 2, "+clock+" MST")
	}
	return start.Format(clock) + " – " + end.Format(clock+" MST")
}

// falseFirst orders false before true.
func falseFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func percent(p int32) string { return fmt.Sprintf("%d%%", p) }

// fill is taken seats as a percent of max, from 0 to 100: the width of the meter's
// bar in its viewBox.
func fill(seated, maxSeats int32) string {
	if maxSeats <= 0 {
		return "0"
	}
	return strconv.Itoa(int(min(100, max(0, seated*100/maxSeats))))
}

var locations sync.Map // time zone name -> *time.Location

// location loads the named time zone, or returns fallback when the name is empty or
// unknown (the page then still shows times, with their zone's abbreviation).
func location(name string, fallback *time.Location) *time.Location {
	if name == "" {
		return fallback
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return fallback
	}
	locations.Store(name, l)
	return l
}

// plansOf shows the plans' progress; nil without plans.
func plansOf(pp *publish.PlanProgress) *plansView {
	if pp == nil {
		return nil
	}
	v := &plansView{
		Plans: pp.Plans, Current: pp.Current, Overdue: pp.Overdue, Stale: pp.Stale,
		Actions:     fmt.Sprintf("%d of %d %s done", pp.ActionsDone, pp.ActionsTotal, plural(int(pp.ActionsTotal), "action", "actions")),
		DonePercent: fill(pp.ActionsDone, pp.ActionsTotal),
	}
	if pp.Required > 0 {
		v.Required = fmt.Sprintf("%d of %d required %s written", pp.Present, pp.Required, plural(int(pp.Required), "plan", "plans"))
	}
	return v
}

// agendaOf shows the agenda in the cohort's time zone; nil without one.
func agendaOf(a *publish.Agenda, loc *time.Location) *agendaView {
	if a == nil {
		return nil
	}
	v := &agendaView{For: "the next gathering, once one is scheduled", Since: a.Since.In(loc).Format("Jan 2, 2006"), More: a.More}
	if n := a.Next; n != nil {
		v.For = n.Title + " on " + n.Start.In(location(n.TimeZone, loc)).Format("Mon, Jan 2, 2006")
	}
	for _, r := range a.Reflections {
		v.Items = append(v.Items, reflectionView{
			By: r.By, Team: r.Team,
			Date: r.At.In(loc).Format("Jan 2, 2006"), DateISO: r.At.UTC().Format(time.RFC3339),
			Learned: r.Learned, Adjust: r.Adjust,
			Progress: fmt.Sprintf("%d of %d %s done", r.ActionsDone, r.Actions, plural(int(r.Actions), "action", "actions")),
		})
	}
	return v
}

// reportsView is the reports section: the newest approved report and the trend.
type reportsView struct {
	Latest reportView
	// Periods are the trend's columns, oldest first; Trend its rows, one per KPI of
	// the newest report.
	Periods []string
	Trend   []trendRow
	// Older are the other published reports, newest first, for their downloads.
	Older []reportLink
}

// reportView is one report in full.
type reportView struct {
	reportLink
	Title, From, Until, ApprovedBy string
	Met, Below, Without            int
	KPIs                           []kpiView
	Narrative                      []narrativeView
}

// reportLink names a report's period and its downloads.
type reportLink struct {
	Period        string
	Markdown, CSV string
}

type kpiView struct {
	Label, Target, Figure, Verdict, Class, Change string
}

type narrativeView struct{ Title, Text string }

type trendRow struct {
	Label string
	Cells []trendCell
}

type trendCell struct{ Figure, Verdict, Class string }

// verdictClass picks a verdict's badge colours.
func verdictClass(v string) string {
	switch v {
	case "Met":
		return "ok"
	case "Below":
		return "warn"
	}
	return "muted"
}

func linkOf(period string) reportLink {
	return reportLink{Period: period, Markdown: "reports/" + period + ".md", CSV: "reports/" + period + ".csv"}
}

// reportsOf builds the reports section from the overview's approved reports, newest
// first; nil when there is none.
func reportsOf(reports []publish.Report) *reportsView {
	if len(reports) == 0 {
		return nil
	}
	latest := reports[0]
	v := &reportsView{Latest: reportView{reportLink: linkOf(latest.Period), Title: latest.Title, From: day(latest.From), Until: day(latest.Until), ApprovedBy: latest.ApprovedBy}}
	for _, k := range latest.KPIs {
		v.Latest.KPIs = append(v.Latest.KPIs, kpiView{Label: k.Label(), Target: k.TargetText(), Figure: k.Figure(), Verdict: k.Verdict, Class: verdictClass(k.Verdict), Change: k.ChangeText()})
		switch k.Verdict {
		case "Met":
			v.Latest.Met++
		case "Below":
			v.Latest.Below++
		default:
			v.Latest.Without++
		}
	}
	for _, n := range []narrativeView{
		{"Successes", latest.Narrative.Successes}, {"Challenges", latest.Narrative.Challenges},
		{"Best practices", latest.Narrative.BestPractices}, {"Next steps", latest.Narrative.NextSteps},
	} {
		if strings.TrimSpace(n.Text) != "" {
			v.Latest.Narrative = append(v.Latest.Narrative, n)
		}
	}
	// The trend: the periodic reports (a cohort's run stands alone), oldest first.
	var periodic []publish.Report
	for _, r := range reports {
		if r.Period != "run" {
			periodic = append(periodic, r)
		}
	}
	slices.Reverse(periodic)
	for _, r := range periodic {
		v.Periods = append(v.Periods, r.Period)
	}
	for _, k := range latest.KPIs {
		row := trendRow{Label: k.Label()}
		for _, r := range periodic {
			cell := trendCell{Figure: "not reported", Class: "muted"}
			if i := slices.IndexFunc(r.KPIs, func(o publish.ReportKPI) bool { return o.Name == k.Name && o.Qualifier == k.Qualifier }); i >= 0 {
				o := r.KPIs[i]
				cell = trendCell{Figure: o.Figure(), Verdict: o.Verdict, Class: verdictClass(o.Verdict)}
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Trend = append(v.Trend, row)
	}
	if len(v.Periods) < 2 {
		v.Periods, v.Trend = nil, nil // one period is no trend
	}
	for _, r := range reports[1:] {
		v.Older = append(v.Older, linkOf(r.Period))
	}
	return v
}
