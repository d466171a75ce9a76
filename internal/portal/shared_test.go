package portal

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

const cohortPath = "/cohorts/allyship-2026/"

// TestSharedServesAnAllowedMember: a member whose token the TokenReview authenticates
// for the portal's audience, and whom the SubjectAccessReview allows to get the
// cohort's overview ConfigMap, sees the cohort's page and documents under its prefix,
// with links that stay under it.
func TestSharedServesAnAllowedMember(t *testing.T) {
	f := newSharedFixture(t, nil)
	h := f.server.Handler()
	auth := []string{"Authorization", "Bearer " + f.caseyToken}

	page := get(t, h, http.MethodGet, cohortPath, auth...)
	if page.code != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", cohortPath, page.code, page.body)
	}
	mustContain(t, "the page", page.body, "<h1>Allyship 2026</h1>", `href="calendar.ics"`, `href="roster.json"`, `href="reports/2026-10.md"`)
	if page.header.Get("Content-Security-Policy") == "" {
		t.Error("the page lacks its Content-Security-Policy")
	}
	for path, want := range map[string]string{
		cohortPath + "calendar.ics":       "BEGIN:VCALENDAR",
		cohortPath + "roster.json":        `"displayName": "Yael"`,
		cohortPath + "reports/2026-10.md": "# Allyship Community of Practice: report for 2026-10",
	} {
		got := get(t, h, http.MethodGet, path, auth...)
		if got.code != http.StatusOK || !strings.Contains(got.body, want) {
			t.Errorf("GET %s = %d, want 200 with %q:\n%s", path, got.code, want, got.body)
		}
	}
	redirect := get(t, h, http.MethodGet, "/cohorts/allyship-2026", auth...)
	if redirect.code != http.StatusMovedPermanently || redirect.header.Get("Location") != "allyship-2026/" {
		t.Errorf("GET /cohorts/allyship-2026 = %d to %q, want 301 to allyship-2026/", redirect.code, redirect.header.Get("Location"))
	}

	tokens, access := f.reviews.counts()
	if tokens != 1 || access != 1 {
		t.Errorf("%d TokenReviews and %d SubjectAccessReviews for 5 requests within the TTL, want 1 and 1", tokens, access)
	}
	if want := []string{DefaultAudience}; !cmp.Equal(f.reviews.tokenReviews[0].Audiences, want) {
		t.Errorf("the TokenReview asked for audiences %q, want %q", f.reviews.tokenReviews[0].Audiences, want)
	}
	wantSAR := authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: testNamespace, Verb: "get", Version: "v1", Resource: "configmaps", Name: "allyship-2026-overview"},
		User:               "casey",
		UID:                "c-1",
		Groups:             []string{"allyship", authenticatedGroup},
		Extra:              map[string]authorizationv1.ExtraValue{"scopes": {"portal"}},
	}
	if diff := cmp.Diff(wantSAR, f.reviews.accessReviews[0]); diff != "" {
		t.Errorf("SubjectAccessReview (-want +got):\n%s", diff)
	}
	if got := promtestutil.ToFloat64(f.server.metrics.authzDecisions.WithLabelValues("allowed", "true")); got != 4 {
		t.Errorf("cached allowed decisions = %v, want 4", got)
	}
	if got := promtestutil.ToFloat64(f.server.metrics.requests.WithLabelValues(routeIndex, "200")); got != 1 {
		t.Errorf("index requests answered 200 = %v, want 1", got)
	}
}

// TestSharedRefusals: every way in without an identity is 401 with a Bearer challenge,
// an identity without the grant is 403 whether or not the cohort exists, and a name
// that is not a DNS-1123 subdomain is 404 before anything is asked.
func TestSharedRefusals(t *testing.T) {
	exp := sampleNow.Add(time.Hour)
	cases := map[string]struct {
		path   string
		header []string
		setup  func(*testing.T, *sharedFixture) []string
		code   int
		reason string
		// reviews are the TokenReviews and SubjectAccessReviews the request may cause.
		tokenReviews, accessReviews int
	}{
		"no credentials": {path: cohortPath, code: http.StatusUnauthorized, reason: reasonNoCredentials},
		"basic credentials": {
			path: cohortPath, header: []string{"Authorization", "Basic Y2FzZXk6cHc="},
			code: http.StatusUnauthorized, reason: reasonNoCredentials,
		},
		"a token that is no JWT": {
			path: cohortPath, header: []string{"Authorization", "Bearer opaque"},
			code: http.StatusUnauthorized, reason: reasonTokenRefused,
		},
		"a token for another audience": {
			path: cohortPath, setup: func(t *testing.T, f *sharedFixture) []string {
				// The API server would authenticate it (audience-agnostic JWT
				// authenticators); the portal refuses it before asking.
				tok := testToken(t, "casey", exp, "other-app")
				f.reviews.people[tok] = f.reviews.people[f.caseyToken]
				return []string{"Authorization", "Bearer " + tok}
			},
			code: http.StatusUnauthorized, reason: reasonTokenRefused,
		},
		"a token the API server does not authenticate": {
			path: cohortPath, header: []string{"Authorization", "Bearer " + testToken(t, "mallory", exp, DefaultAudience)},
			code: http.StatusUnauthorized, reason: reasonTokenRefused, tokenReviews: 1,
		},
		"a token authenticated for other audiences": {
			path: cohortPath, setup: func(t *testing.T, f *sharedFixture) []string {
				tok := testToken(t, "casey", exp, DefaultAudience, "other-app")
				f.reviews.people[tok] = authenticationv1.TokenReviewStatus{Authenticated: true, Audiences: []string{"other-app"}, User: authenticationv1.UserInfo{Username: "casey"}}
				return []string{"Authorization", "Bearer " + tok}
			},
			code: http.StatusUnauthorized, reason: reasonTokenRefused, tokenReviews: 1,
		},
		"identity headers without a certificate": {
			path: cohortPath, setup: func(_ *testing.T, f *sharedFixture) []string {
				return []string{"X-Remote-User", "casey", "Authorization", "Bearer " + f.caseyToken}
			},
			code: http.StatusUnauthorized, reason: reasonProxyWithoutCertificate,
		},
		"only a group header without a certificate": {
			path: cohortPath, header: []string{"x-remote-group", "system:masters"},
			code: http.StatusUnauthorized, reason: reasonProxyWithoutCertificate,
		},
		"an outsider": {
			path: cohortPath, setup: func(t *testing.T, f *sharedFixture) []string {
				tok := testToken(t, "olive", exp, DefaultAudience)
				f.reviews.people[tok] = authenticationv1.TokenReviewStatus{Authenticated: true, Audiences: []string{DefaultAudience}, User: authenticationv1.UserInfo{Username: "olive"}}
				return []string{"Authorization", "Bearer " + tok}
			},
			code: http.StatusForbidden, tokenReviews: 1, accessReviews: 1,
		},
		"a member on a cohort that does not exist": {
			path: "/cohorts/no-such-cohort/", setup: func(_ *testing.T, f *sharedFixture) []string {
				return []string{"Authorization", "Bearer " + f.caseyToken}
			},
			code: http.StatusForbidden, tokenReviews: 1, accessReviews: 1,
		},
		"a name that is no DNS-1123 subdomain": {
			path: "/cohorts/Allyship_2026/", setup: func(_ *testing.T, f *sharedFixture) []string {
				return []string{"Authorization", "Bearer " + f.caseyToken}
			},
			code: http.StatusNotFound,
		},
		"a path under no route": {path: "/cohorts/allyship-2026/secrets", code: http.StatusNotFound},
		"a write":               {path: cohortPath, header: []string{"X-Method", "POST"}, code: http.StatusMethodNotAllowed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newSharedFixture(t, nil)
			header := tc.header
			if tc.setup != nil {
				header = tc.setup(t, f)
			}
			method := http.MethodGet
			if len(header) == 2 && header[0] == "X-Method" {
				method, header = header[1], nil
			}
			got := get(t, f.server.Handler(), method, tc.path, header...)
			if got.code != tc.code {
				t.Fatalf("%s %s = %d, want %d: %s", method, tc.path, got.code, tc.code, got.body)
			}
			if tc.code == http.StatusUnauthorized && !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got.header.Get("WWW-Authenticate"))
			}
			if tc.code == http.StatusForbidden && got.body != "You may not see this cohort's portal.\n" {
				t.Errorf("403 body = %q, want the one that says nothing of the cohort", got.body)
			}
			if tc.reason != "" {
				if n := promtestutil.ToFloat64(f.server.metrics.authnFailures.WithLabelValues(tc.reason)); n != 1 {
					t.Errorf("authentication failures for %s = %v, want 1", tc.reason, n)
				}
			}
			if tokens, access := f.reviews.counts(); tokens != tc.tokenReviews || access != tc.accessReviews {
				t.Errorf("%d TokenReviews and %d SubjectAccessReviews, want %d and %d", tokens, access, tc.tokenReviews, tc.accessReviews)
			}
			if got := f.configMapGets(); got != 0 {
				t.Errorf("a refused request read %d ConfigMaps", got)
			}
		})
	}
}

// TestSharedDecisionsExpire: allowed and denied decisions and token reviews are
// remembered for the TTL and no longer, so that a revoked grant or token stops
// working within it.
func TestSharedDecisionsExpire(t *testing.T) {
	f := newSharedFixture(t, func(o *SharedOptions) { o.DecisionTTL = 2 * time.Second })
	h := f.server.Handler()
	auth := []string{"Authorization", "Bearer " + f.caseyToken}
	status := func() int { return get(t, h, http.MethodGet, cohortPath+"roster.json", auth...).code }

	if got := status(); got != http.StatusOK {
		t.Fatalf("first request = %d, want 200", got)
	}
	f.reviews.grant("casey", testOptions.OverviewConfigMap, false)
	f.clock.Step(2*time.Second - time.Millisecond)
	if got := status(); got != http.StatusOK {
		t.Errorf("within the TTL = %d, want the remembered 200", got)
	}
	f.clock.Step(time.Millisecond)
	if got := status(); got != http.StatusForbidden {
		t.Errorf("at the TTL = %d, want 403 from a new review", got)
	}
	f.reviews.grant("casey", testOptions.OverviewConfigMap, true)
	f.clock.Step(time.Second)
	if got := status(); got != http.StatusForbidden {
		t.Errorf("a denial within the TTL = %d, want the remembered 403", got)
	}
	f.clock.Step(time.Second)
	if got := status(); got != http.StatusOK {
		t.Errorf("after the denial's TTL = %d, want 200", got)
	}
	tokens, access := f.reviews.counts()
	if tokens != 3 || access != 3 {
		t.Errorf("%d TokenReviews and %d SubjectAccessReviews over 4 s with a 2 s TTL, want 3 and 3", tokens, access)
	}
	for _, cached := range []string{"true", "false"} {
		if n := promtestutil.ToFloat64(f.server.metrics.authzDecisions.WithLabelValues("denied", cached)); n != 1 {
			t.Errorf("denied decisions with cached=%s = %v, want 1", cached, n)
		}
	}
}

// TestSharedTokenCacheEndsWithTheToken: a token is not remembered past its expiry.
func TestSharedTokenCacheEndsWithTheToken(t *testing.T) {
	f := newSharedFixture(t, nil)
	short := testToken(t, "casey", sampleNow.Add(time.Second), DefaultAudience)
	f.reviews.people[short] = f.reviews.people[f.caseyToken]
	auth := []string{"Authorization", "Bearer " + short}
	if got := get(t, f.server.Handler(), http.MethodGet, cohortPath, auth...); got.code != http.StatusOK {
		t.Fatalf("GET = %d, want 200", got.code)
	}
	delete(f.reviews.people, short)
	f.clock.Step(time.Second)
	if got := get(t, f.server.Handler(), http.MethodGet, cohortPath, auth...); got.code != http.StatusUnauthorized {
		t.Errorf("GET with the token expired = %d, want 401 from a new review", got.code)
	}
}

func TestSharedOptionsBoundTheTTL(t *testing.T) {
	for ttl, want := range map[time.Duration]string{
		0:                                "",
		MaxDecisionTTL:                   "",
		MaxDecisionTTL + time.Nanosecond: "decision TTL 5.000000001s is over the maximum of 5s",
		-time.Second:                     "decision TTL -1s is negative",
	} {
		o, err := SharedOptions{Namespace: "ns", DecisionTTL: ttl}.withDefaults()
		switch {
		case want == "" && (err != nil || o.DecisionTTL <= 0 || o.DecisionTTL > MaxDecisionTTL):
			t.Errorf("TTL %s: %v, TTL %s", ttl, err, o.DecisionTTL)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("TTL %s: error %v, want %q", ttl, err, want)
		}
	}
	if _, err := (SharedOptions{Namespace: "ns", Proxy: ProxyOptions{ClientCAFile: "ca.pem"}}).withDefaults(); err == nil {
		t.Error("a proxy CA without TLS was accepted")
	}
}

// TestSharedProxyHeaders: identity headers count only on a connection whose client
// certificate verifies against the proxy CA, from an allowed name; the identity they
// carry is what the SubjectAccessReview asks about.
func TestSharedProxyHeaders(t *testing.T) {
	proxyCA, otherCA := newTestCA(t, "front-proxy-ca"), newTestCA(t, "other-ca")
	f := newSharedFixture(t, func(o *SharedOptions) {
		o.TLSCertFile, o.TLSKeyFile = servingPair(t)
		o.Proxy = ProxyOptions{ClientCAFile: writeFile(t, "proxy-ca.pem", proxyCA.pem), AllowedNames: []string{"front-proxy"}}
	})
	if f.server.tls.ClientAuth != tls.VerifyClientCertIfGiven || f.server.tls.ClientCAs == nil {
		t.Fatalf("TLS client auth = %v with CAs %v, want VerifyClientCertIfGiven with the proxy CA", f.server.tls.ClientAuth, f.server.tls.ClientCAs)
	}
	h := f.server.Handler()
	request := func(certs []*x509.Certificate, header ...string) int {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, cohortPath, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		if certs != nil {
			req.TLS = &tls.ConnectionState{PeerCertificates: certs}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	proxy := []*x509.Certificate{proxyCA.clientCert(t, "front-proxy")}
	caseyHeaders := []string{"X-Remote-User", "casey", "X-Remote-Uid", "c-9", "X-Remote-Group", "a", "X-Remote-Group", "b", "X-Remote-Extra-Acme.com%2Fteam", "blue"}

	if got := request(proxy, caseyHeaders...); got != http.StatusOK {
		t.Fatalf("casey through the proxy = %d, want 200", got)
	}
	wantSAR := authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: testNamespace, Verb: "get", Version: "v1", Resource: "configmaps", Name: "allyship-2026-overview"},
		User:               "casey", UID: "c-9", Groups: []string{"a", "b", authenticatedGroup},
		Extra: map[string]authorizationv1.ExtraValue{"acme.com/team": {"blue"}},
	}
	if diff := cmp.Diff(wantSAR, f.reviews.accessReviews[0]); diff != "" {
		t.Errorf("SubjectAccessReview (-want +got):\n%s", diff)
	}
	for name, tc := range map[string]struct {
		certs  []*x509.Certificate
		header []string
		code   int
		reason string
	}{
		"an outsider through the proxy":   {proxy, []string{"X-Remote-User", "olive"}, http.StatusForbidden, ""},
		"headers without a certificate":   {nil, caseyHeaders, http.StatusUnauthorized, reasonProxyWithoutCertificate},
		"a certificate of another CA":     {[]*x509.Certificate{otherCA.clientCert(t, "front-proxy")}, caseyHeaders, http.StatusUnauthorized, reasonProxyWithoutCertificate},
		"a proxy name not allowed":        {[]*x509.Certificate{proxyCA.clientCert(t, "someone")}, caseyHeaders, http.StatusUnauthorized, reasonProxyNameNotAllowed},
		"a proxy certificate, no user":    {proxy, []string{"X-Remote-Group", "a"}, http.StatusUnauthorized, reasonNoCredentials},
		"a proxy certificate, no headers": {proxy, nil, http.StatusUnauthorized, reasonNoCredentials},
	} {
		t.Run(name, func(t *testing.T) {
			before := promtestutil.ToFloat64(f.server.metrics.authnFailures.WithLabelValues(tc.reason))
			if got := request(tc.certs, tc.header...); got != tc.code {
				t.Errorf("= %d, want %d", got, tc.code)
			}
			if after := promtestutil.ToFloat64(f.server.metrics.authnFailures.WithLabelValues(tc.reason)); tc.reason != "" && after != before+1 {
				t.Errorf("authentication failures for %s went from %v to %v, want one more", tc.reason, before, after)
			}
		})
	}
}

// TestSharedStripsCredentials: once authenticated, the request that reaches the
// cohort's handlers holds neither the token nor any identity header.
func TestSharedStripsCredentials(t *testing.T) {
	a := &authenticator{proxy: ProxyOptions{}.withDefaults()}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, cohortPath, nil)
	for _, h := range []string{"Authorization", "X-Remote-User", "x-remote-group", "X-Remote-Uid", "X-Remote-Extra-Scopes", "Accept"} {
		req.Header.Set(h, "v")
	}
	a.strip(req)
	if got := len(req.Header); got != 1 || req.Header.Get("Accept") != "v" {
		t.Errorf("headers after strip = %v, want only Accept", req.Header)
	}
}

// TestSharedReviewErrors: when the API server cannot be asked, the portal answers 503
// and remembers nothing.
func TestSharedReviewErrors(t *testing.T) {
	f := newSharedFixture(t, nil)
	f.reviews.err = errors.New("connection refused")
	auth := []string{"Authorization", "Bearer " + f.caseyToken}
	if got := get(t, f.server.Handler(), http.MethodGet, cohortPath, auth...); got.code != http.StatusServiceUnavailable {
		t.Fatalf("GET with the API server away = %d, want 503", got.code)
	}
	f.reviews.err = nil
	if got := get(t, f.server.Handler(), http.MethodGet, cohortPath, auth...); got.code != http.StatusOK {
		t.Errorf("GET once it is back = %d, want 200", got.code)
	}
}

// TestSharedCohortsAreBoundedAndRefreshed: documents are loaded on the first allowed
// request, again only after the refresh interval, and at most MaxCohorts cohorts are
// held; idle ones are dropped.
func TestSharedCohortsAreBoundedAndRefreshed(t *testing.T) {
	f := newSharedFixture(t, func(o *SharedOptions) { o.MaxCohorts = 2; o.Refresh = 10 * time.Second })
	for _, c := range []string{"b-cohort", "c-cohort"} {
		f.reviews.grant("casey", c+"-overview", true)
	}
	h := f.server.Handler()
	auth := []string{"Authorization", "Bearer " + f.caseyToken}
	for range 3 {
		if got := get(t, h, http.MethodGet, cohortPath, auth...); got.code != http.StatusOK {
			t.Fatalf("GET = %d", got.code)
		}
	}
	if got := f.configMapGets(); got != 3 {
		t.Errorf("three requests within the refresh interval read %d ConfigMaps, want 3 (one load)", got)
	}
	f.clock.Step(10 * time.Second)
	get(t, h, http.MethodGet, cohortPath, auth...)
	if got := f.configMapGets(); got != 6 {
		t.Errorf("a request after the refresh interval read %d ConfigMaps in all, want 6 (two loads)", got)
	}
	for _, c := range []string{"b-cohort", "c-cohort"} {
		if got := get(t, h, http.MethodGet, "/cohorts/"+c+"/", auth...); got.code != http.StatusNotFound {
			t.Errorf("GET of %s, allowed but unpublished = %d, want 404", c, got.code)
		}
	}
	if got := f.server.cohorts.held(); got != 2 {
		t.Errorf("%d cohorts held, want at most 2", got)
	}
	if _, ok := f.server.cohorts.servers["allyship-2026"]; ok {
		t.Error("the cohort used least recently is still held")
	}
	f.clock.Step(DefaultIdleTimeout)
	f.server.cohorts.dropIdle()
	if got := f.server.cohorts.held(); got != 0 {
		t.Errorf("%d cohorts held after the idle timeout, want 0", got)
	}
}

// TestSharedReadiness: the portal is ready once its ServiceAccount holds the rules it
// needs, and says which are missing until then.
func TestSharedReadiness(t *testing.T) {
	f := newSharedFixture(t, nil)
	h := f.server.Handler()
	if got := get(t, h, http.MethodGet, "/readyz"); got.code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the check = %d, want 503", got.code)
	}
	if err := f.server.access.check(t.Context()); err == nil || !strings.Contains(err.Error(), "create subjectaccessreviews.authorization.k8s.io") {
		t.Errorf("check = %v, want the missing subjectaccessreviews named", err)
	}
	got := get(t, h, http.MethodGet, "/readyz")
	if got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "subjectaccessreviews") {
		t.Errorf("/readyz without the rules = %d %q", got.code, got.body)
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		if got := get(t, h, http.MethodGet, path); got.code != http.StatusOK {
			t.Errorf("%s = %d, want 200 without credentials", path, got.code)
		}
	}
}

func TestTTLCacheIsBounded(t *testing.T) {
	clk := clocktesting.NewFakeClock(sampleNow)
	c := newTTLCache[int](clk, 3)
	c.set("a", 1, clk.Now().Add(time.Second))
	c.set("b", 2, clk.Now().Add(5*time.Second))
	c.set("c", 3, clk.Now().Add(5*time.Second))
	c.set("d", 4, clk.Now().Add(5*time.Second))
	if _, ok := c.get("a"); ok || c.len() != 3 {
		t.Errorf("after a fourth entry: a present %v, %d entries; want the oldest dropped, 3", ok, c.len())
	}
	clk.Step(time.Second)
	c.set("e", 5, clk.Now().Add(time.Second))
	if _, ok := c.get("b"); ok {
		t.Error("b is still held after a fifth entry")
	}
	clk.Step(time.Second)
	if _, ok := c.get("e"); ok {
		t.Error("e is returned at its expiry")
	}
	if v, ok := c.get("d"); !ok || v != 4 {
		t.Errorf("d = %d, %v; want 4 until its expiry", v, ok)
	}
	c.set("f", 6, clk.Now())
	if _, ok := c.get("f"); ok {
		t.Error("an entry that expires at once was stored")
	}
}
