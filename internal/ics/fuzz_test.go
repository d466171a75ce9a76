package ics

import (
	"bytes"
	"testing"
)

// FuzzRenderText puts arbitrary text in every TEXT field of a feed and asserts
// that the feed passes the strict line check, that each field (SUMMARY among
// them) reads back as the normalized input, that no event is injected, and that
// rendering twice gives the same bytes. It runs only Go: the parsers in other
// languages are exercised by the ReadsTheFeed tests.
func FuzzRenderText(f *testing.F) {
	for _, name := range hostileNames {
		f.Add(hostileText[name])
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkHostileRoundTrip(t, s)
		first, err := Render(hostileCalendar(s))
		if err != nil {
			t.Fatalf("Render(%q): %v", s, err)
		}
		if again, _ := Render(hostileCalendar(s)); !bytes.Equal(first, again) {
			t.Fatalf("two renders of %q differ:\n%s\n%s", s, first, again)
		}
	})
}
