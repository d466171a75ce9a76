package admission

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestNewObjectsAreInProgress: no operator runs in this suite, so every sample stays as
// created. kstatus, as GitOps tools use it, must report each as InProgress, not Current:
// the status defaults to observedGeneration 0, behind the object's generation.
func TestNewObjectsAreInProgress(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	samples := testutil.Samples(t)
	if err := testutil.CreateAll(ctx, k8s, ns, samples); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(s.GroupVersionKind())
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: s.GetName()}, obj); err != nil {
			t.Fatal(err)
		}
		res, err := status.Compute(obj)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != status.InProgressStatus {
			t.Errorf("%s %s: kstatus %s (%s), want InProgress", s.GetKind(), s.GetName(), res.Status, res.Message)
		}
	}
}
