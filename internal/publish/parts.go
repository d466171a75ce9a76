package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Budget is the most bytes of one document, or of one part of a document, that a
// ConfigMap holds. The API server refuses a ConfigMap whose data (keys and values)
// exceeds 1 MiB (1,048,576 bytes); the budget of 900 KiB (921,600 bytes) leaves 124 KiB
// for the document's key and the parts manifest (PartsKey), which names at most a few
// hundred bytes per part.
const Budget = 900 << 10

// PartsKey holds the Manifest of a document split over several ConfigMaps, beside the
// part under the document's key. A document that fits one ConfigMap has no manifest.
const PartsKey = "parts.json"

// Manifest says which part of a document a ConfigMap holds. The roster and the
// overview are split rather than truncated: the first part is the document's own
// ConfigMap (e.g. <cohort>-roster), which names the others in order.
type Manifest struct {
	// Part is the place of this part in the document, from 1.
	Part int `json:"part"`
	// Parts is how many parts the document has.
	Parts int `json:"parts"`
	// Digest identifies the whole document as rendered (Document.Digest), so that a
	// reader merges only parts of one render.
	Digest string `json:"digest"`
	// Next are the names of the ConfigMaps holding parts 2 and on, in order; set in
	// the first part only.
	Next []string `json:"next,omitempty"`
}

// Document is a document as it is published: its parts in order, each a complete
// JSON document of the document's type holding a share of its list, and each within
// the budget it was split for.
type Document struct {
	Parts [][]byte
	// Digest is the SHA-256 of the parts, as "sha256:<hex>".
	Digest string
}

// Documents are a cohort's documents as they are published.
type Documents struct {
	// Roster and Overview are split into parts (see SplitRoster, SplitOverview).
	Roster, Overview Document
	// Calendar is the iCalendar feed, one part: it is fitted to Budget by leaving out
	// its oldest events, never split.
	Calendar []byte
}

// Encode renders a document as the operator publishes it: indented JSON.
func Encode(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

// SplitRoster renders the roster in parts of at most budget bytes each, by members in
// their order: every member is in exactly one part, and each part is a Roster of the
// same cohort. An empty roster is one part.
func SplitRoster(r Roster, budget int) (Document, error) {
	return split(r.Members, budget, listEntry, func(share []RosterEntry, _ bool) any {
		return Roster{Cohort: r.Cohort, Members: share}
	})
}

// MergeRoster joins the parts of a roster, in order, into the whole roster.
func MergeRoster(parts []Roster) Roster {
	if len(parts) == 0 {
		return Roster{Members: []RosterEntry{}}
	}
	whole := Roster{Cohort: parts[0].Cohort, Members: []RosterEntry{}}
	for _, p := range parts {
		whole.Members = append(whole.Members, p.Members...)
	}
	return whole
}

// SplitOverview renders the overview in parts of at most budget bytes each. The first
// part is the overview with the first share of the attendance list; later parts hold
// the cohort's summary and the following shares only. Only the attendance list grows
// with the cohort's history; the rest is bounded (the approved reports, which the
// first part carries, to ReportLimit reports of at most 77,312 bytes each).
func SplitOverview(o Overview, budget int) (Document, error) {
	return split(o.Attendance, budget, listEntry, func(share []EventAttendance, first bool) any {
		if first {
			part := o
			part.Attendance = share
			return part
		}
		return Overview{Cohort: o.Cohort, Roles: []RoleSeats{}, Upcoming: []Event{}, Attendance: share}
	})
}

// MergeOverview joins the parts of an overview, in order, into the whole overview.
func MergeOverview(parts []Overview) Overview {
	if len(parts) == 0 {
		return Overview{}
	}
	whole := parts[0]
	whole.Attendance = append([]EventAttendance{}, whole.Attendance...)
	for _, p := range parts[1:] {
		whole.Attendance = append(whole.Attendance, p.Attendance...)
	}
	return whole
}

// listEntry is the size of an item of a top-level list in an Encode'd document: the
// item indented two levels, the line break and indentation before it, and its comma.
func listEntry(v any) (int, error) {
	b, err := json.MarshalIndent(v, "    ", "  ")
	return len(b) + len("\n    ,"), err
}

// listBrackets is what a non-empty top-level list adds besides its items: "[]" becomes
// "[", items, "\n  ]".
const listBrackets = len("\n  ")

// split renders items in consecutive shares, each rendered by doc within budget:
// a share is closed when the next item would take it over (the first may hold none). Sizes are measured once
// per item (an upper bound: the last item has no comma), and every part is rendered
// once; a part that still exceeds the budget (one item larger than the budget) is an
// error.
func split[T any](items []T, budget int, size func(any) (int, error), doc func(share []T, first bool) any) (Document, error) {
	base := func(first bool) (int, error) {
		b, err := Encode(doc([]T{}, first))
		return len(b) + listBrackets, err
	}
	firstBase, err := base(true)
	if err != nil {
		return Document{}, err
	}
	restBase, err := base(false)
	if err != nil {
		return Document{}, err
	}
	var shares [][]T
	start, used := 0, firstBase
	for i, item := range items {
		n, err := size(item)
		if err != nil {
			return Document{}, err
		}
		// A share is closed when the item would take it over the budget; the first
		// share, which carries the document's other fields, may close empty when those
		// leave no room for the item.
		if (i > start || len(shares) == 0) && used+n > budget {
			shares = append(shares, items[start:i])
			start, used = i, restBase
		}
		used += n
	}
	shares = append(shares, items[start:])

	d := Document{Parts: make([][]byte, len(shares))}
	sum := sha256.New()
	for i, share := range shares {
		if share == nil {
			share = []T{}
		}
		b, err := Encode(doc(share, i == 0))
		if err != nil {
			return Document{}, err
		}
		if len(b) > budget {
			return Document{}, fmt.Errorf("part %d of %d is %d bytes, over the budget of %d", i+1, len(shares), len(b), budget)
		}
		d.Parts[i] = b
		_, _ = fmt.Fprintf(sum, "%d:", len(b))
		sum.Write(b)
	}
	d.Digest = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	return d, nil
}
