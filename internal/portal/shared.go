package portal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Defaults and bounds of SharedOptions.
const (
	// DefaultAudience is the audience people's tokens must be issued for.
	DefaultAudience = "cohort-portal"
	// MaxDecisionTTL bounds how long an authentication or authorization decision is
	// remembered: a withdrawn member loses access at most this long after the
	// operator revoked their Role.
	MaxDecisionTTL = 5 * time.Second
	// DefaultMaxCohorts is how many cohorts the shared portal holds in memory at once.
	DefaultMaxCohorts = 256
	// DefaultIdleTimeout is how long a cohort nobody asked for stays in memory.
	DefaultIdleTimeout = 10 * time.Minute
	// maxCachedDecisions bounds each of the two decision caches.
	maxCachedDecisions = 4096
	// accessRetry is how often the portal checks its own access again until it has it.
	accessRetry = 5 * time.Second
)

// SharedOptions configure the shared portal, which serves every cohort of a namespace
// to the people the API server says may see each.
type SharedOptions struct {
	// Namespace holds the cohorts and their ConfigMaps.
	Namespace string
	// Address is the listen address, DefaultAddress when empty; Listener, when set, is
	// served instead.
	Address  string
	Listener net.Listener
	// Refresh is the least time between two loads of a cohort's documents,
	// DefaultRefresh when zero.
	Refresh time.Duration
	// Audience is the audience people's bearer tokens must be issued for,
	// DefaultAudience when empty.
	Audience string
	// DecisionTTL is how long TokenReview and SubjectAccessReview outcomes are
	// remembered: MaxDecisionTTL when zero, and never more.
	DecisionTTL time.Duration
	// MaxCohorts and IdleTimeout bound the cohorts held in memory: DefaultMaxCohorts
	// and DefaultIdleTimeout when zero.
	MaxCohorts  int
	IdleTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when set, make the portal serve TLS with this
	// certificate. The proxy's identity headers need them.
	TLSCertFile, TLSKeyFile string
	// Proxy configures an authenticating proxy's identity headers.
	Proxy ProxyOptions
	// Clock tells the time to the caches and the pages; the real clock when nil.
	Clock clock.PassiveClock
}

// Validate returns an error naming every option that is missing or out of bounds,
// nil when the options can be run; it reads no file.
func (o SharedOptions) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults returns the options with their defaults filled in, or an error naming
// every option that is missing or out of bounds.
func (o SharedOptions) withDefaults() (SharedOptions, error) {
	var errs []error
	if o.Namespace == "" {
		errs = append(errs, errors.New("the shared portal needs the namespace of its cohorts"))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"refresh interval", o.Refresh}, {"decision TTL", o.DecisionTTL}, {"idle timeout", o.IdleTimeout}} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", d.name, d.value))
		}
	}
	if o.DecisionTTL > MaxDecisionTTL {
		errs = append(errs, fmt.Errorf("decision TTL %s is over the maximum of %s", o.DecisionTTL, MaxDecisionTTL))
	}
	if o.MaxCohorts < 0 {
		errs = append(errs, fmt.Errorf("maximum of cohorts %d is negative", o.MaxCohorts))
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		errs = append(errs, errors.New("the TLS certificate and private key files go together: set both or neither"))
	}
	if o.Proxy.ClientCAFile != "" && o.TLSCertFile == "" {
		errs = append(errs, errors.New("the proxy's client CA needs TLS: set the TLS certificate and private key files"))
	}
	if o.Proxy.ClientCAFile == "" && len(o.Proxy.AllowedNames) > 0 {
		errs = append(errs, errors.New("allowed proxy names need the proxy's client CA file"))
	}
	if o.Address == "" {
		o.Address = DefaultAddress
	}
	if o.Refresh == 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.DecisionTTL == 0 {
		o.DecisionTTL = MaxDecisionTTL
	}
	if o.MaxCohorts == 0 {
		o.MaxCohorts = DefaultMaxCohorts
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	o.Proxy = o.Proxy.withDefaults()
	return o, errors.Join(errs...)
}

// SharedServer is the shared portal: one web server for every cohort of a namespace,
// under /cohorts/<cohort>/. A request for a cohort is served only to a person whom a
// bearer token (TokenReview) or an authenticating proxy (identity headers on a
// verified TLS connection) identifies and whom a SubjectAccessReview allows to get
// the cohort's overview ConfigMap, the grant the operator gives the cohort's seated
// members. See the comment on SharedClusterRules for the RBAC it needs.
type SharedServer struct {
	opts    SharedOptions
	metrics *metrics
	authn   *authenticator
	authz   *authorizer
	cohorts *cohortServers
	access  *accessCheck
	tls     *tls.Config
}

// NewSharedServer returns the shared portal for opts, reading its TLS certificate and
// proxy CA. It makes no request until it serves.
func NewSharedServer(client kubernetes.Interface, opts SharedOptions) (*SharedServer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m := newSharedMetrics()
	s := &SharedServer{
		opts:    opts,
		metrics: m,
		authn: &authenticator{
			client: client, audience: opts.Audience, ttl: opts.DecisionTTL, clock: opts.Clock,
			tokens: newTTLCache[tokenOutcome](opts.Clock, maxCachedDecisions), proxy: opts.Proxy,
		},
		authz: &authorizer{
			client: client, namespace: opts.Namespace, ttl: opts.DecisionTTL, clock: opts.Clock,
			decisions: newTTLCache[bool](opts.Clock, maxCachedDecisions),
		},
		cohorts: &cohortServers{
			client: client, namespace: opts.Namespace, refresh: opts.Refresh, idle: opts.IdleTimeout,
			max: opts.MaxCohorts, clock: opts.Clock, metrics: m, servers: map[string]*cohortServer{},
		},
		access: &accessCheck{client: client, namespace: opts.Namespace},
	}
	if opts.Proxy.ClientCAFile != "" {
		pem, err := os.ReadFile(opts.Proxy.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the proxy's client CA: %w", err)
		}
		s.authn.proxyCAs = x509.NewCertPool()
		if !s.authn.proxyCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the proxy's client CA file %s holds no PEM certificate", opts.Proxy.ClientCAFile)
		}
	}
	if opts.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the portal's TLS certificate: %w", err)
		}
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if s.authn.proxyCAs != nil {
			// A client without a certificate may still present a bearer token; one with
			// a certificate of another CA fails the handshake.
			s.tls.ClientAuth = tls.VerifyClientCertIfGiven
			s.tls.ClientCAs = s.authn.proxyCAs
		}
	}
	return s, nil
}

// Handler returns the shared portal's HTTP handler: /cohorts/<cohort>/ (the cohort's
// overview page), /cohorts/<cohort>/calendar.ics, /cohorts/<cohort>/roster.json and
// /cohorts/<cohort>/reports/<period>.md|csv, each for authorized people only, and
// /healthz, /readyz and /metrics for anyone. Every response carries the security
// headers; every request is counted by route and status code.
func (s *SharedServer) Handler() http.Handler {
	mux := http.NewServeMux()
	cohortRoute := func(pattern, name string, serve func(*Server, http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, s.metrics.instrument(name, s.gate(serve)))
	}
	cohortRoute("GET /cohorts/{cohort}/{$}", routeIndex, (*Server).serveIndex)
	cohortRoute("GET /cohorts/{cohort}", routeIndex, redirectToIndex)
	cohortRoute("GET /cohorts/{cohort}/calendar.ics", routeCalendar, (*Server).serveCalendar)
	cohortRoute("GET /cohorts/{cohort}/roster.json", routeRoster, (*Server).serveRoster)
	cohortRoute("GET /cohorts/{cohort}/reports/{file}", routeReport, (*Server).serveReport)
	mux.Handle("GET /healthz", s.metrics.instrument(routeHealthz, http.HandlerFunc(serveHealthz)))
	mux.Handle("GET /readyz", s.metrics.instrument(routeReadyz, http.HandlerFunc(s.serveReadyz)))
	mux.Handle("GET /metrics", s.metrics.instrument(routeMetrics, s.metrics.handler()))
	mux.Handle("/", s.metrics.instrument(routeOther, http.HandlerFunc(serveOther)))
	return securityHeaders(mux)
}

// gate serves a cohort's route to authorized people only: it checks the cohort's
// name, authenticates the request, asks whether the person may get the cohort's
// overview ConfigMap, and only then loads the cohort's documents and serves them.
// Every refusal says nothing of whether the cohort exists.
func (s *SharedServer) gate(serve func(*Server, http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cohort := r.PathValue("cohort")
		if len(validation.IsDNS1123Subdomain(cohort)) > 0 {
			plain(w, http.StatusNotFound, "not found")
			return
		}
		log := logr.FromContextOrDiscard(r.Context())
		authn := s.authn.authenticate(r)
		s.authn.strip(r)
		if authn.reason != "" {
			s.metrics.authnFailures.WithLabelValues(authn.reason).Inc()
			if authn.err != nil {
				log.Error(authn.err, "authenticating a request failed")
				w.Header().Set("Retry-After", "5")
				plain(w, http.StatusServiceUnavailable, "Your credentials could not be checked; try again in a few seconds.")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.opts.Audience+`"`)
			plain(w, http.StatusUnauthorized, "Sign in to see the cohort's portal: present a bearer token for the portal's audience.")
			return
		}
		d, err := s.authz.allowed(r, authn.id, cohort)
		if err != nil {
			log.Error(err, "authorizing a request failed")
			w.Header().Set("Retry-After", "5")
			plain(w, http.StatusServiceUnavailable, "Your access could not be checked; try again in a few seconds.")
			return
		}
		s.metrics.authzDecisions.WithLabelValues(d.label(), strconv.FormatBool(d.cached)).Inc()
		if !d.allowed {
			log.V(1).Info("refused a cohort to a person", "user", authn.id.User, "cohort", cohort, "cached", d.cached)
			plain(w, http.StatusForbidden, "You may not see this cohort's portal.")
			return
		}
		srv, err := s.cohorts.get(r.Context(), cohort)
		if apierrors.IsNotFound(err) {
			plain(w, http.StatusNotFound, "No documents are published for this cohort.")
			return
		}
		serve(srv, w, r)
	})
}

// redirectToIndex sends /cohorts/<cohort> to /cohorts/<cohort>/, where the page's
// relative links resolve under the cohort; the Location is relative too, so that it
// works behind a proxy that serves the portal under a prefix of its own.
func redirectToIndex(_ *Server, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", r.PathValue("cohort")+"/")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMovedPermanently)
}

// serveReadyz reports ready once the portal found that its ServiceAccount holds the
// rules it needs; until then it says which are missing.
func (s *SharedServer) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	if msg := s.access.status(); msg != "" {
		plain(w, http.StatusServiceUnavailable, msg)
		return
	}
	plain(w, http.StatusOK, "ok")
}

// Serve serves the shared portal on ln (TLS when configured) until ctx is done, then
// shuts it down gracefully and returns nil. Meanwhile it checks its own access until
// it has it and drops the cohorts nobody asked for lately.
func (s *SharedServer) Serve(ctx context.Context, ln net.Listener) error {
	log := ctrl.LoggerFrom(ctx).WithValues("namespace", s.opts.Namespace)
	ctx = logr.NewContext(ctx, log)
	srv := newHTTPServer(ctx, s.Handler())
	bgCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.background(bgCtx)
	}()
	serve := func() error { return srv.Serve(ln) }
	if s.tls != nil {
		srv.TLSConfig = s.tls
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	log.Info("serving the shared cohort portal", "address", ln.Addr().String(), "tls", s.tls != nil,
		"proxyHeaders", s.authn.proxyCAs != nil, "audience", s.opts.Audience, "decisionTTL", s.opts.DecisionTTL.String())
	err := serveUntilDone(ctx, srv, serve)
	stop()
	<-done
	return err
}

// background checks the portal's own access until it has it, and drops idle cohorts,
// until ctx is done.
func (s *SharedServer) background(ctx context.Context) {
	log := logr.FromContextOrDiscard(ctx)
	sweep := time.NewTicker(max(s.opts.IdleTimeout/4, time.Second))
	defer sweep.Stop()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			s.cohorts.dropIdle()
		case <-retry.C:
			if err := s.access.check(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Error(err, "the shared portal is not ready", "retryIn", accessRetry.String())
				retry.Reset(accessRetry)
			} else {
				log.V(1).Info("the shared portal holds the access it needs")
			}
		}
	}
}

// RunShared serves the shared portal on opts.Listener, or else on opts.Address, until
// ctx is done. It returns an error when the options are incomplete, the certificates
// cannot be read or the address cannot be bound; it closes opts.Listener in every case.
func RunShared(ctx context.Context, client kubernetes.Interface, opts SharedOptions) error {
	s, err := NewSharedServer(client, opts)
	if err != nil {
		if opts.Listener != nil {
			_ = opts.Listener.Close()
		}
		return err
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = Listen(ctx, s.opts.Address); err != nil {
			return err
		}
	}
	return s.Serve(ctx, ln)
}
