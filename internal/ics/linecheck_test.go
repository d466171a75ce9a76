package ics

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// This file holds the tests' own strict reader of a feed, independent of the
// library that writes it: checkFeed checks the physical lines and unfolds them,
// parseFeed reads the unfolded content lines into calendar and event properties.

// maxOctets is the longest physical line RFC 5545 allows, without its CRLF.
const maxOctets = 75

// textProps are the TEXT properties Render writes; their values must be escaped.
// CATEGORIES is a list of TEXT, but Render writes one category, so its commas must
// be escaped too.
var textProps = map[string]bool{
	"UID": true, "SUMMARY": true, "DESCRIPTION": true, "LOCATION": true, "CATEGORIES": true,
	"NAME": true, "X-WR-CALNAME": true, "X-WR-CALDESC": true, "PRODID": true,
}

// contentLine is one unfolded line, split at its first colon. Render writes no
// parameters, so a semicolon in a name is an error rather than parameters.
type contentLine struct {
	name, value string // value is still escaped
}

// checkFeed checks the physical layout of a feed and returns its unfolded content
// lines. It reports every problem it finds, each with its line number.
func checkFeed(feed []byte) ([]contentLine, error) {
	if !utf8.Valid(feed) {
		return nil, errors.New("the feed is not valid UTF-8")
	}
	if !bytes.HasSuffix(feed, []byte("\r\n")) {
		return nil, errors.New("the feed does not end with CRLF")
	}
	var errs []error
	fail := func(n int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("line %d: "+format, append([]any{n}, args...)...))
	}

	var unfolded []string
	for i, line := range strings.Split(string(feed[:len(feed)-2]), "\r\n") {
		n := i + 1
		switch {
		case strings.ContainsAny(line, "\r\n"):
			fail(n, "bare CR or LF in %q", line)
		case len(line) > maxOctets:
			fail(n, "%d octets, more than %d: %q", len(line), maxOctets, line)
		case !utf8.ValidString(line):
			fail(n, "folding split a UTF-8 sequence: %q", line)
		case line == "":
			fail(n, "empty line")
		case line[0] == ' ':
			if len(line) == 1 {
				fail(n, "continuation line with nothing after the fold's space")
			}
			if len(unfolded) == 0 {
				fail(n, "the feed starts with a continuation line")
				continue
			}
			unfolded[len(unfolded)-1] += line[1:]
		case line[0] == '\t':
			fail(n, "continuation starts with a tab; Render folds with one space")
		default:
			unfolded = append(unfolded, line)
		}
	}

	var lines []contentLine
	for i, l := range unfolded {
		cl, err := splitContentLine(l)
		if err != nil {
			errs = append(errs, fmt.Errorf("content line %d: %w", i+1, err))
			continue
		}
		lines = append(lines, cl)
	}
	return lines, errors.Join(errs...)
}

// splitContentLine splits an unfolded line and checks its value: no control
// characters but tab, and TEXT values correctly escaped.
func splitContentLine(l string) (contentLine, error) {
	name, value, ok := strings.Cut(l, ":")
	if !ok {
		return contentLine{}, fmt.Errorf("no colon in %q", l)
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-'
	}) >= 0 {
		return contentLine{}, fmt.Errorf("bad property name %q in %q", name, l)
	}
	if i := strings.IndexFunc(value, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }); i >= 0 {
		return contentLine{}, fmt.Errorf("%s: control character %q at byte %d", name, value[i], i)
	}
	if textProps[name] {
		if err := checkEscaped(value); err != nil {
			return contentLine{}, fmt.Errorf("%s: %w in %q", name, err, value)
		}
	}
	return contentLine{name: name, value: value}, nil
}

// checkEscaped checks a TEXT value: every backslash starts one of the escapes
// \\ \; \, \n \N, and no comma or semicolon stands unescaped.
func checkEscaped(v string) error {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i+1 == len(v) || !strings.ContainsRune(`\;,nN`, rune(v[i+1])) {
				return fmt.Errorf("bad escape at byte %d", i)
			}
			i++
		case ',', ';':
			return fmt.Errorf("unescaped %q at byte %d", v[i], i)
		}
	}
	return nil
}

// unescape reads a TEXT value checked by checkEscaped, in one pass so that an
// escaped backslash cannot combine with the character after it.
func unescape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			i++
			c = v[i]
			if c == 'n' || c == 'N' {
				c = '\n'
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parsedFeed is a feed read back: properties by name, TEXT values unescaped.
type parsedFeed struct {
	calendar map[string]string
	events   []map[string]string
}

// parseFeed checks the feed and reads it back. It requires exactly one
// VCALENDAR holding only VEVENTs, and no property twice in a component, which is
// what an injected line would most likely produce.
func parseFeed(feed []byte) (parsedFeed, error) {
	lines, err := checkFeed(feed)
	if err != nil {
		return parsedFeed{}, err
	}
	p := parsedFeed{calendar: map[string]string{}}
	begin, end := contentLine{"BEGIN", "VCALENDAR"}, contentLine{"END", "VCALENDAR"}
	if len(lines) < 2 || lines[0] != begin || lines[len(lines)-1] != end {
		return p, errors.New("the feed is not one VCALENDAR")
	}
	var event map[string]string // the open VEVENT; nil outside one
	for i, l := range lines[1 : len(lines)-1] {
		n := i + 2
		switch {
		case l == contentLine{"BEGIN", "VEVENT"} && event == nil:
			event = map[string]string{}
			p.events = append(p.events, event)
		case l == contentLine{"END", "VEVENT"} && event != nil:
			event = nil
		case l.name == "BEGIN" || l.name == "END":
			return p, fmt.Errorf("content line %d: unexpected %s:%s", n, l.name, l.value)
		case event == nil && len(p.events) > 0:
			return p, fmt.Errorf("content line %d: %s after the events, outside a VEVENT", n, l.name)
		default:
			props := p.calendar
			if event != nil {
				props = event
			}
			if _, dup := props[l.name]; dup {
				return p, fmt.Errorf("content line %d: %s twice in one component", n, l.name)
			}
			v := l.value
			if textProps[l.name] {
				v = unescape(v)
			}
			props[l.name] = v
		}
	}
	if event != nil {
		return p, errors.New("a VEVENT is not closed")
	}
	return p, nil
}

// mustParse checks and parses a feed, failing the test with the feed on error.
func mustParse(t *testing.T, feed []byte) parsedFeed {
	t.Helper()
	p, err := parseFeed(feed)
	if err != nil {
		t.Fatalf("the feed fails the strict check:\n%v\nfeed:\n%s", err, feed)
	}
	return p
}

// normalized is what Render promises to keep of a TEXT value, written
// independently of cleanText: each run of invalid bytes becomes U+FFFD, CRLF, CR,
// NEL, LS and PS become LF, C0 controls but tab and LF, and DEL, are dropped.
func normalized(s string) string {
	var b strings.Builder
	invalid := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			if !invalid {
				b.WriteRune(utf8.RuneError)
			}
			invalid = true
			continue
		}
		invalid = false
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteByte('\n')
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteByte('\n')
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestCheckFeedCatchesBadFeeds makes sure the strict reader is not vacuous: each
// feed breaks one rule and must be rejected.
func TestCheckFeedCatchesBadFeeds(t *testing.T) {
	const head, tail = "BEGIN:VCALENDAR\r\n", "END:VCALENDAR\r\n"
	for name, feed := range map[string]string{
		"LF line ending":                 "BEGIN:VCALENDAR\nEND:VCALENDAR\n",
		"bare CR":                        head + "NAME:a\rb\r\n" + tail,
		"bare LF inside":                 head + "NAME:a\nb\r\n" + tail,
		"no final CRLF":                  head + "END:VCALENDAR",
		"76 octets":                      head + "NAME:" + strings.Repeat("x", 71) + "\r\n" + tail,
		"fold inside a UTF-8 sequence":   head + "NAME:" + strings.Repeat("x", 69) + "\xc3\r\n \xa9\r\n" + tail,
		"invalid UTF-8":                  head + "NAME:\xff\r\n" + tail,
		"empty line":                     head + "\r\n" + tail,
		"fold with a tab":                head + "NAME:a\r\n\tb\r\n" + tail,
		"starts with a continuation":     " BEGIN:VCALENDAR\r\n" + tail,
		"unescaped comma":                head + "NAME:a,b\r\n" + tail,
		"unescaped semicolon":            head + "BEGIN:VEVENT\r\nSUMMARY:a;b\r\nEND:VEVENT\r\n" + tail,
		"bad escape":                     head + "NAME:a\\tb\r\n" + tail,
		"trailing backslash":             head + "NAME:a\\\r\n" + tail,
		"control character":              head + "NAME:a\x01b\r\n" + tail,
		"parameters":                     head + "NAME;LANGUAGE=en:a\r\n" + tail,
		"property twice":                 head + "BEGIN:VEVENT\r\nUID:a\r\nUID:b\r\nEND:VEVENT\r\n" + tail,
		"nested VEVENT":                  head + "BEGIN:VEVENT\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VEVENT\r\n" + tail,
		"VEVENT not closed":              head + "BEGIN:VEVENT\r\nUID:a\r\n" + tail,
		"calendar property after events": head + "BEGIN:VEVENT\r\nEND:VEVENT\r\nNAME:a\r\n" + tail,
		"two calendars":                  head + tail + head + tail,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseFeed([]byte(feed)); err == nil {
				t.Errorf("parseFeed accepted %q", feed)
			}
		})
	}
}

// TestCheckFeedReadsFoldedLines checks the reader on a valid hand-written feed,
// folded inside an escape and before a space.
func TestCheckFeedReadsFoldedLines(t *testing.T) {
	feed := "BEGIN:VCALENDAR\r\nNAME:a\\\r\n , b\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\n  y\\n\\\\n\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	p, err := parseFeed([]byte(feed))
	if err != nil {
		t.Fatalf("parseFeed: %v", err)
	}
	if got, want := p.calendar["NAME"], "a, b"; got != want {
		t.Errorf("NAME = %q, want %q", got, want)
	}
	if len(p.events) != 1 {
		t.Fatalf("got %d events, want 1", len(p.events))
	}
	if got, want := p.events[0]["SUMMARY"], "x y\n\\n"; got != want {
		t.Errorf("SUMMARY = %q, want %q", got, want)
	}
}
