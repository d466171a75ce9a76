package controllers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// TestDocumentsInParts: a roster over the budget becomes numbered ConfigMaps whose
// manifests chain them, later parts first, and every Role that grants the documents
// names every part.
func TestDocumentsInParts(t *testing.T) {
	pub := childrenPublication()
	for i := range 4000 {
		pub.Roster.Members = append(pub.Roster.Members, publish.RosterEntry{
			DisplayName: fmt.Sprintf("%04d ", i) + strings.Repeat("\U0001F600", 123), Role: "Member", Seat: publish.SeatHeld, Phase: "Active",
		})
	}
	program.RenderDocuments(&pub)
	parts := len(pub.Documents.Roster.Parts)
	if parts != 3 {
		t.Fatalf("the roster is in %d parts, want 3", parts)
	}
	cohort := childrenCohort("spring", true)
	objs := buildChildren(t, cohort, pub, childrenPortal)

	var configMaps []string
	for _, o := range objs {
		if _, ok := o.(*corev1.ConfigMap); ok {
			configMaps = append(configMaps, o.GetName())
		}
	}
	wantOrder := []string{"spring-roster-2", "spring-roster-3", "spring-roster", "spring-calendar", "spring-overview"}
	if diff := cmp.Diff(wantOrder, configMaps); diff != "" {
		t.Errorf("ConfigMaps in the order applied (-want +got):\n%s", diff)
	}
	wantGranted := []string{"spring-roster", "spring-roster-2", "spring-roster-3", "spring-calendar", "spring-overview"}
	for _, role := range []string{"spring-read", "spring-edit", "spring-portal"} {
		var granted []string
		for _, r := range childOf[*rbacv1.Role](t, objs, role).Rules {
			if slices.Contains(r.Resources, "configmaps") {
				granted = append(granted, r.ResourceNames...)
			}
		}
		if diff := cmp.Diff(wantGranted, granted); diff != "" {
			t.Errorf("Role %s grants ConfigMaps (-want +got):\n%s", role, diff)
		}
	}

	var merged []publish.Roster
	for i, name := range []string{"spring-roster", "spring-roster-2", "spring-roster-3"} {
		cm := childOf[*corev1.ConfigMap](t, objs, name)
		var m publish.Manifest
		if err := json.Unmarshal([]byte(cm.Data[publish.PartsKey]), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := publish.Manifest{Part: i + 1, Parts: 3, Digest: pub.Documents.Roster.Digest}
		if i == 0 {
			want.Next = []string{"spring-roster-2", "spring-roster-3"}
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("%s manifest (-want +got):\n%s", name, diff)
		}
		var part publish.Roster
		if err := json.Unmarshal([]byte(cm.Data[publish.RosterKey]), &part); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		merged = append(merged, part)
	}
	if diff := cmp.Diff(pub.Roster, publish.MergeRoster(merged)); diff != "" {
		t.Errorf("the parts do not hold the roster (-want +got):\n%s", diff)
	}
}
