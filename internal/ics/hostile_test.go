package ics

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostileText are TEXT values a cohort's spec or its leads could supply that break
// careless writers: line breaks that would inject lines, characters that need
// escaping, multi-byte text at every alignment to the fold, and bytes that are not
// UTF-8. They seed FuzzRenderText too.
var hostileText = map[string]string{
	"empty":                                "",
	"CRLF injection of an event":           "Gathering\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@example.com\r\nSUMMARY:injected",
	"LF injection of an event":             "Gathering\nEND:VEVENT\nBEGIN:VEVENT",
	"lone CR injection of an event":        "Gathering\rEND:VEVENT\rBEGIN:VEVENT",
	"CRLF injection of a property":         "Gathering\r\nDTSTART:19700101T000000Z",
	"CR at the end":                        "Gathering\r",
	"commas and semicolons":                "Allyship, equity; and inclusion;,;,",
	"backslashes":                          `\ \\ \\\ ends with \`,
	"backslash before escapable letters":   `C:\new\next\N\,\;\\n`,
	"newline escape typed literally":       `line\nbreak`,
	"percent escapes":                      "50%2C off %3A %3B %5C",
	"colons, quotes and equals":            `DTSTART:"quoted";param=x:y`,
	"emoji with ZWJ and modifiers":         "🎉 Kick-off 👩🏽‍💻 👨‍👩‍👧‍👦 🏳️‍🌈",
	"long two-byte":                        strings.Repeat("é", 100),
	"long three-byte":                      strings.Repeat("日本語の勉強会", 20),
	"long four-byte":                       strings.Repeat("😀", 40),
	"long four-byte shifted by one":        "a" + strings.Repeat("😀", 40),
	"long four-byte shifted by two":        "ab" + strings.Repeat("😀", 40),
	"long four-byte shifted by three":      "abc" + strings.Repeat("𝄞", 40),
	"escapes across the fold":              strings.Repeat(",", 60) + strings.Repeat(`\`, 30) + strings.Repeat(";\n", 20),
	"long words":                           strings.Repeat("inclusion ", 30),
	"markup":                               `<a href="https://example.com/?a=1&b=2">link</a><b>bold</b>` + strings.Repeat("<i>x</i>", 10),
	"leading and trailing spaces":          "  spaced  ",
	"spaces only":                          strings.Repeat(" ", 200),
	"tabs":                                 "\tindented\tcolumns\t",
	"control characters":                   "bell\a nul\x00 esc\x1b[31m del\x7f vt\v ff\f",
	"invalid UTF-8":                        "bad \xff\xfe bytes \xc3 and a cut \xe2\x82",
	"Unicode line separators":              "nel\u0085ls\u2028ps\u2029end",
	"combining marks":                      "e\u0301\u0301\u0301" + strings.Repeat("a\u0308", 40),
	"right-to-left":                        "שיעור\u200f مجتمع",
	"BOM and zero-width space":             "\ufeffzero\u200bwidth",
	"mixed long with every escape":         strings.Repeat("Ally, ship; \\ é😀\r\n", 12),
	"exactly one line of multi-byte text":  strings.Repeat("é", 33),       // "SUMMARY:" + 66 octets = 74
	"one octet over a line":                strings.Repeat("x", 67) + "é", // 8 + 67 + 2 = 77
	"a calendar terminator":                "END:VCALENDAR",
	"a fold marker typed in":               "first\r\n second",
	"multiple consecutive line breaks":     "\r\n\r\n\n\r\r",
	"a backslash then a line break":        "\\\r\n",
	"non-characters and private use":       "\ufffe\uffff\U0010FFFF\ue000",
	"replacement character typed in":       "\ufffd real",
	"long single word of ASCII":            strings.Repeat("x", 300),
	"space after each fold width":          strings.Repeat(strings.Repeat("y", 66)+" ", 4),
	"angle brackets at the fold":           strings.Repeat("<", 100) + strings.Repeat(">", 100),
	"UID-like value":                       "learningevent/equity/a@learning.cohort.dev",
	"surrogate halves encoded in CESU-8":   "\xed\xa0\xbd\xed\xb8\x80",
	"overlong encoding of a slash":         "\xc0\xaf",
	"a trailing lone high byte after fold": strings.Repeat("z", 66) + "\xf0",
}

// hostileNames are the names of hostileText, sorted so that feeds built from them
// are the same every run.
var hostileNames = slices.Sorted(maps.Keys(hostileText))

// hostileCalendar puts s in every TEXT field Render writes, in the first of two
// events; the second is plain, so an injected event or property shows up as a
// third event or a second UID.
func hostileCalendar(s string) Calendar {
	e := gathering("hostile", 13)
	e.Summary, e.Description, e.Location, e.Categories = s, s, s, s
	return Calendar{Name: s, Description: s, Events: []Event{e, gathering("plain", 20)}}
}

// checkHostileRoundTrip renders hostileCalendar(s), checks the feed strictly and
// expects every TEXT field to read back as normalized(s) and the plain event to
// be untouched. Tests and the fuzz target share it.
func checkHostileRoundTrip(t *testing.T, s string) {
	t.Helper()
	feed, err := Render(hostileCalendar(s))
	if err != nil {
		t.Fatalf("Render(%q): %v", s, err)
	}
	p, err := parseFeed(feed)
	if err != nil {
		t.Fatalf("the feed for %q fails the strict check:\n%v\nfeed:\n%s", s, err, feed)
	}
	if len(p.events) != 2 {
		t.Fatalf("the feed for %q has %d events, want 2:\n%s", s, len(p.events), feed)
	}

	want := normalized(s)
	got := map[string]string{
		"NAME":         p.calendar["NAME"],
		"X-WR-CALNAME": p.calendar["X-WR-CALNAME"],
		"DESCRIPTION":  p.calendar["DESCRIPTION"],
		"X-WR-CALDESC": p.calendar["X-WR-CALDESC"],
	}
	for _, prop := range []string{"SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES"} {
		got["VEVENT "+prop] = p.events[0][prop]
	}
	for prop, v := range got {
		if v != want {
			t.Errorf("%s read back as %q, want %q (input %q)", prop, v, want, s)
		}
	}
	plain := gathering("plain", 20)
	if got, want := p.events[1]["UID"], plain.UID; got != want {
		t.Errorf("second event UID = %q, want %q", got, want)
	}
	if got, want := p.events[1]["SUMMARY"], plain.Summary; got != want {
		t.Errorf("second event SUMMARY = %q, want %q", got, want)
	}
	if got, want := p.events[0]["DTSTART"], "20260113T180000Z"; got != want {
		t.Errorf("first event DTSTART = %q, want %q (an injected DTSTART would win or duplicate)", got, want)
	}
}

// TestRenderHostileText runs the strict check over feeds holding each hostile
// value in every TEXT field, and reads each value back.
func TestRenderHostileText(t *testing.T) {
	for _, name := range hostileNames {
		t.Run(name, func(t *testing.T) {
			checkHostileRoundTrip(t, hostileText[name])
		})
	}
}

// TestNormalization pins what Render keeps of a TEXT value, independently of the
// normalized helper the other tests compare with.
func TestNormalization(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"CRLF becomes a newline":               {"a\r\nb", "a\nb"},
		"a lone CR becomes a newline":          {"a\rb", "a\nb"},
		"CR CR LF is two newlines":             {"a\r\r\nb", "a\n\nb"},
		"LF CR is two newlines":                {"a\n\rb", "a\n\nb"},
		"Unicode line breaks become newlines":  {"a\u0085b\u2028c\u2029d", "a\nb\nc\nd"},
		"C0 controls and DEL are dropped":      {"a\x00b\x01c\x1bd\x7fe\x0bf\x0cg", "abcdefg"},
		"tab is kept":                          {"a\tb", "a\tb"},
		"a run of invalid bytes is one U+FFFD": {"a\xff\xfe\xfdb", "a\ufffdb"},
		"separate invalid bytes are separate":  {"\xffa\xff", "\ufffda\ufffd"},
		"a cut sequence is replaced":           {"a\xe2\x82", "a\ufffd"},
		"a CR between invalid bytes":           {"\xff\r\xff", "\ufffd\n\ufffd"},
		"escapable characters are kept":        {`a,b;c\d`, `a,b;c\d`},
		"C1 controls other than NEL are kept":  {"a\u0080b\u009fc", "a\u0080b\u009fc"},
		"emoji are kept":                       {"👩🏽‍💻", "👩🏽‍💻"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := normalized(tc.in); got != tc.want {
				t.Errorf("normalized(%q) = %q, want %q", tc.in, got, tc.want)
			}
			p := mustParse(t, mustRender(t, Calendar{Events: []Event{{
				UID: "u", Stamp: stamp, Start: stamp, End: stamp.Add(time.Hour), Summary: tc.in,
			}}}))
			if got := p.events[0]["SUMMARY"]; got != tc.want {
				t.Errorf("SUMMARY of %q read back as %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRenderFoldsLongValues checks that long values are folded, not just short
// enough, so that the strict check's line limit is exercised.
func TestRenderFoldsLongValues(t *testing.T) {
	for _, name := range []string{"long two-byte", "long three-byte", "long four-byte shifted by three", "long single word of ASCII"} {
		t.Run(name, func(t *testing.T) {
			feed := string(mustRender(t, hostileCalendar(hostileText[name])))
			folds, longest := 0, 0
			for _, line := range strings.Split(feed, "\r\n") {
				if strings.HasPrefix(line, " ") {
					folds++
				}
				longest = max(longest, len(line))
			}
			if folds == 0 {
				t.Errorf("no folded lines in:\n%s", feed)
			}
			if longest < maxOctets-3 {
				t.Errorf("longest line has %d octets; folding wastes more than a UTF-8 sequence:\n%s", longest, feed)
			}
		})
	}
}
