package controllers

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// managerUser is the identity the manager runs as in these tests. It holds only the
// generated ClusterRole, so a missing RBAC marker fails the suite.
const managerUser = "cohort-manager-test"

// testPortalImage is the image the test manager runs portals with.
const testPortalImage = "cohort-operator:test"

// sharedPortalNamespace is the namespace the test manager leaves to a shared portal.
const sharedPortalNamespace = "shared-portals"

// testPortal is how the test manager runs portals; IngressFrom is set at start.
var testPortal = PortalConfig{Image: testPortalImage, SharedNamespaces: []string{sharedPortalNamespace}}

// testReconciler is a program reconciler configured as the test manager's, for tests
// that reconcile by hand through a client of their own.
func testReconciler(c client.Client, reader client.Reader, recorder events.EventRecorder) *ProgramReconciler {
	return &ProgramReconciler{
		Deps:                Deps{Client: c, APIReader: reader, Clock: fakeClock, Recorder: recorder, MaxRequeueAfter: time.Hour},
		Portal:              testPortal,
		ApprovalPolicy:      testutil.ApprovalPolicy,
		ApproverClusterRole: testutil.ApproverClusterRole,
	}
}

// testRequeue caps the wait until a clock boundary, so that a step of the fake clock
// is noticed quickly.
const testRequeue = 300 * time.Millisecond

var (
	k8s client.Client
	// cached is the manager's client: reads come from its informer cache; apiReader
	// reads from the API server.
	cached    client.Client
	apiReader client.Reader
	cluster   *localcluster.Cluster
	// fakeClock is the manager's clock; tests set it before creating objects.
	fakeClock = clocktesting.NewFakeClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
)

func TestMain(m *testing.M) {
	testutil.SetLogger()
	ctx, cancel := context.WithCancel(context.Background())
	code := testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cluster, k8s = cl, c
		return startManager(ctx)
	})
	cancel()
	os.Exit(code)
}

// startManager binds the generated ClusterRole to managerUser and runs every
// reconciler as that user.
func startManager(ctx context.Context) error {
	data, err := os.ReadFile(testutil.Path("config", "rbac", "role.yaml"))
	if err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: managerUser},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: managerUser}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := k8s.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s: %w", obj.GetName(), err)
		}
	}
	if err := testutil.InstallApprovals(ctx, k8s); err != nil {
		return err
	}
	cfg, err := cluster.AddUser(managerUser)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:   testutil.Scheme(),
		Metrics:  metricsserver.Options{BindAddress: "0"},
		Cache:    CacheOptions(testutil.ApprovalPolicy),
		NewCache: NewCache,
	})
	if err != nil {
		return err
	}
	cached, apiReader = mgr.GetClient(), mgr.GetAPIReader()
	if testPortal.IngressFrom, err = APIServerAddresses(ctx, apiReader); err != nil {
		return err
	}
	if err := SetupWithManager(ctx, mgr, Options{
		Clock: fakeClock, MaxRequeueAfter: testRequeue, Portal: testPortal,
		ApprovalPolicy: testutil.ApprovalPolicy, ApproverClusterRole: testutil.ApproverClusterRole,
	}); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return nil
}
