package controllers

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func TestSlimForCache(t *testing.T) {
	// Strings built at run time, as a decoder builds them: equal, but separate copies.
	dup := func(s string) string { return string([]byte(s)) }
	event := func() *learningv1alpha1.LearningEvent {
		return &learningv1alpha1.LearningEvent{
			// The items of a list carry their kind.
			TypeMeta: metav1.TypeMeta{APIVersion: dup("learning.cohort.dev/v1alpha1"), Kind: dup("LearningEvent")},
			ObjectMeta: metav1.ObjectMeta{
				Name:          "g-1",
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
				Annotations:   map[string]string{lastAppliedAnnotation: `{"spec":{}}`, "team": "allyship"},
				Labels:        map[string]string{dup("learning.cohort.dev/schedule"): dup("allyship-2026")},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "learning.cohort.dev/v1alpha1", Kind: "Cohort", Name: dup("allyship-2026"),
					UID: types.UID(dup("5f1e")), Controller: ptr.To(true)}},
			},
			// A start in a fixed zone, which the packed encoding does not hold (the API
			// server's times decode in Local): the cache keeps the event as decoded,
			// slimmed.
			Spec: learningv1alpha1.LearningEventSpec{Start: metav1.NewTime(time.Date(2026, 12, 1, 18, 0, 0, 0, time.FixedZone("UTC+1", 3600))),
				Title: dup("Monthly gathering"), Attendance: append(make([]learningv1alpha1.AttendanceRecord, 0, 4),
					learningv1alpha1.AttendanceRecord{Member: learningv1alpha1.ObjectName(dup("allyship-2026-lead-1")), Status: learningv1alpha1.AttendanceStatus(dup("Present"))},
				)},
			Status: learningv1alpha1.LearningEventStatus{Conditions: []metav1.Condition{
				{Type: dup("Ready"), Status: metav1.ConditionStatus(dup("True")), Reason: dup("Recorded"), Message: dup("attendance recorded for 1 of 1 members")},
			}},
		}
	}
	a, b := event(), event()
	for _, e := range []*learningv1alpha1.LearningEvent{a, b} {
		if cached, err := slimForCache(e); err != nil || cached != e {
			t.Fatalf("the cache holds %T, %v; want the event slimmed", cached, err)
		}
	}
	// Packed, as the cache holds events whose times decoded from the API server, an
	// event also drops what the reconciler never reads.
	packable := event()
	packable.Spec.Start = metav1.NewTime(packable.Spec.Start.Local())
	cached, err := slimForCache(packable)
	if err != nil {
		t.Fatal(err)
	}
	packed, ok := cached.(*cachedResource)
	if !ok {
		t.Fatalf("the cache holds a %T, want it packed", cached)
	}
	unpacked, err := packed.unpack()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := unpacked.GetAnnotations()[lastAppliedAnnotation]; ok || unpacked.GetManagedFields() != nil || unpacked.GetAnnotations()["team"] != "allyship" {
		t.Errorf("packed: annotations %v and managedFields %v, want only the last applied configuration and managedFields gone", unpacked.GetAnnotations(), unpacked.GetManagedFields())
	}
	if a.ManagedFields != nil {
		t.Error("managedFields kept")
	}
	if _, ok := a.Annotations[lastAppliedAnnotation]; ok || a.Annotations["team"] != "allyship" {
		t.Errorf("annotations after slimming: %v, want only the last applied configuration gone", a.Annotations)
	}
	same := func(what string, x, y string) {
		t.Helper()
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are separate copies", what, x, y)
		}
	}
	same("attendance member", string(a.Spec.Attendance[0].Member), string(b.Spec.Attendance[0].Member))
	same("attendance status", string(a.Spec.Attendance[0].Status), string(b.Spec.Attendance[0].Status))
	same("condition reason", a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason)
	same("condition message", a.Status.Conditions[0].Message, b.Status.Conditions[0].Message)
	same("title", a.Spec.Title, b.Spec.Title)
	same("kind", a.Kind, b.Kind)
	same("API version", a.APIVersion, b.APIVersion)
	if c := cap(a.Spec.Attendance); c != len(a.Spec.Attendance) {
		t.Errorf("attendance holds room for %d records, want no spare capacity", c)
	}

	// Equal label sets and owner references are one map and one list; a changed copy
	// of an object changes neither.
	if reflect.ValueOf(a.Labels).UnsafePointer() != reflect.ValueOf(b.Labels).UnsafePointer() {
		t.Error("equal label sets are separate maps")
	}
	if &a.OwnerReferences[0] != &b.OwnerReferences[0] {
		t.Error("equal owner references are separate lists")
	}
	c := a.DeepCopy()
	c.Labels["learning.cohort.dev/schedule"] = "other"
	c.OwnerReferences[0].Name = "other"
	if b.Labels["learning.cohort.dev/schedule"] != "allyship-2026" || b.OwnerReferences[0].Name != "allyship-2026" {
		t.Error("changing a deep copy changed the shared labels or owner references")
	}
	other := event()
	other.Labels["learning.cohort.dev/schedule"] = "autumn"
	other.OwnerReferences[0].Controller = nil
	slim(other)
	if other.Labels["learning.cohort.dev/schedule"] != "autumn" || other.OwnerReferences[0].Controller != nil {
		t.Errorf("another label set or owner reference was replaced: %v, %+v", other.Labels, other.OwnerReferences[0])
	}
}

// TestConditionListsShared: equal condition lists of cached objects are one list; a
// list that differs in any field is its own; a deep copy changed does not change the
// shared list; and a list no cached object holds any more is forgotten.
func TestConditionListsShared(t *testing.T) {
	dup := func(s string) string { return string([]byte(s)) }
	at := metav1.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	membership := func(message string) *learningv1alpha1.Membership {
		return &learningv1alpha1.Membership{Status: learningv1alpha1.MembershipStatus{Conditions: append(make([]metav1.Condition, 0, 4),
			metav1.Condition{Type: dup("Ready"), Status: metav1.ConditionTrue, Reason: dup("Succeeded"), Message: dup("seated as Member"), LastTransitionTime: at, ObservedGeneration: 1},
			metav1.Condition{Type: dup("AttendanceMet"), Status: metav1.ConditionTrue, Reason: dup("AttendanceMet"), Message: dup(message), LastTransitionTime: at, ObservedGeneration: 1},
		)}}
	}
	a, b, c := membership("91% of 12 events, requires 80%"), membership("91% of 12 events, requires 80%"), membership("83% of 12 events, requires 80%")
	later := membership("91% of 12 events, requires 80%")
	later.Status.Conditions[1].LastTransitionTime = metav1.NewTime(at.Add(time.Second))
	for _, m := range []*learningv1alpha1.Membership{a, b, c, later} {
		slim(m)
	}
	if &a.Status.Conditions[0] != &b.Status.Conditions[0] {
		t.Error("equal condition lists are separate lists")
	}
	if &a.Status.Conditions[0] == &c.Status.Conditions[0] || c.Status.Conditions[1].Message != "83% of 12 events, requires 80%" {
		t.Error("a list with another message was replaced by a shared one")
	}
	if &a.Status.Conditions[0] == &later.Status.Conditions[0] || !later.Status.Conditions[1].LastTransitionTime.Equal(&metav1.Time{Time: at.Add(time.Second)}) {
		t.Error("a list with another transition time was replaced by a shared one")
	}
	if n := cap(a.Status.Conditions); n != 2 {
		t.Errorf("the shared list holds room for %d conditions, want 2", n)
	}
	copied := a.DeepCopy()
	copied.Status.Conditions[1].Message = "changed"
	if b.Status.Conditions[1].Message != "91% of 12 events, requires 80%" {
		t.Error("changing a deep copy changed the shared list")
	}

	key := sharedConditions.key(c.Status.Conditions)
	c = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		sharedConditions.mu.Lock()
		_, held := sharedConditions.byKey[key]
		sharedConditions.mu.Unlock()
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a list no object holds is still remembered after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(later)
}

// TestCachedPlanHoldsNoPrivateWords: the cache's copy of an ActionPlan keeps what the
// manager judges and publishes (action IDs, statuses and due days; check-ins' times,
// authors, events and progress; a shared check-in's words) and none of the words it
// never reads: actions' titles, descriptions and outcomes, and what an unshared
// check-in learned and will adjust. The plan itself is left as declared.
func TestCachedPlanHoldsNoPrivateWords(t *testing.T) {
	plan := benchPlan(7)
	plan.Spec.Actions[1].Description = "Pair on the onboarding checklist."
	plan.Spec.CheckIns[0].Adjust = "Invite the quiet ones first."
	plan.Spec.CheckIns = append(plan.Spec.CheckIns, learningv1alpha1.CheckIn{ID: "second", At: metav1.Unix(1767830400, 0), Author: plan.Spec.Owner,
		Learned: "Small groups need a host.", Adjust: "Rotate the host.", Shared: true})
	declared := plan.DeepCopy()
	raw, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	decoded := &learningv1alpha1.ActionPlan{}
	if err := json.Unmarshal(raw, decoded); err != nil {
		t.Fatal(err)
	}
	cached, err := slimForCache(decoded)
	if err != nil {
		t.Fatal(err)
	}
	packed, ok := cached.(*cachedResource)
	if !ok {
		t.Fatalf("the cache holds a %T, want it packed", cached)
	}
	obj, err := packed.unpack()
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*learningv1alpha1.ActionPlan)
	want := declared.DeepCopy()
	for i := range want.Spec.Actions {
		want.Spec.Actions[i].Title, want.Spec.Actions[i].Description, want.Spec.Actions[i].Outcome = "", "", ""
	}
	want.Spec.CheckIns[0].Learned, want.Spec.CheckIns[0].Adjust = "", ""
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("cached spec:\n%+v\nwant:\n%+v", got.Spec, want.Spec)
	}
	for _, private := range []string{"Hold a listening session", "Eight colleagues", "Mentor a new colleague", "Pair on the onboarding",
		"People speak up", "Invite the quiet ones"} {
		if strings.Contains(string(packed.data), private) {
			t.Errorf("the cache's bytes hold %q", private)
		}
	}
	if got.Spec.CheckIns[1].Learned != "Small groups need a host." || got.Spec.CheckIns[1].Adjust != "Rotate the host." {
		t.Errorf("shared check-in: learned %q, adjust %q; want its words kept", got.Spec.CheckIns[1].Learned, got.Spec.CheckIns[1].Adjust)
	}
	if !equality.Semantic.DeepEqual(plan.Spec, declared.Spec) {
		t.Error("slimming changed the plan it was given, not only the decoded copy")
	}
}
