package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// sampleDay is the day the samples are judged on: the allyship cohort has eleven
// ended gatherings and the equity cohort is in its fifth month.
var sampleDay = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// TestSamplesBecomeCurrent applies every sample and checks that kstatus, as GitOps
// tools use it, sees each object Current once reconciled. (test/admission checks that
// the same objects are InProgress while no operator runs.)
func TestSamplesBecomeCurrent(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	samples := testutil.Samples(t)
	if err := testutil.CreateAll(ctx, k8s, ns, samples); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		waitCurrent(t, ns, s)
	}
}

// waitCurrent waits until kstatus, as GitOps tools use it, sees the sample Current in
// namespace ns, and returns the object as last read.
func waitCurrent(t *testing.T, ns string, sample *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(sample.GroupVersionKind())
	obj.SetNamespace(ns)
	obj.SetName(sample.GetName())
	eventually(t, fmt.Sprintf("%s %s becomes Current", sample.GetKind(), sample.GetName()), func() error {
		if err := get(obj); err != nil {
			return err
		}
		res, err := status.Compute(obj)
		if err != nil {
			return err
		}
		if res.Status != status.CurrentStatus {
			return fmt.Errorf("kstatus %s: %s", res.Status, res.Message)
		}
		return nil
	})
	return obj
}

// TestReconcileOfUnchangedUnitWritesNothing evaluates an already reconciled unit of all
// four kinds (a community, a cohort with a schedule and generated gatherings, a
// membership, a declared event with attendance) once more through a client that counts
// every write verb, and a recorder that counts Events: there must be none of either.
func TestReconcileOfUnchangedUnitWritesNothing(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "quiet-2026", "quiet", "2026-10-01", 12)
	cohort.Spec.Schedule = testutil.MonthlySchedule()
	create(t,
		testutil.Community(ns, "quiet", testutil.Role("Lead", 1, 2)),
		cohort,
		testutil.Membership(ns, "lead", "quiet-2026", "u-1", "Lead"),
		testutil.Gathering(ns, "kickoff", "quiet-2026", time.Date(2026, 10, 5, 18, 0, 0, 0, time.UTC),
			testutil.Attended("lead", learningv1alpha1.AttendancePresent)),
	)
	cohortKey := client.ObjectKey{Namespace: ns, Name: "quiet-2026"}
	eventually(t, "the manager settles the unit", func() error {
		cohort := &learningv1alpha1.Cohort{}
		if err := k8s.Get(ctx, cohortKey, cohort); err != nil {
			return err
		}
		if cohort.Status.ObservedGeneration != cohort.Generation || cohort.Status.Seats != "Lead 1/2" {
			return fmt.Errorf("status not settled: %+v", cohort.Status)
		}
		events := &learningv1alpha1.LearningEventList{}
		if err := k8s.List(ctx, events, client.InNamespace(ns), client.HasLabels{program.ScheduleLabel}); err != nil {
			return err
		}
		if len(events.Items) != 3 {
			return fmt.Errorf("%d generated gatherings, want 3", len(events.Items))
		}
		return nil
	})
	// Let the cache catch up with the manager's own writes.
	time.Sleep(2 * time.Second)

	var writes atomic.Int32
	recorder := events.NewFakeRecorder(100)
	reads := &readsByKind{Reader: apiReader}
	r := testReconciler(countingWrites(cached, &writes), reads, recorder)
	for _, key := range []unitKey{{Namespace: ns, Community: "quiet"}, {Namespace: ns, Cohort: "quiet-2026"}} {
		if _, err := r.Reconcile(ctx, key); err != nil {
			t.Fatalf("reconciling %s: %v", key, err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("evaluating an unchanged unit made %d writes, want 0", n)
	}
	if n := len(recorder.Events); n != 0 {
		t.Fatalf("evaluating an unchanged unit emitted %d Events, want 0: %s", n, <-recorder.Events)
	}
	// A fresh reconciler knows no verified contents: the children whose digest is
	// exact match from the cache, and only the kinds the API server defaults are
	// read in full.
	counts := reads.counts()
	for _, k := range childKinds {
		if n := counts[kindName(k.obj)]; n > 0 && digestIsExact(k.obj) {
			t.Errorf("%d full reads of %s children, whose digest is exact", n, kindName(k.obj))
		}
	}
}

// readsByKind counts the reads of a reader by the kind of object read.
type readsByKind struct {
	client.Reader
	mu     sync.Mutex
	byKind map[string]int
}

func (r *readsByKind) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.mu.Lock()
	if r.byKind == nil {
		r.byKind = map[string]int{}
	}
	r.byKind[reflect.TypeOf(obj).Elem().Name()]++
	r.mu.Unlock()
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *readsByKind) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.byKind)
}

// countingWrites wraps a client so that every write adds one to n.
func countingWrites(c client.Client, n *atomic.Int32) client.Client {
	count := func() { n.Add(1) }
	return interceptor.NewClient(withoutWatch{c}, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, o ...client.CreateOption) error {
			count()
			return c.Create(ctx, obj, o...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, o ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, obj, o...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, o ...client.UpdateOption) error {
			count()
			return c.Update(ctx, obj, o...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, o ...client.PatchOption) error {
			count()
			return c.Patch(ctx, obj, p, o...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, o ...client.SubResourcePatchOption) error {
			count()
			return c.SubResource(sub).Patch(ctx, obj, p, o...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, o ...client.SubResourceUpdateOption) error {
			count()
			return c.SubResource(sub).Update(ctx, obj, o...)
		},
	})
}

// withoutWatch lets the manager's client, which has no Watch, be intercepted.
type withoutWatch struct{ client.Client }

func (withoutWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("watch is not supported")
}
