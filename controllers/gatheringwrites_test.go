package controllers

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// TestGatheringWritesApplyTo checks that the snapshot a pass evaluates holds what its
// gatherings step wrote: created gatherings join it, patched ones replace their cached
// copies, deleted ones leave it, and the others stay as they were.
func TestGatheringWritesApplyTo(t *testing.T) {
	event := func(name, rv string) *learningv1alpha1.LearningEvent {
		return &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}}
	}
	declared, kept, patched, deleted := event("declared", "1"), event("g-1", "2"), event("g-2", "3"), event("g-3", "4")
	events := []*learningv1alpha1.LearningEvent{declared, kept, patched, deleted}
	w := gatheringWrites{
		events:  []*learningv1alpha1.LearningEvent{event("g-2", "30"), event("g-4", "40")},
		deleted: []string{"g-3"},
	}
	got := w.applyTo(slices.Clone(events))
	var names []string
	for _, e := range got {
		names = append(names, e.Name+"@"+e.ResourceVersion)
	}
	want := []string{"declared@1", "g-1@2", "g-2@30", "g-4@40"}
	if !slices.Equal(names, want) {
		t.Fatalf("snapshot events after the gatherings step: %v, want %v", names, want)
	}
	if same := (gatheringWrites{}).applyTo(events); len(same) != len(events) || &same[0] != &events[0] {
		t.Fatal("a step that wrote nothing changed the snapshot's events")
	}
}
