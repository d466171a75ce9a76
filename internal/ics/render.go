package ics

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	ical "github.com/arran4/golang-ical"
)

// productID is the PRODID of every feed the operator renders.
const productID = "-//cohort-dev//cohort-operator//EN"

// lineLength is the longest line RFC 5545 allows, in octets without the CRLF.
const lineLength = 75

// Calendar is one cohort's feed.
type Calendar struct {
	// Name is the calendar's name, rendered as NAME (RFC 7986) and X-WR-CALNAME,
	// e.g. "Allyship 2026". Both are left out when it is empty.
	Name string
	// Description is optional, rendered as DESCRIPTION and X-WR-CALDESC.
	Description string
	// Events are rendered in this order.
	Events []Event
}

// Event is one VEVENT; all times are rendered in UTC (the "each occurrence its own
// VEVENT in UTC" form of DESIGN.md; no TZID, no VTIMEZONE needed).
type Event struct {
	// UID is stable across renders, e.g. "learningevent/<namespace>/<name>@learning.cohort.dev"
	// (see UID). Required, and unique within a calendar.
	UID string
	// Sequence is the revision of the event; clients replace an event they hold
	// when it grows. Must not be negative.
	Sequence int32
	// Stamp is rendered as DTSTAMP and LAST-MODIFIED. It is an input rather than
	// the clock so that renders are deterministic.
	Stamp time.Time
	// Summary is the title; optional.
	Summary string
	// Description is optional.
	Description string
	// Location is optional.
	Location string
	// Categories is the event type, e.g. "Gathering"; optional. It is one category:
	// commas in it are escaped, not separators.
	Categories string
	// Start and End bound the event; End must be after Start.
	Start, End time.Time
	// Cancelled renders STATUS:CANCELLED, otherwise STATUS:CONFIRMED.
	Cancelled bool
}

// UID returns the stable UID of a LearningEvent from its namespace and name.
func UID(namespace, name string) string {
	return "learningevent/" + namespace + "/" + name + "@learning.cohort.dev"
}

// Render returns the feed: CRLF line endings, lines folded at 75 octets without
// splitting a UTF-8 sequence, TEXT values escaped, events in the given order. TEXT
// values are normalized first (see the package documentation): line breaks of any
// kind become newlines, other control characters are dropped and invalid UTF-8 is
// replaced, so no input can inject a line. The same Calendar always renders to the
// same bytes. It fails when an event is invalid (see Event).
func Render(c Calendar) ([]byte, error) {
	cal := &ical.Calendar{}
	cal.SetProductId(productID)
	cal.SetVersion("2.0")
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ical.MethodPublish)
	if name := cleanText(c.Name); name != "" {
		cal.SetName(name) // NAME and X-WR-CALNAME
	}
	if desc := cleanText(c.Description); desc != "" {
		cal.SetDescription(desc)
		cal.SetXWRCalDesc(desc)
	}

	seen := make(map[string]int, len(c.Events))
	for i, e := range c.Events {
		uid := cleanText(e.UID)
		if err := validate(uid, e); err != nil {
			return nil, fmt.Errorf("event %d (UID %q): %w", i, uid, err)
		}
		if prev, dup := seen[uid]; dup {
			return nil, fmt.Errorf("events %d and %d have the same UID %q", prev, i, uid)
		}
		seen[uid] = i
		addEvent(cal, uid, e)
	}

	var buf bytes.Buffer
	if err := cal.SerializeTo(&buf, ical.WithNewLineWindows, ical.WithLineLength(lineLength)); err != nil {
		return nil, fmt.Errorf("serializing the calendar: %w", err)
	}
	return buf.Bytes(), nil
}

// Check reports why Render would refuse e on its own (see Event): a caller that
// publishes what it can leaves such an event out rather than fail the whole feed.
// Render also refuses two events with the same UID, which Check cannot see.
func Check(e Event) error { return validate(cleanText(e.UID), e) }

// validate checks what the library would write out unchecked; uid is e.UID cleaned.
func validate(uid string, e Event) error {
	if uid == "" {
		return errors.New("UID is empty")
	}
	if e.Sequence < 0 {
		return fmt.Errorf("SEQUENCE %d is negative", e.Sequence)
	}
	for _, ts := range []struct {
		name string
		t    time.Time
	}{{"stamp", e.Stamp}, {"start", e.Start}, {"end", e.End}} {
		if ts.t.IsZero() {
			return fmt.Errorf("%s is not set", ts.name)
		}
		if y := ts.t.UTC().Year(); y < 1 || y > 9999 {
			return fmt.Errorf("%s %s is not between years 1 and 9999", ts.name, ts.t.UTC().Format(time.RFC3339))
		}
	}
	// The feed has whole seconds: compare what it will say.
	if start, end := e.Start.Truncate(time.Second), e.End.Truncate(time.Second); !end.After(start) {
		return fmt.Errorf("end %s is not after start %s", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	return nil
}

// addEvent appends e to cal as a VEVENT with the given, already cleaned, UID.
func addEvent(cal *ical.Calendar, uid string, e Event) {
	ev := cal.AddEvent(uid)
	ev.SetSequence(int(e.Sequence))
	ev.SetDtStampTime(e.Stamp) // all time setters convert to UTC
	ev.SetLastModifiedAt(e.Stamp)
	ev.SetStartAt(e.Start)
	ev.SetEndAt(e.End)
	setText(&ev.ComponentBase, ical.ComponentPropertySummary, e.Summary)
	setText(&ev.ComponentBase, ical.ComponentPropertyDescription, e.Description)
	setText(&ev.ComponentBase, ical.ComponentPropertyLocation, e.Location)
	setText(&ev.ComponentBase, ical.ComponentPropertyCategories, e.Categories)
	status := ical.ObjectStatusConfirmed
	if e.Cancelled {
		status = ical.ObjectStatusCancelled
	}
	ev.SetStatus(status)
}

// setText sets an optional TEXT property, leaving it out when it is empty once
// cleaned. The library escapes the value when it serializes it.
func setText(c *ical.ComponentBase, p ical.ComponentProperty, v string) {
	if v = cleanText(v); v != "" {
		c.SetProperty(p, v)
	}
}

// lineBreaks turns every kind of line break into LF, which the library escapes as
// \n. CRLF comes first so that it becomes one newline, not two.
var lineBreaks = strings.NewReplacer(
	"\r\n", "\n",
	"\r", "\n",
	"\u0085", "\n", // NEL
	"\u2028", "\n", // LINE SEPARATOR
	"\u2029", "\n", // PARAGRAPH SEPARATOR
)

// cleanText closes the library's gaps in TEXT values: it would pass invalid UTF-8,
// CR and control characters into the feed unescaped. Each run of invalid bytes
// becomes U+FFFD, line breaks become LF, and the controls RFC 5545 does not allow
// in TEXT (all of C0 but tab, and DEL) are dropped.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = lineBreaks.Replace(s)
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
