package admission

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file is the fuzz target's oracle for the rules on dates and text: it finds,
// along the CRD's schema, a value that the API server must refuse, deciding on its own
// (with Go's time and runes, not with the rules' CEL) whether a date lies outside 2000
// to 2199 and whether text holds a character it must not.

// mustRefuse walks v along schema and returns why the API server must refuse it,
// naming the field, or "" when the rules of this file let it through (others may still
// refuse it).
func mustRefuse(v any, schema map[string]any, path string) string {
	switch x := v.(type) {
	case string:
		return refusedString(x, schema, path)
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, name := range sortedKeys(x) {
			child, _ := props[name].(map[string]any)
			if why := mustRefuse(x[name], child, path+"."+name); why != "" {
				return why
			}
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, entry := range x {
			if why := mustRefuse(entry, items, fmt.Sprintf("%s[%d]", path, i)); why != "" {
				return why
			}
		}
	}
	return ""
}

// refusedString checks a string against each rule of this file that its schema
// carries, recognized by its message.
func refusedString(s string, schema map[string]any, path string) string {
	if str(schema["type"]) != "string" {
		return ""
	}
	rules, _ := schema["x-kubernetes-validations"].([]any)
	for _, r := range rules {
		message := str(dig(r, "message"))
		var bad bool
		switch {
		case message == textMessage:
			bad = hasForbiddenRune(s, false)
		case message == paragraphMessage:
			bad = hasForbiddenRune(s, true)
		case strings.HasSuffix(message, dateBoundMessage) && strings.Contains(message, "UNTIL"):
			bad = untilOutOfBounds(s)
		case strings.HasSuffix(message, dateBoundMessage):
			bad = dateOutOfBounds(s, str(schema["format"]))
		}
		if bad {
			return fmt.Sprintf("%s is %q: %s", path, truncate(s, 80), message)
		}
	}
	return ""
}

// hasForbiddenRune reports whether s holds a control character (C0, DEL, C1) or a
// bidirectional control. Free text may hold tab, newline, and a carriage return that
// starts a CRLF.
func hasForbiddenRune(s string, freeText bool) bool {
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case freeText && (r == '\t' || r == '\n'):
		case freeText && r == '\r' && i+1 < len(runes) && runes[i+1] == '\n':
		case r <= 0x1f, r >= 0x7f && r <= 0x9f:
			return true
		case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return true
		}
	}
	return false
}

// dateOutOfBounds reports whether s is a well-formed date or date-time outside 2000
// to 2199 (a malformed one is refused by its pattern or format instead).
func dateOutOfBounds(s, format string) bool {
	layout := time.DateOnly
	if format == "date-time" {
		layout = time.RFC3339
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return false
	}
	year := t.UTC().Year()
	return year < 2000 || year >= 2200
}

// untilParts finds the year of each UNTIL part of a recurrence rule.
var untilParts = regexp.MustCompile(`UNTIL=([0-9]{4})`)

// untilOutOfBounds reports whether a recurrence rule has an UNTIL outside 2000 to
// 2199.
func untilOutOfBounds(rrule string) bool {
	for _, m := range untilParts.FindAllStringSubmatch(rrule, -1) {
		if year, _ := strconv.Atoi(m[1]); year < 2000 || year >= 2200 {
			return true
		}
	}
	return false
}

// TestOracleFindsTheRules checks that the oracle recognizes the rules in the generated
// CRDs, so that a changed message cannot leave the fuzz target without it.
func TestOracleFindsTheRules(t *testing.T) {
	schemas := map[string]map[string]any{}
	for _, c := range loadCRDs(t) {
		schemas[c.kind] = c.specSchema(t)
	}
	for _, tc := range []struct {
		kind string
		spec map[string]any
		want bool
	}{
		{"Membership", map[string]any{"displayName": "Ally \x1b[2J"}, true},
		{"Membership", map[string]any{"displayName": "Ally\tOne"}, true},
		{"Membership", map[string]any{"displayName": "Zoë 🏳️‍🌈"}, false},
		{"LearningEvent", map[string]any{"description": "a\r\n\tb"}, false},
		{"LearningEvent", map[string]any{"description": "a\rb"}, true},
		{"LearningEvent", map[string]any{"attendance": []any{map[string]any{"note": "\u009b"}}}, true},
		{"LearningEvent", map[string]any{"start": "2200-01-01T00:30:00+01:00"}, false},
		{"LearningEvent", map[string]any{"start": "1999-12-31T23:59:59Z"}, true},
		{"Cohort", map[string]any{"startDate": "2199-12-31"}, false},
		{"Cohort", map[string]any{"enrollment": map[string]any{"closes": "2200-01-01"}}, true},
		{"Cohort", map[string]any{"schedule": map[string]any{"rrule": "FREQ=DAILY;UNTIL=19991231"}}, true},
		{"CommunityOfPractice", map[string]any{"charter": map[string]any{"goals": []any{"a", "\u202eb"}}}, true},
	} {
		if got := mustRefuse(tc.spec, schemas[tc.kind], "spec"); (got != "") != tc.want {
			t.Errorf("%s %v: the oracle says %q, want a refusal: %t", tc.kind, tc.spec, got, tc.want)
		}
	}
}
