package nodee2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/portal"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// sharedPrograms is the namespace the release leaves to a shared portal
// (portal.shared.namespaces).
const sharedPrograms = "shared-programs"

// otherAudience is an audience the API server accepts tokens for besides the portal's:
// such a token is a credential of the cluster, but not of the portal.
const otherAudience = "other-app"

// iss issues the people's tokens; the node's API server trusts it for the portal's
// audience and otherAudience (TestMain).
var iss *testutil.Issuer

// sharedPortalAccess runs two cohorts in the shared portal's namespace and asks the
// release's shared portal for a cohort's pages from the node, through its Service,
// with the people's own tokens: a seated member reads them; a member of the sibling
// cohort, a token for another audience and identity headers from a client without the
// proxy's certificate are refused; and a member withdrawn meanwhile loses access
// within the portal's 5 s decision cache.
func sharedPortalAccess(ctx context.Context, t *testing.T) {
	start := learningv1alpha1.Date(time.Now().UTC().Format("2006-01") + "-01")
	spring := testutil.Cohort(sharedPrograms, "spring", "circle", start, 12)
	spring.Spec.DisplayName = "Spring circle"
	spring.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	for _, obj := range []client.Object{
		testutil.Community(sharedPrograms, "circle", testutil.Role("Member", 0, 5)),
		spring,
		testutil.Cohort(sharedPrograms, "autumn", "circle", start, 12),
		testutil.Membership(sharedPrograms, "ada", "spring", "ada@example.org", "Member"),
		testutil.Membership(sharedPrograms, "bo", "spring", "bo@example.org", "Member"),
		testutil.Membership(sharedPrograms, "cy", "autumn", "cy@example.org", "Member"),
	} {
		if err := admin.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	kubectl(t, "wait", "-n", sharedPrograms, "--for=condition=Ready", "--timeout=60s", "mbr", "--all")
	kubectl(t, "wait", "-n", sharedPrograms, "--for=condition=Provisioned", "--timeout=60s", "coh", "--all")
	kubectl(t, "wait", "-n", sharedPrograms, "--for=condition=PortalAvailable=True", "--timeout=30s", "coh/spring")

	base := sharedPortalURLIn(ctx, t, sharedPrograms)
	token := func(user string, audiences ...string) string {
		tok, err := iss.Token(user, time.Now().Add(10*time.Minute), audiences...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	ada, bo := bearer(token("ada@example.org", portal.DefaultAudience)), bearer(token("bo@example.org", portal.DefaultAudience))
	cy := bearer(token("cy@example.org", portal.DefaultAudience))

	code, body := eventuallyShared(ctx, t, base+"/cohorts/spring/", ada, http.StatusOK)
	if code == http.StatusOK && !strings.Contains(body, "Spring circle") {
		t.Errorf("ada's page of spring lacks the cohort's name:\n%.400s", body)
	}
	for _, path := range []string{"/cohorts/spring/calendar.ics", "/cohorts/spring/roster.json"} {
		eventuallyShared(ctx, t, base+path, ada, http.StatusOK)
	}
	eventuallyShared(ctx, t, base+"/cohorts/autumn/", cy, http.StatusOK)
	for what, c := range map[string]struct {
		header http.Header
		want   int
	}{
		"a member of the sibling cohort":                {cy, http.StatusForbidden},
		"ada's token for another audience":              {bearer(token("ada@example.org", otherAudience)), http.StatusUnauthorized},
		"proxy headers without the proxy's certificate": {http.Header{"X-Remote-User": {"ada@example.org"}, "X-Remote-Group": {"system:masters"}}, http.StatusUnauthorized},
		"no credentials":                                {nil, http.StatusUnauthorized},
	} {
		if code, body, err := sharedGet(ctx, base+"/cohorts/spring/", c.header); err != nil || code != c.want {
			t.Errorf("%s asking for spring: %d %v, want %d\n%.300s", what, code, err, c.want, body)
		}
	}

	eventuallyShared(ctx, t, base+"/cohorts/spring/", bo, http.StatusOK)
	m := &learningv1alpha1.Membership{}
	m.Namespace, m.Name = sharedPrograms, "bo"
	withdrawn := time.Now()
	if err := admin.Patch(ctx, m, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"withdrawn":true}}`))); err != nil {
		t.Fatal(err)
	}
	code, _ = eventuallyShared(ctx, t, base+"/cohorts/spring/", bo, http.StatusForbidden)
	refusedAfter := time.Since(withdrawn)
	t.Logf("withdrawal of bo to 403 from the shared portal: %s", refusedAfter.Round(time.Millisecond))
	// The operator revokes the Role at once; the portal remembers a decision 5 s at most.
	if code != http.StatusForbidden || refusedAfter > 7*time.Second {
		t.Errorf("after the withdrawal bo still reads spring (%d after %s)", code, refusedAfter)
	}
	if code, _, err := sharedGet(ctx, base+"/cohorts/spring/", ada); err != nil || code != http.StatusOK {
		t.Errorf("ada lost access with bo's withdrawal: %d %v", code, err)
	}
}

// sharedGet asks the shared portal for url with the headers.
func sharedGet(ctx context.Context, url string, header http.Header) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// eventuallyShared asks until the answer is want (15 s at most) and returns the last.
func eventuallyShared(ctx context.Context, t *testing.T, url string, header http.Header, want int) (int, string) {
	t.Helper()
	var code int
	var body string
	var err error
	_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		code, body, err = sharedGet(ctx, url, header)
		return err == nil && code == want, nil
	})
	if code != want {
		t.Errorf("%s: %d %v, want %d\n%.300s", url, code, err, want, body)
	}
	return code, body
}
