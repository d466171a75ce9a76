package admission

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/fuzzbytes"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// This file fuzzes what the API server admits: a sample of config/samples, its spec
// edited along the paths of the CRD's schema, is sent as a create and as an update
// of the unedited sample, both dry run, and what was accepted is created for real and
// updated with no change.

// fuzzStrings are string values that sit on or across the bounds the CRDs declare:
// lengths, patterns, dates, durations, time zones, recurrence rules, names that are
// reserved, and text that is not what it seems.
var fuzzStrings = []string{
	"", " ", "a", "A", "-a", "a-", "a.b", "a_b", "1", "-1", "0", "true", "null", "{}",
	"allyship-pillar-lead", "someone-else", "system:admin", "system:", "System:x",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 200), strings.Repeat("a", 201),
	strings.Repeat("a", 253), strings.Repeat("a", 254), strings.Repeat("x", 4001), strings.Repeat("é", 300),
	strings.Repeat("y", 70000),
	"日本語", "\u202eevil", "\x00", "\x1b[31m", "line\nbreak", "tab\t", "\ufeff", "🏳️‍🌈",
	"crlf\r\nline", "lone\rreturn", "\x7f", "\u009b2J", "\u061c", "\u200f", "\u2066isolate\u2069", "\u200dzwj",
	"1999-12-31", "2000-01-01", "2199-12-31", "2200-01-01", "1999-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
	"2200-01-01T00:30:00+01:00", "FREQ=WEEKLY;UNTIL=19991231", "FREQ=WEEKLY;UNTIL=22000101T000000Z",
	"FREQ=WEEKLY;UNTIL=21991231T235959Z",
	"2026-01-13", "2026-02-29", "2024-02-29", "2026-13-01", "2026-00-10", "0000-01-01", "0001-01-01",
	"9999-12-31", "10000-01-01", "26-1-1", "2026-01-13T18:00:00Z",
	"2026-01-13T18:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z",
	"0s", "4m59s", "5m", "90m", "24h", "24h1s", "168h", "168h1s", "99999h", "1h60m", "1.5h", "-5m", "5m5m5m5m5m",
	"UTC", "America/Chicago", "Asia/Kathmandu", "Mars/Olympus", "Local", "../etc/passwd", "Etc/GMT+14", "utc",
	"FREQ=MONTHLY;BYDAY=2TU", "FREQ=WEEKLY", "FREQ=SECONDLY", "FREQ=DAILY;COUNT=100000",
	"FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z", "FREQ=MONTHLY;BYMONTHDAY=31", "RRULE:FREQ=YEARLY", "FREQ=",
	"v1:sha256:" + strings.Repeat("0", 64), "v1:sha256:" + strings.Repeat("a", 63), "v999:sha256:" + strings.Repeat("f", 64),
	"v0:sha256:" + strings.Repeat("1", 64), "v1:sha256:" + strings.Repeat("A", 64),
	"Gathering", "CheckIn", "Intensive", "SpeakerSeries", "ListeningSession", "Workshop", "Other",
	"Internal", "External", "Present", "Late", "Excused", "Absent", "Edit", "Read", "User", "Group",
	"Member", "Lead", "Facilitator", "member", "True", "False", "Unknown",
}

// fuzzNumbers are integers at the edges of the CRDs' bounds and of int32 and int64.
var fuzzNumbers = []int64{
	0, 1, -1, 2, 3, 12, 13, 99, 100, 101, 5000, 5001, 1 << 20,
	math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, 1 << 53, math.MaxInt64, math.MinInt64,
}

// fuzzRepeats are the lengths a list is grown to, around the CRDs' MaxItems.
var fuzzRepeats = []int{2, 3, 10, 51, 101, 257, 1001, 5001}

// fuzzReader draws a sample's edits from a fuzz input.
type fuzzReader struct{ *fuzzbytes.Reader }

// value is any JSON value, more often one of the type and enum the schema asks for.
func (r *fuzzReader) value(schema map[string]any) any {
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 && r.N(2) == 0 {
		return enum[r.N(len(enum))]
	}
	typ := str(schema["type"])
	if r.N(3) != 0 {
		switch typ {
		case "string":
			return r.string()
		case "integer":
			return fuzzNumbers[r.N(len(fuzzNumbers))]
		case "boolean":
			return r.N(2) == 1
		}
	}
	switch r.N(8) {
	case 0:
		return nil
	case 1:
		return fuzzNumbers[r.N(len(fuzzNumbers))]
	case 2:
		return []float64{0.5, -0.5, 1e300, -1e300, 3.0000001}[r.N(5)]
	case 3:
		return r.N(2) == 1
	case 4:
		return map[string]any{}
	case 5:
		return []any{}
	default:
		return r.string()
	}
}

// string is a listed string, raw bytes of the input, or a listed string repeated.
func (r *fuzzReader) string() string {
	switch r.N(4) {
	case 0:
		return r.Raw()
	case 1:
		return strings.Repeat(fuzzStrings[r.N(len(fuzzStrings))], 1+r.N(4))
	default:
		return fuzzStrings[r.N(len(fuzzStrings))]
	}
}

// edit returns v edited at one place below it, following schema: it descends into a
// property or a list entry, or replaces, removes, duplicates or repeats what it
// finds. remove says that v itself is to be removed. log receives what was done.
func (r *fuzzReader) edit(v any, schema map[string]any, path string, log *[]string) (edited any, remove bool) {
	props, _ := schema["properties"].(map[string]any)
	items, _ := schema["items"].(map[string]any)
	op := r.N(10)
	switch {
	case op < 6 && len(props) > 0:
		m, _ := v.(map[string]any)
		m = copyMap(m)
		names := sortedKeys(props)
		name := names[r.N(len(names))]
		child, _ := props[name].(map[string]any)
		next, drop := r.edit(m[name], child, path+"."+name, log)
		if drop {
			delete(m, name)
		} else {
			m[name] = next
		}
		return m, false
	case op < 6 && items != nil:
		list, _ := v.([]any)
		return r.editList(slices.Clone(list), items, path, log), false
	case op == 9:
		*log = append(*log, "remove "+path)
		return nil, true
	default:
		val := r.value(schema)
		*log = append(*log, fmt.Sprintf("set %s to %.80q", path, fmt.Sprint(val)))
		return val, false
	}
}

// editList edits one entry of a list, or duplicates, repeats, removes or clears
// entries.
func (r *fuzzReader) editList(list []any, items map[string]any, path string, log *[]string) []any {
	switch op := r.N(6); {
	case op < 3 || len(list) == 0:
		i := r.N(len(list) + 1)
		var entry any
		if i < len(list) {
			entry = list[i]
		}
		next, drop := r.edit(entry, items, fmt.Sprintf("%s[%d]", path, i), log)
		switch {
		case drop && i < len(list):
			return slices.Delete(list, i, i+1)
		case drop:
			return list
		case i < len(list):
			list[i] = next
			return list
		default:
			return append(list, next)
		}
	case op == 3:
		i := r.N(len(list))
		*log = append(*log, fmt.Sprintf("duplicate %s[%d]", path, i))
		return slices.Insert(list, i, list[i])
	case op == 4:
		n := fuzzRepeats[r.N(len(fuzzRepeats))]
		*log = append(*log, fmt.Sprintf("grow %s to %d entries", path, len(list)+n))
		for range n {
			list = append(list, list[len(list)-1])
		}
		return list
	default:
		*log = append(*log, "clear "+path)
		return []any{}
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// badAnswers are fragments of an answer that shows the API server failing rather
// than judging: an internal error, a CEL rule that could not be evaluated or ran out
// of its cost budget, or an admission policy expression that failed.
var badAnswers = []string{
	"internal error", "cost budget", "no such key", "no such overload", "evaluation error",
	"error evaluating", "resulted in error", "compilation", "panic", "runtime error",
}

// fuzzState is what a fuzzing process sets up once: a namespace of its own holding
// every sample, the schemas, and a client without client-side rate limits.
type fuzzState struct {
	c         client.Client
	namespace string
	samples   []*unstructured.Unstructured
	schemas   map[string]map[string]any // spec schema by kind
	names     atomic.Int64
}

func setUpFuzzing(f *testing.F) *fuzzState {
	f.Helper()
	ctx := context.Background()
	cfg := rest.CopyConfig(caseConfig)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(cfg, client.Options{Scheme: testutil.Scheme()})
	if err != nil {
		f.Fatal(err)
	}
	s := &fuzzState{c: c, samples: testutil.Samples(f), schemas: map[string]map[string]any{}}
	// A fuzzing process shares the API server with its siblings: its pid keeps its
	// namespace apart from theirs.
	s.namespace = fmt.Sprintf("fuzz-admission-%d", os.Getpid())
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.namespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		f.Fatalf("creating namespace %s: %v", s.namespace, err)
	}
	for _, o := range s.samples {
		o = o.DeepCopy()
		o.SetNamespace(s.namespace)
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			f.Fatalf("creating sample %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	for _, c := range loadCRDs(f) {
		s.schemas[c.kind], _ = dig(c.schema, "properties", "spec").(map[string]any)
	}
	return s
}

// FuzzAdmission edits a sample's spec with up to five fuzz-chosen edits along its
// schema (strings empty, huge, unicode or control characters, numbers past int32 and
// int64, dates and durations past their bounds, lists grown past MaxItems or with
// duplicate keys, wrong types, removed fields, approvals and enums) and submits it,
// dry run, as a create under a new name and as an update of the sample. It asserts
// that the API server always judges: no 5xx, no CEL or admission policy evaluation
// error, no exhausted cost budget; that every rejection is 422 Invalid naming the
// spec or metadata field at fault, or the approval policy's 403 Forbidden naming
// spec.approval or spec.approvers; that a spec rejected as invalid on create is
// rejected on update too (the update checks every rule the create does, and more);
// that an unedited sample is accepted both ways; that a spec with a date outside 2000
// to 2199 or text with a control character is refused both ways (see mustRefuse); and
// that an accepted create, carried out, is accepted again by an update that changes
// nothing.
func FuzzAdmission(f *testing.F) {
	s := setUpFuzzing(f)
	for _, seed := range [][]byte{
		nil, {0}, {1, 1, 0, 0, 0, 0}, {5, 3, 1, 2, 3, 4, 5, 6}, {17, 2, 0, 9}, {40, 4, 0, 3, 0, 4, 1, 0, 7},
		{60, 1, 0, 0, 0, 0, 0, 0, 8}, []byte("\x2a\x03\x01\x02\x05\x06\x04\x07\x09\x00\x02\x03"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{fuzzbytes.New(data)}
		sample := s.samples[r.N(len(s.samples))]
		kind := sample.GetKind()
		var log []string
		spec, _ := sample.Object["spec"].(map[string]any)
		edited := any(spec)
		for range r.N(6) {
			next, drop := r.edit(edited, s.schemas[kind], "spec", &log)
			if drop {
				next = map[string]any{}
			}
			edited = next
		}
		what := fmt.Sprintf("%s %s with %q", kind, sample.GetName(), log)
		s.check(t, sample, edited, what, len(log) == 0, mustRefuse(edited, s.schemas[kind], "spec"))
	})
}

// check submits the edited spec as a create and as an update and checks the answers.
// refusal, when set, is why the oracle says the spec must be refused as invalid.
func (s *fuzzState) check(t *testing.T, sample *unstructured.Unstructured, spec any, what string, unedited bool, refusal string) {
	t.Helper()
	ctx := context.Background()
	obj := sample.DeepCopy()
	obj.SetNamespace(s.namespace)
	obj.Object["spec"] = spec
	obj.SetName(fmt.Sprintf("%s-fuzz-%d", truncate(sample.GetName(), 40), s.names.Add(1)))
	created := obj.DeepCopy()
	createErr := s.c.Create(ctx, created, client.DryRunAll)
	checkAnswer(t, "create of "+what, sample.GetKind(), createErr)

	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(sample.GroupVersionKind())
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: sample.GetName()}, current); err != nil {
		t.Fatalf("getting the sample %s: %v", sample.GetName(), err)
	}
	current.Object["spec"] = spec
	updateErr := s.c.Update(ctx, current, client.DryRunAll)
	checkAnswer(t, "update of "+what, sample.GetKind(), updateErr)

	if unedited && (createErr != nil || updateErr != nil) {
		t.Fatalf("the unedited sample %s %s was rejected: create: %v; update: %v", sample.GetKind(), sample.GetName(), createErr, updateErr)
	}
	if refusal != "" && (!apierrors.IsInvalid(createErr) || !apierrors.IsInvalid(updateErr)) {
		t.Fatalf("the %s must be refused as invalid (%s): create: %v; update: %v", what, refusal, createErr, updateErr)
	}
	if apierrors.IsInvalid(createErr) && updateErr == nil {
		t.Fatalf("the %s was rejected on create but accepted on update: %v", what, createErr)
	}
	if createErr != nil {
		return
	}
	if err := s.c.Create(ctx, obj); err != nil {
		t.Fatalf("the %s passed a dry-run create but not the create: %v", what, err)
	}
	defer func() {
		if err := s.c.Delete(ctx, obj); err != nil {
			t.Errorf("deleting %s: %v", obj.GetName(), err)
		}
	}()
	if err := s.c.Update(ctx, obj.DeepCopy(), client.DryRunAll); err != nil {
		t.Fatalf("an update that changes nothing was rejected after the create of %s: %v", what, err)
	}
}

// checkAnswer fails the test unless err is nil, a 422 Invalid naming a field of the
// object, or the approval policy's 403 Forbidden on a kind it covers.
func checkAnswer(t *testing.T, request, kind string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Fatalf("%s: the API server did not answer with a status: %v", request, err)
	}
	st := status.Status()
	text := st.Message
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			text += "\n" + c.Field + ": " + c.Message
		}
	}
	for _, bad := range badAnswers {
		if strings.Contains(strings.ToLower(text), bad) {
			t.Fatalf("%s: the API server failed to judge it (%q):\n%s", request, bad, text)
		}
	}
	switch {
	case st.Code == http.StatusUnprocessableEntity && st.Reason == metav1.StatusReasonInvalid:
		if st.Details == nil || len(st.Details.Causes) == 0 {
			t.Fatalf("%s: rejected as invalid without causes:\n%s", request, text)
		}
		for _, c := range st.Details.Causes {
			// The API server adds this cause, without a field, to the causes
			// that do name one when it skipped CEL rules over invalid fields.
			if strings.Contains(c.Message, "some validation rules were not checked") && len(st.Details.Causes) > 1 {
				continue
			}
			// The API server's check of an integer's format (a number beyond int32 or
			// int64, such as 2^53) gives a cause without a field that names the field
			// in its message ("... with format int32 in spec.policy.termNoticeDays").
			if (c.Field == "" || c.Field == "<nil>") && strings.Contains(c.Message, "must be of type integer with format") && strings.Contains(c.Message, " in spec.") {
				continue
			}
			if c.Field != "spec" && !strings.HasPrefix(c.Field, "spec.") && !strings.HasPrefix(c.Field, "spec[") &&
				!strings.HasPrefix(c.Field, "metadata.") {
				t.Fatalf("%s: a cause names no field of the object (%q):\n%s", request, c.Field, text)
			}
		}
	case st.Code == http.StatusForbidden && st.Reason == metav1.StatusReasonForbidden &&
		strings.Contains(st.Message, "ValidatingAdmissionPolicy") &&
		(kind == "LearningEvent" && strings.Contains(st.Message, "spec.approval") ||
			kind == "CommunityOfPractice" && strings.Contains(st.Message, "spec.approvers")):
	default:
		t.Fatalf("%s: answered %d %s, want 422 Invalid or the approval policy's 403:\n%s", request, st.Code, st.Reason, text)
	}
}

func truncate(s string, n int) string { return strings.TrimRight(s[:min(len(s), n)], "-.") }
