// Package reliability proves what the operator's end state survives: a write that
// fails, a manager that stops between two writes and starts again, watches that lag,
// break and expire, and writers racing the operator on one cohort. Each test runs the
// manager in this process (internal/testmanager), one manager per namespace, against a
// real kube-apiserver, and compares the state it converges to with the state an
// undisturbed manager reaches.
package reliability

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testmanager"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// evaluatedAt is the instant every manager of the suite evaluates the rules at: fixed,
// so that two runs of one workload are comparable field by field.
var evaluatedAt = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

var (
	admin   client.Client
	cluster *localcluster.Cluster
	// managerConfig authenticates as the manager's identity, which holds only the
	// generated ClusterRole.
	managerConfig *rest.Config
	// approverClient authenticates as the workload's approver.
	approverClient client.Client
	fixedClock     = clocktesting.NewFakePassiveClock(evaluatedAt)
)

func TestMain(m *testing.M) {
	testutil.SetLogger()
	os.Exit(testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cluster = cl
		// Tests poll whole namespaces many times a second: the administrator's client
		// has no client-side rate limit.
		cfg := rest.CopyConfig(cl.Config)
		cfg.QPS = -1
		var err error
		if admin, err = client.New(cfg, client.Options{Scheme: testutil.Scheme()}); err != nil {
			return err
		}
		if managerConfig, err = testmanager.Grant(context.Background(), cl, c); err != nil {
			return err
		}
		approverClient, err = testutil.UserClient(cl, approver)
		return err
	}))
}

var namespaces atomic.Int64

// namespace creates a namespace for one run and deletes it when the test ends. Every
// name has the same length, so that content folded at a fixed width (the calendar's
// lines) folds at the same places in every run.
func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("reliability-%04d", namespaces.Add(1))}}
	if err := admin.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), ns) })
	return ns.Name
}
