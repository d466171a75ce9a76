package portal

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Names of the routes, as the metrics label them. Requests for any other path count
// as routeOther, so that a scan of random paths cannot grow the label set.
const (
	routeIndex    = "index"
	routeCalendar = "calendar"
	routeRoster   = "roster"
	routeReport   = "report"
	routeHealthz  = "healthz"
	routeReadyz   = "readyz"
	routeMetrics  = "metrics"
	routeOther    = "other"
)

// metrics are the portal's own Prometheus metrics, in a registry of their own (the
// portal shares no process with the manager's controller-runtime registry).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	// lastLoad is the time of the last successful load, in Unix seconds.
	lastLoad   prometheus.Gauge
	loadErrors prometheus.Counter

	// The shared portal's own metrics (see newSharedMetrics); nil in a cohort's portal.
	authnFailures  *prometheus.CounterVec
	authzDecisions *prometheus.CounterVec
	cohorts        prometheus.Gauge
}

// newBaseMetrics returns the metrics every portal serves: the requests by route and
// code, the failed loads of documents (described by loadHelp) and the Go and process
// collectors, in a registry of the portal's own.
func newBaseMetrics(loadHelp string) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cohort_portal_http_requests_total",
			Help: "HTTP requests the portal answered, by route and status code.",
		}, []string{"route", "code"}),
		loadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohort_portal_load_errors_total",
			Help: loadHelp,
		}),
	}
	m.registry.MustRegister(m.requests, m.loadErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// newMetrics returns the metrics of a cohort's portal: the base metrics and the time
// of the last successful load.
func newMetrics() *metrics {
	m := newBaseMetrics("Loads of the cohort's documents that failed; the portal kept serving the last good documents.")
	m.lastLoad = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cohort_portal_last_successful_load_timestamp_seconds",
		Help: "Time the cohort's documents were last loaded successfully, in Unix seconds; 0 before the first load.",
	})
	m.registry.MustRegister(m.lastLoad)
	return m
}

// newSharedMetrics returns the metrics of the shared portal: the base metrics,
// authentication failures by reason, authorization decisions (allowed or denied,
// cached or asked) and the number of cohorts held. No series is labelled by cohort or
// person, so a scan of names cannot grow them.
func newSharedMetrics() *metrics {
	m := newBaseMetrics("Loads of a cohort's documents that failed; the portal kept serving the last good documents it had.")
	m.authnFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cohort_portal_authentication_failures_total",
		Help: "Requests refused with 401 (or 503 when the TokenReview failed), by reason: no_credentials, token_refused, proxy_without_certificate, proxy_name_not_allowed, review_failed.",
	}, []string{"reason"})
	m.authzDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cohort_portal_authorization_decisions_total",
		Help: "Authorization decisions on cohort requests, by decision (allowed, denied) and whether it was cached (true) or asked of the API server (false).",
	}, []string{"decision", "cached"})
	m.cohorts = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cohort_portal_cohorts_held",
		Help: "Cohorts whose documents the shared portal holds in memory.",
	})
	m.registry.MustRegister(m.authnFailures, m.authzDecisions, m.cohorts)
	return m
}

// instrument counts the requests h answers under the route's name.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(prometheus.Labels{"route": route}), h)
}

// handler serves the registry in the Prometheus exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
