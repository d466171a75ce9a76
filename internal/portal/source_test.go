package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

const testNamespace = "learning"

var testOptions = Options{
	Namespace:         testNamespace,
	Cohort:            "allyship-2026",
	RosterConfigMap:   "allyship-2026-roster",
	CalendarConfigMap: "allyship-2026-calendar",
	OverviewConfigMap: "allyship-2026-overview",
}

func configMap(name, key, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Data:       map[string]string{key: value},
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// publishedConfigMaps are the three ConfigMaps as the manager writes them, plus a
// fourth in the namespace that the portal must never read.
func publishedConfigMaps(t *testing.T, docs Documents) []runtime.Object {
	return []runtime.Object{
		configMap(testOptions.RosterConfigMap, publish.RosterKey, mustJSON(t, docs.Roster)),
		configMap(testOptions.CalendarConfigMap, publish.CalendarKey, string(docs.Calendar)),
		configMap(testOptions.OverviewConfigMap, publish.OverviewKey, mustJSON(t, docs.Overview)),
		configMap("another-cohort-roster", publish.RosterKey, `{"cohort":"other"}`),
	}
}

// TestConfigMapSourceOnlyGetsItsConfigMaps checks the contract with the portal's Role:
// one get per named ConfigMap, no list or watch, nothing in another namespace.
func TestConfigMapSourceOnlyGetsItsConfigMaps(t *testing.T) {
	want := allyshipDocuments()
	client := fake.NewClientset(publishedConfigMaps(t, want)...)
	src := NewConfigMapSource(client, testOptions)

	got, err := src.Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-published +loaded):\n%s", diff)
	}

	type action struct{ Verb, Resource, Namespace, Name string }
	var actions []action
	for _, a := range client.Actions() {
		act := action{Verb: a.GetVerb(), Resource: a.GetResource().Resource, Namespace: a.GetNamespace()}
		if g, ok := a.(k8stesting.GetAction); ok {
			act.Name = g.GetName()
		}
		actions = append(actions, act)
	}
	wantActions := []action{
		{Verb: "get", Resource: "configmaps", Namespace: testNamespace, Name: testOptions.RosterConfigMap},
		{Verb: "get", Resource: "configmaps", Namespace: testNamespace, Name: testOptions.OverviewConfigMap},
		{Verb: "get", Resource: "configmaps", Namespace: testNamespace, Name: testOptions.CalendarConfigMap},
	}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
}

// TestConfigMapSourceThroughTheServer loads through the Server as Run wires it, and
// refreshes twice: every request is still a get by name.
func TestConfigMapSourceThroughTheServer(t *testing.T) {
	client := fake.NewClientset(publishedConfigMaps(t, allyshipDocuments())...)
	s := NewServer(NewConfigMapSource(client, testOptions), testOptions.Cohort, clocktesting.NewFakePassiveClock(sampleNow))
	for range 2 {
		if err := s.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	allowed := map[string]bool{testOptions.RosterConfigMap: true, testOptions.CalendarConfigMap: true, testOptions.OverviewConfigMap: true}
	if n := len(client.Actions()); n != 6 {
		t.Errorf("two refreshes made %d requests, want 6", n)
	}
	for _, a := range client.Actions() {
		g, ok := a.(k8stesting.GetAction)
		if !ok || a.GetVerb() != "get" || !allowed[g.GetName()] || a.GetNamespace() != testNamespace {
			t.Errorf("unexpected request %s %s in %q", a.GetVerb(), a.GetResource().Resource, a.GetNamespace())
		}
	}
}

// TestRunReadsTheConfigMaps runs the portal as cmd wires it: it reads the three
// ConfigMaps by name and returns nil when its context ends.
func TestRunReadsTheConfigMaps(t *testing.T) {
	client := fake.NewClientset(publishedConfigMaps(t, allyshipDocuments())...)
	opts := testOptions
	opts.Address = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, client, opts) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(client.Actions()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("Run made %d requests in 5s, want 3", len(client.Actions()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run = %v after its context ended, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of its context ending")
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("Run made a %s request", a.GetVerb())
		}
	}
}

func TestConfigMapSourceSharedConfigMap(t *testing.T) {
	docs := allyshipDocuments()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "allyship-2026-portal", Namespace: testNamespace},
		Data: map[string]string{
			publish.RosterKey:   mustJSON(t, docs.Roster),
			publish.OverviewKey: mustJSON(t, docs.Overview),
			publish.CalendarKey: string(docs.Calendar),
		},
	}
	client := fake.NewClientset(cm)
	opts := testOptions
	opts.RosterConfigMap, opts.CalendarConfigMap, opts.OverviewConfigMap = cm.Name, cm.Name, cm.Name
	if _, err := NewConfigMapSource(client, opts).Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(client.Actions()); n != 1 {
		t.Errorf("one ConfigMap named three times was read %d times, want 1", n)
	}
}

func TestConfigMapSourceErrors(t *testing.T) {
	docs := allyshipDocuments()
	roster := mustJSON(t, docs.Roster)
	overview := mustJSON(t, docs.Overview)
	tests := map[string]struct {
		objects  []runtime.Object
		want     string
		notFound bool
	}{
		"missing ConfigMap": {
			objects:  []runtime.Object{configMap(testOptions.RosterConfigMap, publish.RosterKey, roster)},
			want:     "getting ConfigMap learning/allyship-2026-overview",
			notFound: true,
		},
		"missing key": {
			objects: []runtime.Object{
				configMap(testOptions.RosterConfigMap, "members.json", roster),
				configMap(testOptions.OverviewConfigMap, publish.OverviewKey, overview),
				configMap(testOptions.CalendarConfigMap, publish.CalendarKey, sampleCalendar),
			},
			want: `ConfigMap learning/allyship-2026-roster has no key "roster.json"`,
		},
		"broken JSON": {
			objects: []runtime.Object{
				configMap(testOptions.RosterConfigMap, publish.RosterKey, roster),
				configMap(testOptions.OverviewConfigMap, publish.OverviewKey, overview[:40]),
				configMap(testOptions.CalendarConfigMap, publish.CalendarKey, sampleCalendar),
			},
			want: "decoding overview.json of ConfigMap learning/allyship-2026-overview",
		},
		"not a calendar": {
			objects: []runtime.Object{
				configMap(testOptions.RosterConfigMap, publish.RosterKey, roster),
				configMap(testOptions.OverviewConfigMap, publish.OverviewKey, overview),
				configMap(testOptions.CalendarConfigMap, publish.CalendarKey, "<html>oops</html>"),
			},
			want: "not an iCalendar object",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewConfigMapSource(fake.NewClientset(tc.objects...), testOptions).Load(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tc.want)
			}
			if got := apierrors.IsNotFound(err); got != tc.notFound {
				t.Errorf("IsNotFound(%v) = %v, want %v", err, got, tc.notFound)
			}
		})
	}
}

// TestRunServesBeforeTheFirstLoad: the portal accepts connections and answers /healthz
// while its first load of the documents is still waiting on the API server, answers
// /readyz with 503 until that load completes, and 200 right after.
func TestRunServesBeforeTheFirstLoad(t *testing.T) {
	client := fake.NewClientset(publishedConfigMaps(t, allyshipDocuments())...)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	releaseLoad := sync.OnceFunc(func() { close(release) })
	client.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		once.Do(func() { close(started) })
		<-release // a slow API server; the tracker answers once released
		return false, nil, nil
	})
	ln, err := Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions
	opts.Listener = ln
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, client, opts) }()
	defer func() {
		releaseLoad()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run = %v after its context ended, want nil", err)
		}
	}()

	status := func(path string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s while the first load waits: %v", path, err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the first load did not start within 5s")
	}
	if got := status("/healthz"); got != http.StatusOK {
		t.Errorf("GET /healthz while the first load waits = %d, want 200", got)
	}
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while the first load waits = %d, want 503", got)
	}
	releaseLoad()
	deadline := time.Now().Add(5 * time.Second)
	for status("/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the portal was not ready within 5s of its first load being answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
