package controllers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestEverySampleIsObserved applies all samples and waits until the manager, running
// with only its generated RBAC, has recorded the observed generation of each object and
// reported Ready=Unknown with reason NotImplemented.
func TestEverySampleIsObserved(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	samples := testutil.Samples(t)
	if err := testutil.CreateAll(ctx, k8s, ns, samples); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(s.GroupVersionKind())
		key := client.ObjectKey{Namespace: ns, Name: s.GetName()}
		var ready *metav1.Condition
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, key, obj); err != nil {
				return false, err
			}
			observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
			ready = readyCondition(obj)
			return observed == obj.GetGeneration() && ready != nil, nil
		})
		if err != nil {
			t.Fatalf("%s %s was not observed: %v", s.GetKind(), s.GetName(), err)
		}
		if ready.Status != metav1.ConditionUnknown || ready.Reason != learningv1alpha1.NotImplementedReason {
			t.Errorf("%s %s: Ready is %s/%s, want Unknown/NotImplemented", s.GetKind(), s.GetName(), ready.Status, ready.Reason)
		}
	}
}

func readyCondition(obj *unstructured.Unstructured) *metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	var conditions []metav1.Condition
	for _, r := range raw {
		m, _ := r.(map[string]any)
		s, _ := m["status"].(string)
		reason, _ := m["reason"].(string)
		typ, _ := m["type"].(string)
		conditions = append(conditions, metav1.Condition{Type: typ, Status: metav1.ConditionStatus(s), Reason: reason})
	}
	return apimeta.FindStatusCondition(conditions, learningv1alpha1.ReadyCondition)
}

// TestReconcileOfUnchangedObjectWritesNothing counts the writes a second reconcile of an
// already reconciled Cohort makes: there must be none.
func TestReconcileOfUnchangedObjectWritesNothing(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	var writes atomic.Int32
	counting, err := client.NewWithWatch(cluster.Config, client.Options{Scheme: testutil.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	countWrite := func() { writes.Add(1) }
	c := interceptor.NewClient(counting, interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, o ...client.SubResourcePatchOption) error {
			countWrite()
			return c.SubResource(sub).Patch(ctx, obj, p, o...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, o ...client.SubResourceUpdateOption) error {
			countWrite()
			return c.SubResource(sub).Update(ctx, obj, o...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, o ...client.PatchOption) error {
			countWrite()
			return c.Patch(ctx, obj, p, o...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, o ...client.UpdateOption) error {
			countWrite()
			return c.Update(ctx, obj, o...)
		},
	})
	cohort := &learningv1alpha1.Cohort{
		ObjectMeta: metav1.ObjectMeta{Name: "quiet", Namespace: ns},
		Spec: learningv1alpha1.CohortSpec{
			CommunityRef: &learningv1alpha1.LocalObjectReference{Name: "allyship"},
			StartDate:    "2026-01-01",
			EndDate:      ptr(learningv1alpha1.Date("2026-12-31")),
		},
	}
	if err := k8s.Create(ctx, cohort); err != nil {
		t.Fatal(err)
	}
	r := &CohortReconciler{Client: c, Scheme: testutil.Scheme()}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cohort)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	first := writes.Load()
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if again := writes.Load() - first; again != 0 {
		t.Fatalf("a reconcile of an unchanged cohort made %d writes, want 0", again)
	}
}

func ptr[T any](v T) *T { return &v }
