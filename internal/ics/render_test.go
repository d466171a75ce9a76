package ics

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var chicago = mustLoadLocation("America/Chicago")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// stamp is the DTSTAMP of the tests' events.
var stamp = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// gathering builds a valid 90-minute event of the cohort "allyship" in namespace
// "equity", starting at noon Chicago time on the given day of January 2026.
func gathering(name string, day int) Event {
	start := time.Date(2026, 1, day, 12, 0, 0, 0, chicago)
	return Event{
		UID:        UID("equity", name),
		Sequence:   1,
		Stamp:      stamp,
		Summary:    "Allyship gathering",
		Start:      start,
		End:        start.Add(90 * time.Minute),
		Categories: "Gathering",
	}
}

// mustRender renders c, failing the test on error.
func mustRender(t *testing.T, c Calendar) []byte {
	t.Helper()
	feed, err := Render(c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return feed
}

// TestRenderGolden pins the whole feed for a small calendar: header, property
// order, UTC times, escaping, folding and both statuses.
func TestRenderGolden(t *testing.T) {
	first := gathering("allyship-2026-01-13", 13)
	first.Description = "Bring a question, or two; we'll share.\nSecond line."
	first.Location = "Room 4, Main St. 1"
	cancelled := gathering("allyship-2026-02-10", 27)
	cancelled.Sequence = 3
	cancelled.Cancelled = true
	cancelled.Summary = "Allyship gathering — a long title that does not fit on one line of the feed"
	cancelled.Categories = ""

	got := mustRender(t, Calendar{
		Name:        "Allyship 2026",
		Description: "Gatherings of the Allyship cohort",
		Events:      []Event{first, cancelled},
	})

	want := strings.Join([]string{
		"BEGIN:VCALENDAR",
		"PRODID:-//cohort-dev//cohort-operator//EN",
		"VERSION:2.0",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"NAME:Allyship 2026",
		"X-WR-CALNAME:Allyship 2026",
		"DESCRIPTION:Gatherings of the Allyship cohort",
		"X-WR-CALDESC:Gatherings of the Allyship cohort",
		"BEGIN:VEVENT",
		"UID:learningevent/equity/allyship-2026-01-13@learning.cohort.dev",
		"SEQUENCE:1",
		"DTSTAMP:20260102T150405Z",
		"LAST-MODIFIED:20260102T150405Z",
		"DTSTART:20260113T180000Z",
		"DTEND:20260113T193000Z",
		"SUMMARY:Allyship gathering",
		`DESCRIPTION:Bring a question\, or two\; we'll share.\nSecond line.`,
		`LOCATION:Room 4\, Main St. 1`,
		"CATEGORIES:Gathering",
		"STATUS:CONFIRMED",
		"END:VEVENT",
		"BEGIN:VEVENT",
		"UID:learningevent/equity/allyship-2026-02-10@learning.cohort.dev",
		"SEQUENCE:3",
		"DTSTAMP:20260102T150405Z",
		"LAST-MODIFIED:20260102T150405Z",
		"DTSTART:20260127T180000Z",
		"DTEND:20260127T193000Z",
		// The library folds at the last space that fits, so the continuation
		// starts with the fold's space and the value's own.
		"SUMMARY:Allyship gathering — a long title that does not fit on one line",
		"  of the feed",
		"STATUS:CANCELLED",
		"END:VEVENT",
		"END:VCALENDAR",
		"",
	}, "\r\n")
	if diff := cmp.Diff(strings.Split(want, "\r\n"), strings.Split(string(got), "\r\n")); diff != "" {
		t.Errorf("Render lines (-want +got):\n%s", diff)
	}
	mustParse(t, got)
}

// TestRenderWithoutEvents checks that a cohort before its first gathering still
// gets a valid feed, and that an empty name and description are left out.
func TestRenderWithoutEvents(t *testing.T) {
	got := string(mustRender(t, Calendar{}))
	want := "BEGIN:VCALENDAR\r\nPRODID:-//cohort-dev//cohort-operator//EN\r\nVERSION:2.0\r\n" +
		"CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
	if got != want {
		t.Errorf("Render(Calendar{}) = %q, want %q", got, want)
	}
}

// TestRenderIsDeterministic renders equal calendars built separately and expects
// the same bytes, since the ConfigMap holding the feed is compared for drift.
func TestRenderIsDeterministic(t *testing.T) {
	build := func() Calendar {
		c := Calendar{Name: "Allyship 2026, cohort; one", Description: "Ünïcödé 🎉"}
		for day := 1; day <= 28; day++ {
			e := gathering("allyship-"+time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), day)
			e.Description = strings.Repeat("Long description with commas, semicolons; and é. ", day%5)
			e.Cancelled = day%3 == 0
			c.Events = append(c.Events, e)
		}
		return c
	}
	first := mustRender(t, build())
	for i := range 20 {
		if again := mustRender(t, build()); !bytes.Equal(first, again) {
			t.Fatalf("render %d differs from the first:\n%s\nfirst:\n%s", i+2, again, first)
		}
	}
}

// TestRenderKeepsEventOrder checks that events come out in the given order, not
// sorted by UID or start.
func TestRenderKeepsEventOrder(t *testing.T) {
	c := Calendar{Events: []Event{gathering("c", 20), gathering("a", 27), gathering("b", 13)}}
	p := mustParse(t, mustRender(t, c))
	var got []string
	for _, e := range p.events {
		got = append(got, e["UID"])
	}
	want := []string{UID("equity", "c"), UID("equity", "a"), UID("equity", "b")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UIDs in feed order (-want +got):\n%s", diff)
	}
}

// TestRenderTimesInUTC checks that times in any zone are written in UTC with
// whole seconds, and DTSTAMP and LAST-MODIFIED both come from Stamp.
func TestRenderTimesInUTC(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	e := gathering("a", 1)
	e.Start = time.Date(2026, 7, 1, 9, 30, 15, 999_999_999, tokyo)
	e.End = time.Date(2026, 7, 1, 11, 0, 0, 0, chicago) // CDT
	e.Stamp = time.Date(2026, 6, 30, 23, 59, 59, 500, tokyo)
	p := mustParse(t, mustRender(t, Calendar{Events: []Event{e}}))
	want := map[string]string{
		"DTSTART":       "20260701T003015Z",
		"DTEND":         "20260701T160000Z",
		"DTSTAMP":       "20260630T145959Z",
		"LAST-MODIFIED": "20260630T145959Z",
	}
	for prop, w := range want {
		if got := p.events[0][prop]; got != w {
			t.Errorf("%s = %q, want %q", prop, got, w)
		}
	}
}

// TestRenderRejectsInvalidEvents checks each rule Render enforces on an event.
func TestRenderRejectsInvalidEvents(t *testing.T) {
	cases := map[string]struct {
		events  func() []Event
		wantErr string
	}{
		"empty UID": {
			events:  func() []Event { e := gathering("a", 1); e.UID = ""; return []Event{e} },
			wantErr: "event 0 (UID \"\"): UID is empty",
		},
		"UID of control characters only": {
			events:  func() []Event { e := gathering("a", 1); e.UID = "\x00\x1b"; return []Event{gathering("b", 1), e} },
			wantErr: `event 1 (UID ""): UID is empty`,
		},
		"duplicate UID": {
			events:  func() []Event { return []Event{gathering("a", 1), gathering("b", 2), gathering("a", 3)} },
			wantErr: `events 0 and 2 have the same UID "learningevent/equity/a@learning.cohort.dev"`,
		},
		"negative sequence": {
			events:  func() []Event { e := gathering("a", 1); e.Sequence = -1; return []Event{e} },
			wantErr: "SEQUENCE -1 is negative",
		},
		"stamp not set": {
			events:  func() []Event { e := gathering("a", 1); e.Stamp = time.Time{}; return []Event{e} },
			wantErr: "stamp is not set",
		},
		"start not set": {
			events:  func() []Event { e := gathering("a", 1); e.Start = time.Time{}; return []Event{e} },
			wantErr: "start is not set",
		},
		"end not set": {
			events:  func() []Event { e := gathering("a", 1); e.End = time.Time{}; return []Event{e} },
			wantErr: "end is not set",
		},
		"start after year 9999": {
			events: func() []Event {
				e := gathering("a", 1)
				e.Start, e.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 2, 0, 0, 0, 0, time.UTC)
				return []Event{e}
			},
			wantErr: "start 10000-01-01T00:00:00Z is not between years 1 and 9999",
		},
		"end before start": {
			events:  func() []Event { e := gathering("a", 1); e.End = e.Start.Add(-time.Minute); return []Event{e} },
			wantErr: "end 2026-01-01T17:59:00Z is not after start 2026-01-01T18:00:00Z",
		},
		"end equal to start": {
			events:  func() []Event { e := gathering("a", 1); e.End = e.Start; return []Event{e} },
			wantErr: "is not after start",
		},
		"end after start by less than the second the feed keeps": {
			events: func() []Event {
				e := gathering("a", 1)
				e.Start = e.Start.Add(100 * time.Millisecond)
				e.End = e.Start.Add(800 * time.Millisecond)
				return []Event{e}
			},
			wantErr: "end 2026-01-01T18:00:00Z is not after start 2026-01-01T18:00:00Z",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			feed, err := Render(Calendar{Name: "x", Events: tc.events()})
			if err == nil {
				t.Fatalf("Render succeeded, want an error containing %q; feed:\n%s", tc.wantErr, feed)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Render error = %q, want it to contain %q", err, tc.wantErr)
			}
			if feed != nil {
				t.Errorf("Render returned a feed with its error:\n%s", feed)
			}
		})
	}
}

// TestUID checks the UID format, which calendar clients key their copies on: it
// must not change between releases.
func TestUID(t *testing.T) {
	cases := map[string]struct {
		namespace, name, want string
	}{
		"typical": {"equity", "allyship-2026-01-13", "learningevent/equity/allyship-2026-01-13@learning.cohort.dev"},
		"dotted":  {"team-a", "cohort.v2-2026-03-10", "learningevent/team-a/cohort.v2-2026-03-10@learning.cohort.dev"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := UID(tc.namespace, tc.name); got != tc.want {
				t.Errorf("UID(%q, %q) = %q, want %q", tc.namespace, tc.name, got, tc.want)
			}
		})
	}
}

// TestUIDsStableAcrossRenders checks that an event keeps its UID when the
// calendar around it changes: other events added, reordered or cancelled, and
// the event itself revised.
func TestUIDsStableAcrossRenders(t *testing.T) {
	uidOf := func(c Calendar, i int) string {
		t.Helper()
		return mustParse(t, mustRender(t, c)).events[i]["UID"]
	}
	e := gathering("allyship-2026-01-13", 13)
	want := uidOf(Calendar{Events: []Event{e}}, 0)
	if want != UID("equity", "allyship-2026-01-13") {
		t.Fatalf("rendered UID %q, want %q", want, UID("equity", "allyship-2026-01-13"))
	}

	revised := e
	revised.Sequence, revised.Summary, revised.Cancelled = 7, "Moved", true
	revised.Start, revised.End = revised.Start.Add(time.Hour), revised.End.Add(time.Hour)
	for name, c := range map[string]struct {
		cal Calendar
		at  int
	}{
		"other events after":    {Calendar{Events: []Event{e, gathering("x", 20), gathering("y", 27)}}, 0},
		"other events before":   {Calendar{Events: []Event{gathering("y", 27), gathering("x", 20), e}}, 2},
		"revised and cancelled": {Calendar{Name: "renamed", Events: []Event{revised}}, 0},
	} {
		if got := uidOf(c.cal, c.at); got != want {
			t.Errorf("%s: UID %q, want %q", name, got, want)
		}
	}
}
