package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cohort-dev/cohort-operator/internal/portal"
)

// portalMain runs the portal mode: a read-only web overview of one cohort, served from
// the ConfigMaps the manager renders for it; with --shared, of every cohort of a
// namespace (sharedPortalMain).
func portalMain(args []string) int {
	if shared, rest := sharedFlag(args); shared {
		return sharedPortalMain(rest)
	}
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	var opts portal.Options
	var impersonate string
	fs.StringVar(&opts.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "Namespace of the cohort.")
	fs.StringVar(&opts.Cohort, "cohort", "", "Name of the cohort.")
	fs.StringVar(&opts.RosterConfigMap, "roster-configmap", "", "ConfigMap holding the roster.")
	fs.StringVar(&opts.CalendarConfigMap, "calendar-configmap", "", "ConfigMap holding the calendar.")
	fs.StringVar(&opts.OverviewConfigMap, "overview-configmap", "", "ConfigMap holding the overview.")
	fs.StringVar(&opts.Address, "address", ":8080", "Address to serve on.")
	fs.DurationVar(&opts.Refresh, "refresh", 15*time.Second, "How often the ConfigMaps are read again.")
	fs.StringVar(&impersonate, "as", "", "Act as this user (for example the portal's ServiceAccount) when run outside the cluster.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	for name, v := range map[string]string{"namespace": opts.Namespace, "cohort": opts.Cohort, "roster-configmap": opts.RosterConfigMap, "calendar-configmap": opts.CalendarConfigMap, "overview-configmap": opts.OverviewConfigMap} {
		if v == "" {
			fmt.Fprintf(os.Stderr, "portal: --%s is required\n", name)
			return 2
		}
	}
	return runPortal(opts.Address, impersonate, "portal", func(ctx context.Context, clientset kubernetes.Interface, ln net.Listener) error {
		opts.Listener = ln
		return portal.Run(ctx, clientset, opts)
	})
}

// runPortal binds address first (the kubelet probes as soon as the container runs),
// connects to the API server (as impersonate, when set) and runs serve on the
// listener until SIGINT or SIGTERM; it returns the process's exit code. what names
// the portal in the log.
func runPortal(address, impersonate, what string, serve func(context.Context, kubernetes.Interface, net.Listener) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := portal.Listen(ctx, address)
	if err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		return 1
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		_ = ln.Close()
		fmt.Fprintln(os.Stderr, "portal:", err)
		return 1
	}
	cfg.Impersonate.UserName = impersonate
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		_ = ln.Close()
		fmt.Fprintln(os.Stderr, "portal:", err)
		return 1
	}
	if err := serve(ctx, clientset, ln); err != nil {
		ctrl.Log.Error(err, what+" exited with an error")
		return 1
	}
	return 0
}
