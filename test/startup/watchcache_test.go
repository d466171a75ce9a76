package startup

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/controllers"
	"github.com/cohort-dev/cohort-operator/internal/testmanager"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// initWindow is how long the proxy answers watches of the operator's kinds with 429. A
// reflector's watch request is retried by client-go ten times a Retry-After apart (about
// 10 s) before the reflector backs off (0.8 s doubling, with up to as much again of
// jitter) and asks again; the window outlasts three such rounds, so that it usually ends
// during a backoff of several seconds. A shorter window ends within client-go's own
// retries, which hide it: 12 s cost about a second with or without the wait.
const initWindow = 34 * time.Second

// statusAfterWindow bounds how long after the window a program may wait for its status
// when the manager waited for the API server to serve its kinds before it started: the
// issue's 5 s (about 1.7 s measured here; without the wait, 4.6-6.2 s).
const statusAfterWindow = 5 * time.Second

// evaluatedAt is the instant the managers evaluate the rules at.
var evaluatedAt = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// operatorWatch returns the resource a request watches when it is a watch of one of the
// operator's kinds, and "" otherwise.
func operatorWatch(r *http.Request) string {
	if !testutil.IsWatch(r) {
		return ""
	}
	if !strings.HasPrefix(r.URL.Path, "/apis/"+learningv1alpha1.GroupVersion.Group+"/") {
		return ""
	}
	return path.Base(r.URL.Path)
}

// initializingProxy answers every watch of the operator's kinds with 429 "storage is
// (re)initializing" and Retry-After 1 s, as kube-apiserver does while it fills the
// watch cache of a custom resource, until window has passed since start; then it
// passes everything. It records when each resource's first watch was let through.
type initializingProxy struct {
	window time.Duration

	mu       sync.Mutex
	started  time.Time
	refused  int
	admitted map[string]time.Time
}

func (p *initializingProxy) start(t *testing.T, cfg *rest.Config) *rest.Config {
	p.started, p.admitted = time.Now(), map[string]time.Time{}
	proxied, _ := testutil.APIProxy(t, cfg, p.refuse, nil)
	return proxied
}

func (p *initializingProxy) refuse(w http.ResponseWriter, r *http.Request) bool {
	resource := operatorWatch(r)
	if resource == "" {
		return false
	}
	p.mu.Lock()
	now := time.Now()
	initializing := now.Before(p.windowEnd())
	if initializing {
		p.refused++
	} else if _, seen := p.admitted[resource]; !seen {
		p.admitted[resource] = now
	}
	p.mu.Unlock()
	if initializing {
		testutil.WriteStatus(w, http.StatusTooManyRequests, string(metav1.StatusReasonTooManyRequests), "storage is (re)initializing", 1)
	}
	return initializing
}

func (p *initializingProxy) windowEnd() time.Time { return p.started.Add(p.window) }

// stats says how many watches were refused and, for each resource, how long after the
// window its first watch came.
func (p *initializingProxy) stats() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var firsts []string
	for resource, at := range p.admitted {
		firsts = append(firsts, fmt.Sprintf("%s +%s", resource, at.Sub(p.windowEnd()).Round(10*time.Millisecond)))
	}
	slices.Sort(firsts)
	return fmt.Sprintf("%d watches refused; first watch after the window: %s", p.refused, strings.Join(firsts, ", "))
}

// startManager starts a manager of namespace ns through cfg without waiting for its
// caches, as a Deployment's pod starts, first waiting for the API server to serve the
// operator's kinds when waitForAPIs is set (as cmd/main.go does). The manager stops when
// the test ends.
func startManager(t *testing.T, cfg *rest.Config, ns string, waitForAPIs bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *testmanager.Manager, 1)
	go func() {
		defer close(started)
		if waitForAPIs {
			if err := waitForAPIsThrough(ctx, cfg, ns, time.Minute); err != nil {
				t.Errorf("WaitForAPIs: %v", err)
				return
			}
		}
		m, err := testmanager.Start(ctx, testmanager.Options{
			Config:     cfg,
			Clock:      clocktesting.NewFakePassiveClock(evaluatedAt),
			Namespaces: []string{ns},
		})
		if err != nil {
			t.Errorf("starting the manager: %v", err)
			return
		}
		started <- m
	}()
	t.Cleanup(func() {
		cancel()
		if m := <-started; m != nil {
			if err := m.Stop(); err != nil {
				t.Errorf("stopping the manager: %v", err)
			}
		}
	})
}

// waitForAPIsThrough calls controllers.WaitForAPIs with a RESTMapper of cfg, as the
// manager's would be.
func waitForAPIsThrough(ctx context.Context, cfg *rest.Config, ns string, timeout time.Duration) error {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return err
	}
	return controllers.WaitForAPIs(ctx, cfg, mapper, ns, timeout)
}

// programStatusAfterInit starts a manager behind an initializingProxy, applies a
// program (a standalone cohort and one membership) at once, and returns how long after
// the proxy's window the cohort's status appeared.
func programStatusAfterInit(t *testing.T, waitForAPIs bool) time.Duration {
	t.Helper()
	ctx := context.Background()
	ns := testutil.Namespace(t, admin)
	t.Cleanup(func() { _ = admin.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })
	proxy := &initializingProxy{window: initWindow}
	startManager(t, proxy.start(t, managerConfig), ns, waitForAPIs)

	cohort := testutil.StandaloneCohort(ns, "first", "2026-03-01", 6, learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{testutil.Role("Member", 0, 5)}})
	for _, obj := range []client.Object{cohort, testutil.Membership(ns, "ada", "first", "ada@example.org", "Member")} {
		if err := admin.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	deadline := proxy.windowEnd().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(cohort), cohort); err != nil {
			t.Fatal(err)
		}
		if apimeta.FindStatusCondition(cohort.Status.Conditions, learningv1alpha1.ReadyCondition) != nil {
			delay := time.Since(proxy.windowEnd())
			t.Logf("the cohort's status appeared %s after the %s window (%s)", delay.Round(10*time.Millisecond), initWindow, proxy.stats())
			return delay
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the cohort had no status 90 s after the %s window (%s)", initWindow, proxy.stats())
	return 0
}

// TestProgramStatusAfterWatchCacheInit shows what a manager started on a fresh cluster
// meets: while kube-apiserver fills the watch cache of a custom resource it answers its
// watches with 429, client-go retries each watch ten times a Retry-After apart and then
// backs its reflector off exponentially, and the controller starts no worker until every
// informer has synced. A program applied at the manager's start waits for that backoff,
// silently; a manager that waits for the API server to serve its kinds first
// (controllers.WaitForAPIs) starts informers whose first watch succeeds, and the
// program's status follows the window within statusAfterWindow.
//
// The manager without the wait is measured and logged, not bounded: where the window
// ends within the reflectors' retries and backoff varies from run to run.
func TestProgramStatusAfterWatchCacheInit(t *testing.T) {
	t.Run("without WaitForAPIs", func(t *testing.T) {
		t.Parallel()
		programStatusAfterInit(t, false)
	})
	t.Run("with WaitForAPIs", func(t *testing.T) {
		t.Parallel()
		if delay := programStatusAfterInit(t, true); delay > statusAfterWindow {
			t.Errorf("the cohort's status appeared %s after the window, want within %s", delay.Round(10*time.Millisecond), statusAfterWindow)
		}
	})
}

// TestWaitForAPIs checks that WaitForAPIs returns at once when the API server serves
// every kind, and fails within its timeout naming the kind it does not serve.
func TestWaitForAPIs(t *testing.T) {
	t.Run("served", func(t *testing.T) {
		start := time.Now()
		if err := waitForAPIsThrough(context.Background(), managerConfig, "", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("WaitForAPIs took %s against an API server that serves every kind", took)
		}
	})
	t.Run("a kind not served", func(t *testing.T) {
		proxied, _ := testutil.APIProxy(t, managerConfig, func(w http.ResponseWriter, r *http.Request) bool {
			if operatorWatch(r) != "learningevents" {
				return false
			}
			testutil.WriteStatus(w, http.StatusNotFound, string(metav1.StatusReasonNotFound), "the server could not find the requested resource", 0)
			return true
		}, nil)
		const timeout = 2 * time.Second
		start := time.Now()
		err := waitForAPIsThrough(context.Background(), proxied, "", timeout)
		took := time.Since(start)
		if err == nil {
			t.Fatal("WaitForAPIs succeeded although the API server does not serve LearningEvent")
		}
		if msg := err.Error(); !strings.Contains(msg, "did not serve LearningEvent") || strings.Contains(msg, "did not serve Cohort") {
			t.Errorf("the error should name LearningEvent, and only it: %v", err)
		}
		if !apierrors.IsNotFound(err) {
			t.Errorf("the error should carry the API server's answer, NotFound: %v", err)
		}
		if took < timeout || took > timeout+2*time.Second {
			t.Errorf("WaitForAPIs failed after %s, want after its timeout of %s", took, timeout)
		}
		t.Logf("WaitForAPIs failed after %s: %v", took.Round(10*time.Millisecond), err)
	})
}
