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
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cohort_portal_http_requests_total",
			Help: "HTTP requests the portal answered, by route and status code.",
		}, []string{"route", "code"}),
		lastLoad: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cohort_portal_last_successful_load_timestamp_seconds",
			Help: "Time the cohort's documents were last loaded successfully, in Unix seconds; 0 before the first load.",
		}),
		loadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohort_portal_load_errors_total",
			Help: "Loads of the cohort's documents that failed; the portal kept serving the last good documents.",
		}),
	}
	m.registry.MustRegister(m.requests, m.lastLoad, m.loadErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
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
