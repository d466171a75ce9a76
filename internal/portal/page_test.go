package portal

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

func TestUpcoming(t *testing.T) {
	at := func(day, hour int) time.Time { return time.Date(2026, time.November, day, hour, 0, 0, 0, time.UTC) }
	event := func(title string, day int, cancelled bool) publish.Event {
		return publish.Event{Title: title, Type: "Gathering", Start: at(day, 18), End: at(day, 19), TimeZone: "America/Chicago", Cancelled: cancelled}
	}
	type row struct {
		Title     string
		Next, Now bool
	}
	summarize := func(vs []eventView) []row {
		var out []row
		for _, v := range vs {
			out = append(out, row{Title: v.Title, Next: v.Next, Now: v.Now})
		}
		return out
	}
	tests := map[string]struct {
		events []publish.Event
		now    time.Time
		want   []row
	}{
		"no events": {now: at(1, 0)},
		"the first is next": {
			events: []publish.Event{event("b", 10, false), event("a", 3, false)},
			now:    at(1, 0),
			want:   []row{{Title: "a", Next: true}, {Title: "b"}},
		},
		"a cancelled event is not next": {
			events: []publish.Event{event("a", 3, true), event("b", 10, false)},
			now:    at(1, 0),
			want:   []row{{Title: "a"}, {Title: "b", Next: true}},
		},
		"ended events are left out": {
			events: []publish.Event{event("a", 3, false), event("b", 10, false)},
			now:    at(5, 0),
			want:   []row{{Title: "b", Next: true}},
		},
		"an event under way is next and now": {
			events: []publish.Event{event("a", 3, false), event("b", 10, false)},
			now:    at(3, 18).Add(30 * time.Minute),
			want:   []row{{Title: "a", Next: true, Now: true}, {Title: "b"}},
		},
		"all cancelled": {
			events: []publish.Event{event("a", 3, true)},
			now:    at(1, 0),
			want:   []row{{Title: "a"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := summarize(upcoming(tc.events, time.UTC, tc.now))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("upcoming (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpcomingFormatsInTheEventsTimeZone(t *testing.T) {
	start := time.Date(2026, time.November, 10, 18, 0, 0, 0, time.UTC)
	got := upcoming([]publish.Event{{
		Title: "Gathering", Type: "ListeningSession", Start: start, End: start.Add(90 * time.Minute),
		TimeZone: "America/Chicago", Location: "Virtual",
	}}, time.UTC, start.Add(-time.Hour))
	want := []eventView{{
		Title: "Gathering", Type: "Listening session", Month: "Nov", Day: "10", Date: "Tue, Nov 10, 2026",
		Time: "12:00 PM – 1:30 PM CST", StartISO: "2026-11-10T18:00:00Z", Location: "Virtual", Next: true,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("upcoming (-want +got):\n%s", diff)
	}
}

func TestTimeRange(t *testing.T) {
	chicago := location("America/Chicago", time.UTC)
	start := time.Date(2026, time.March, 10, 12, 0, 0, 0, chicago)
	tests := map[string]struct {
		start, end time.Time
		want       string
	}{
		"same day":      {start, start.Add(90 * time.Minute), "12:00 PM – 1:30 PM CDT"},
		"no end":        {start, time.Time{}, "12:00 PM CDT"},
		"across a day":  {start, start.Add(26 * time.Hour), "12:00 PM – Mar 11, 2:00 PM CDT"},
		"end too early": {start, start.Add(-time.Hour), "12:00 PM CDT"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := timeRange(tc.start, tc.end); got != tc.want {
				t.Errorf("timeRange = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDateRange(t *testing.T) {
	tests := map[string]struct{ start, end, want string }{
		"both":        {"2026-01-01", "2026-12-31", "Jan 1, 2026 – Dec 31, 2026"},
		"only start":  {"2026-01-01", "", "from Jan 1, 2026"},
		"only end":    {"", "2026-12-31", "until Dec 31, 2026"},
		"neither":     {"", "", ""},
		"not a date":  {"soon", "2026-12-31", "soon – Dec 31, 2026"},
		"leap day ok": {"2028-02-29", "2029-02-28", "Feb 29, 2028 – Feb 28, 2029"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := dateRange(tc.start, tc.end); got != tc.want {
				t.Errorf("dateRange(%q, %q) = %q, want %q", tc.start, tc.end, got, tc.want)
			}
		})
	}
}

func TestOrganizations(t *testing.T) {
	members := []publish.RosterEntry{
		{DisplayName: "Zed", Organization: "Acme", Role: "Member", Seat: publish.SeatHeld, Phase: "Active", AttendancePercent: ptr[int32](70)},
		{DisplayName: "Ann", Organization: "", Role: "Member", Seat: publish.SeatHeld, Phase: "Active"},
		{DisplayName: "Bob", Organization: "Acme", Role: "Member", Seat: publish.SeatWaitlisted, WaitlistPosition: 2, Phase: "Pending"},
		{DisplayName: "Cy", Organization: "Acme", Role: "Member", Seat: publish.SeatWaitlisted, WaitlistPosition: 1, Phase: "Pending"},
		{DisplayName: "Dee", Organization: "Acme", Role: "Lead", Seat: publish.SeatHeld, Phase: "Expiring", AttendancePercent: ptr[int32](90),
			TermStart: "2026-01-01", TermEnd: "2026-12-31"},
		{DisplayName: "Eve", Organization: "Acme", Role: "Observer", Seat: publish.SeatHeld, Phase: "Active"},
		{DisplayName: "Al", Organization: "Beta", Role: "Member", Seat: publish.SeatHeld, Phase: "Active"},
	}
	roles := []publish.RoleSeats{{Name: "Lead"}, {Name: "Member"}}
	got := organizations(members, roles, 80, true)
	want := []organizationView{
		{ID: "org-1", Name: "Acme", Count: 5, Seated: 3, Waiting: 2, Roles: []roleGroup{
			{Role: "Lead", Members: []memberView{{Name: "Dee", Role: "Lead", Seat: "Seated", Term: "Jan 1, 2026 – Dec 31, 2026", Phase: "Expiring", Attendance: "90%"}}},
			{Role: "Member", Members: []memberView{
				{Name: "Zed", Role: "Member", Seat: "Seated", Attendance: "70%", Below: true},
				{Name: "Cy", Role: "Member", Seat: "Waitlist #1", Waitlisted: true, Phase: "Pending"},
				{Name: "Bob", Role: "Member", Seat: "Waitlist #2", Waitlisted: true, Phase: "Pending"},
			}},
			{Role: "Observer", Members: []memberView{{Name: "Eve", Role: "Observer", Seat: "Seated"}}},
		}},
		{ID: "org-2", Name: "Beta", Count: 1, Seated: 1, Roles: []roleGroup{
			{Role: "Member", Members: []memberView{{Name: "Al", Role: "Member", Seat: "Seated"}}},
		}},
		{ID: "org-3", Name: "No organization", Count: 1, Seated: 1, Roles: []roleGroup{
			{Role: "Member", Members: []memberView{{Name: "Ann", Role: "Member", Seat: "Seated"}}},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("organizations (-want +got):\n%s", diff)
	}
	// Before any event ended, a low figure is not flagged.
	if organizations(members[:1], roles, 80, false)[0].Roles[0].Members[0].Below {
		t.Error("a member is flagged below the requirement before any event ended")
	}
}

func TestChart(t *testing.T) {
	start := time.Date(2026, time.January, 13, 18, 0, 0, 0, time.UTC)
	att := []publish.EventAttendance{
		{Title: "Jan", Start: start, Present: 9, Absent: 1, Percent: ptr[int32](90)},
		{Title: "Feb", Start: start.AddDate(0, 1, 0), Present: 7, Absent: 3, Percent: ptr[int32](70)},
		{Title: "Mar", Start: start.AddDate(0, 2, 0), Excused: 10},
		{Title: "Apr", Start: start.AddDate(0, 3, 0), Present: 0, Absent: 10, Percent: ptr[int32](0)},
	}
	c := newChart(att, 80, ptr[int32](53), time.UTC)
	if len(c.Bars) != 4 || len(c.Grid) != 5 {
		t.Fatalf("chart has %d bars and %d grid lines, want 4 and 5", len(c.Bars), len(c.Grid))
	}
	type barSummary struct {
		HasValue, Met, Inside bool
		Value, Label, Height  string
	}
	var got []barSummary
	for _, b := range c.Bars {
		got = append(got, barSummary{HasValue: b.HasValue, Met: b.Met, Inside: b.Inside, Value: b.Value, Label: b.Label, Height: b.Height})
	}
	plot := plotBottom - plotTop
	want := []barSummary{
		{HasValue: true, Met: true, Value: "90%", Label: "Jan 13", Height: num(plot * 0.9)},
		{HasValue: true, Value: "70%", Label: "Feb 13", Height: num(plot * 0.7)},
		{Value: "–", Label: "Mar 13"},
		{HasValue: true, Value: "0%", Label: "Apr 13", Height: "0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bars (-want +got):\n%s", diff)
	}
	if want := num(plotBottom - plot*0.8); c.RequiredY != want {
		t.Errorf("required line at y=%s, want %s", c.RequiredY, want)
	}
	wantDesc := "4 ended gatherings from Jan 13, 2026 to Apr 13, 2026. Attendance ranged from 0% to 90%; " +
		"1 of 3 met the required 80%. The cohort's attendance is 53%."
	if c.Desc != wantDesc {
		t.Errorf("desc = %q, want %q", c.Desc, wantDesc)
	}
}

func TestChartLabelsEveryNthDateWhenCrowded(t *testing.T) {
	var att []publish.EventAttendance
	start := time.Date(2026, time.January, 5, 18, 0, 0, 0, time.UTC)
	for i := range 30 {
		att = append(att, publish.EventAttendance{Title: "Weekly", Start: start.AddDate(0, 0, 7*i), Present: 1, Percent: ptr[int32](100)})
	}
	c := newChart(att, 80, nil, time.UTC)
	labels := 0
	for _, b := range c.Bars {
		if b.Label != "" {
			labels++
		}
		if b.Value != "" {
			t.Errorf("a bar %s wide shows its value", b.Width)
		}
	}
	if labels != 10 {
		t.Errorf("%d of 30 bars are labelled, want every third (10)", labels)
	}
}

func TestValueLabelAvoidsTheRequiredLine(t *testing.T) {
	y := func(p float64) float64 { return plotBottom - (plotBottom-plotTop)*p/100 }
	for p, wantInside := range map[float64]bool{100: false, 90: false, 80: false, 79: true, 77: true, 70: false, 5: false} {
		if _, inside := valueY(y(p), y(80)); inside != wantInside {
			t.Errorf("value of a %v%% bar inside = %v, want %v", p, inside, wantInside)
		}
	}
}

func TestBuildPageSummary(t *testing.T) {
	docs := allyshipDocuments()
	p := buildPage(docs, sampleNow, sampleNow)
	got := struct {
		Title, Community, Phase, Dates, Attendance, Next, Updated string
		Met                                                       bool
		Members, Seated, Waiting, Orgs, Events                    int
		Roles                                                     []roleView
	}{
		p.Title, p.Community, p.Phase, p.Dates, p.Attendance, p.Next.Title, p.Updated,
		p.AttendanceMet,
		p.MemberCount, p.SeatedCount, p.WaitingCount, len(p.Organizations), len(p.Events),
		p.Roles,
	}
	want := struct {
		Title, Community, Phase, Dates, Attendance, Next, Updated string
		Met                                                       bool
		Members, Seated, Waiting, Orgs, Events                    int
		Roles                                                     []roleView
	}{
		"Allyship 2026", "Allyship Community of Practice", "Active", "Jan 1, 2026 – Dec 31, 2026", "88%",
		"Allyship monthly gathering, November", "Nov 2, 2026, 9:00 AM CST",
		true,
		24, 22, 2, 6, 4,
		[]roleView{
			{Name: "Lead", Seated: 2, Max: 2, Min: 1, FillPercent: "100"},
			{Name: "Member", Seated: 20, Max: 20, Min: 15, Waitlisted: 2, FillPercent: "100"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestFill(t *testing.T) {
	for _, tc := range []struct {
		seated, maxSeats int32
		want             string
	}{{0, 0, "0"}, {1, 2, "50"}, {3, 2, "100"}, {0, 20, "0"}, {-1, 2, "0"}} {
		if got := fill(tc.seated, tc.maxSeats); got != tc.want {
			t.Errorf("fill(%d, %d) = %q, want %q", tc.seated, tc.maxSeats, got, tc.want)
		}
	}
}
