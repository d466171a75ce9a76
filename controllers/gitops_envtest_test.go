package controllers

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// gitopsManager is the field manager the test applies the samples as, like a GitOps
// controller would.
const gitopsManager = "gitops-controller"

// TestOperatorLeavesDeclaredSpecsAlone applies the samples as a GitOps controller would
// and, once every object is Current, reads the managed fields of every declared object:
// besides the GitOps controller's own, the only fields written are status (through the
// status subresource) and the Cohort's finalizer. So Git stays the source of truth: no
// controller writes a user's spec. Generated gatherings, which the operator creates, are
// its own and are left out.
func TestOperatorLeavesDeclaredSpecsAlone(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	samples := testutil.Samples(t)
	if err := testutil.CreateAll(ctx, client.WithFieldOwner(k8s, gitopsManager), ns, samples); err != nil {
		t.Fatal(err)
	}
	sawFinalizer, sawStatus := false, false
	for _, s := range samples {
		obj := waitCurrent(t, ns, s)
		if _, generated := obj.GetLabels()[program.ScheduleLabel]; generated {
			continue
		}
		for _, entry := range obj.GetManagedFields() {
			if entry.Manager == gitopsManager || entry.Subresource == "status" {
				sawStatus = sawStatus || entry.Subresource == "status"
				continue
			}
			fields := writtenFields(t, entry)
			if s.GetKind() == "Cohort" && slices.Equal(fields, []string{"metadata.finalizers"}) {
				sawFinalizer = true
				continue
			}
			if len(fields) > 0 {
				t.Errorf("%s %s: manager %q (%s) wrote %v; only status and a Cohort's finalizer may be written", s.GetKind(), s.GetName(), entry.Manager, entry.Operation, fields)
			}
		}
	}
	// The check reads the operator's own writes: without them it would prove nothing.
	if !sawFinalizer || !sawStatus {
		t.Errorf("no managed-fields entry of the operator was seen (finalizer %v, status %v)", sawFinalizer, sawStatus)
	}
}

// writtenFields lists the top-level paths of a managed-fields entry, such as
// "spec.title" or "metadata.finalizers", sorted.
func writtenFields(t *testing.T, entry metav1.ManagedFieldsEntry) []string {
	t.Helper()
	if entry.FieldsV1 == nil {
		return nil
	}
	var tree map[string]map[string]any
	if err := json.Unmarshal(entry.FieldsV1.GetRawBytes(), &tree); err != nil {
		t.Fatalf("decoding managed fields of %s: %v", entry.Manager, err)
	}
	var paths []string
	for top, sub := range tree {
		if top == "." {
			continue
		}
		for field := range sub {
			if field == "." {
				continue
			}
			paths = append(paths, strings.TrimPrefix(top, "f:")+"."+strings.TrimPrefix(field, "f:"))
		}
	}
	slices.Sort(paths)
	return paths
}
