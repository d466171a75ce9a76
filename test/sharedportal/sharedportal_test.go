package sharedportal

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/portal"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// People of the suite's cohorts, by the user names their tokens carry (the sub claim).
const (
	seated    = "u-ana@example.org"   // seated in spring
	withdrawn = "u-ben@example.org"   // withdrawn from spring from the start
	sibling   = "u-cy@example.org"    // seated in autumn, spring's sibling cohort
	outsider  = "u-olive@example.org" // in no cohort
)

// runs numbers the names a test makes for itself.
var runs atomic.Int64

// member describes one Membership of a cohort.
type member struct {
	name, user string
	withdrawn  bool
}

// createCohort creates a standalone cohort whose Member role has room for everyone,
// and its memberships.
func createCohort(t *testing.T, cohort, displayName string, members ...member) {
	t.Helper()
	c := testutil.StandaloneCohort(namespace, cohort, "2026-01-01", 12, learningv1alpha1.ProgramPolicy{
		Roles: []learningv1alpha1.RolePolicy{testutil.Role("Member", 0, 10)},
	})
	c.Spec.DisplayName = displayName
	objs := []client.Object{c}
	for _, m := range members {
		ms := testutil.Membership(namespace, m.name, cohort, m.user, "Member")
		ms.Spec.DisplayName = m.name
		ms.Spec.Withdrawn = m.withdrawn
		objs = append(objs, ms)
	}
	for _, o := range objs {
		if err := admin.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
}

// token is a token of the suite's issuer for user and the audiences, valid for ten
// minutes.
func token(t *testing.T, user string, audiences ...string) string {
	t.Helper()
	tok, err := iss.Token(user, time.Now().Add(10*time.Minute), audiences...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// expect fails the test unless GET path answers code.
func expect(t *testing.T, c *http.Client, path string, code int, header ...string) response {
	t.Helper()
	res, err := fetchResponse(c, path, header...)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if res.code != code {
		t.Fatalf("GET %s = %d, want %d: %s", path, res.code, code, res.body)
	}
	return res
}

// waitFor waits until GET path answers code: the operator provisions within moments,
// not at once.
func waitFor(t *testing.T, c *http.Client, path string, code int, header ...string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, fmt.Sprintf("GET %s answers %d", path, code), func() error {
		got, body, err := fetch(c, path, header...)
		if err != nil {
			return err
		}
		if got != code {
			return fmt.Errorf("%d: %s", got, strings.TrimSpace(body))
		}
		return nil
	})
}

var (
	springOnce sync.Once
	springDone bool
)

// spring creates, once for the suite, the cohort spring (one seated member, one
// withdrawn from the start) and its sibling autumn (one seated member), and waits
// until the operator has provisioned both: their members' tokens are let in and the
// withdrawn membership is reconciled as such.
func spring(t *testing.T) {
	t.Helper()
	springOnce.Do(func() {
		createCohort(t, "spring", "Spring cohort", member{"ana", seated, false}, member{"ben", withdrawn, true})
		createCohort(t, "autumn", "Autumn cohort", member{"cy", sibling, false})
		waitFor(t, anonymous, "/cohorts/spring/", http.StatusOK, bearer(token(t, seated, portal.DefaultAudience))...)
		waitFor(t, anonymous, "/cohorts/autumn/", http.StatusOK, bearer(token(t, sibling, portal.DefaultAudience))...)
		testutil.Eventually(t, 30*time.Second, "ben's membership is reconciled as withdrawn", func() error {
			m := &learningv1alpha1.Membership{}
			if err := admin.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: "ben"}, m); err != nil {
				return err
			}
			if m.Status.ObservedGeneration != m.Generation || m.Status.Phase != learningv1alpha1.MembershipWithdrawn {
				return fmt.Errorf("phase %q at generation %d of %d", m.Status.Phase, m.Status.ObservedGeneration, m.Generation)
			}
			return nil
		})
		springDone = true
	})
	if !springDone {
		t.Fatal("the cohorts spring and autumn were not provisioned (see the first test that failed)")
	}
}

// TestBearerTokens: the API server authenticates people's tokens (TokenReview for the
// portal's audience) and authorizes them (SubjectAccessReview on the cohort's overview
// ConfigMap) with the operator's own Roles: only the cohort's seated members see it.
func TestBearerTokens(t *testing.T) {
	spring(t)
	ana := bearer(token(t, seated, portal.DefaultAudience))

	page := expect(t, anonymous, "/cohorts/spring/", http.StatusOK, ana...)
	for _, want := range []string{"<h1>Spring cohort</h1>", `href="calendar.ics"`, `href="roster.json"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("spring's page lacks %q", want)
		}
	}
	roster := expect(t, anonymous, "/cohorts/spring/roster.json", http.StatusOK, ana...)
	if !strings.Contains(roster.body, `"cohort": "spring"`) || !strings.Contains(roster.body, `"displayName": "ana"`) {
		t.Errorf("spring's roster.json:\n%s", roster.body)
	}
	expect(t, anonymous, "/cohorts/spring/calendar.ics", http.StatusOK, ana...)
	if res := expect(t, anonymous, "/cohorts/spring", http.StatusMovedPermanently, ana...); res.header.Get("Location") != "spring/" {
		t.Errorf("/cohorts/spring redirects to %q, want spring/", res.header.Get("Location"))
	}

	expect(t, anonymous, "/cohorts/spring/", http.StatusForbidden, bearer(token(t, withdrawn, portal.DefaultAudience))...)
	cy := bearer(token(t, sibling, portal.DefaultAudience))
	expect(t, anonymous, "/cohorts/spring/", http.StatusForbidden, cy...)
	expect(t, anonymous, "/cohorts/spring/roster.json", http.StatusForbidden, cy...)
	if res := expect(t, anonymous, "/cohorts/autumn/", http.StatusOK, cy...); !strings.Contains(res.body, "<h1>Autumn cohort</h1>") {
		t.Error("autumn's page does not show its name")
	}
	expect(t, anonymous, "/cohorts/autumn/", http.StatusForbidden, ana...)
	olive := bearer(token(t, outsider, portal.DefaultAudience))
	denied := expect(t, anonymous, "/cohorts/spring/", http.StatusForbidden, olive...)
	// A cohort that does not exist is refused in the same words.
	if missing := expect(t, anonymous, "/cohorts/no-such-cohort/", http.StatusForbidden, ana...); missing.body != denied.body {
		t.Errorf("refusals differ: %q for a cohort that does not exist, %q for one that does", missing.body, denied.body)
	}
	expect(t, anonymous, "/cohorts/Spring_Cohort/", http.StatusNotFound, ana...)

	otherAud := token(t, seated, otherAudience)
	logAPIServerVerdict(t, otherAud)
	for name, header := range map[string][]string{
		"no credentials":                  nil,
		"a token for another audience":    bearer(otherAud),
		"a token for both audiences":      bearer(token(t, seated, otherAudience, portal.DefaultAudience)),
		"an expired token":                bearer(expiredToken(t)),
		"a token signed by another key":   bearer(strangerToken(t)),
		"a token that is not a JWT":       bearer("not-a-jwt"),
		"a token with the wrong scheme":   {"Authorization", "Token " + token(t, seated, portal.DefaultAudience)},
		"a seated member's name, spelled": {"X-Remote-User", seated},
	} {
		res, err := fetchResponse(anonymous, "/cohorts/spring/", header...)
		switch {
		case name == "a token for both audiences":
			// Issued for the portal too: accepted, like any token whose aud names it.
			if err != nil || res.code != http.StatusOK {
				t.Errorf("%s: %d %v, want 200", name, res.code, err)
			}
		case err != nil || res.code != http.StatusUnauthorized:
			t.Errorf("%s: %d %v, want 401", name, res.code, err)
		case !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer"):
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", name, res.header.Get("WWW-Authenticate"))
		}
	}
}

// logAPIServerVerdict logs what the API server says of a token for the other audience
// when asked for the portal's: it authenticates it (its JWT authenticators are audience
// agnostic), which is why the portal checks the aud claim itself.
func logAPIServerVerdict(t *testing.T, tok string) {
	t.Helper()
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tok, Audiences: []string{portal.DefaultAudience}}}
	if err := admin.Create(context.Background(), review); err != nil {
		t.Logf("a TokenReview of the other audience's token failed: %v", err)
		return
	}
	t.Logf("the API server's TokenReview of a token for %q, asked for %q: authenticated=%v audiences=%q",
		otherAudience, portal.DefaultAudience, review.Status.Authenticated, review.Status.Audiences)
}

// expiredToken is a seated member's token for the portal that expired a minute ago.
func expiredToken(t *testing.T) string {
	t.Helper()
	tok, err := iss.Token(seated, time.Now().Add(-time.Minute), portal.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// strangerToken is a token that claims the issuer and a seated member but is signed
// with a key the issuer never published.
func strangerToken(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := testutil.SignJWT(key, map[string]any{
		"iss": iss.URL, "sub": seated, "aud": []string{portal.DefaultAudience},
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestProxyHeaders: an authenticating proxy's identity headers count only on a
// connection with a client certificate of the proxy CA and the allowed name; then the
// person they name is authorized like a token's.
func TestProxyHeaders(t *testing.T) {
	spring(t)
	ana := []string{"X-Remote-User", seated, "X-Remote-Group", "learners"}

	expect(t, viaProxy, "/cohorts/spring/", http.StatusOK, ana...)
	expect(t, viaProxy, "/cohorts/spring/", http.StatusForbidden, "X-Remote-User", outsider)
	expect(t, viaProxy, "/cohorts/spring/", http.StatusForbidden, "X-Remote-User", sibling)
	expect(t, viaProxy, "/cohorts/spring/", http.StatusForbidden, "X-Remote-User", withdrawn)

	// Without the proxy's certificate, the headers are refused, even beside a token
	// that would have been let in on its own.
	expect(t, anonymous, "/cohorts/spring/", http.StatusUnauthorized, ana...)
	expect(t, anonymous, "/cohorts/spring/", http.StatusUnauthorized, append(ana, bearer(token(t, seated, portal.DefaultAudience))...)...)
	expect(t, anonymous, "/cohorts/spring/", http.StatusUnauthorized, "X-Remote-Group", "system:masters")
	// A certificate of the proxy CA with another name: refused.
	expect(t, viaOtherName, "/cohorts/spring/", http.StatusUnauthorized, ana...)
	// A certificate of another CA: the TLS handshake fails.
	if res, err := fetchResponse(viaOtherCA, "/cohorts/spring/", ana...); err == nil {
		t.Errorf("a client certificate of another CA got %d, want the connection refused", res.code)
	} else {
		t.Logf("a client certificate of another CA: %v", err)
	}
	// The proxy's certificate without headers is no identity; a token still is.
	expect(t, viaProxy, "/cohorts/spring/", http.StatusUnauthorized)
	expect(t, viaProxy, "/cohorts/spring/", http.StatusOK, bearer(token(t, seated, portal.DefaultAudience))...)
}

// TestWithdrawalEndsAccess: once the operator revokes a withdrawn member's Role
// binding, the portal refuses them within the decision TTL, although it let them in
// moments before (so an allowed decision was remembered).
func TestWithdrawalEndsAccess(t *testing.T) {
	// Names of this run's own, so that the test can run again (-count) in the suite's cluster.
	run := runs.Add(1)
	winter, leaver := fmt.Sprintf("winter-%d", run), fmt.Sprintf("u-dee-%d@example.org", run)
	createCohort(t, winter, "Winter cohort", member{"dee-" + strconv.FormatInt(run, 10), leaver, false})
	dee := bearer(token(t, leaver, portal.DefaultAudience))
	waitFor(t, anonymous, "/cohorts/"+winter+"/", http.StatusOK, dee...)

	ms := &learningv1alpha1.Membership{}
	if err := admin.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: "dee-" + strconv.FormatInt(run, 10)}, ms); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(ms.DeepCopy())
	ms.Spec.Withdrawn = true
	expect(t, anonymous, "/cohorts/"+winter+"/", http.StatusOK, dee...) // remembered from now
	withdrawnAt := time.Now()
	if err := admin.Patch(context.Background(), ms, patch); err != nil {
		t.Fatal(err)
	}

	binding := names.Derive(winter, "read", names.ObjectLimit)
	var revokedAt, deniedAt time.Time
	deadline := withdrawnAt.Add(30 * time.Second)
	for deniedAt.IsZero() && time.Now().Before(deadline) {
		if revokedAt.IsZero() && !bound(t, binding, leaver) {
			revokedAt = time.Now()
		}
		code, body, err := fetch(anonymous, "/cohorts/"+winter+"/", dee...)
		switch {
		case err != nil:
			t.Fatal(err)
		case code == http.StatusForbidden:
			deniedAt = time.Now()
		case code != http.StatusOK:
			t.Fatalf("GET /cohorts/%s/ while withdrawing = %d: %s", winter, code, body)
		default:
			time.Sleep(50 * time.Millisecond)
		}
	}
	if deniedAt.IsZero() {
		t.Fatalf("the withdrawn member still sees the cohort 30s after the withdrawal (binding revoked: %v)", !revokedAt.IsZero())
	}
	if revokedAt.IsZero() {
		// Revoked between the last look at the binding and the portal's review.
		if bound(t, binding, leaver) {
			t.Fatal("the portal refused the member while the operator still binds them: the refusal is not the withdrawal's")
		}
		revokedAt = deniedAt
	}
	t.Logf("withdrawn at 0s; binding revoked after %v; portal refused after %v (%v after the revocation)",
		revokedAt.Sub(withdrawnAt).Round(time.Millisecond), deniedAt.Sub(withdrawnAt).Round(time.Millisecond), deniedAt.Sub(revokedAt).Round(time.Millisecond))
	// The TTL plus the time the API server's authorizer takes to see the binding
	// change and one poll.
	if lag := deniedAt.Sub(revokedAt); lag > portal.MaxDecisionTTL+time.Second {
		t.Errorf("the portal refused %v after the revocation, more than the %v TTL", lag, portal.MaxDecisionTTL)
	}
	expect(t, anonymous, "/cohorts/"+winter+"/roster.json", http.StatusForbidden, dee...)
}

// bound reports whether the cohort's Read RoleBinding binds user.
func bound(t *testing.T, name, user string) bool {
	t.Helper()
	rb := &rbacv1.RoleBinding{}
	err := admin.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, rb)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool { return s.Kind == rbacv1.UserKind && s.Name == user })
}

// TestMetricsCountRefusals: the portal counts each refusal by reason and each
// decision by outcome, and serves its health and metrics without credentials.
func TestMetricsCountRefusals(t *testing.T) {
	spring(t)
	expect(t, anonymous, "/healthz", http.StatusOK)
	expect(t, anonymous, "/readyz", http.StatusOK)
	before := scrape(t)
	expect(t, anonymous, "/cohorts/spring/", http.StatusUnauthorized)
	expect(t, anonymous, "/cohorts/spring/", http.StatusUnauthorized, bearer(token(t, seated, otherAudience))...)
	expect(t, anonymous, "/cohorts/spring/", http.StatusUnauthorized, "X-Remote-User", seated)
	// An outsider of this run's own, whose denial no earlier request left cached.
	stranger := bearer(token(t, fmt.Sprintf("u-stranger-%d@example.org", runs.Add(1)), portal.DefaultAudience))
	expect(t, anonymous, "/cohorts/spring/", http.StatusForbidden, stranger...)
	expect(t, anonymous, "/cohorts/spring/", http.StatusForbidden, stranger...)
	after := scrape(t)
	for series, want := range map[string]float64{
		`cohort_portal_authentication_failures_total{reason="no_credentials"}`:            1,
		`cohort_portal_authentication_failures_total{reason="token_refused"}`:             1,
		`cohort_portal_authentication_failures_total{reason="proxy_without_certificate"}`: 1,
		`cohort_portal_authorization_decisions_total{cached="false",decision="denied"}`:   1,
		`cohort_portal_authorization_decisions_total{cached="true",decision="denied"}`:    1,
		`cohort_portal_http_requests_total{code="401",route="index"}`:                     3,
		`cohort_portal_http_requests_total{code="403",route="index"}`:                     2,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s rose by %v, want %v", series, got, want)
		}
	}
}

// scrape reads the portal's metrics as series to value.
func scrape(t *testing.T) map[string]float64 {
	t.Helper()
	res := expect(t, anonymous, "/metrics", http.StatusOK)
	out := map[string]float64{}
	for _, line := range strings.Split(res.body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
