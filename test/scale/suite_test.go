package scale

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/controllers"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// k8s is the administrator's client, reading straight from the API server.
var k8s client.Client

// TestMain starts the local control plane and a manager only when benchmarks run: the
// package has no tests, and `make test` should not pay for a cluster it does not use.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	testutil.SetLogger()
	ctx, cancel := context.WithCancel(context.Background())
	code := testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		k8s = c
		mgr, err := ctrl.NewManager(cl.Config, ctrl.Options{Scheme: testutil.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"}})
		if err != nil {
			return err
		}
		if err := controllers.SetupWithManager(ctx, mgr, controllers.Options{}); err != nil {
			return err
		}
		go func() {
			if err := mgr.Start(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "manager stopped:", err)
			}
		}()
		return nil
	})
	cancel()
	os.Exit(code)
}

func create(t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
}

func get(obj client.Object) error {
	return k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
}

// update reads obj, applies change and writes it back, retrying on conflicts.
func update[T client.Object](t testing.TB, obj T, change func(T)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := get(obj); err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		change(obj)
		return k8s.Update(ctx, obj) == nil, nil
	})
	if err != nil {
		t.Fatalf("updating %s: %v", obj.GetName(), err)
	}
}

func membership(ns, name string) *learningv1alpha1.Membership {
	return &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func learningEvent(ns, name string) *learningv1alpha1.LearningEvent {
	return &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// seated reports whether the named membership holds a seat.
func seated(ns, name string) bool {
	m := membership(ns, name)
	return get(m) == nil && apimeta.IsStatusConditionTrue(m.Status.Conditions, learningv1alpha1.SeatedCondition)
}
