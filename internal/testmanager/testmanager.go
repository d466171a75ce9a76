// Package testmanager runs the operator's manager inside a test process, against a
// local cluster, as an identity that holds only the generated ClusterRole. A test may
// start several managers one after another (a restart) or side by side (one per
// namespace), wrap the manager's client to inject faults, and point it at the API server
// through a proxy.
package testmanager

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/controllers"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// User is the identity managers run as.
const User = "cohort-manager-test"

// PortalImage is the image managers run portals with.
const PortalImage = "cohort-operator:test"

// Grant binds the generated ClusterRole (config/rbac/role.yaml) to User, installs the
// approval policy and returns User's client configuration. Call it once per cluster.
func Grant(ctx context.Context, cluster *localcluster.Cluster, admin client.Client) (*rest.Config, error) {
	data, err := os.ReadFile(testutil.Path("config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		return nil, err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: User},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: User}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := admin.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating %s: %w", obj.GetName(), err)
		}
	}
	if err := testutil.InstallApprovals(ctx, admin); err != nil {
		return nil, err
	}
	return cluster.AddUser(User)
}

// Options configure one manager.
type Options struct {
	// Config is the manager's client configuration, from Grant (or a copy pointed at
	// a proxy).
	Config *rest.Config
	// Clock is the time the rules are evaluated at.
	Clock clock.PassiveClock
	// Namespaces, when set, are the only namespaces the manager's cache holds.
	Namespaces []string
	// Interceptor, when set, wraps the manager's client: every read and write the
	// reconcilers make passes through it.
	Interceptor *interceptor.Funcs
	// Workers is how many units are evaluated at once; controllers.DefaultWorkers when 0.
	Workers int
	// MaxRequeueAfter caps the wait until the next clock boundary; a minute when 0.
	MaxRequeueAfter time.Duration
}

// Manager is a running manager.
type Manager struct {
	// Client is the manager's client (through the interceptor, if any).
	Client client.Client

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start starts a manager and returns once its cache has synced.
func Start(ctx context.Context, opts Options) (*Manager, error) {
	cacheOpts := controllers.CacheOptions(testutil.ApprovalPolicy)
	if len(opts.Namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.Namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgrOpts := ctrl.Options{
		Scheme:   testutil.Scheme(),
		Metrics:  metricsserver.Options{BindAddress: "0"},
		Cache:    cacheOpts,
		NewCache: controllers.NewCache,
		// Managers of one test process come and go, each with a controller named
		// "program".
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if opts.Interceptor != nil {
		funcs := *opts.Interceptor
		mgrOpts.NewClient = func(cfg *rest.Config, o client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(cfg, o)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(c, funcs), nil
		}
	}
	mgr, err := ctrl.NewManager(rest.CopyConfig(opts.Config), mgrOpts)
	if err != nil {
		return nil, err
	}
	ingress, err := controllers.APIServerAddresses(ctx, mgr.GetAPIReader())
	if err != nil {
		return nil, err
	}
	mgrCtx, cancel := context.WithCancel(ctx)
	if err := controllers.SetupWithManager(mgrCtx, mgr, controllers.Options{
		Clock:               opts.Clock,
		Workers:             opts.Workers,
		MaxRequeueAfter:     cmp.Or(opts.MaxRequeueAfter, time.Minute),
		Portal:              controllers.PortalConfig{Image: PortalImage, IngressFrom: ingress},
		ApprovalPolicy:      testutil.ApprovalPolicy,
		ApproverClusterRole: testutil.ApproverClusterRole,
	}); err != nil {
		cancel()
		return nil, err
	}
	m := &Manager{Client: mgr.GetClient(), cancel: cancel, done: make(chan struct{})}
	go func() { m.err = mgr.Start(mgrCtx); close(m.done) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		return nil, errors.Join(errors.New("the manager's cache did not sync within a minute"), m.Stop())
	}
	return m, nil
}

// Stop stops the manager and waits until it has. It may be called more than once.
func (m *Manager) Stop() error {
	m.cancel()
	<-m.done
	return m.err
}

// Stopping cancels the manager without waiting; Stop still waits for it.
func (m *Manager) Stopping() { m.cancel() }
