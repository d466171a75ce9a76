package nodee2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// proxyPath is the API server's service proxy path to a cohort's portal.
func proxyPath(ctx context.Context, t *testing.T, cohortName string) string {
	t.Helper()
	list := &corev1.ServiceList{}
	if err := admin.List(ctx, list, client.InNamespace(programs), client.MatchingLabels{"app.kubernetes.io/component": "portal", "learning.cohort.dev/cohort": cohortName}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("want one portal Service of %s, got %d", cohortName, len(list.Items))
	}
	return fmt.Sprintf("/api/v1/namespaces/%s/services/%s:http/proxy", programs, list.Items[0].Name)
}

// person is someone with a client certificate of the cluster.
type person struct {
	name   string
	client *http.Client
	host   string
}

func newPerson(t *testing.T, name string) *person {
	t.Helper()
	cfg, err := node.Cluster.AddUser(name)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc.Timeout = 5 * time.Second
	return &person{name: name, client: hc, host: strings.TrimSuffix(cfg.Host, "/")}
}

// get fetches a path of the API server as the person: its status code and body.
func (p *person) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.host+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// seatedAndWaitlisted returns the member of a cohort's first seated membership of a
// read-only role, that membership, and the member of its first waitlisted one.
func seatedAndWaitlisted(ctx context.Context, t *testing.T, cohortName, role string) (seated string, seatedMembership string, waitlisted string) {
	t.Helper()
	list := &learningv1alpha1.MembershipList{}
	if err := admin.List(ctx, list, client.InNamespace(programs)); err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Items {
		if string(m.Spec.CohortRef.Name) != cohortName || m.Spec.Withdrawn {
			continue
		}
		switch {
		case m.Status.WaitlistPosition != nil && waitlisted == "":
			waitlisted = m.Spec.Member
		case m.Status.WaitlistPosition == nil && m.Status.Phase == learningv1alpha1.MembershipActive && string(m.Spec.Role) == role && seated == "":
			seated, seatedMembership = m.Spec.Member, m.Name
		}
	}
	if seated == "" {
		t.Fatalf("no seated, active %s of %s in the samples", role, cohortName)
	}
	return seated, seatedMembership, waitlisted
}

// membersReadTheirPortal reads the portal page, calendar and roster through the
// service proxy as a seated member; a waitlisted member, a member of the other
// cohort and an outsider get 403. It saves a screenshot of the page as the member
// sees it, then withdraws the member and measures how soon the proxy refuses them.
func membersReadTheirPortal(ctx context.Context, t *testing.T) {
	base := proxyPath(ctx, t, cohort)
	seatedName, seatedMembership, waitlistedName := seatedAndWaitlisted(ctx, t, cohort, "Member")
	if waitlistedName == "" {
		t.Fatalf("no waitlisted member of %s in the samples", cohort)
	}
	otherName, _, _ := seatedAndWaitlisted(ctx, t, otherCohort, "Leader")
	seated, other := newPerson(t, seatedName), newPerson(t, otherName)
	display := cohortDisplayName(ctx, t, cohort)
	for path, want := range map[string]string{"/": display, "/calendar.ics": "BEGIN:VCALENDAR", "/roster.json": `"members"`} {
		code, body := eventuallyGet(ctx, t, seated, base+path, http.StatusOK)
		if code == http.StatusOK && !strings.Contains(body, want) {
			t.Errorf("%s through the proxy as %s lacks %q:\n%.400s", path, seatedName, want, body)
		}
	}
	var roster struct {
		Members []json.RawMessage `json:"members"`
	}
	if _, body, _ := seated.get(ctx, base+"/roster.json"); json.Unmarshal([]byte(body), &roster) != nil || len(roster.Members) == 0 {
		t.Errorf("the roster through the proxy is not a roster with members:\n%.400s", body)
	}
	if code, _ := eventuallyGet(ctx, t, other, proxyPath(ctx, t, otherCohort)+"/", http.StatusOK); code != http.StatusOK {
		t.Errorf("%s, seated in %s, cannot read its own portal: %d", otherName, otherCohort, code)
	}
	for _, p := range []*person{newPerson(t, waitlistedName), other, newPerson(t, "nodee2e-outsider")} {
		for _, path := range []string{"/", "/calendar.ics", "/roster.json"} {
			if code, body, err := p.get(ctx, base+path); err != nil || code != http.StatusForbidden {
				t.Errorf("%s%s as %s: %d %v, want 403\n%.300s", base, path, p.name, code, err, body)
			}
		}
	}
	screenshot(t, seated, base)

	m := &learningv1alpha1.Membership{}
	m.Namespace, m.Name = programs, seatedMembership
	withdrawn := time.Now()
	if err := admin.Patch(ctx, m, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"withdrawn":true}}`))); err != nil {
		t.Fatal(err)
	}
	code, _ := eventuallyGet(ctx, t, seated, base+"/", http.StatusForbidden)
	refusedAfter := time.Since(withdrawn)
	t.Logf("withdrawal of %s to 403 through the proxy: %s", seatedName, refusedAfter.Round(time.Millisecond))
	if code != http.StatusForbidden || refusedAfter > 5*time.Second {
		t.Errorf("after the withdrawal %s still reads the portal (%d after %s)", seatedName, code, refusedAfter)
	}
}

// eventuallyGet polls a path as a person until it answers want (15 s at most) and
// returns the last answer.
func eventuallyGet(ctx context.Context, t *testing.T, p *person, path string, want int) (int, string) {
	t.Helper()
	var code int
	var body string
	var err error
	_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		code, body, err = p.get(ctx, path)
		return err == nil && code == want, nil
	})
	if code != want {
		t.Errorf("%s as %s: %d %v, want %d\n%.300s", path, p.name, code, err, want, body)
	}
	return code, body
}

func cohortDisplayName(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	c := &learningv1alpha1.Cohort{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: programs, Name: name}, c); err != nil {
		t.Fatal(err)
	}
	return c.Spec.DisplayName
}

// screenshot shows the portal to headless Chromium as the member reads it through
// the service proxy: a local server forwards every request of the page, with the
// member's client certificate, to the proxy path. The screenshot is left in
// test/artifacts for a person to look at.
func screenshot(t *testing.T, p *person, base string) {
	t.Helper()
	testutil.RequireBrowser(t)
	forward := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, body, err := p.get(r.Context(), base+r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, ".json"):
			w.Header().Set("Content-Type", "application/json")
		case strings.HasSuffix(r.URL.Path, ".ics"):
			w.Header().Set("Content-Type", "text/calendar")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	defer forward.Close()
	tab := testutil.NewBrowser(t, time.Minute)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(forward.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.roster"))); err != nil {
		t.Fatalf("opening the portal in Chromium: %v", err)
	}
	heading, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Chromium shows the portal's heading %q as %s", heading, p.name)
	testutil.SaveScreenshot(t, tab, testutil.Path("test", "artifacts", "node-portal-"+cohort+".png"))
}
