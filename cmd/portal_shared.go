package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cohort-dev/cohort-operator/internal/portal"
)

// sharedFlag reports whether the portal's arguments ask for the shared portal
// (--shared, -shared or --shared=true) and returns the others.
func sharedFlag(args []string) (bool, []string) {
	shared, rest := false, make([]string, 0, len(args))
	for _, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "shared" {
			if !hasValue {
				shared = true
				continue
			}
			if b, err := strconv.ParseBool(value); err == nil {
				shared = b
				continue
			}
		}
		rest = append(rest, a)
	}
	return shared, rest
}

// sharedPortalMain runs the shared portal: one web server for every cohort of a
// namespace, serving each cohort to the people the API server lets get its overview
// ConfigMap.
func sharedPortalMain(args []string) int {
	fs := flag.NewFlagSet("portal --shared", flag.ContinueOnError)
	var opts portal.SharedOptions
	var impersonate, allowedNames string
	fs.StringVar(&opts.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "Namespace of the cohorts served.")
	fs.StringVar(&opts.Address, "address", portal.DefaultAddress, "Address to serve on.")
	fs.DurationVar(&opts.Refresh, "refresh", portal.DefaultRefresh, "Least time between two loads of a cohort's ConfigMaps.")
	fs.StringVar(&opts.Audience, "audience", portal.DefaultAudience, "Audience people's bearer tokens must be issued for; TokenReviews ask for it.")
	fs.DurationVar(&opts.DecisionTTL, "decision-ttl", portal.MaxDecisionTTL, "How long token reviews and access decisions are remembered, at most 5s.")
	fs.IntVar(&opts.MaxCohorts, "max-cohorts", portal.DefaultMaxCohorts, "Most cohorts held in memory at once.")
	fs.DurationVar(&opts.IdleTimeout, "idle-timeout", portal.DefaultIdleTimeout, "How long a cohort nobody asked for stays in memory.")
	fs.StringVar(&opts.TLSCertFile, "tls-cert-file", "", "PEM certificate (chain) to serve TLS with; plain HTTP when empty.")
	fs.StringVar(&opts.TLSKeyFile, "tls-private-key-file", "", "PEM private key of --tls-cert-file.")
	fs.StringVar(&opts.Proxy.ClientCAFile, "proxy-client-ca-file", "", "PEM CA bundle that verifies an authenticating proxy's client certificates; its identity headers are refused when empty. Needs TLS.")
	fs.StringVar(&allowedNames, "proxy-allowed-names", "", "Comma-separated common names of the proxy certificates trusted; any verified certificate when empty.")
	fs.StringVar(&opts.Proxy.UsernameHeader, "proxy-username-header", portal.DefaultUsernameHeader, "Header naming the person, set by the proxy.")
	fs.StringVar(&opts.Proxy.UIDHeader, "proxy-uid-header", portal.DefaultUIDHeader, "Header holding the person's uid, set by the proxy.")
	fs.StringVar(&opts.Proxy.GroupHeader, "proxy-group-header", portal.DefaultGroupHeader, "Header holding one of the person's groups per value, set by the proxy.")
	fs.StringVar(&opts.Proxy.ExtraHeaderPrefix, "proxy-extra-header-prefix", portal.DefaultExtraHeaderPrefix, "Prefix of the headers holding the person's extra attributes, set by the proxy.")
	fs.StringVar(&impersonate, "as", "", "Act as this user (for example the portal's ServiceAccount) when run outside the cluster.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	opts.Proxy.AllowedNames = splitList(allowedNames)
	if opts.Namespace == "" {
		fmt.Fprintln(os.Stderr, "portal: --namespace is required")
		return 2
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		return 2
	}
	return runPortal(opts.Address, impersonate, "shared portal", func(ctx context.Context, clientset kubernetes.Interface, ln net.Listener) error {
		opts.Listener = ln
		return portal.RunShared(ctx, clientset, opts)
	})
}
