package ics

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	ical "github.com/arran4/golang-ical"

	"github.com/cohort-dev/cohort-operator/internal/fuzzbytes"
)

// This file fuzzes the structure of a feed: how many events, their UIDs, times in
// any zone and year, durations, sequences and statuses, with the text fields of
// hostile_test.go's kind. A separate oracle, written from the rules of Event and
// not from validate, decides whether Render must fail and what its error names.

// fuzzZones are the zones event times are given in: whole, half and quarter hours,
// the extremes of today's offsets, a 30-minute daylight saving time, a zone that
// skipped a day, and local mean times with odd seconds in their historic offsets.
var fuzzZones = []*time.Location{
	time.UTC,
	chicago,
	mustLoadLocation("Asia/Kolkata"),
	mustLoadLocation("Asia/Kathmandu"),
	mustLoadLocation("Pacific/Kiritimati"),
	mustLoadLocation("Pacific/Pago_Pago"),
	mustLoadLocation("Pacific/Apia"),
	mustLoadLocation("Australia/Lord_Howe"),
	mustLoadLocation("America/St_Johns"),
	mustLoadLocation("Africa/Monrovia"),
	mustLoadLocation("Europe/Amsterdam"),
}

// fuzzYears are the years at and beyond the edges of what a feed can hold.
var fuzzYears = []int{1, 2, 999, 1000, 1582, 1969, 1970, 2026, 2038, 9998, 9999, 10000, 0, -1, 1 << 40}

// fuzzDurations are event lengths around the second a feed keeps, and overflowing ones.
var fuzzDurations = []time.Duration{
	0, time.Nanosecond, -time.Nanosecond, 999 * time.Millisecond, time.Second, -time.Second,
	time.Second + time.Nanosecond, 90 * time.Minute, 24 * time.Hour, 366 * 24 * time.Hour,
	math.MaxInt64, math.MinInt64,
}

// fuzzSequences are revisions at the edges of int32.
var fuzzSequences = []int32{0, 1, 2, -1, math.MaxInt32, math.MinInt32}

// fuzzBytes draws a calendar's choices from a fuzz input; any input decodes to some
// calendar.
type fuzzBytes struct{ *fuzzbytes.Reader }

// text is empty, a hostile value, up to 255 raw bytes, or a hostile value cut at a
// byte offset (which may split a UTF-8 sequence).
func (r *fuzzBytes) text() string {
	switch r.N(4) {
	case 0:
		return ""
	case 1:
		return hostileText[hostileNames[r.N(len(hostileNames))]]
	case 2:
		return r.Raw()
	default:
		s := hostileText[hostileNames[r.N(len(hostileNames))]]
		return s[:min(len(s), int(r.Byte()))]
	}
}

// time is unset, any instant the int64 nanoseconds since 1970 can hold, or, most
// often, a date in any year and zone (fields out of range are normalized by
// time.Date). Choices that are usually valid come first, so that input running out
// (reading as zeros) still gives valid events.
func (r *fuzzBytes) time() time.Time {
	switch r.N(8) {
	case 7:
		return time.Time{}
	case 6:
		return time.Unix(0, int64(r.Uint64())).In(fuzzZones[r.N(len(fuzzZones))]) //nolint:gosec // any bit pattern is wanted
	default:
		year := 2026 + r.N(3)
		if r.N(4) == 3 {
			year = fuzzYears[r.N(len(fuzzYears))]
		}
		loc := fuzzZones[r.N(len(fuzzZones))]
		if r.N(4) == 3 {
			loc = time.FixedZone("fuzz", (r.N(256)-128)*r.N(256)*5) // up to ±45 h, in odd seconds too
		}
		nsec := 0
		if r.N(4) == 3 {
			nsec = int(r.Uint64() % uint64(2*time.Second))
		}
		return time.Date(year, time.Month(r.N(14)), r.N(33), r.N(26), r.N(62), r.N(62), nsec, loc)
	}
}

// end is the start plus a listed or arbitrary duration, or an unrelated time, or,
// as for most events, the start plus a few minutes or hours.
func (r *fuzzBytes) end(start time.Time) time.Time {
	switch r.N(4) {
	case 1:
		return start.Add(fuzzDurations[r.N(len(fuzzDurations))])
	case 2:
		return start.Add(time.Duration(r.Uint64())) //nolint:gosec // any bit pattern is wanted
	case 3:
		return r.time()
	default:
		return start.Add(time.Duration(1+r.N(256)) * 5 * time.Minute)
	}
}

// fuzzCalendar decodes a calendar of up to seven events. UIDs come from UID with
// fuzzed namespaces and names, or are raw text, or repeat an earlier event's UID,
// as is or with a control character that normalization drops.
func fuzzCalendar(data []byte) Calendar {
	r := &fuzzBytes{fuzzbytes.New(data)}
	c := Calendar{Name: r.text(), Description: r.text()}
	for i := range r.N(8) {
		var e Event
		switch mode := r.N(8); {
		case mode < 5:
			e.UID = UID(fmt.Sprintf("ns%d", r.N(3)), fmt.Sprintf("gathering-%d", i))
		case mode == 5:
			e.UID = UID(r.text(), r.text())
		case mode == 6 && i > 0:
			prev := c.Events[r.N(i)].UID
			cut := r.N(len(prev) + 1)
			e.UID = prev[:cut] + "\x00"[:r.N(2)] + prev[cut:]
		default:
			e.UID = r.text()
		}
		switch r.N(4) {
		case 2:
			e.Sequence = fuzzSequences[r.N(len(fuzzSequences))]
		case 3:
			e.Sequence = int32(binary.BigEndian.Uint32([]byte{r.Byte(), r.Byte(), r.Byte(), r.Byte()})) //nolint:gosec // any bit pattern is wanted
		default:
			e.Sequence = int32(r.Byte())
		}
		e.Stamp = stamp
		if r.N(4) == 3 {
			e.Stamp = r.time()
		}
		e.Start = r.time()
		e.End = r.end(e.Start)
		e.Summary, e.Description, e.Location, e.Categories = r.text(), r.text(), r.text(), r.text()
		e.Cancelled = r.N(2) == 1
		c.Events = append(c.Events, e)
	}
	return c
}

// eventProblems lists what is wrong with one event on its own, each as a part of
// the message Render must give, following the rules documented on Event: a UID, a
// SEQUENCE that is not negative, all three times set and in years 1 to 9999 in UTC,
// and an end after the start in the whole seconds the feed keeps.
func eventProblems(e Event) []string {
	var problems []string
	if normalized(e.UID) == "" {
		problems = append(problems, "UID is empty")
	}
	if e.Sequence < 0 {
		problems = append(problems, fmt.Sprintf("SEQUENCE %d is negative", e.Sequence))
	}
	inRange := true
	for _, ts := range []struct {
		name string
		t    time.Time
	}{{"stamp", e.Stamp}, {"start", e.Start}, {"end", e.End}} {
		switch y := ts.t.UTC().Year(); {
		case ts.t.IsZero():
			problems = append(problems, ts.name+" is not set")
			inRange = false
		case y < 1 || y > 9999:
			problems = append(problems, ts.name+" "+ts.t.UTC().Format(time.RFC3339)+" is not between years 1 and 9999")
			inRange = false
		}
	}
	if inRange && e.End.Unix() <= e.Start.Unix() {
		problems = append(problems, "is not after start")
	}
	return problems
}

// expectedError is what Render's error must contain, each alternative being a
// list of parts that must all appear; nil when the calendar is valid. Render stops
// at the first event that is invalid or repeats an earlier UID once normalized.
func expectedError(c Calendar) [][]string {
	seen := map[string]int{}
	for i, e := range c.Events {
		uid := normalized(e.UID)
		if problems := eventProblems(e); len(problems) > 0 {
			prefix := fmt.Sprintf("event %d (UID %q): ", i, uid)
			alternatives := make([][]string, 0, len(problems))
			for _, p := range problems {
				alternatives = append(alternatives, []string{prefix, p})
			}
			return alternatives
		}
		if j, dup := seen[uid]; dup {
			return [][]string{{fmt.Sprintf("events %d and %d have the same UID %q", j, i, uid)}}
		}
		seen[uid] = i
	}
	return nil
}

// icalTime is how the feed writes an instant: UTC, whole seconds.
func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// FuzzRender renders calendars decoded from fuzz bytes. Render either fails, with
// an error naming the first invalid event and what is wrong with it and no feed, or
// returns a feed that passes the strict line check, reads back (with our reader
// and with golang-ical's parser) as exactly the input events in order, with
// unique UIDs, every TZID backed by its VTIMEZONE, and the same bytes when
// rendered again or with every time given in UTC instead of its own zone.
func FuzzRender(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		{0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0},
		[]byte("\x01\x01\x07\x00\x00\x00\x00\x07\x00\x03\x01\x00\x02\x05\x01\x0d\x12\x00\x00\x00\x00\x05\x03\x02\x01\x01\x02\x02\x05"),
		bytes.Repeat([]byte{3, 1, 200, 17, 250, 2}, 40),
		bytes.Repeat([]byte{0xff, 0x7f, 0x80, 0x00, 0x01}, 60),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzCalendar(data)
		feed, err := Render(c)
		want := expectedError(c)
		if err != nil {
			checkRenderError(t, err, want, feed)
			return
		}
		if want != nil {
			t.Fatalf("Render succeeded, want an error containing one of %q; feed:\n%s", want, feed)
		}
		checkFeedIsCalendar(t, feed, c)
		checkLibraryReadsCalendar(t, feed, c)
		if again, _ := Render(c); !bytes.Equal(again, feed) {
			t.Fatalf("two renders differ:\n%s\n%s", feed, again)
		}
		if inUTC, _ := Render(withUTCTimes(c)); !bytes.Equal(inUTC, feed) {
			t.Fatalf("the feed depends on the zones the times are given in:\n%s\n%s", feed, inUTC)
		}
	})
}

// checkRenderError checks that Render failed for a reason the oracle expects.
func checkRenderError(t *testing.T, err error, want [][]string, feed []byte) {
	t.Helper()
	if feed != nil {
		t.Errorf("Render returned a feed with its error %q", err)
	}
	if want == nil {
		t.Fatalf("Render failed on a valid calendar: %v", err)
	}
	for _, parts := range want {
		matched := true
		for _, p := range parts {
			matched = matched && strings.Contains(err.Error(), p)
		}
		if matched {
			return
		}
	}
	t.Fatalf("Render error %q, want one containing all of one of %q", err, want)
}

// checkFeedIsCalendar reads the feed with the strict reader and compares every
// property with the input.
func checkFeedIsCalendar(t *testing.T, feed []byte, c Calendar) {
	t.Helper()
	p := mustParse(t, feed)
	for prop, want := range map[string]string{
		"NAME": normalized(c.Name), "X-WR-CALNAME": normalized(c.Name),
		"DESCRIPTION": normalized(c.Description), "X-WR-CALDESC": normalized(c.Description),
	} {
		if got := p.calendar[prop]; got != want {
			t.Errorf("calendar %s = %q, want %q", prop, got, want)
		}
	}
	if len(p.events) != len(c.Events) {
		t.Fatalf("the feed has %d events, want %d:\n%s", len(p.events), len(c.Events), feed)
	}
	for i, e := range c.Events {
		status := "CONFIRMED"
		if e.Cancelled {
			status = "CANCELLED"
		}
		want := map[string]string{
			"UID":           normalized(e.UID),
			"SEQUENCE":      strconv.Itoa(int(e.Sequence)),
			"DTSTAMP":       icalTime(e.Stamp),
			"LAST-MODIFIED": icalTime(e.Stamp),
			"DTSTART":       icalTime(e.Start),
			"DTEND":         icalTime(e.End),
			"STATUS":        status,
			"SUMMARY":       normalized(e.Summary),
			"DESCRIPTION":   normalized(e.Description),
			"LOCATION":      normalized(e.Location),
			"CATEGORIES":    normalized(e.Categories),
		}
		for prop, v := range want {
			if got, ok := p.events[i][prop]; got != v || (!ok && v != "") {
				t.Errorf("event %d %s = %q (present: %v), want %q", i, prop, got, ok, v)
			}
		}
		for prop := range p.events[i] {
			if _, known := want[prop]; !known {
				t.Errorf("event %d has an unexpected property %s", i, prop)
			}
		}
	}
}

// checkLibraryReadsCalendar parses the feed with golang-ical, a reader that knows
// parameters and components our strict one rejects, and compares what a calendar
// client keys on: the events, their UIDs, times, SEQUENCE, STATUS and SUMMARY, and
// that every TZID a property uses is defined by a VTIMEZONE of the feed.
func checkLibraryReadsCalendar(t *testing.T, feed []byte, c Calendar) {
	t.Helper()
	cal, err := ical.ParseCalendar(bytes.NewReader(feed))
	if err != nil {
		t.Fatalf("golang-ical cannot parse the feed: %v\n%s", err, feed)
	}
	zones := map[string]bool{}
	for _, comp := range cal.Components {
		if tz, ok := comp.(*ical.VTimezone); ok {
			zones[tz.Id()] = true
		}
	}
	events := cal.Events()
	if len(events) != len(c.Events) {
		t.Fatalf("golang-ical reads %d events, want %d", len(events), len(c.Events))
	}
	uids := map[string]int{}
	for i, ev := range events {
		e := c.Events[i]
		// The property's value, not ev.Id(): Id unescapes the value a second time,
		// reading a UID's escaped backslash before n as a newline.
		uid := ev.GetProperty(ical.ComponentPropertyUniqueId).Value
		if j, dup := uids[uid]; dup {
			t.Errorf("events %d and %d have the same UID %q", j, i, uid)
		}
		uids[uid] = i
		if want := normalized(e.UID); uid != want {
			t.Errorf("event %d UID = %q, want %q", i, uid, want)
		}
		for name, tc := range map[string]struct {
			read func() (time.Time, error)
			want time.Time
		}{
			"DTSTART": {ev.GetStartAt, e.Start},
			"DTEND":   {ev.GetEndAt, e.End},
			"DTSTAMP": {ev.GetDtStampTime, e.Stamp},
		} {
			got, err := tc.read()
			if want := tc.want.Truncate(time.Second); err != nil || !got.Equal(want) {
				t.Errorf("event %d %s read as %v (%v), want %v", i, name, got, err, want)
			}
		}
		status := ical.ObjectStatusConfirmed
		if e.Cancelled {
			status = ical.ObjectStatusCancelled
		}
		for prop, want := range map[ical.ComponentProperty]string{
			ical.ComponentPropertySequence: strconv.Itoa(int(e.Sequence)),
			ical.ComponentPropertyStatus:   string(status),
			ical.ComponentPropertySummary:  normalized(e.Summary),
		} {
			got := ""
			if p := ev.GetProperty(prop); p != nil {
				got = p.Value
			}
			if got != want {
				t.Errorf("event %d %s read as %q, want %q", i, prop, got, want)
			}
		}
		for _, p := range ev.Properties {
			for _, tzid := range p.ICalParameters["TZID"] {
				if !zones[tzid] {
					t.Errorf("event %d %s uses TZID %q without its VTIMEZONE", i, p.IANAToken, tzid)
				}
			}
		}
	}
}

// withUTCTimes is c with every time given in UTC: the same instants.
func withUTCTimes(c Calendar) Calendar {
	utc := c
	utc.Events = make([]Event, len(c.Events))
	for i, e := range c.Events {
		e.Stamp, e.Start, e.End = e.Stamp.UTC(), e.Start.UTC(), e.End.UTC()
		utc.Events[i] = e
	}
	return utc
}
