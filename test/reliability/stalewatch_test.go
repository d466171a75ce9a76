package reliability

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// watchProxy stands between a manager and the API server on loopback and makes its
// watches unreliable: it delays every chunk of a watch stream, closes streams early,
// and refuses some watches with 410 Gone, as an API server does when the resource
// version a watch resumes from has been compacted away. Everything else passes
// through unchanged, authenticated as the manager.
type watchProxy struct {
	// maxDelay bounds the delay of each chunk of a watch stream.
	maxDelay time.Duration
	// minLife and maxLife bound how long a watch stream stays open.
	minLife, maxLife time.Duration
	// goneEvery refuses every goneEvery-th watch that resumes from a resource version.
	goneEvery int64

	server  *httptest.Server
	watches atomic.Int64
	gone    atomic.Int64
	cut     atomic.Int64
	mu      sync.Mutex
	rnd     *rand.Rand
}

// start serves the proxy in front of the API server cfg names, authenticating as cfg's
// identity, and returns a configuration that reaches the API server through it.
func (p *watchProxy) start(t *testing.T, cfg *rest.Config) *rest.Config {
	t.Helper()
	p.rnd = rand.New(rand.NewPCG(1, 2))
	var proxied *rest.Config
	proxied, p.server = testutil.APIProxy(t, cfg, func(w http.ResponseWriter, r *http.Request) bool {
		if !testutil.IsWatch(r) {
			return false
		}
		n := p.watches.Add(1)
		if rv := r.URL.Query().Get("resourceVersion"); rv != "" && rv != "0" && n%p.goneEvery == 0 {
			p.gone.Add(1)
			testutil.WriteStatus(w, http.StatusGone, "Expired", "too old resource version: "+rv, 0)
			return true
		}
		return false
	}, func(resp *http.Response) error {
		// Streams cut short are the point.
		if testutil.IsWatch(resp.Request) && resp.StatusCode == http.StatusOK {
			body := resp.Body
			time.AfterFunc(p.life(), func() { p.cut.Add(1); _ = body.Close() })
			resp.Body = &delayedBody{body: body, proxy: p}
		}
		return nil
	})
	return proxied
}

// life draws how long a watch stream stays open.
func (p *watchProxy) life() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.minLife + time.Duration(p.rnd.Int64N(int64(p.maxLife-p.minLife)))
}

// delay draws the delay of one chunk.
func (p *watchProxy) delay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.rnd.Int64N(int64(p.maxDelay)))
}

// delayedBody delays each read of a watch stream.
type delayedBody struct {
	body  io.ReadCloser
	proxy *watchProxy
}

func (b *delayedBody) Read(buf []byte) (int, error) {
	time.Sleep(b.proxy.delay())
	return b.body.Read(buf)
}

func (b *delayedBody) Close() error { return b.body.Close() }

// stats says what the proxy did.
func (p *watchProxy) stats() string {
	return fmt.Sprintf("%d watches, %d refused with 410 Gone, %d streams cut short", p.watches.Load(), p.gone.Load(), p.cut.Load())
}

// step is one change a user makes to the workload, and how to tell that the manager
// has acted on it.
type step struct {
	name   string
	change func(ctx context.Context, ns string) error
	seen   func(ctx context.Context, ns string) (bool, error)
}

// steps changes every kind of object of the workload: a withdrawal that promotes the
// waitlisted member, attendance recorded, the schedule's lookahead raised, an event's
// title edited, a membership joining the waitlist and one deleted, which seats it.
func steps() []step {
	return []step{
		{"m-1 withdraws", patchSpec(&learningv1alpha1.Membership{}, "m-1", `{"spec":{"withdrawn":true}}`), observed(&learningv1alpha1.Membership{}, "m-1")},
		{"m-3's attendance is recorded", patchSpec(&learningv1alpha1.LearningEvent{}, kickoff, `{"spec":{"attendance":[{"member":"lead-1","status":"Present"},{"member":"m-1","status":"Present"},{"member":"m-2","status":"Late"},{"member":"m-3","status":"Excused"}]}}`), observed(&learningv1alpha1.LearningEvent{}, kickoff)},
		{"the lookahead grows", patchSpec(&learningv1alpha1.Cohort{}, cohort, `{"spec":{"schedule":{"lookahead":3}}}`), observed(&learningv1alpha1.Cohort{}, cohort)},
		{"the talk is renamed", patchSpec(&learningv1alpha1.LearningEvent{}, speaker, `{"spec":{"title":"Allyship in practice, part one"}}`), observed(&learningv1alpha1.LearningEvent{}, speaker)},
		{"m-4 joins", func(ctx context.Context, ns string) error {
			return admin.Create(ctx, testutil.Membership(ns, "m-4", cohort, "m-4@example.org", "Member"))
		}, observed(&learningv1alpha1.Membership{}, "m-4")},
		{"m-2 is deleted", func(ctx context.Context, ns string) error {
			return admin.Delete(ctx, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m-2"}})
		}, func(ctx context.Context, ns string) (bool, error) {
			m := &learningv1alpha1.Membership{}
			if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "m-4"}, m); err != nil {
				return false, err
			}
			return apimeta.IsStatusConditionTrue(m.Status.Conditions, "Seated"), nil
		}},
	}
}

// patchSpec merge-patches the named object of a namespace as the administrator.
func patchSpec(obj client.Object, name, patch string) func(context.Context, string) error {
	return func(ctx context.Context, ns string) error {
		o := obj.DeepCopyObject().(client.Object)
		o.SetNamespace(ns)
		o.SetName(name)
		return admin.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(patch)))
	}
}

// observed tells whether the manager has written the status of the named object's
// current generation.
func observed(obj client.Object, name string) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, ns string) (bool, error) {
		o := obj.DeepCopyObject().(client.Object)
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o); err != nil {
			return false, err
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return false, err
		}
		seen, _, _ := unstructured.NestedInt64(u, "status", "observedGeneration")
		return seen == o.GetGeneration(), nil
	}
}

// runSteps makes each step in namespace ns and waits until the manager has acted on it.
func runSteps(t *testing.T, ns string) {
	t.Helper()
	for _, s := range steps() {
		if err := s.change(context.Background(), ns); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var last error
		err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, convergeTimeout, true, func(ctx context.Context) (bool, error) {
			ok, err := s.seen(ctx, ns)
			last = err
			return ok, nil
		})
		if err != nil {
			t.Fatalf("the manager did not act on %q within %s (%v)", s.name, convergeTimeout, last)
		}
	}
}

// TestStaleWatchesConvergeToTheCleanState makes the same changes to the workload twice:
// once with a manager connected directly, once with a manager whose watches pass
// through watchProxy, which delays their events, cuts them short and answers some with
// 410 Gone. The manager behind the proxy must reach the same state.
func TestStaleWatchesConvergeToTheCleanState(t *testing.T) {
	clean := createWorkload(t)
	cleanLog := newWriteLog()
	startManager(t, clean, cleanLog)
	waitQuiet(t, cleanLog, true, quietPeriod, convergeTimeout)
	// The steps start from the converged workload: seats and attendance are history,
	// so a withdrawal before the first evaluation is another story.
	initial, err := captureState(context.Background(), clean)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, clean)
	waitQuiet(t, cleanLog, true, quietPeriod, convergeTimeout)
	want, err := captureState(context.Background(), clean)
	if err != nil {
		t.Fatal(err)
	}

	proxy := &watchProxy{maxDelay: 300 * time.Millisecond, minLife: time.Second, maxLife: 4 * time.Second, goneEvery: 3}
	proxied := proxy.start(t, managerConfig)
	ns := createWorkload(t)
	writes := newWriteLog()
	startManagerWith(t, proxied, ns, writes)
	waitForState(t, ns, initial, convergeTimeout)
	runSteps(t, ns)
	convergeAndHold(t, ns, want, writes)
	if proxy.gone.Load() == 0 || proxy.cut.Load() == 0 {
		t.Fatalf("the proxy disturbed nothing: %s", proxy.stats())
	}
	t.Logf("%d steps converged behind the proxy: %s", len(steps()), proxy.stats())
}
