package teststate

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(ns, uid, rv, clusterIP, title string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{
			"name": "portal", "namespace": ns, "uid": uid, "resourceVersion": rv,
			"creationTimestamp": "2026-11-22T12:00:00Z",
			"ownerReferences":   []any{map[string]any{"kind": "Cohort", "name": "c", "uid": uid + "-owner"}},
			"annotations":       map[string]any{"team": "allyship"},
		},
		"spec": map[string]any{"clusterIP": clusterIP, "clusterIPs": []any{clusterIP}, "note": "in " + ns + "\n" + title},
	}}
}

// TestNormalizeKeepsOnlyWhatRunsAgreeOn: two copies of one object that differ only in
// what the API server assigns and in their namespace normalize alike; a difference in
// what was written does not vanish, and Diff names its line.
func TestNormalizeKeepsOnlyWhatRunsAgreeOn(t *testing.T) {
	a := Normalize(object("ns-a", "u1", "10", "10.0.0.1", "title"), "ns-a")
	b := Normalize(object("ns-b", "u2", "99", "10.0.0.2", "title"), "ns-b")
	if d := Diff(map[string]map[string]any{"Service/portal": a}, map[string]map[string]any{"Service/portal": b}); len(d) > 0 {
		t.Fatalf("normalized copies differ: %v", d)
	}
	if got := a["metadata"].(map[string]any)["annotations"]; len(got.(map[string]any)) != 1 {
		t.Errorf("annotations after normalizing: %v, want them kept", got)
	}
	c := Normalize(object("ns-c", "u3", "1", "10.0.0.3", "other title"), "ns-c")
	d := Diff(map[string]map[string]any{"Service/portal": a}, map[string]map[string]any{"Service/portal": c})
	if len(d) != 1 || !strings.Contains(d[0], `want "title"`) || !strings.Contains(d[0], `got  "other title"`) {
		t.Fatalf("Diff = %q, want the differing line of the note", d)
	}
	d = Diff(map[string]map[string]any{"Service/portal": a}, map[string]map[string]any{"Service/other": a})
	if len(d) != 2 || d[0] != "missing Service/portal" || !strings.HasPrefix(d[1], "unexpected Service/other") {
		t.Fatalf("Diff = %q, want the missing and the unexpected object", d)
	}
}

// TestNormalizeSortsConditions: two statuses holding the same conditions in another
// order normalize alike.
func TestNormalizeSortsConditions(t *testing.T) {
	withConditions := func(types ...string) *unstructured.Unstructured {
		var conditions []any
		for _, typ := range types {
			conditions = append(conditions, map[string]any{"type": typ, "status": "True"})
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"kind": "Membership", "metadata": map[string]any{"name": "m"},
			"status": map[string]any{"conditions": conditions},
		}}
	}
	a := Normalize(withConditions("Eligible", "Seated", "Ready"), "ns")
	b := Normalize(withConditions("Seated", "Ready", "Eligible"), "ns")
	if d := Diff(map[string]map[string]any{"Membership/m": a}, map[string]map[string]any{"Membership/m": b}); len(d) > 0 {
		t.Fatalf("the same conditions in another order differ: %v", d)
	}
}

// TestSettled: a status of an older generation, or without a Ready condition, is not
// settled.
func TestSettled(t *testing.T) {
	o := &unstructured.Unstructured{Object: map[string]any{
		"kind": "Cohort", "metadata": map[string]any{"name": "c", "generation": int64(2)},
		"status": map[string]any{"observedGeneration": int64(1), "conditions": []any{map[string]any{"type": "Ready"}}},
	}}
	if Settled(o) == nil {
		t.Fatal("a status of generation 1 for generation 2 counts as settled")
	}
	_ = unstructured.SetNestedField(o.Object, int64(2), "status", "observedGeneration")
	if err := Settled(o); err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedSlice(o.Object, []any{map[string]any{"type": "Seated"}}, "status", "conditions")
	if Settled(o) == nil {
		t.Fatal("a status without a Ready condition counts as settled")
	}
}
