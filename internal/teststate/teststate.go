// Package teststate reads what a namespace holds of a program, the objects users
// declare and the objects the operator provisions, in a form two namespaces can be
// compared in: the tests that disturb the operator (faults, restarts, stale watches,
// spec transitions) check that it ends where an undisturbed run ends.
package teststate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/controllers"
)

// Placeholder stands for the namespace's name in normalized objects.
const Placeholder = "NS"

// ProgramKinds are the kinds users declare; the operator writes only their status.
var ProgramKinds = []string{"CommunityOfPractice", "Cohort", "Membership", "LearningEvent", "ActionPlan"}

// Kinds are the kinds a namespace's state consists of: the program kinds and the
// seven the operator provisions.
var Kinds = append(programGVKs(),
	schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
	schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"},
	schema.GroupVersionKind{Version: "v1", Kind: "Service"},
	schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
	schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"},
	schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
	schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
)

func programGVKs() []schema.GroupVersionKind {
	gvks := make([]schema.GroupVersionKind, len(ProgramKinds))
	for i, k := range ProgramKinds {
		gvks[i] = learningv1alpha1.GroupVersion.WithKind(k)
	}
	return gvks
}

// State is a namespace's objects, keyed by "Kind/name".
type State struct {
	// Objects are the normalized objects (see Normalize).
	Objects map[string]map[string]any
	// Versions and UIDs are the objects' resourceVersions and uids.
	Versions, UIDs map[string]string
}

// Capture reads the state of namespace ns: every object of the program kinds, and
// every object of the provisioned kinds that carries the operator's managed-by label.
func Capture(ctx context.Context, c client.Reader, ns string) (State, error) {
	return capture(ctx, c, ns, false)
}

// CaptureSettled reads the state of namespace ns like Capture, and fails unless every
// program object is Settled.
func CaptureSettled(ctx context.Context, c client.Reader, ns string) (State, error) {
	return capture(ctx, c, ns, true)
}

func capture(ctx context.Context, c client.Reader, ns string, settled bool) (State, error) {
	s := State{Objects: map[string]map[string]any{}, Versions: map[string]string{}, UIDs: map[string]string{}}
	for _, gvk := range Kinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		opts := []client.ListOption{client.InNamespace(ns)}
		if gvk.Group != learningv1alpha1.GroupVersion.Group {
			opts = append(opts, client.MatchingLabels{controllers.ManagedByLabel: controllers.ManagedBy})
		}
		if err := c.List(ctx, list, opts...); err != nil {
			return s, fmt.Errorf("listing %s in %s: %w", gvk.Kind, ns, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if settled && gvk.Group == learningv1alpha1.GroupVersion.Group {
				if err := Settled(o); err != nil {
					return s, err
				}
			}
			key := gvk.Kind + "/" + o.GetName()
			s.Objects[key] = Normalize(o, ns)
			s.Versions[key] = o.GetResourceVersion()
			s.UIDs[key] = string(o.GetUID())
		}
	}
	return s, nil
}

// Normalize returns what two runs of one workload must agree on of o: what the API
// server assigns (uid, resourceVersion, creationTimestamp, managed fields, a Service's
// cluster IPs, a Deployment's status) is dropped, owners keep their kind and name,
// conditions are sorted by type, and the namespace's name becomes Placeholder in every
// string.
func Normalize(o *unstructured.Unstructured, ns string) map[string]any {
	obj := o.DeepCopy().Object
	for _, field := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink"} {
		unstructured.RemoveNestedField(obj, "metadata", field)
	}
	if owners, ok, _ := unstructured.NestedSlice(obj, "metadata", "ownerReferences"); ok {
		for _, owner := range owners {
			delete(owner.(map[string]any), "uid")
		}
		_ = unstructured.SetNestedSlice(obj, owners, "metadata", "ownerReferences")
	}
	// Conditions are a list map keyed by type: their order carries no meaning, and it
	// follows the order in which the types first appeared, which is history.
	if conditions, ok, _ := unstructured.NestedSlice(obj, "status", "conditions"); ok {
		slices.SortStableFunc(conditions, func(a, b any) int {
			x, _ := a.(map[string]any)["type"].(string)
			y, _ := b.(map[string]any)["type"].(string)
			return strings.Compare(x, y)
		})
		_ = unstructured.SetNestedSlice(obj, conditions, "status", "conditions")
	}
	switch o.GetKind() {
	case "Cohort":
		// status.gatherings records each generated gathering by name and uid.
		if recorded, ok, _ := unstructured.NestedSlice(obj, "status", "gatherings"); ok {
			for _, g := range recorded {
				delete(g.(map[string]any), "uid")
			}
			_ = unstructured.SetNestedSlice(obj, recorded, "status", "gatherings")
		}
	case "Service":
		unstructured.RemoveNestedField(obj, "spec", "clusterIP")
		unstructured.RemoveNestedField(obj, "spec", "clusterIPs")
	case "Deployment":
		delete(obj, "status")
	}
	return replace(obj, ns, Placeholder).(map[string]any)
}

// replace replaces from with to in every string of v.
func replace(v any, from, to string) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, from, to)
	case map[string]any:
		for k, e := range x {
			x[k] = replace(e, from, to)
		}
	case []any:
		for i, e := range x {
			x[i] = replace(e, from, to)
		}
	}
	return v
}

// Diff describes how got differs from want: objects missing or unexpected, and for an
// object in both the first lines of its indented JSON that differ, with text of several
// lines (a ConfigMap's documents) shown line by line. Empty when equal.
func Diff(want, got map[string]map[string]any) []string {
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[key]
		switch w := want[key]; {
		case !ok:
			problems = append(problems, "missing "+key)
		case !equalJSON(w, g):
			problems = append(problems, fmt.Sprintf("%s differs:\n%s", key, lineDiff(indent(w), indent(g))))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[key]; !ok {
			problems = append(problems, "unexpected "+key+":\n"+indent(got[key]))
		}
	}
	return problems
}

func equalJSON(a, b map[string]any) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && string(x) == string(y)
}

// indent writes o as indented JSON, each string of several lines as a list of them.
func indent(o map[string]any) string {
	data, err := json.MarshalIndent(lines(o), "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", o)
	}
	return string(data)
}

// lines returns a copy of v with every string of several lines split into a list.
func lines(v any) any {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "\n") {
			return x
		}
		var out []any
		for line := range strings.SplitSeq(x, "\n") {
			out = append(out, line)
		}
		return out
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = lines(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = lines(e)
		}
		return l
	}
	return v
}

// lineDiff lists the lines of want and got that differ, position by position, at most
// ten of them.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a == b {
			continue
		}
		if len(out) == 10 {
			out = append(out, "  ...")
			break
		}
		out = append(out, fmt.Sprintf("  line %d: want %s\n           got  %s", i+1, strings.TrimSpace(a), strings.TrimSpace(b)))
	}
	return strings.Join(out, "\n")
}

// Settled fails unless the operator has written o's status for its current generation,
// with a Ready condition.
func Settled(o *unstructured.Unstructured) error {
	observed, _, _ := unstructured.NestedInt64(o.Object, "status", "observedGeneration")
	if observed != o.GetGeneration() {
		return fmt.Errorf("%s %s: status of generation %d, want %d", o.GetKind(), o.GetName(), observed, o.GetGeneration())
	}
	conditions, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	if !slices.ContainsFunc(conditions, func(c any) bool {
		m, _ := c.(map[string]any)
		return m["type"] == "Ready"
	}) {
		return fmt.Errorf("%s %s has no Ready condition", o.GetKind(), o.GetName())
	}
	return nil
}
