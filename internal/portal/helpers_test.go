package portal

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// sampleNow is the time the sample documents are viewed at: after October's gathering
// and before November's.
var sampleNow = time.Date(2026, time.November, 2, 15, 0, 0, 0, time.UTC)

// markupTitle is an event title that would create elements and run a script if the
// page did not escape it.
const markupTitle = `<script>alert(1)</script><b>bold</b>`

func ptr[T any](v T) *T { return &v }

// allyshipDocuments resembles what the manager publishes for the allyship sample
// (config/samples/allyship-*.yaml): two co-leads and 22 members for 20 member seats,
// attendance recorded at the gatherings from January to October, monthly gatherings
// ahead (one cancelled), one event whose title holds markup, the action plans'
// progress and two shared reflections on the next gathering's agenda, one holding markup.
func allyshipDocuments() Documents {
	orgs := []string{"Northstar Health", "Lakeside Bank", "Prairie Foods", "Twin Rivers Energy", "Summit Insurance", "Bluewater Retail"}
	names := []string{"Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan", "Kai", "Logan", "Morgan",
		"Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor", "Umber", "Val", "Wren", "Yael"}
	percents := []int32{100, 95, 90, 100, 85, 70, 95, 90, 100, 80, 90, 95, 85, 100, 75, 90, 95, 100, 90, 85}
	teamRoles := map[string]string{"Casey": "Facilitator", "Harper": "Note taker", "Kai": "Content reviewer", "Parker": "Speaker liaison"}
	roster := publish.Roster{Cohort: "allyship-2026", Members: []publish.RosterEntry{
		{DisplayName: "Avery (co-lead)", Organization: "Northstar Health", Role: "Lead", TeamRole: "Pillar liaison", Seat: publish.SeatHeld,
			Phase: "Active", TermStart: "2026-01-01", TermEnd: "2026-12-31", AttendancePercent: ptr[int32](100)},
		{DisplayName: "Blake (co-lead)", Organization: "Lakeside Bank", Role: "Lead", Seat: publish.SeatHeld,
			Phase: "Expiring", TermStart: "2026-01-01", TermEnd: "2026-12-31", AttendancePercent: ptr[int32](90)},
	}}
	for i, name := range names {
		e := publish.RosterEntry{
			DisplayName: name, Organization: orgs[i%len(orgs)], Role: "Member", TeamRole: teamRoles[name],
			Seat: publish.SeatHeld, Phase: "Active", TermStart: "2026-01-01", TermEnd: "2026-12-31",
		}
		if i < len(percents) {
			e.AttendancePercent = ptr(percents[i])
		} else {
			e.Seat, e.WaitlistPosition, e.Phase = publish.SeatWaitlisted, int32(i-19), "Pending"
			e.TermStart, e.TermEnd = "", ""
		}
		roster.Members = append(roster.Members, e)
	}

	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	gathering := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, chicago).UTC() }
	var attendance []publish.EventAttendance
	absent := []int32{3, 3, 2, 1, 5, 2, 4, 2, 1, 3}
	for i, m := 0, time.January; m <= time.October; i, m = i+1, m+1 {
		a := publish.EventAttendance{
			Title:   "Allyship monthly gathering, " + m.String(),
			Start:   gathering(2026, m, secondTuesday(2026, m)),
			Present: 22 - absent[i] - 1, Late: 1, Excused: int32(i % 2), Absent: absent[i],
		}
		a.Present -= a.Excused
		a.Percent = ptr((a.Present + a.Late) * 100 / (a.Present + a.Late + a.Absent))
		attendance = append(attendance, a)
	}
	event := func(title, typ string, start time.Time, cancelled bool) publish.Event {
		return publish.Event{Title: title, Type: typ, Start: start, End: start.Add(90 * time.Minute),
			TimeZone: "America/Chicago", Location: "Virtual", Cancelled: cancelled}
	}
	overview := publish.Overview{
		Cohort: publish.CohortSummary{Name: "allyship-2026", DisplayName: "Allyship 2026", Phase: "Active",
			StartDate: "2026-01-01", EndDate: "2026-12-31", TimeZone: "America/Chicago"},
		Community: &publish.Community{Name: "allyship", DisplayName: "Allyship Community of Practice",
			Purpose: "Support the ongoing learning and development of allyship capabilities within member workforces and the wider community."},
		Roles: []publish.RoleSeats{
			{Name: "Lead", MinMembers: 1, MaxMembers: 2, Seated: 2},
			{Name: "Member", MinMembers: 15, MaxMembers: 20, Seated: 20, Waitlisted: 2},
		},
		Waitlisted:        2,
		AttendancePercent: ptr[int32](88),
		RequiredPercent:   80,
		Upcoming: []publish.Event{
			event("Allyship monthly gathering, November", "Gathering", gathering(2026, time.November, 10), false),
			event(markupTitle, "Workshop", gathering(2026, time.November, 19), false),
			event("Allyship monthly gathering, December", "Gathering", gathering(2026, time.December, 8), true),
			event("Allyship monthly gathering, January", "Gathering", gathering(2027, time.January, 12), false),
		},
		Attendance: attendance,
		Plans:      &publish.PlanProgress{Required: 22, Present: 20, Plans: 21, Current: 17, Overdue: 2, Stale: 2, ActionsDone: 31, ActionsTotal: 58},
		Agenda: &publish.Agenda{
			Next:  ptr(event("Allyship monthly gathering, November", "Gathering", gathering(2026, time.November, 10), false)),
			Since: gathering(2026, time.October, 13).Add(90 * time.Minute),
			Reflections: []publish.Reflection{
				{By: "Casey", At: gathering(2026, time.October, 20), Learned: "Asking before advising changed the conversation.", Adjust: "Listen longer in team meetings.", ActionsDone: 2, Actions: 3},
				{By: "Harper", At: gathering(2026, time.October, 28), Learned: markupTitle, ActionsDone: 0, Actions: 2},
			},
		},
	}
	overview.Reports = allyshipReports()
	return Documents{Roster: roster, Overview: overview, Calendar: []byte(sampleCalendar)}
}

// allyshipReports are the community's approved reports for October and September,
// newest first; October's narrative holds markup, which must stay text.
func allyshipReports() []publish.Report {
	kpi := func(name, qualifier, direction, unit string, target int64, verdict string, value, change *int64) publish.ReportKPI {
		return publish.ReportKPI{Name: name, Qualifier: qualifier, Direction: direction, Target: target, Unit: unit, Verdict: verdict, Value: value, Change: change}
	}
	report := func(period, from, until string, kpis ...publish.ReportKPI) publish.Report {
		return publish.Report{Unit: "CommunityOfPractice allyship", Title: "Allyship Community of Practice", Period: period, From: from, Until: until,
			Phase: "Frozen", ApprovedBy: "allyship-pillar-lead", KPIs: kpis}
	}
	october := report("2026-10", "2026-10-01", "2026-10-31",
		kpi("AttendanceRate", "", "AtLeast", "%", 80, "Met", ptr[int64](86), ptr[int64](4)),
		kpi("SeatsFilled", "Member", "AtLeast", "", 15, "Below", ptr[int64](12), ptr[int64](-3)),
		kpi("PlansCurrent", "", "AtLeast", "%", 75, "Suppressed", nil, nil))
	october.Narrative = publish.ReportNarrative{Successes: "Members led two listening sessions.\nBoth were full.", Challenges: markupTitle}
	september := report("2026-09", "2026-09-01", "2026-09-30",
		kpi("AttendanceRate", "", "AtLeast", "%", 80, "Met", ptr[int64](82), nil),
		kpi("SeatsFilled", "Member", "AtLeast", "", 15, "Below", ptr[int64](15), nil))
	return []publish.Report{october, september}
}

// secondTuesday is the day of the month's second Tuesday.
func secondTuesday(y int, m time.Month) int {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(time.Tuesday)-int(first)+7)%7 + 7
}

const sampleCalendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//cohort.dev//cohort-operator//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:allyship-2026-gathering-11.default@cohort.dev\r\nDTSTAMP:20261101T000000Z\r\n" +
	"DTSTART:20261110T180000Z\r\nDTEND:20261110T193000Z\r\nSUMMARY:Allyship monthly gathering\\, November\r\n" +
	"END:VEVENT\r\nEND:VCALENDAR\r\n"

// fakeSource returns what its tests set, and counts the loads.
type fakeSource struct {
	mu    sync.Mutex
	docs  Documents
	err   error
	loads int
}

func (f *fakeSource) Load(context.Context) (Documents, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	return f.docs, f.err
}

func (f *fakeSource) set(docs Documents, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs, f.err = docs, err
}

// newLoadedServer returns a server that loaded docs, viewed at sampleNow.
func newLoadedServer(t *testing.T, docs Documents) (*Server, *fakeSource) {
	t.Helper()
	src := &fakeSource{docs: docs}
	s := NewServer(src, "allyship-2026", clocktesting.NewFakePassiveClock(sampleNow))
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return s, src
}

// response is what get observed.
type response struct {
	code   int
	header http.Header
	body   string
}

// get sends a request to the handler and returns the recorded response.
func get(t *testing.T, h http.Handler, method, path string, header ...string) response {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body of %s %s: %v", method, path, err)
	}
	return response{code: res.StatusCode, header: res.Header, body: string(body)}
}

// mustContain fails the test for every part the text lacks.
func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q", what, p)
		}
	}
}

func mustNotContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(text, p) {
			t.Errorf("%s contains %q", what, p)
		}
	}
}
