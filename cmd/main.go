// Command manager runs the cohort-operator controllers.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
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
		metricsAddr    string
		probeAddr      string
		pprofAddr      string
		leaderElection bool
		namespace      string
		portalImage    string
		ingressCIDRs   string
		options        controllers.Options
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address the Go profiler (net/http/pprof) binds to; 0 disables it.")
	flag.IntVar(&options.Workers, "workers", controllers.DefaultWorkers, "How many program units are evaluated at once.")
	flag.BoolVar(&leaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&namespace, "namespace", "", "Watch only this namespace; all namespaces when empty.")
	flag.StringVar(&portalImage, "portal-image", envOr("PORTAL_IMAGE", defaultImage), "Image of cohort portals: this operator's image, run in portal mode.")
	flag.StringVar(&options.ApprovalPolicy, "approval-policy", controllers.DefaultApprovalPolicy, "Name of the ValidatingAdmissionPolicy that verifies approvers, and of its binding; no approval is trusted while either is missing.")
	flag.StringVar(&options.ApproverClusterRole, "approver-cluster-role", controllers.DefaultApproverClusterRole, "Name of the ClusterRole bound to each community's approvers.")
	flag.StringVar(&ingressCIDRs, "portal-ingress-cidrs", "", "Comma-separated CIDRs the portals' NetworkPolicy admits; the API server's addresses (its service proxy) when empty.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	portal := controllers.PortalConfig{Image: portalImage}
	if ingressCIDRs != "" {
		portal.IngressFrom = strings.Split(ingressCIDRs, ",")
	}
	options.Portal = portal
	if err := run(metricsAddr, probeAddr, pprofAddr, leaderElection, namespace, options); err != nil {
		ctrl.Log.Error(err, "manager exited with an error")
		os.Exit(1)
	}
}

// defaultImage is the operator image the portals run when neither --portal-image nor
// PORTAL_IMAGE says otherwise.
const defaultImage = "ghcr.io/cohort-dev/cohort-operator:latest"

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func run(metricsAddr, probeAddr, pprofAddr string, leaderElection bool, namespace string, opts controllers.Options) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(learningv1alpha1.AddToScheme(scheme))

	options := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         leaderElection,
		LeaderElectionID:       "cohort-operator.learning.cohort.dev",
		// Of the kinds the operator provisions, only its own objects are cached.
		Cache: controllers.CacheOptions(opts.ApprovalPolicy),
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
	ctrl.Log.Info("starting manager", "namespace", namespace, "leaderElection", leaderElection)
	return mgr.Start(ctx)
}
