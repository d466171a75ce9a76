package testutil

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"k8s.io/client-go/rest"
)

// APIProxy serves, on loopback, a reverse proxy in front of the API server cfg names,
// authenticated as cfg's identity, and returns a configuration (without a client-side
// rate limit) that reaches the API server through it, and the proxy's server. intercept,
// when not nil, may answer a request itself, and says whether it did; modify, when not
// nil, sees every response from the API server before it is copied back. Streams the
// proxy or a test cuts short are not logged. The server is closed when the test ends.
func APIProxy(t testing.TB, cfg *rest.Config, intercept func(http.ResponseWriter, *http.Request) bool, modify func(*http.Response) error) (*rest.Config, *httptest.Server) {
	t.Helper()
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:      transport,
		FlushInterval:  -1,
		ErrorLog:       log.New(io.Discard, "", 0),
		ModifyResponse: modify,
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept == nil || !intercept(w, r) {
			proxy.ServeHTTP(w, r)
		}
	}))
	// Close waits for open requests, managers' watches among them: a cleanup registered
	// later (stopping a manager) runs first.
	t.Cleanup(server.Close)
	return &rest.Config{Host: server.URL, QPS: -1}, server
}

// IsWatch reports whether a request to the API server is a watch.
func IsWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1"
}

// WriteStatus answers a request with a Status of code, reason and message, as the API
// server does; retryAfter, when positive, is sent as Retry-After and in the details.
func WriteStatus(w http.ResponseWriter, code int, reason, message string, retryAfter int) {
	w.Header().Set("Content-Type", "application/json")
	details := ""
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
		details = fmt.Sprintf(`"details":{"retryAfterSeconds":%d},`, retryAfter)
	}
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,%s"code":%d}`, message, reason, details, code)
}
