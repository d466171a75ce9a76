// Package portal is the operator binary's "portal" mode: a small read-only web server
// for one cohort. It reads the documents the manager publishes for the cohort (the
// roster, the calendar and the overview, see package publish) from the cohort's
// ConfigMaps, by name only, and serves them as an HTML overview page, /calendar.ics and
// /roster.json, with health, readiness and Prometheus metrics endpoints.
//
// The page is usually reached through the API server's service proxy
// (/api/v1/namespaces/NS/services/NAME:http/proxy/), so every link it holds is relative.
// When a refresh fails the portal keeps serving the last documents it loaded.
//
// The shared portal (SharedServer, RunShared) serves every cohort of a namespace under
// /cohorts/<cohort>/ from one Deployment, to the people the API server identifies (a
// bearer token for the portal's audience, or an authenticating proxy's headers on a
// verified TLS connection) and allows to get the cohort's overview ConfigMap.
package portal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Defaults of Options.
const (
	// DefaultAddress is the address the portal listens on when Options.Address is empty.
	DefaultAddress = ":8080"
	// DefaultRefresh is how often the ConfigMaps are read again when Options.Refresh is zero.
	DefaultRefresh = 15 * time.Second
)

// Options configure Run.
type Options struct {
	// Namespace is the namespace of the cohort and its ConfigMaps.
	Namespace string
	// Cohort is the cohort's name.
	Cohort string
	// RosterConfigMap, CalendarConfigMap and OverviewConfigMap name the cohort's
	// ConfigMaps; each holds one document under its key (publish.RosterKey,
	// publish.CalendarKey, publish.OverviewKey), or the first part of a roster or
	// overview split over several (publish.Manifest names the others). They may name
	// the same ConfigMap.
	RosterConfigMap, CalendarConfigMap, OverviewConfigMap string
	// Address is the listen address, DefaultAddress when empty.
	Address string
	// Listener, when set, is served instead of binding Address. The portal binds its
	// port before anything slow (its first load of the documents, and anything its
	// caller does first, such as reading the kubeconfig), so that the kubelet's probes
	// find the port open as soon as the process runs: /healthz answers at once,
	// /readyz once the documents were loaded.
	Listener net.Listener
	// Refresh is how often the ConfigMaps are read again, DefaultRefresh when zero.
	Refresh time.Duration
}

// withDefaults returns the options with their defaults filled in, or an error naming
// every required option that is missing.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"namespace", o.Namespace},
		{"cohort", o.Cohort},
		{"roster ConfigMap", o.RosterConfigMap},
		{"calendar ConfigMap", o.CalendarConfigMap},
		{"overview ConfigMap", o.OverviewConfigMap},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("the portal needs the %s", f.name))
		}
	}
	if o.Refresh < 0 {
		errs = append(errs, fmt.Errorf("refresh interval %s is negative", o.Refresh))
	}
	if o.Address == "" {
		o.Address = DefaultAddress
	}
	if o.Refresh == 0 {
		o.Refresh = DefaultRefresh
	}
	return o, errors.Join(errs...)
}

// Run serves the cohort's portal on opts.Listener, or else on opts.Address, until ctx
// is done, then shuts the server down gracefully and returns nil. It serves from the
// moment the port is bound, while the first load of the documents runs. It reads the
// ConfigMaps (and the further parts their manifests name) with GET by name only, never
// list or watch: the portal's ServiceAccount may only get those names.
// It returns an error when the options are incomplete or the address cannot be bound;
// it closes opts.Listener in every case.
func Run(ctx context.Context, client kubernetes.Interface, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		if opts.Listener != nil {
			_ = opts.Listener.Close()
		}
		return err
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = Listen(ctx, opts.Address); err != nil {
			return err
		}
	}
	srv := NewServer(NewConfigMapSource(client, opts), opts.Cohort, clock.RealClock{})
	return srv.Serve(ctx, ln, opts.Refresh)
}

// Listen binds the portal's TCP address, DefaultAddress when empty.
func Listen(ctx context.Context, address string) (net.Listener, error) {
	if address == "" {
		address = DefaultAddress
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", address, err)
	}
	return ln, nil
}
