package kubeapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/rest"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		method, url, contentType string
		verb, resource           string
	}{
		{"GET", "/apis/learning.cohort.dev/v1alpha1/namespaces/ns/memberships?limit=500", "", "list", "memberships"},
		{"GET", "/apis/learning.cohort.dev/v1alpha1/memberships?watch=true&resourceVersion=1", "", "watch", "memberships"},
		{"GET", "/apis/learning.cohort.dev/v1alpha1/namespaces/ns/cohorts/a", "", "get", "cohorts"},
		{"PATCH", "/apis/learning.cohort.dev/v1alpha1/namespaces/ns/memberships/m/status", "application/merge-patch+json", "patch", "memberships/status"},
		{"PATCH", "/api/v1/namespaces/ns/configmaps/c-roster?fieldManager=cohort-operator", "application/apply-patch+yaml", "apply", "configmaps"},
		{"POST", "/apis/events.k8s.io/v1/namespaces/ns/events", "application/json", "create", "events"},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/sys/leases/id", "application/json", "update", "leases"},
		{"DELETE", "/apis/apps/v1/namespaces/ns/deployments/p", "", "delete", "deployments"},
		{"DELETE", "/apis/apps/v1/namespaces/ns/deployments", "", "deletecollection", "deployments"},
		{"GET", "/api/v1/namespaces/ns", "", "get", "namespaces"},
		{"GET", "/api/v1/namespaces", "", "list", "namespaces"},
		{"GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/cohort-approver", "", "get", "clusterroles"},
		{"GET", "/api", "", "get", "nonresource"},
		{"GET", "/apis/learning.cohort.dev/v1alpha1", "", "get", "nonresource"},
		{"GET", "/version", "", "get", "nonresource"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.url, nil)
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		verb, resource := Classify(req)
		if verb != c.verb || resource != c.resource {
			t.Errorf("%s %s: got %s %s, want %s %s", c.method, c.url, verb, resource, c.verb, c.resource)
		}
	}
}

func TestCountRequestsWrapsTheTransport(t *testing.T) {
	before := count(t, "patch", "cohorts/status", "409")
	server := roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusConflict, Body: http.NoBody}, nil
	})
	cfg := &rest.Config{Host: "https://127.0.0.1:6443"}
	CountRequests(cfg)
	rt := cfg.WrapTransport(server)
	req := httptest.NewRequest("PATCH", "/apis/learning.cohort.dev/v1alpha1/namespaces/ns/cohorts/c/status", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := count(t, "patch", "cohorts/status", "409"); got != before+1 {
		t.Fatalf("cohort_kube_api_requests_total{patch,cohorts/status,409} = %v, want %v", got, before+1)
	}
}

func count(t *testing.T, verb, resource, code string) float64 {
	t.Helper()
	return testutil.ToFloat64(requestsMetric.WithLabelValues(verb, resource, code))
}
