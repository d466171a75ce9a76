// Command manager runs the cohort-operator controllers.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/controllers"
	"github.com/cohort-dev/cohort-operator/internal/kubeapi"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "portal" {
		os.Exit(portalMain(os.Args[2:]))
	}
	var (
		metricsAddr   string
		probeAddr     string
		pprofAddr     string
		election      leaderElection
		namespace     string
		portalImage   string
		ingressCIDRs  string
		sharedPortals string
		pullSecrets   string
		options       controllers.Options
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address the Go profiler (net/http/pprof) binds to; 0 disables it.")
	flag.IntVar(&options.Workers, "workers", controllers.DefaultWorkers, "How many program units are evaluated at once.")
	flag.BoolVar(&election.enabled, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&election.namespace, "leader-elect-namespace", "", "Namespace of the leader election Lease; the manager's own namespace when empty (required outside the cluster).")
	flag.DurationVar(&election.leaseDuration, "leader-elect-lease-duration", defaultLeaseDuration, "How long the other replicas wait, from the last renewal they saw, before they take the lease of a leader that stopped renewing.")
	flag.DurationVar(&election.renewDeadline, "leader-elect-renew-deadline", defaultRenewDeadline, "How long the leader keeps retrying a failed renewal before it stops leading and exits; shorter than the lease duration.")
	flag.DurationVar(&election.retryPeriod, "leader-elect-retry-period", defaultRetryPeriod, "How often the leader renews the lease and the other replicas try to take it.")
	flag.StringVar(&namespace, "namespace", "", "Watch only this namespace; all namespaces when empty.")
	flag.StringVar(&portalImage, "portal-image", envOr("PORTAL_IMAGE", defaultImage()), "Image of cohort portals: this operator's image, run in portal mode.")
	flag.StringVar(&pullSecrets, "portal-image-pull-secrets", os.Getenv("PORTAL_IMAGE_PULL_SECRETS"), "Comma-separated names of Secrets, in each cohort's namespace, for pulling the portal image.")
	flag.StringVar(&options.ApprovalPolicy, "approval-policy", controllers.DefaultApprovalPolicy, "Name of the ValidatingAdmissionPolicy that verifies approvers, and of its binding; no approval is trusted while either is missing.")
	flag.StringVar(&options.ApproverClusterRole, "approver-cluster-role", controllers.DefaultApproverClusterRole, "Name of the ClusterRole bound to each community's approvers.")
	flag.StringVar(&sharedPortals, "portal-shared-namespaces", "", "Comma-separated namespaces whose cohorts one shared portal serves (cohort-operator portal --shared): no cohort there gets a portal of its own.")
	flag.StringVar(&ingressCIDRs, "portal-ingress-cidrs", "", "Comma-separated CIDRs the portals' NetworkPolicy admits; the API server's addresses (its service proxy) when empty.")
	opts := zap.Options{}
	memoryLimitRatio := flag.Float64("go-memory-limit-ratio", defaultGoMemoryLimitRatio, "Share of the container's memory limit (MEMORY_LIMIT, in bytes) set as the Go runtime's soft memory limit, unless GOMEMLIMIT is set.")
	gcPercent := flag.Int("go-gc-percent", defaultGoGCPercent, "Heap growth, in percent of the live heap, at which the Go runtime collects, unless GOGC is set.")
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	switch limit, err := goMemoryLimit(os.Getenv("GOMEMLIMIT"), os.Getenv("MEMORY_LIMIT"), *memoryLimitRatio); {
	case err != nil:
		ctrl.Log.Error(err, "invalid memory limit")
		os.Exit(2)
	case limit > 0:
		debug.SetMemoryLimit(limit)
		ctrl.Log.Info("Go memory limit set from the container's", "bytes", limit, "ratio", *memoryLimitRatio)
	}
	switch percent, err := goGCPercent(os.Getenv("GOGC"), *gcPercent); {
	case err != nil:
		ctrl.Log.Error(err, "invalid GC percent")
		os.Exit(2)
	case percent > 0:
		debug.SetGCPercent(percent)
	}

	portal := controllers.PortalConfig{Image: portalImage, ImagePullSecrets: splitList(pullSecrets), SharedNamespaces: splitList(sharedPortals)}
	if ingressCIDRs != "" {
		portal.IngressFrom = strings.Split(ingressCIDRs, ",")
	}
	options.Portal = portal
	if err := election.validate(); err != nil {
		ctrl.Log.Error(err, "invalid leader election flags")
		os.Exit(2)
	}
	if err := run(metricsAddr, probeAddr, pprofAddr, election, namespace, options); err != nil {
		ctrl.Log.Error(err, "manager exited with an error")
		os.Exit(1)
	}
}

// imageRepository is the repository of the image the repository builds (make image).
const imageRepository = "ghcr.io/cohort-dev/cohort-operator"

// version is the operator's version, the tag of its image. make build stamps it
// (-X main.version=$(VERSION)); the default is the chart's appVersion, which
// TestVersionMatchesChart keeps in step.
var version = "v0.1.0"

// defaultImage is the operator image the portals run when neither --portal-image nor
// PORTAL_IMAGE says otherwise: this binary's own image, by its version tag.
func defaultImage() string { return imageRepository + ":" + version }

// splitList splits a comma-separated flag value, dropping blanks around and between
// its items; nil when it holds none.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// The lease defaults bound how long the operator stands still after its leader dies
// without releasing the lease (a killed process, a lost node): the other replicas take
// over within lease duration plus two jittered retry periods (at most 2.2 retry periods
// each), 18.6 s here, about 14 s on average. The leader renews every retry period, and
// gives up leading when renewals fail for the renew deadline, at most renew deadline
// plus one retry period (9.5 s) after its last renewal: sooner than any other replica
// may take the lease. docs/operations.md explains the trade-off.
const (
	defaultLeaseDuration = 12 * time.Second
	defaultRenewDeadline = 8 * time.Second
	defaultRetryPeriod   = 1500 * time.Millisecond
)

// apiWaitTimeout bounds how long the manager waits, before it starts, for the API server
// to serve the operator's kinds: as long as controller-runtime waits for caches to sync.
const apiWaitTimeout = 2 * time.Minute

// leaderElection configures the election of the one replica that reconciles.
type leaderElection struct {
	enabled                                   bool
	namespace                                 string
	leaseDuration, renewDeadline, retryPeriod time.Duration
}

// validate rejects durations with which a leader could still act after another replica
// took the lease, or that client-go's elector refuses.
func (e leaderElection) validate() error {
	switch {
	case e.leaseDuration <= 0 || e.renewDeadline <= 0 || e.retryPeriod <= 0:
		return fmt.Errorf("--leader-elect-lease-duration (%s), --leader-elect-renew-deadline (%s) and --leader-elect-retry-period (%s) must be positive", e.leaseDuration, e.renewDeadline, e.retryPeriod)
	case e.leaseDuration%time.Second != 0:
		// The Lease records its duration in whole seconds.
		return fmt.Errorf("--leader-elect-lease-duration (%s) must be whole seconds", e.leaseDuration)
	case e.renewDeadline+e.retryPeriod >= e.leaseDuration:
		return fmt.Errorf("--leader-elect-renew-deadline (%s) plus --leader-elect-retry-period (%s) must be shorter than --leader-elect-lease-duration (%s), or a leader that cannot renew may still reconcile after another replica took the lease", e.renewDeadline, e.retryPeriod, e.leaseDuration)
	case float64(e.renewDeadline) <= leaderelection.JitterFactor*float64(e.retryPeriod):
		return fmt.Errorf("--leader-elect-renew-deadline (%s) must be longer than %.1f times --leader-elect-retry-period (%s)", e.renewDeadline, leaderelection.JitterFactor, e.retryPeriod)
	}
	return nil
}

func run(metricsAddr, probeAddr, pprofAddr string, election leaderElection, namespace string, opts controllers.Options) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(learningv1alpha1.AddToScheme(scheme))

	options := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		PprofBindAddress:        pprofAddr,
		LeaderElection:          election.enabled,
		LeaderElectionID:        "cohort-operator.learning.cohort.dev",
		LeaderElectionNamespace: election.namespace,
		LeaseDuration:           &election.leaseDuration,
		RenewDeadline:           &election.renewDeadline,
		RetryPeriod:             &election.retryPeriod,
		// A replica that stops gracefully (a rollout, a drain) hands the lease over at
		// once instead of leaving the others to wait for it to expire. Safe because the
		// process exits when the manager returns.
		LeaderElectionReleaseOnCancel: true,
		// Of the kinds the operator provisions, only its own objects are cached.
		Cache:    controllers.CacheOptions(opts.ApprovalPolicy),
		NewCache: controllers.NewCache,
	}
	if namespace != "" {
		options.Cache.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	cfg := ctrl.GetConfigOrDie()
	kubeapi.CountRequests(cfg)
	mgr, err := ctrl.NewManager(cfg, options)
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	if opts.Portal.IngressFrom == nil {
		addrs, err := controllers.APIServerAddresses(ctx, mgr.GetAPIReader())
		if err != nil {
			ctrl.Log.Error(err, "the portals' NetworkPolicy admits nothing until --portal-ingress-cidrs is set")
		}
		opts.Portal.IngressFrom = addrs
	}
	if err := controllers.SetupWithManager(ctx, mgr, opts); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding readiness check: %w", err)
	}
	// On a cluster whose CRDs were just installed, the informers would otherwise meet the
	// API server's still-initializing watch caches and back off silently for up to 30 s
	// a step (controllers.WaitForAPIs says why).
	if err := controllers.WaitForAPIs(ctrl.LoggerInto(ctx, ctrl.Log), cfg, mgr.GetRESTMapper(), namespace, apiWaitTimeout); err != nil {
		return err
	}
	ctrl.Log.Info("starting manager", "version", version, "portalImage", opts.Portal.Image, "namespace", namespace, "leaderElection", election.enabled)
	return mgr.Start(ctx)
}
