package e2e

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gocmp "github.com/google/go-cmp/cmp"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// portalNamespace holds the samples the portal test renders; no other test uses it.
const portalNamespace = "e2e-portal"

// cohortView is what the cluster says a person should see on a cohort's portal.
type cohortView struct {
	// DisplayName is the cohort's title.
	DisplayName string
	// Seated and Waitlisted are the display names of the memberships that hold and
	// wait for a seat, sorted.
	Seated, Waitlisted []string
	// NextTitles are the titles of the events that start at the cohort's
	// status.nextEvent (usually one).
	NextTitles []string
}

// TestPortalShowsTheAllyshipSample applies the samples, as TestSamples does, then runs
// the built manager in portal mode as a process that acts as the portal's
// ServiceAccount, so the portal reads the ConfigMaps the operator rendered with only
// the rights the operator granted it. It checks, against the objects in the cluster,
// what headless Chromium shows (the cohort's title, every seated and waitlisted
// member, the next gathering, the attendance chart), that axe-core finds no serious or
// critical violation, and the roster and calendar documents beside the page. It leaves
// a screenshot in test/artifacts for a person to look at.
func TestPortalShowsTheAllyshipSample(t *testing.T) {
	testutil.RequireBrowser(t)
	ns, cohort := portalNamespace, "allyship-2026"
	createNamespace(t, ns)
	applySamples(t, ns)
	if out, err := kubectl("wait", "-n", ns, "--for=condition=Provisioned=True", "--timeout=90s", "cohort/"+cohort); err != nil {
		t.Fatalf("waiting for %s to be provisioned: %v\n%s", cohort, err, out)
	}
	want := publishedView(t, ns, cohort)

	base := startPortal(t, ns, cohort)
	checkRosterDocument(t, base, cohort, want)
	// The calendar holds the past 90 days and the next 366: the last gathering held,
	// not the first of the year.
	checkCalendarDocument(t, base, ns, cohort+"-gathering-11")
	checkPortalInBrowser(t, base, want)
}

// publishedView waits until the cohort's roster ConfigMap lists exactly the members
// the cohort's Memberships say hold or wait for a seat, and until the event at the
// cohort's status.nextEvent exists, and returns what the portal should show.
func publishedView(t *testing.T, ns, cohort string) cohortView {
	t.Helper()
	var view cohortView
	eventually(t, "the roster ConfigMap lists the seated and waitlisted members", func() error {
		var err error
		if view, err = membersOf(ns, cohort); err != nil {
			return err
		}
		data, err := jsonpath(ns, "configmap/"+cohort+"-roster", `{.data.roster\.json}`)
		if err != nil {
			return err
		}
		var roster publish.Roster
		if err := json.Unmarshal([]byte(data), &roster); err != nil {
			return fmt.Errorf("decoding the roster ConfigMap: %w", err)
		}
		return compareRoster(roster, view)
	})
	eventually(t, "the cohort's next event exists", func() error {
		next, err := nextEventTitles(ns, cohort)
		view.NextTitles = next
		return err
	})
	displayName, err := jsonpath(ns, "cohort/"+cohort, "{.spec.displayName}")
	if err != nil {
		t.Fatal(err)
	}
	view.DisplayName = cmp.Or(displayName, cohort)
	t.Logf("expecting %d seated and %d waitlisted members, next event %q", len(view.Seated), len(view.Waitlisted), view.NextTitles)
	return view
}

// membersOf reads the cohort's Memberships once they are all reconciled: seated are
// those with no waitlist position that are not withdrawn, waitlisted those with one.
func membersOf(ns, cohort string) (cohortView, error) {
	out, err := kubectl("get", "-n", ns, "memberships.learning.cohort.dev", "-o", "json")
	if err != nil {
		return cohortView{}, fmt.Errorf("%w: %s", err, out)
	}
	var list learningv1alpha1.MembershipList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return cohortView{}, fmt.Errorf("decoding the memberships: %w", err)
	}
	var view cohortView
	for _, m := range list.Items {
		if string(m.Spec.CohortRef.Name) != cohort {
			continue
		}
		if m.Status.ObservedGeneration != m.Generation {
			return cohortView{}, fmt.Errorf("membership %s is not reconciled yet", m.Name)
		}
		name := cmp.Or(m.Spec.DisplayName, m.Name)
		switch {
		case m.Status.WaitlistPosition != nil:
			view.Waitlisted = append(view.Waitlisted, name)
		case !m.Spec.Withdrawn && m.Status.Phase != learningv1alpha1.MembershipWithdrawn:
			view.Seated = append(view.Seated, name)
		}
	}
	if len(view.Seated) == 0 {
		return cohortView{}, fmt.Errorf("no membership of %s is seated", cohort)
	}
	slices.Sort(view.Seated)
	slices.Sort(view.Waitlisted)
	return view, nil
}

// compareRoster reports how a roster differs from the members the view expects.
func compareRoster(roster publish.Roster, want cohortView) error {
	var got cohortView
	for _, m := range roster.Members {
		switch m.Seat {
		case publish.SeatHeld:
			got.Seated = append(got.Seated, m.DisplayName)
		case publish.SeatWaitlisted:
			got.Waitlisted = append(got.Waitlisted, m.DisplayName)
		default:
			return fmt.Errorf("roster member %q has seat %q", m.DisplayName, m.Seat)
		}
	}
	slices.Sort(got.Seated)
	slices.Sort(got.Waitlisted)
	if diff := gocmp.Diff(want.Seated, got.Seated); diff != "" {
		return fmt.Errorf("seated members (-memberships +roster):\n%s", diff)
	}
	if diff := gocmp.Diff(want.Waitlisted, got.Waitlisted); diff != "" {
		return fmt.Errorf("waitlisted members (-memberships +roster):\n%s", diff)
	}
	return nil
}

// nextEventTitles returns the titles of the cohort's events, not cancelled, that
// start at its status.nextEvent.
func nextEventTitles(ns, cohort string) ([]string, error) {
	raw, err := jsonpath(ns, "cohort/"+cohort, "{.status.nextEvent}")
	if err != nil {
		return nil, err
	}
	next, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, fmt.Errorf("the cohort's status.nextEvent %q: %w", raw, err)
	}
	out, err := kubectl("get", "-n", ns, "learningevents.learning.cohort.dev", "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, out)
	}
	var list learningv1alpha1.LearningEventList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("decoding the events: %w", err)
	}
	var titles []string
	for _, e := range list.Items {
		if e.Spec.CohortRef != nil && string(e.Spec.CohortRef.Name) == cohort && !e.Spec.Cancelled && e.Spec.Start.Time.Equal(next) {
			titles = append(titles, e.Spec.Title)
		}
	}
	if len(titles) == 0 {
		return nil, fmt.Errorf("no event of %s starts at its status.nextEvent %s", cohort, raw)
	}
	return titles, nil
}

// startPortal runs the built manager in portal mode for the cohort, acting as the
// portal's ServiceAccount through the administrator's kubeconfig (as hack/demo.sh
// runs it), waits until it is ready and returns its base URL. The process is killed
// at cleanup; its log is printed when the test failed.
func startPortal(t *testing.T, ns, cohort string) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "portal.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(managerBinary(t), "portal",
		"--as", "system:serviceaccount:"+ns+":"+cohort+"-portal",
		"--namespace", ns, "--cohort", cohort,
		"--roster-configmap", cohort+"-roster",
		"--calendar-configmap", cohort+"-calendar",
		"--overview-configmap", cohort+"-overview",
		"--address", addr)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the portal: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = log.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("portal log:\n%s", data)
		}
	})
	base := "http://" + addr
	eventually(t, "the portal is ready", func() error {
		select {
		case <-exited:
			data, _ := os.ReadFile(logPath)
			t.Fatalf("the portal exited: %v\n%s", cmd.ProcessState, data)
		default:
		}
		_, err := get(base+"/readyz", "text/plain")
		return err
	})
	return base
}

// managerBinary is the manager TestMain built.
func managerBinary(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(manager); err != nil {
		t.Fatalf("the manager TestMain built: %v", err)
	}
	return manager
}

// get fetches url and returns its body when it answers 200 with the media type.
func get(url, mediaType string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, mediaType) {
		return "", fmt.Errorf("GET %s: Content-Type %q, want %s", url, ct, mediaType)
	}
	return string(body), nil
}

// checkRosterDocument checks that /roster.json lists the members the view expects.
func checkRosterDocument(t *testing.T, base, cohort string, want cohortView) {
	t.Helper()
	body, err := get(base+"/roster.json", "application/json")
	if err != nil {
		t.Fatal(err)
	}
	var roster publish.Roster
	if err := json.Unmarshal([]byte(body), &roster); err != nil {
		t.Fatalf("decoding /roster.json: %v\n%s", err, body)
	}
	if roster.Cohort != cohort {
		t.Errorf("/roster.json is of cohort %q, want %q", roster.Cohort, cohort)
	}
	if err := compareRoster(roster, want); err != nil {
		t.Errorf("/roster.json: %v", err)
	}
}

// checkCalendarDocument checks that /calendar.ics is an iCalendar stream with CRLF
// line endings that holds the event, identified by its stable UID, with its title.
func checkCalendarDocument(t *testing.T, base, ns, event string) {
	t.Helper()
	body, err := get(base+"/calendar.ics", "text/calendar")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") {
		t.Errorf("/calendar.ics does not start with BEGIN:VCALENDAR and CRLF: %.40q", body)
	}
	if !strings.HasSuffix(body, "\r\n") || strings.Count(body, "\n") != strings.Count(body, "\r\n") {
		t.Error("/calendar.ics has lines that do not end with CRLF")
	}
	title, err := jsonpath(ns, "learningevent/"+event, "{.spec.title}")
	if err != nil {
		t.Fatal(err)
	}
	uid := "learningevent/" + ns + "/" + event + "@learning.cohort.dev"
	props, err := calendarEvent(body, uid)
	if err != nil {
		t.Fatalf("/calendar.ics: %v\n%s", err, body)
	}
	if got := props["SUMMARY"]; got != title {
		t.Errorf("/calendar.ics: the event %s has SUMMARY %q, want %q", uid, got, title)
	}
}

// icsText undoes the escaping of an iCalendar TEXT value (RFC 5545, 3.3.11).
var icsText = strings.NewReplacer(`\\`, `\`, `\,`, `,`, `\;`, `;`, `\n`, "\n", `\N`, "\n")

// calendarEvent unfolds an iCalendar stream (a CRLF followed by a space or a tab
// continues the line) and returns the properties of the VEVENT with the UID, by name,
// parameters dropped and TEXT unescaped.
func calendarEvent(ics, uid string) (map[string]string, error) {
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n\t", "").Replace(ics)
	var props map[string]string
	for line := range strings.SplitSeq(unfolded, "\r\n") {
		switch {
		case line == "BEGIN:VEVENT":
			props = map[string]string{}
		case line == "END:VEVENT":
			if props["UID"] == uid {
				return props, nil
			}
			props = nil
		case props != nil:
			nameParams, value, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("a line without a value in a VEVENT: %q", line)
			}
			name, _, _ := strings.Cut(nameParams, ";")
			props[name] = icsText.Replace(value)
		}
	}
	return nil, errors.New("no VEVENT has UID " + uid)
}

// portalPage is what a person sees on the portal's page, read from the rendered DOM.
type portalPage struct {
	H1           []string `json:"h1"`
	RosterNames  []string `json:"rosterNames"`
	WaitingNames []string `json:"waitingNames"`
	Organization []string `json:"organizations"`
	Upcoming     []string `json:"upcoming"`
	NextTitle    string   `json:"nextTitle"`
	NextBadge    string   `json:"nextBadge"`
	UpNext       string   `json:"upNext"`
	ChartRole    string   `json:"chartRole"`
	Bars         int      `json:"bars"`
}

const readPortalPage = `(() => {
  const text = (el) => el ? el.textContent.replace(/\s+/g, ' ').trim() : '';
  const next = document.querySelector('.event.next');
  const svg = document.querySelector('figure.chart svg');
  return {
    h1: [...document.querySelectorAll('h1')].map(text),
    rosterNames: [...document.querySelectorAll('table.roster tbody tr > th[scope="row"]')].map(text),
    waitingNames: [...document.querySelectorAll('table.roster tbody tr.waiting > th[scope="row"]')].map(text),
    organizations: [...document.querySelectorAll('.org h3')].map(h => text(h)),
    upcoming: [...document.querySelectorAll('.event .event-name')].map(text),
    nextTitle: next ? text(next.querySelector('.event-name')) : '',
    nextBadge: next ? text(next.querySelector('.badge')) : '',
    upNext: text(document.querySelector('.next-title')),
    chartRole: svg ? svg.getAttribute('role') : '',
    bars: svg ? [...svg.querySelectorAll('g.bar rect')].filter(r => r.getBBox().height > 0).length : 0,
  };
})()`

// checkPortalInBrowser opens the portal in headless Chromium, checks what it shows
// against the view, runs axe-core and saves a full-page screenshot.
func checkPortalInBrowser(t *testing.T, base string, want cohortView) {
	t.Helper()
	ctx := testutil.NewBrowser(t, time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.roster")),
	); err != nil {
		t.Fatalf("opening the portal: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[portalPage](readPortalPage))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	t.Logf("the page shows organizations %q and upcoming %q", got.Organization, got.Upcoming)

	if len(got.H1) != 1 || got.H1[0] != want.DisplayName {
		t.Errorf("h1 = %q, want one: %q", got.H1, want.DisplayName)
	}
	wantNames := slices.Sorted(slices.Values(slices.Concat(want.Seated, want.Waitlisted)))
	if diff := gocmp.Diff(wantNames, slices.Sorted(slices.Values(got.RosterNames))); diff != "" {
		t.Errorf("roster rows (-memberships +page):\n%s", diff)
	}
	if diff := gocmp.Diff(want.Waitlisted, slices.Sorted(slices.Values(got.WaitingNames))); diff != "" {
		t.Errorf("waitlisted roster rows (-memberships +page):\n%s", diff)
	}
	if !slices.ContainsFunc(got.Upcoming, func(title string) bool { return slices.Contains(want.NextTitles, title) }) {
		t.Errorf("upcoming gatherings %q show none of the next event's titles %q", got.Upcoming, want.NextTitles)
	}
	// An event in progress is marked on the page, while status.nextEvent is the next
	// one to start.
	if got.NextBadge != "Happening now" && (!slices.Contains(want.NextTitles, got.NextTitle) || got.UpNext != got.NextTitle || got.NextBadge != "Next") {
		t.Errorf("the page marks %q (badge %q, up next %q) as next, want one of %q", got.NextTitle, got.NextBadge, got.UpNext, want.NextTitles)
	}
	if got.ChartRole != "img" || got.Bars == 0 {
		t.Errorf("attendance chart: role %q with %d bars, want an img with at least one bar", got.ChartRole, got.Bars)
	}
	testutil.CheckAccessibility(t, ctx)
	testutil.SaveScreenshot(t, ctx, testutil.Path("test", "artifacts", "portal-allyship-sample.png"))
}
