// Package ics renders a cohort's calendar feed (RFC 5545), the calendar.ics the
// manager publishes in a ConfigMap it owns.
//
// Every occurrence is its own VEVENT with UTC times, so the feed needs neither TZID
// nor VTIMEZONE. Render is a pure function of its argument: it reads no clock and
// nothing depends on map order, so the same Calendar always gives the same bytes
// and the ConfigMap holding the feed only changes when the calendar does.
//
// # Library
//
// The iCalendar syntax is written by github.com/arran4/golang-ical (v0.3.4). It was
// chosen over github.com/emersion/go-ical, the other maintained Go library, because
// it already does the two hard parts: it folds lines at 75 octets without splitting
// a UTF-8 sequence and escapes TEXT values (backslash, semicolon, comma, newline).
// It also keeps properties in the order they are set and accepts a calendar without
// events. It folds at the last space that fits where there is one, so a
// continuation line may start with the fold's space and the value's own; RFC 5545
// allows folding anywhere, and unfolding removes only the first. go-ical, at the only version its proxy offers
// (v0.0.0-20250329121855-f41e73efc392), does not fold lines at all, rejects any
// value containing CR or LF instead of escaping it, rejects a calendar with no
// events (a cohort before its first gathering) and sorts properties by name; closing
// those gaps would have needed a folding writer of our own and more.
//
// # Gaps closed here
//
// golang-ical leaves three gaps, which Render closes before and while serializing:
//
//   - Line endings: it ends lines with the platform's newline, LF on Linux. Render
//     asks for CRLF explicitly.
//   - CR and control characters: it escapes LF but passes CR and the other control
//     characters through, so "Title\r\nEND:VEVENT" would end up as a bare CR in
//     the feed, which some readers take for a line break (CRLF injection). Render
//     normalizes every TEXT value first: CRLF, a lone CR and the Unicode line
//     separators NEL (U+0085), LS (U+2028) and PS (U+2029) become a newline, which
//     the library then escapes as \n; the other C0 controls and DEL, which RFC 5545
//     does not allow in TEXT, are dropped; tab is kept.
//   - Invalid UTF-8: it folds by runes and counts an invalid byte as three octets,
//     and writes the invalid bytes out. Render replaces each run of invalid bytes
//     with U+FFFD, so the feed is always valid UTF-8 (the charset RFC 5545 requires).
//
// Render also rejects what the library would write out unchecked: an event without
// a UID, the same UID twice (the same gathering twice), an end not after the
// start, a negative SEQUENCE, and unset times or times outside years 1 to 9999.
package ics
