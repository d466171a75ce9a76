package portal

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// pageProbe runs in the page before its own content (through the DevTools protocol,
// which the page's Content-Security-Policy does not govern): it records dialogs that
// an injected script would open and every violation of the policy.
const pageProbe = `
window.__dialogs = [];
window.alert = window.confirm = window.prompt = (m) => { window.__dialogs.push(String(m)); };
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
`

// seen is what a person sees on the page, read from the rendered DOM.
type seen struct {
	Title        string   `json:"title"`
	H1           []string `json:"h1"`
	RosterRows   []string `json:"rosterRows"`
	Orgs         []string `json:"orgs"`
	NextTitle    string   `json:"nextTitle"`
	NextBadge    string   `json:"nextBadge"`
	Cancelled    []string `json:"cancelled"`
	MarkupText   bool     `json:"markupText"`
	BoldElements int      `json:"boldElements"`
	Scripts      int      `json:"scripts"`
	Dialogs      []string `json:"dialogs"`
	CSP          []string `json:"csp"`
	ChartRole    string   `json:"chartRole"`
	ChartTitle   string   `json:"chartTitle"`
	ChartDesc    string   `json:"chartDesc"`
	Bars         []struct {
		Height float64 `json:"height"`
		Met    bool    `json:"met"`
	} `json:"bars"`
	RequiredLine bool     `json:"requiredLine"`
	FigureRows   int      `json:"figureRows"`
	StyledHeader string   `json:"styledHeader"`
	Overflow     bool     `json:"overflow"`
	AgendaFor    string   `json:"agendaFor"`
	Reflections  []string `json:"reflections"`
	PlanNote     string   `json:"planNote"`
	ReportRows   []string `json:"reportRows"`
	TrendRows    []string `json:"trendRows"`
	ReportText   bool     `json:"reportText"`
}

const readPage = `(() => {
  const text = (el) => el ? el.textContent.replace(/\s+/g, ' ').trim() : '';
  const next = document.querySelector('.event.next');
  const svg = document.querySelector('figure.chart svg');
  return {
    title: document.title,
    h1: [...document.querySelectorAll('h1')].map(text),
    rosterRows: [...document.querySelectorAll('table.roster tbody tr')].map(r => [...r.cells].map(text).join(' | ')),
    orgs: [...document.querySelectorAll('.org h3')].map(h => text(h.firstChild)),
    nextTitle: next ? text(next.querySelector('.event-name')) : '',
    nextBadge: next ? text(next.querySelector('.badge')) : '',
    cancelled: [...document.querySelectorAll('.event.cancelled .event-name')].map(text),
    markupText: [...document.querySelectorAll('.event-name')].some(e => e.textContent === '<script>alert(1)</script><b>bold</b>')
      && [...document.querySelectorAll('.reflection p')].some(e => e.textContent.endsWith('<script>alert(1)</script><b>bold</b>')),
    boldElements: document.querySelectorAll('b').length,
    scripts: document.scripts.length,
    dialogs: window.__dialogs,
    csp: window.__cspViolations,
    chartRole: svg ? svg.getAttribute('role') : '',
    chartTitle: svg ? text(svg.querySelector('title')) : '',
    chartDesc: svg ? text(svg.querySelector('desc')) : '',
    bars: svg ? [...svg.querySelectorAll('g.bar rect')].map(r => ({height: r.getBBox().height, met: r.parentNode.classList.contains('met')})) : [],
    requiredLine: !!(svg && svg.querySelector('line.required')),
    figureRows: document.querySelectorAll('table.figures tbody tr').length,
    styledHeader: getComputedStyle(document.querySelector('header')).backgroundColor,
    overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
    agendaFor: text(document.querySelector('#agenda-heading')),
    reflections: [...document.querySelectorAll('.reflection')].map(text),
    planNote: text(document.querySelector('.plans .card .note')),
    reportRows: [...document.querySelectorAll('table.kpis:not(.trend) tbody tr')].map(r => [...r.cells].map(text).join(' | ')),
    trendRows: [...document.querySelectorAll('table.trend tr')].map(r => [...r.cells].map(text).join(' | ')),
    reportText: [...document.querySelectorAll('.narrative')].some(e => e.textContent === '<script>alert(1)</script><b>bold</b>'),
  };
})()`

// TestBrowserShowsTheAllyshipCohort opens the portal with the allyship sample in
// headless Chromium and checks what a person sees, that user text stays text, and
// that axe-core finds no serious or critical accessibility violation. It leaves a
// screenshot in test/artifacts for a person to look at.
func TestBrowserShowsTheAllyshipCohort(t *testing.T) {
	s, _ := newLoadedServer(t, allyshipDocuments())
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	ctx := testutil.NewBrowser(t, 20*time.Second, chromedp.Env("TZ=America/Chicago"))
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: pageProbe}); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.roster")),
	); err != nil {
		t.Fatalf("opening the portal: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[seen](readPage))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}

	checkWhatAPersonSees(t, got)
	testutil.CheckAccessibility(t, ctx)
	testutil.SaveScreenshot(t, ctx, testutil.Path("test", "artifacts", "portal-allyship.png"))

	// On a phone the page reflows: nothing scrolls sideways.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the page scrolls sideways at 390 px")
	}
	testutil.SaveScreenshot(t, ctx, testutil.Path("test", "artifacts", "portal-allyship-narrow.png"))
}

func checkWhatAPersonSees(t *testing.T, got seen) {
	t.Helper()
	if len(got.H1) != 1 || got.H1[0] != "Allyship 2026" {
		t.Errorf("h1 = %q, want one: Allyship 2026", got.H1)
	}
	if len(got.RosterRows) != 24 {
		t.Errorf("the roster shows %d rows, want 24:\n%s", len(got.RosterRows), strings.Join(got.RosterRows, "\n"))
	}
	rows := strings.Join(got.RosterRows, "\n")
	for _, want := range []string{
		"Avery (co-lead) | Lead | Pillar liaison | Seated | Jan 1, 2026 – Dec 31, 2026 | 100%",
		"Casey | Member | Facilitator | Seated | Jan 1, 2026 – Dec 31, 2026 | 100%",
		"Harper | Member | Note taker | Seated | Jan 1, 2026 – Dec 31, 2026 | 70% (below the required 80%)",
		"Yael | Member | —none | Waitlist #2 | Pending | —not recorded",
	} {
		if !strings.Contains(rows, want) {
			t.Errorf("no roster row shows %q; rows:\n%s", want, rows)
		}
	}
	wantOrgs := []string{"Bluewater Retail", "Lakeside Bank", "Northstar Health", "Prairie Foods", "Summit Insurance", "Twin Rivers Energy"}
	if strings.Join(got.Orgs, ",") != strings.Join(wantOrgs, ",") {
		t.Errorf("organizations = %q, want %q", got.Orgs, wantOrgs)
	}
	if got.NextTitle != "Allyship monthly gathering, November" || got.NextBadge != "Next" {
		t.Errorf("next gathering = %q with badge %q, want November's, marked Next", got.NextTitle, got.NextBadge)
	}
	if len(got.Cancelled) != 1 || got.Cancelled[0] != "Allyship monthly gathering, December" {
		t.Errorf("cancelled events = %q, want December's", got.Cancelled)
	}
	if !got.MarkupText {
		t.Errorf("the title %q is not shown as literal text", markupTitle)
	}
	if got.BoldElements != 0 || got.Scripts != 0 || len(got.Dialogs) != 0 {
		t.Errorf("user text became markup: %d <b> elements, %d scripts, dialogs %q", got.BoldElements, got.Scripts, got.Dialogs)
	}
	if len(got.CSP) != 0 {
		t.Errorf("the page violates its own Content-Security-Policy: %q", got.CSP)
	}
	if got.StyledHeader != "rgb(22, 50, 79)" {
		t.Errorf("the header's background is %s: the stylesheet did not apply", got.StyledHeader)
	}
	if got.ChartRole != "img" || got.ChartTitle == "" || !strings.Contains(got.ChartDesc, "10 ended gatherings") {
		t.Errorf("chart role=%q title=%q desc=%q, want an img with a title and a description", got.ChartRole, got.ChartTitle, got.ChartDesc)
	}
	if len(got.Bars) != 10 || got.FigureRows != 10 || !got.RequiredLine {
		t.Errorf("chart has %d bars, %d table rows and required line %v; want 10, 10, true", len(got.Bars), got.FigureRows, got.RequiredLine)
	}
	for i, b := range got.Bars {
		if b.Height <= 0 {
			t.Errorf("bar %d has no height", i)
		}
	}
	if got.Overflow {
		t.Error("the page scrolls sideways at 1280 px")
	}
	if got.AgendaFor != "On the agenda of Allyship monthly gathering, November on Tue, Nov 10, 2026" {
		t.Errorf("agenda heading = %q, want the November gathering's", got.AgendaFor)
	}
	if len(got.Reflections) != 2 || !strings.HasPrefix(got.Reflections[0], "Casey · Oct 20, 2026 · 2 of 3 actions done Learned: Asking before advising") {
		t.Errorf("reflections = %q, want Casey's first, then Harper's", got.Reflections)
	}
	if got.PlanNote != "20 of 22 required plans written · 17 current · 2 overdue · 2 without a recent check-in" {
		t.Errorf("plans note = %q", got.PlanNote)
	}
	wantRows := []string{
		"AttendanceRate | at least 80% | 86% | Met | +4%",
		"SeatsFilled (Member) | at least 15 | 12 | Below | -3",
		"PlansCurrent | at least 75% | suppressed (fewer than 5 people) | Suppressed | ",
	}
	if strings.Join(got.ReportRows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("October's KPIs = %q, want %q", got.ReportRows, wantRows)
	}
	wantTrend := []string{
		"KPI | 2026-09 | 2026-10",
		"AttendanceRate | 82% (Met) | 86% (Met)",
		"SeatsFilled (Member) | 15 (Below) | 12 (Below)",
		"PlansCurrent | not reported | suppressed (fewer than 5 people) (Suppressed)",
	}
	if strings.Join(got.TrendRows, "\n") != strings.Join(wantTrend, "\n") {
		t.Errorf("the trend = %q, want %q", got.TrendRows, wantTrend)
	}
	if !got.ReportText {
		t.Error("the markup in the report's narrative is not shown as text")
	}
}
