package transitions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cohort-dev/cohort-operator/controllers"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/teststate"
)

// state is what the operator shows of a namespace: every object of the program kinds
// (spec and status) and every object it provisioned, normalized so that two namespaces
// compare (see normalize), keyed by "Kind/name". uids maps the events' UIDs to their
// names, for the calendar sequences, which belong to one object.
type state struct {
	objects map[string]map[string]any
	uids    map[string]string
}

// snapshot reads the namespace's state from the API server, and fails unless the
// operator has computed every program object's status for its current generation.
func snapshot(ctx context.Context, ns string) (state, error) {
	captured, err := teststate.CaptureSettled(ctx, admin, ns)
	if err != nil {
		return state{}, err
	}
	s := state{objects: captured.Objects, uids: map[string]string{}}
	for key, o := range s.objects {
		kind, name, _ := strings.Cut(key, "/")
		if kind == "LearningEvent" {
			s.uids[captured.UIDs[key]] = name
		}
		normalize(kind, o)
	}
	return s, nil
}

// normalize drops, beyond what teststate.Normalize drops, what a revert or a second
// namespace may change without the operator deciding anything else: generations, the
// generations statuses were computed for (snapshot checks them), conditions' transition
// times, and the statuses of provisioned objects.
func normalize(kind string, o map[string]any) {
	unstructured.RemoveNestedField(o, "metadata", "generation")
	if !slices.Contains(teststate.ProgramKinds, kind) {
		delete(o, "status")
		return
	}
	status, _ := o["status"].(map[string]any)
	delete(status, "observedGeneration")
	conditions, _ := status["conditions"].([]any)
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok {
			delete(m, "lastTransitionTime")
			delete(m, "observedGeneration")
		}
	}
}

// converge waits until every object's status is computed for its generation and the
// state has not changed for stable, and returns it.
func converge(t *testing.T, ns, what string) state {
	t.Helper()
	const stable = 500 * time.Millisecond
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	var last state
	var lastErr error
	var since time.Time
	for time.Now().Before(deadline) {
		s, err := snapshot(ctx, ns)
		switch {
		case err != nil:
			lastErr, since = err, time.Time{}
		case since.IsZero() || !cmp.Equal(s.objects, last.objects):
			last, since, lastErr = s, time.Now(), nil
		case time.Since(since) >= stable:
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: the namespace did not converge within a minute: %v", what, lastErr)
	return state{}
}

// history is what the operator keeps across changes on purpose.
type history struct {
	// seated are the memberships holding a seat; since their status.seatedSince, set
	// from the first seat a membership held (a term served) onwards.
	seated map[string]bool
	since  map[string]string
	// claiming are the memberships that may hold a seat: eligible, not withdrawn and
	// not expired.
	claiming map[string]bool
	// waiting are the memberships with a waitlist position.
	waiting map[string]bool
	// sequence is each event's calendar sequence by event UID; feed is each calendar
	// entry's SEQUENCE by the entry's UID.
	sequence map[string]int64
	feed     map[string]int64
}

func (s state) history() history {
	h := history{seated: map[string]bool{}, since: map[string]string{}, claiming: map[string]bool{}, waiting: map[string]bool{}, sequence: map[string]int64{}, feed: map[string]int64{}}
	for key, o := range s.objects {
		kind, name, _ := strings.Cut(key, "/")
		status, _ := o["status"].(map[string]any)
		switch kind {
		case "Membership":
			h.seated[name] = condition(status, "Seated") == "True"
			if since, ok := status["seatedSince"].(string); ok {
				h.since[name] = since
			}
			phase, _ := status["phase"].(string)
			h.claiming[name] = condition(status, "Eligible") == "True" && phase != "Withdrawn" && phase != "Expired"
			_, h.waiting[name] = status["waitlistPosition"]
		case "ConfigMap":
			data, _ := o["data"].(map[string]any)
			if feed, ok := data[publish.CalendarKey].(string); ok {
				for uid, seq := range feedSequences(feed) {
					h.feed[uid] = seq
				}
			}
		}
	}
	for uid, name := range s.uids {
		status, _ := s.objects["LearningEvent/"+name]["status"].(map[string]any)
		cal, _ := status["calendar"].(map[string]any)
		seq, _ := cal["sequence"].(int64)
		h.sequence[uid] = seq
	}
	return h
}

func condition(status map[string]any, typ string) string {
	conditions, _ := status["conditions"].([]any)
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// feedSequences reads the SEQUENCE of every VEVENT of an iCalendar feed by UID.
func feedSequences(feed string) map[string]int64 {
	out := map[string]int64{}
	var uid string
	var seq int64
	for _, line := range strings.Split(strings.ReplaceAll(feed, "\r\n ", ""), "\r\n") {
		switch {
		case line == "BEGIN:VEVENT":
			uid, seq = "", 0
		case strings.HasPrefix(line, "UID:"):
			uid = strings.TrimPrefix(line, "UID:")
		case strings.HasPrefix(line, "SEQUENCE:"):
			_, _ = fmt.Sscan(strings.TrimPrefix(line, "SEQUENCE:"), &seq)
		case line == "END:VEVENT" && uid != "":
			out[uid] = seq
		}
	}
	return out
}

// kept checks that a step from prev to next lost none of the history: every
// membership seated in prev that may still hold a seat holds it, since the same
// time; every term served stays recorded; no calendar sequence goes down.
func kept(prev, next history) []string {
	var problems []string
	for _, m := range sortedKeys(prev.seated) {
		if prev.seated[m] && next.claiming[m] && !next.seated[m] {
			problems = append(problems, fmt.Sprintf("membership %s held a seat and may still hold one, but lost it", m))
		}
		if prev.seated[m] && next.seated[m] && prev.since[m] != next.since[m] {
			problems = append(problems, fmt.Sprintf("membership %s kept its seat but seatedSince moved from %s to %s", m, prev.since[m], next.since[m]))
		}
	}
	for _, m := range sortedKeys(prev.since) {
		if _, ok := next.since[m]; !ok {
			if _, exists := next.seated[m]; exists {
				problems = append(problems, fmt.Sprintf("membership %s served a term (seatedSince %s) that is no longer recorded", m, prev.since[m]))
			}
		}
	}
	for _, uid := range sortedKeys(prev.sequence) {
		if seq, ok := next.sequence[uid]; ok && seq < prev.sequence[uid] {
			problems = append(problems, fmt.Sprintf("event %s: calendar sequence went down from %d to %d", uid, prev.sequence[uid], seq))
		}
	}
	for _, uid := range sortedKeys(prev.feed) {
		if seq, ok := next.feed[uid]; ok && seq < prev.feed[uid] {
			problems = append(problems, fmt.Sprintf("calendar entry %s: SEQUENCE went down from %d to %d", uid, prev.feed[uid], seq))
		}
	}
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func seatSet(h history) []string {
	var out []string
	for _, m := range sortedKeys(h.seated) {
		if h.seated[m] {
			out = append(out, m)
		}
	}
	return out
}

// comparable drops the history from a state: seatedSince, calendar sequences and
// revision times, and the SEQUENCE and DTSTAMP lines of calendar feeds.
func comparable(s state) map[string]any {
	out := map[string]any{}
	for key, o := range s.objects {
		o = deepCopy(o)
		kind, _, _ := strings.Cut(key, "/")
		status, _ := o["status"].(map[string]any)
		switch kind {
		case "Membership":
			delete(status, "seatedSince")
		case "LearningEvent":
			if cal, ok := status["calendar"].(map[string]any); ok {
				delete(cal, "sequence")
				delete(cal, "revised")
			}
		case "ConfigMap":
			if data, ok := o["data"].(map[string]any); ok {
				if feed, ok := data[publish.CalendarKey].(string); ok {
					data[publish.CalendarKey] = maskFeed(feed)
				}
			}
		}
		out[key] = o
	}
	return out
}

func maskFeed(feed string) string {
	lines := strings.Split(strings.ReplaceAll(feed, "\r\n ", ""), "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "SEQUENCE:") || strings.HasPrefix(l, "DTSTAMP:") {
			lines[i] = l[:strings.Index(l, ":")+1] + "*"
		}
	}
	return strings.Join(lines, "\r\n")
}

// withoutSeats drops, from a comparable state, everything that follows from who holds
// a seat: membership statuses, the seat, member, attendance and plan figures of
// cohorts, communities and events, whether plans are current, the roster and overview
// documents, the members' RoleBindings and their Roles and RoleBindings for plans. Two
// states whose seats differ because of
// history compare on the rest.
func withoutSeats(c map[string]any) map[string]any {
	out := map[string]any{}
	for key, v := range c {
		o := deepCopy(v.(map[string]any))
		kind, _, _ := strings.Cut(key, "/")
		status, _ := o["status"].(map[string]any)
		switch kind {
		case "Membership", "CommunityOfPractice":
			delete(o, "status")
		case "Cohort":
			o["status"] = keep(status, "phase", "startDate", "endDate", "nextEvent")
		case "LearningEvent":
			o["status"] = keep(status, "phase", "end", "contentHash", "calendar")
			o["approved"] = condition(status, "Approved")
		case "ActionPlan":
			// A plan whose owner holds no seat is not judged current or not.
			o["status"] = keep(status, "actions", "nextDue", "lastCheckIn")
			o["ready"] = condition(status, "Ready")
		case "ConfigMap":
			if data, ok := o["data"].(map[string]any); ok {
				delete(data, publish.RosterKey)
				delete(data, publish.OverviewKey)
			}
		case "RoleBinding":
			if labels, _ := o["metadata"].(map[string]any)["labels"].(map[string]any); labels[controllers.ComponentLabel] == "access" {
				delete(o, "subjects")
			}
		}
		if kind == "Role" || kind == "RoleBinding" {
			// A member's access to plans exists only while they hold a seat.
			if labels, _ := o["metadata"].(map[string]any)["labels"].(map[string]any); labels[controllers.ComponentLabel] == "plans" {
				continue
			}
		}
		out[key] = o
	}
	return out
}

func keep(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func deepCopy(m map[string]any) map[string]any {
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// seatDiff is how the seats of two states differ: memberships seated only in the
// second (extra), only in the first (missing), and in both since different times
// (moved).
type seatDiff struct{ extra, missing, moved []string }

func (d seatDiff) empty() bool { return len(d.extra)+len(d.missing)+len(d.moved) == 0 }

func diffSeats(want, got history) seatDiff {
	var d seatDiff
	for _, m := range seatSet(got) {
		switch {
		case !want.seated[m]:
			d.extra = append(d.extra, m)
		case want.since[m] != got.since[m]:
			d.moved = append(d.moved, m)
		}
	}
	for _, m := range seatSet(want) {
		if !got.seated[m] {
			d.missing = append(d.missing, m)
		}
	}
	return d
}

// compareStates compares want and got: in full (history aside) when the same
// memberships hold seats since the same times; otherwise, provided explain accounts
// for every difference in seats, without what follows from seats. It returns a
// description of every difference; full says which comparison was made.
func compareStates(want, got state, explain func(seatDiff) []string) (problems []string, full bool) {
	d := diffSeats(want.history(), got.history())
	if d.empty() {
		if diff := cmp.Diff(comparable(want), comparable(got)); diff != "" {
			problems = append(problems, "state differs (-want +got):\n"+diff)
		}
		return problems, true
	}
	problems = append(problems, explain(d)...)
	if diff := cmp.Diff(withoutSeats(comparable(want)), withoutSeats(comparable(got))); diff != "" {
		problems = append(problems, "state apart from seats differs (-want +got):\n"+diff)
	}
	return problems, false
}
