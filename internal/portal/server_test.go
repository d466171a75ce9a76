package portal

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

func TestRoutesBeforeTheFirstLoad(t *testing.T) {
	s := NewServer(&fakeSource{err: errors.New("not published yet")}, "allyship-2026", clocktesting.NewFakePassiveClock(sampleNow))
	h := s.Handler()
	for path, want := range map[string]int{
		"/":             http.StatusServiceUnavailable,
		"/calendar.ics": http.StatusServiceUnavailable,
		"/roster.json":  http.StatusServiceUnavailable,
		"/readyz":       http.StatusServiceUnavailable,
		"/healthz":      http.StatusOK,
		"/metrics":      http.StatusOK,
	} {
		if got := get(t, h, http.MethodGet, path); got.code != want {
			t.Errorf("GET %s before the first load = %d, want %d", path, got.code, want)
		}
	}
	if err := s.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh of a failing source returned no error")
	}
	if got := get(t, h, http.MethodGet, "/readyz"); got.code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz after a failed first load = %d, want 503", got.code)
	}
	if got := promtestutil.ToFloat64(s.metrics.lastLoad); got != 0 {
		t.Errorf("last load time before any success = %v, want 0", got)
	}
}

func TestRoutes(t *testing.T) {
	s, _ := newLoadedServer(t, allyshipDocuments())
	h := s.Handler()
	tests := map[string]struct {
		method, path string
		wantCode     int
		wantType     string
		wantBody     []string
	}{
		"overview page": {
			method: http.MethodGet, path: "/", wantCode: http.StatusOK, wantType: "text/html; charset=utf-8",
			wantBody: []string{`<html lang="en">`, "<h1>Allyship 2026</h1>", "Allyship Community of Practice",
				`href="calendar.ics"`, `href="roster.json"`, "Avery (co-lead)", "Northstar Health", "Waitlist #2",
				`role="img"`, "Allyship monthly gathering, November"},
		},
		"calendar": {
			method: http.MethodGet, path: "/calendar.ics", wantCode: http.StatusOK, wantType: "text/calendar; charset=utf-8",
			wantBody: []string{sampleCalendar},
		},
		"roster": {
			method: http.MethodGet, path: "/roster.json", wantCode: http.StatusOK, wantType: "application/json",
			wantBody: []string{`"cohort": "allyship-2026"`, `"displayName": "Yael"`},
		},
		"health":            {method: http.MethodGet, path: "/healthz", wantCode: http.StatusOK, wantType: "text/plain; charset=utf-8", wantBody: []string{"ok"}},
		"readiness":         {method: http.MethodGet, path: "/readyz", wantCode: http.StatusOK, wantType: "text/plain; charset=utf-8", wantBody: []string{"ok"}},
		"metrics":           {method: http.MethodGet, path: "/metrics", wantCode: http.StatusOK, wantBody: []string{"cohort_portal_last_successful_load_timestamp_seconds 1.7936316e+09"}},
		"unknown path":      {method: http.MethodGet, path: "/admin", wantCode: http.StatusNotFound},
		"index.html":        {method: http.MethodGet, path: "/index.html", wantCode: http.StatusNotFound},
		"write to the page": {method: http.MethodPost, path: "/", wantCode: http.StatusMethodNotAllowed},
		"write a document":  {method: http.MethodDelete, path: "/roster.json", wantCode: http.StatusMethodNotAllowed},
		"head of the page":  {method: http.MethodHead, path: "/", wantCode: http.StatusOK, wantType: "text/html; charset=utf-8"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := get(t, h, tc.method, tc.path)
			if got.code != tc.wantCode {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, got.code, tc.wantCode, got.body)
			}
			if tc.wantType != "" && got.header.Get("Content-Type") != tc.wantType {
				t.Errorf("Content-Type = %q, want %q", got.header.Get("Content-Type"), tc.wantType)
			}
			mustContain(t, tc.path, got.body, tc.wantBody...)
			for header, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"Content-Security-Policy": "default-src 'none'; style-src '" + styleHash() + "'; img-src data:; " +
					"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
			} {
				if got := got.header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
		})
	}
	if got := get(t, h, http.MethodPost, "/").header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow of a 405 = %q, want GET, HEAD", got)
	}
}

// TestReportDownloads serves each approved report as Markdown and CSV, and no other.
func TestReportDownloads(t *testing.T) {
	srv, _ := newLoadedServer(t, allyshipDocuments())
	h := srv.Handler()
	md := get(t, h, http.MethodGet, "/reports/2026-10.md")
	if md.code != http.StatusOK || !strings.HasPrefix(md.header.Get("Content-Type"), "text/markdown") {
		t.Fatalf("/reports/2026-10.md: %d %s", md.code, md.header.Get("Content-Type"))
	}
	mustContain(t, "the Markdown report", md.body, "# Allyship Community of Practice: report for 2026-10", "Approved by allyship-pillar-lead.",
		"| AttendanceRate | at least 80% | 86% | Met | +4% |", "&lt;script&gt;")
	mustNotContain(t, "the Markdown report", md.body, "<script>")
	csv := get(t, h, http.MethodGet, "/reports/2026-09.csv")
	if csv.code != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("/reports/2026-09.csv: %d %s", csv.code, csv.header.Get("Content-Type"))
	}
	mustContain(t, "the CSV report", csv.body, "period,kpi,qualifier,direction,target,unit,verdict,value,change\n2026-09,AttendanceRate,,AtLeast,80,%,Met,82,\n")
	if d := csv.header.Get("Content-Disposition"); !strings.Contains(d, "report-2026-09.csv") {
		t.Errorf("Content-Disposition %q", d)
	}
	for _, path := range []string{"/reports/2026-08.md", "/reports/2026-10.pdf", "/reports/2026-10", "/reports/"} {
		if r := get(t, h, http.MethodGet, path); r.code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.code)
		}
	}
}

func TestRosterJSONRoundTrips(t *testing.T) {
	docs := allyshipDocuments()
	s, _ := newLoadedServer(t, docs)
	var got publish.Roster
	if err := json.Unmarshal([]byte(get(t, s.Handler(), http.MethodGet, "/roster.json").body), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(docs.Roster, got); diff != "" {
		t.Errorf("roster.json (-published +served):\n%s", diff)
	}
}

func TestDocumentsRevalidateWithETag(t *testing.T) {
	s, _ := newLoadedServer(t, allyshipDocuments())
	h := s.Handler()
	for _, path := range []string{"/calendar.ics", "/roster.json"} {
		first := get(t, h, http.MethodGet, path)
		tag := first.header.Get("ETag")
		if tag == "" {
			t.Fatalf("%s has no ETag", path)
		}
		if got := get(t, h, http.MethodGet, path, "If-None-Match", tag); got.code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", path, got.code)
		}
	}
}

func TestPageEscapesUserText(t *testing.T) {
	docs := allyshipDocuments()
	docs.Roster.Members[0].DisplayName = `Avery "><img src=x onerror=alert(1)>`
	docs.Overview.Community.Purpose = `</style><script>alert(2)</script>`
	s, _ := newLoadedServer(t, docs)
	body := get(t, s.Handler(), http.MethodGet, "/").body
	mustContain(t, "the page", body,
		"&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;",
		"Avery &#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
		"&lt;/style&gt;&lt;script&gt;alert(2)&lt;/script&gt;")
	mustNotContain(t, "the page", body, "<script", "<b>", "<img")
}

// TestStylesheetMatchesThePolicy checks that the page's one <style> element holds
// exactly the stylesheet whose hash the Content-Security-Policy allows.
func TestStylesheetMatchesThePolicy(t *testing.T) {
	s, _ := newLoadedServer(t, allyshipDocuments())
	got := get(t, s.Handler(), http.MethodGet, "/")
	if n := strings.Count(got.body, "<style>"); n != 1 {
		t.Fatalf("the page has %d <style> elements, want 1", n)
	}
	_, rest, _ := strings.Cut(got.body, "<style>")
	style, _, _ := strings.Cut(rest, "</style>")
	sum := sha256.Sum256([]byte(style))
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	mustContain(t, "Content-Security-Policy", got.header.Get("Content-Security-Policy"), want)
	mustNotContain(t, "the page", got.body, "style=\"", "<script", "http://", "https://")
}

func TestRefreshFailureKeepsTheLastGoodDocuments(t *testing.T) {
	s, src := newLoadedServer(t, allyshipDocuments())
	h := s.Handler()
	before := promtestutil.ToFloat64(s.metrics.lastLoad)

	src.set(Documents{}, errors.New("the API server is unavailable"))
	for range 2 {
		if err := s.Refresh(t.Context()); err == nil {
			t.Fatal("Refresh of a failing source returned no error")
		}
	}
	if got := promtestutil.ToFloat64(s.metrics.loadErrors); got != 2 {
		t.Errorf("load errors = %v, want 2", got)
	}
	if got := promtestutil.ToFloat64(s.metrics.lastLoad); got != before {
		t.Errorf("last successful load moved from %v to %v on a failure", before, got)
	}
	if got := get(t, h, http.MethodGet, "/readyz"); got.code != http.StatusOK {
		t.Errorf("GET /readyz after a failed refresh = %d, want 200", got.code)
	}
	page := get(t, h, http.MethodGet, "/")
	if page.code != http.StatusOK {
		t.Fatalf("GET / after a failed refresh = %d", page.code)
	}
	mustContain(t, "the page after a failed refresh", page.body, "Allyship 2026", "Avery (co-lead)")
	if got := get(t, h, http.MethodGet, "/calendar.ics"); got.body != sampleCalendar {
		t.Errorf("calendar after a failed refresh = %q", got.body)
	}

	// The next good load replaces the documents.
	next := allyshipDocuments()
	next.Overview.Cohort.DisplayName = "Allyship 2026 (renamed)"
	src.set(next, nil)
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "the page after a good refresh", get(t, h, http.MethodGet, "/").body, "Allyship 2026 (renamed)")
}

func TestRefreshRejectsAnotherCohortsDocuments(t *testing.T) {
	docs := allyshipDocuments()
	docs.Roster.Cohort = "equity-2026"
	s := NewServer(&fakeSource{docs: docs}, "allyship-2026", clocktesting.NewFakePassiveClock(sampleNow))
	err := s.Refresh(t.Context())
	if err == nil || !strings.Contains(err.Error(), `"equity-2026"`) {
		t.Fatalf("Refresh = %v, want an error naming the other cohort", err)
	}
	if s.Ready() {
		t.Error("the server is ready with another cohort's documents")
	}
}

func TestMetrics(t *testing.T) {
	s, src := newLoadedServer(t, allyshipDocuments())
	h := s.Handler()
	get(t, h, http.MethodGet, "/")
	get(t, h, http.MethodGet, "/")
	get(t, h, http.MethodGet, "/calendar.ics")
	get(t, h, http.MethodGet, "/nope")
	get(t, h, http.MethodGet, "/also-nope")
	src.set(Documents{}, errors.New("forbidden"))
	_ = s.Refresh(t.Context())

	body := get(t, h, http.MethodGet, "/metrics").body
	mustContain(t, "/metrics", body,
		`cohort_portal_http_requests_total{code="200",route="index"} 2`,
		`cohort_portal_http_requests_total{code="200",route="calendar"} 1`,
		`cohort_portal_http_requests_total{code="404",route="other"} 2`,
		"cohort_portal_load_errors_total 1",
		"cohort_portal_last_successful_load_timestamp_seconds 1.7936316e+09",
		"go_goroutines",
	)
	mustNotContain(t, "/metrics", body, "/nope")
}

func TestEmptyDocuments(t *testing.T) {
	docs := Documents{
		Overview: publish.Overview{
			Cohort:          publish.CohortSummary{Name: "allyship-2026", Phase: "Enrolling", StartDate: "2027-01-01", EndDate: "2027-12-31"},
			RequiredPercent: 80,
		},
		Calendar: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
	}
	s, _ := newLoadedServer(t, docs)
	page := get(t, s.Handler(), http.MethodGet, "/")
	if page.code != http.StatusOK {
		t.Fatalf("GET / = %d: %s", page.code, page.body)
	}
	mustContain(t, "the empty page", page.body,
		"<h1>allyship-2026</h1>",
		"No gatherings are scheduled yet.",
		"No gathering has ended yet.",
		"No one has joined this cohort yet.",
		"No roles are defined.",
		"Nothing is scheduled yet.",
	)
	mustNotContain(t, "the empty page", page.body, `role="img"`, "<table")
	if got := get(t, s.Handler(), http.MethodGet, "/roster.json").body; !strings.Contains(got, `"members": []`) {
		t.Errorf("roster.json of an empty roster = %s, want an empty members list", got)
	}
}

// TestServe runs the server on a real listener: it becomes ready once the source
// delivers, and it shuts down cleanly when its context ends.
func TestServe(t *testing.T) {
	src := &fakeSource{err: errors.New("not yet")}
	s := NewServer(src, "allyship-2026", clocktesting.NewFakePassiveClock(sampleNow))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 50*time.Millisecond) }()
	base := "http://" + ln.Addr().String()

	status := func(path string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz before the documents exist = %d, want 503", got)
	}
	src.set(allyshipDocuments(), nil)
	deadline := time.Now().Add(5 * time.Second)
	for status("/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the portal did not become ready within 5s of the documents appearing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := status("/"); got != http.StatusOK {
		t.Errorf("GET / = %d, want 200", got)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after its context ended, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of its context ending")
	}
}

func TestServeReturnsTheServersError(t *testing.T) {
	s := NewServer(&fakeSource{docs: allyshipDocuments()}, "allyship-2026", clocktesting.NewFakePassiveClock(sampleNow))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	served := make(chan error, 1)
	go func() { served <- s.Serve(t.Context(), ln, time.Hour) }()
	select {
	case err := <-served:
		if err == nil {
			t.Error("Serve on a closed listener returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve on a closed listener did not return")
	}
}

func TestRunRejectsIncompleteOptions(t *testing.T) {
	err := Run(t.Context(), nil, Options{Namespace: "learning", Cohort: "allyship-2026"})
	if err == nil {
		t.Fatal("Run without ConfigMap names returned no error")
	}
	for _, want := range []string{"roster ConfigMap", "calendar ConfigMap", "overview ConfigMap"} {
		mustContain(t, "the error", err.Error(), want)
	}
}

func TestOptionsDefaults(t *testing.T) {
	got, err := Options{Namespace: "n", Cohort: "c", RosterConfigMap: "r", CalendarConfigMap: "k", OverviewConfigMap: "o"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != ":8080" || got.Refresh != 15*time.Second {
		t.Errorf("defaults = %q, %s; want :8080, 15s", got.Address, got.Refresh)
	}
}
