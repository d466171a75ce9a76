package ics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The feed is read back by two parsers that share no code with the library that
// writes it or with each other: Python's icalendar (the Debian package) and ical.js
// (pinned in test/js). hack/test-deps.sh installs both; a missing one fails the
// test rather than skipping it, so a green run always means both agreed.

// python3 is the interpreter the Debian python3-icalendar package installs into.
const python3 = "/usr/bin/python3"

// readBack is what the parser scripts in testdata print.
type readBack struct {
	Name        string      `json:"name"`
	WRName      string      `json:"wrName"`
	Description string      `json:"description"`
	Events      []readEvent `json:"events"`
	Errors      []string    `json:"errors"`
}

// readEvent is one VEVENT as a parser read it; times are RFC 3339 in UTC.
type readEvent struct {
	UID         string `json:"uid"`
	Sequence    int    `json:"sequence"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Location    string `json:"location"`
	Start       string `json:"start"`
	End         string `json:"end"`
	Status      string `json:"status"`
}

// crossParseCalendar has one event for each hostile value, in its summary,
// description and location, with varied sequences, zones and statuses.
func crossParseCalendar() Calendar {
	c := Calendar{Name: "Allyship 2026, cohort; one \\ 🎉", Description: "Gatherings\r\nand more"}
	zones := []*time.Location{time.UTC, chicago, time.FixedZone("+0530", 5*3600+1800)}
	for i, name := range hostileNames {
		s := hostileText[name]
		start := time.Date(2026, time.Month(1+i%12), 1+i%28, 9+i%12, 30*(i%2), 0, 0, zones[i%len(zones)])
		c.Events = append(c.Events, Event{
			UID:         UID("equity", fmt.Sprintf("allyship-%02d", i)),
			Sequence:    int32(i),
			Stamp:       stamp,
			Summary:     s,
			Description: "Description: " + s,
			Location:    s + " (location)",
			Categories:  "Gathering",
			Start:       start,
			End:         start.Add(time.Duration(30+i) * time.Minute),
			Cancelled:   i%4 == 1,
		})
	}
	return c
}

// expectedReadBack is what a correct parser reads from Render(c).
func expectedReadBack(c Calendar) readBack {
	want := readBack{
		Name:        normalized(c.Name),
		WRName:      normalized(c.Name),
		Description: normalized(c.Description),
	}
	for _, e := range c.Events {
		status := "CONFIRMED"
		if e.Cancelled {
			status = "CANCELLED"
		}
		want.Events = append(want.Events, readEvent{
			UID:         e.UID,
			Sequence:    int(e.Sequence),
			Summary:     normalized(e.Summary),
			Description: normalized(e.Description),
			Location:    normalized(e.Location),
			Start:       e.Start.UTC().Format(time.RFC3339),
			End:         e.End.UTC().Format(time.RFC3339),
			Status:      status,
		})
	}
	return want
}

// runParser feeds the feed to a parser script on stdin and decodes its output.
// Exit status 3 is a script's way of saying its parser is not installed.
func runParser(t *testing.T, cmd *exec.Cmd, feed []byte) readBack {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(feed), &stdout, &stderr
	err := cmd.Run()
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) && exitErr.ExitCode() == 3 {
		t.Fatalf("%s: %s", cmd, stderr.String())
	}
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s\nfeed:\n%s", cmd, err, stderr.String(), feed)
	}
	var got readBack
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%s printed something that is not its JSON: %v\n%s", cmd, err, stdout.String())
	}
	if len(got.Errors) > 0 {
		t.Errorf("%s reported parse errors: %q", cmd, got.Errors)
	}
	return got
}

// requireFile fails the test when a tool the test runs is not installed.
func requireFile(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing (%v): run hack/test-deps.sh", what, err)
	}
}

// TestPythonICalendarReadsTheFeed reads the feed with Python's icalendar.
func TestPythonICalendarReadsTheFeed(t *testing.T) {
	t.Parallel()
	requireFile(t, python3, "python3")
	c := crossParseCalendar()
	got := runParser(t, exec.Command(python3, filepath.Join("testdata", "parse_icalendar.py")), mustRender(t, c))
	want := expectedReadBack(c)
	excuseIcalendar4(t, &got, want)
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Python's icalendar read (-want +got):\n%s", diff)
	}
}

// TestICALJSReadsTheFeed reads the feed with ical.js from test/js/node_modules.
func TestICALJSReadsTheFeed(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is missing (%v): run hack/test-deps.sh", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	icaljs := filepath.Join(root, "test", "js", "node_modules", "ical.js")
	requireFile(t, filepath.Join(icaljs, "package.json"), "ical.js in test/js/node_modules")

	c := crossParseCalendar()
	got := runParser(t, exec.Command(node, filepath.Join("testdata", "parse_icaljs.js"), icaljs), mustRender(t, c))
	if diff := cmp.Diff(expectedReadBack(c), got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ical.js read (-want +got):\n%s", diff)
	}
}

// icalendar4Bug matches the values that Python's icalendar 4 (Debian's
// python3-icalendar 4.0.3) reads back wrongly although the feed is correct, as
// ical.js and our own reader confirm. Before splitting a content line it replaces
// \\ \, \; \: by %5C %2C %3B %3A and turns those back afterwards, so a literal
// %2C, %3A, %3B or %5C in a value comes back as the character it encodes and an
// escaped backslash is unescaped twice (two backslashes become one); and it
// unescapes TEXT with chained replacements, so an escaped backslash before n, N, a
// comma or a semicolon is read as the escape \n, \, or \;. The first is fixed
// upstream in collective/icalendar#935.
var icalendar4Bug = regexp.MustCompile(`\\[\\nN,;]|%(2C|3A|3B|5C)`)

// excuseIcalendar4 sets the text fields icalendar 4 misread to the expected value,
// logging each; those values are checked by ical.js and our own reader. A field
// that differs although it does not trigger the bug still fails the test.
func excuseIcalendar4(t *testing.T, got *readBack, want readBack) {
	t.Helper()
	if len(got.Events) != len(want.Events) {
		return // the diff reports it
	}
	excuse := func(field string, got *string, want string) {
		if *got != want && icalendar4Bug.MatchString(want) {
			t.Logf("icalendar 4 misreads %s %q as %q (known bug, see icalendar4Bug)", field, want, *got)
			*got = want
		}
	}
	for i := range want.Events {
		g, w := &got.Events[i], want.Events[i]
		excuse(w.UID+" SUMMARY", &g.Summary, w.Summary)
		excuse(w.UID+" DESCRIPTION", &g.Description, w.Description)
		excuse(w.UID+" LOCATION", &g.Location, w.Location)
	}
}
