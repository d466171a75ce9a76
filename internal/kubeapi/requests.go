// Package kubeapi counts the manager's requests to the API server by verb and resource,
// at the client transport, so that operators and the scale benchmark see what each
// kind of work costs the API server.
package kubeapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// requestsMetric counts the requests the manager sent, by verb and resource.
var requestsMetric = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cohort_kube_api_requests_total",
	Help: "Requests the manager sent to the API server, by verb (get, list, watch, create, update, patch, apply, delete, deletecollection), resource (with its subresource, such as memberships/status) and HTTP status code (\"error\" when no response came).",
}, []string{"verb", "resource", "code"})

func init() {
	metrics.Registry.MustRegister(requestsMetric)
}

// CountRequests makes every client built from cfg count its requests in
// cohort_kube_api_requests_total.
func CountRequests(cfg *rest.Config) {
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			verb, resource := Classify(req)
			resp, err := next.RoundTrip(req)
			code := "error"
			if err == nil {
				code = strconv.Itoa(resp.StatusCode)
			}
			requestsMetric.WithLabelValues(verb, resource, code).Inc()
			return resp, err
		})
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Classify names the Kubernetes verb and resource of a request to the API server, the
// way the API server's audit log does: a GET of a collection is a list (or a watch
// with watch=true), a PATCH with an apply-patch content type is an apply, and the
// resource carries its subresource ("memberships/status"). Requests outside the
// resource API (discovery, /version, /healthz) have the resource "nonresource".
func Classify(req *http.Request) (verb, resource string) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	// /api/v1/... or /apis/<group>/<version>/...
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return strings.ToLower(req.Method), "nonresource"
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		// namespaces/<ns>/<resource>/... (namespaces/<ns> alone is the namespace itself)
		parts = parts[2:]
	}
	if len(parts) == 0 {
		return strings.ToLower(req.Method), "nonresource"
	}
	resource = parts[0]
	named := len(parts) >= 2
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1":
			verb = "watch"
		case named:
			verb = "get"
		default:
			verb = "list"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/apply-patch") {
			verb = "apply"
		}
	case http.MethodDelete:
		verb = "delete"
		if !named {
			verb = "deletecollection"
		}
	default:
		verb = strings.ToLower(req.Method)
	}
	return verb, resource
}
