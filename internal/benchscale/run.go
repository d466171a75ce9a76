package benchscale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// profileSeconds is how long the CPU profile of each phase's start runs; its heap is
// profiled at convergence.
const profileSeconds = 20

// managerUser is the operator's ServiceAccount as config/local binds it.
const managerUser = "system:serviceaccount:cohort-system:cohort-controller-manager"

// Options configure a benchmark run.
type Options struct {
	// Root is the repository, whose config/local is installed.
	Root string
	// Assets holds the control plane binaries.
	Assets string
	// Manager is the manager binary.
	Manager string
	// MemoryLimit is the container memory limit, in bytes, the manager is told of
	// (MEMORY_LIMIT, as the chart passes it): it sets the Go memory limit from it. Zero
	// tells it none.
	MemoryLimit int64
	// Dir receives the clusters' and managers' logs and profiles.
	Dir string
	// Workers is the manager's --workers, and the concurrency of the benchmark's own
	// writes (the workload's creation and the raw write floor).
	Workers int
	// Scale is the workload's scale.
	Scale Scale
	// Checkpoints are the fractions of Scale at which the bulk create pauses until the
	// manager has converged, to show how time and memory grow; Scale itself is the
	// last checkpoint.
	Checkpoints []float64
	// Idle is how long writes are counted once the manager is idle.
	Idle time.Duration
	// Changes is how many Membership and attendance changes are made one at a time.
	Changes int
	// Timeout bounds each convergence.
	Timeout time.Duration
	// ColdOnly stops after the cold start, idle and change measurements: a shorter run
	// to look into the manager's peak, which judges no target.
	ColdOnly bool
	// EtcdNoFsync runs etcd without fsync, so that the disk does not decide the figures.
	EtcdNoFsync bool
	// Progress receives a line per step.
	Progress io.Writer
}

// Result is everything one run measured.
type Result struct {
	Options Options
	Started time.Time
	Took    time.Duration
	// Cold is a manager started on a cluster already holding the workload.
	Cold Phase
	// Idle and Changes are measured after the cold start converged.
	Idle    IdleResult
	Changes ChangeResult
	// Bulk is the workload created while the manager runs, one entry per checkpoint;
	// the last is the whole workload.
	Bulk []Phase
	// FloorWrites status patches by a plain client took Floor: the raw write floor of
	// the bulk create's writes, measured on its API server once it converged.
	FloorWrites int
	Floor       time.Duration
}

// Phase is one convergence.
type Phase struct {
	// Scale is the workload converged.
	Scale Scale
	// Converge runs from the manager's start (cold start) or the first create (bulk
	// create) until every object is reconciled and every provisioned object exists.
	Converge time.Duration
	// Create is how long the benchmark took to create the workload: with no manager
	// running (cold start) or while it ran (bulk create).
	Create time.Duration
	// Requests are the manager's API requests until convergence.
	Requests counters
	// PeakRSS and PeakHeap are the manager's peak resident set and sampled live heap, in
	// bytes, until convergence.
	PeakRSS, PeakHeap float64
}

// Objects is the number of workload objects of the phase, generated gatherings
// included.
func (p Phase) Objects() int { return p.Scale.Declared() + p.Scale.Generated() }

// Writes is how many writes the manager made in the phase.
func (p Phase) Writes() float64 { return p.Requests.writes() }

// StatusWritesPerObject is how many status writes the phase made per object.
func (p Phase) StatusWritesPerObject() float64 {
	return p.Requests.statusWrites() / float64(p.Objects())
}

// FloorFor is the raw write floor of n writes: the measured floor at its rate.
func (r *Result) FloorFor(n float64) time.Duration {
	if r.FloorWrites == 0 {
		return 0
	}
	return time.Duration(float64(r.Floor) * n / float64(r.FloorWrites))
}

// ColdFloor is the raw write floor of the cold start: its writes at the floor's rate.
func (r *Result) ColdFloor() time.Duration { return r.FloorFor(r.Cold.Requests.writes()) }

// BulkFloor is the raw write floor of the bulk create of the whole workload: creating
// it with no manager running (as the cold start did), then the manager's writes as
// status patches.
func (r *Result) BulkFloor() time.Duration {
	return r.Cold.Create + r.FloorFor(r.Bulk[len(r.Bulk)-1].Requests.writes())
}

// Writes is how many writes the idle manager made.
func (r IdleResult) Writes() float64 { return r.Requests.writes() }

// IdleResult counts the manager's writes while nothing changes.
type IdleResult struct {
	// Settle is how long after convergence the manager kept writing (the Events of
	// the last transitions), and SettleWrites how many writes that was.
	Settle       time.Duration
	SettleWrites float64
	Window       time.Duration
	Requests     counters
}

// ChangeResult is the latency from a change to every status it affects.
type ChangeResult struct {
	Withdrawals, AttendanceEdits []time.Duration
	Requests                     counters
}

// All is every change's latency, sorted.
func (c ChangeResult) All() []time.Duration {
	all := slices.Concat(c.Withdrawals, c.AttendanceEdits)
	slices.Sort(all)
	return all
}

// Run measures a cold start, idle writes and change latency on one cluster, then a
// bulk create with its checkpoints and the raw write floor on another.
func Run(ctx context.Context, opts Options) (*Result, error) {
	// The tracker's informers log through controller-runtime; the progress lines are
	// the benchmark's output.
	ctrllog.SetLogger(logr.Discard())
	res := &Result{Options: opts, Started: time.Now()}
	if err := runCold(ctx, opts, res); err != nil {
		return nil, fmt.Errorf("cold start: %w", err)
	}
	if opts.ColdOnly {
		res.Took = time.Since(res.Started)
		return res, nil
	}
	if err := runBulk(ctx, opts, res); err != nil {
		return nil, fmt.Errorf("bulk create: %w", err)
	}
	res.Took = time.Since(res.Started)
	return res, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Progress != nil {
		_, _ = fmt.Fprintf(o.Progress, "%s "+format+"\n", append([]any{time.Now().Format(time.TimeOnly)}, args...)...)
	}
}

// env is one fresh local cluster with config/local installed and a tracker watching.
type env struct {
	opts    Options
	dir     string
	cluster *localcluster.Cluster
	client  client.Client
	// owners creates action plans as their owners (asOwner).
	owners  client.Client
	tracker *tracker
	configs kubeconfigs
	cancel  context.CancelFunc
}

func newEnv(ctx context.Context, opts Options, name string) (*env, error) {
	dir := filepath.Join(opts.Dir, name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	cluster, err := localcluster.Start(localcluster.Options{AssetsDir: opts.Assets, Dir: dir, EtcdNoFsync: opts.EtcdNoFsync})
	if err != nil {
		return nil, err
	}
	e := &env{opts: opts, dir: dir, cluster: cluster}
	if err := e.setup(ctx); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

func (e *env) setup(ctx context.Context) error {
	var err error
	if e.configs.admin, err = e.cluster.WriteKubeconfig("kubeconfig", "bench-admin", localcluster.AdminGroup); err != nil {
		return err
	}
	if e.configs.manager, err = e.cluster.WriteKubeconfig("manager.kubeconfig", managerUser, "system:serviceaccounts", "system:serviceaccounts:cohort-system"); err != nil {
		return err
	}
	kubectl := filepath.Join(e.opts.Assets, "kubectl")
	if out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", e.configs.admin, "apply", "--server-side", "-k", filepath.Join(e.opts.Root, "config", "local")).CombinedOutput(); err != nil {
		return fmt.Errorf("installing config/local: %w\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", e.configs.admin, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all").CombinedOutput(); err != nil {
		return fmt.Errorf("waiting for the CRDs: %w\n%s", err, out)
	}
	cfg := rest.CopyConfig(e.cluster.Config)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit, as for the raw write floor
	scheme := newScheme()
	if e.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	// Action plans are created by their owners (the admission policy binds spec.owner
	// to the creator): the administrator creates them as the owner, in the
	// administrators' group, as a restore of a program's plans would.
	owners := rest.CopyConfig(cfg)
	owners.Wrap(func(rt http.RoundTripper) http.RoundTripper { return asOwner{rt} })
	if e.owners, err = client.New(owners, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	tctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	e.tracker, err = startTracker(tctx, cfg, scheme)
	return err
}

func (e *env) stop() {
	if e.cancel != nil {
		e.cancel()
	}
	_ = e.cluster.Stop()
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := learningv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// createNamespaces creates the workload's namespaces.
func (e *env) createNamespaces(ctx context.Context, w *Workload) error {
	for _, ns := range w.Namespaces {
		if err := e.client.Create(ctx, ns.DeepCopy()); err != nil {
			return err
		}
	}
	return nil
}

// create creates the units of the workload with opts.Workers writers, unit after unit,
// and returns when every object exists.
func (e *env) create(ctx context.Context, units [][]client.Object) error {
	var objects []client.Object
	for _, u := range units {
		objects = append(objects, u...)
	}
	return parallel(ctx, e.opts.Workers, len(objects), func(i int) error {
		obj := objects[i].DeepCopyObject().(client.Object)
		c, ctx := e.client, ctx
		if plan, ok := obj.(*learningv1alpha1.ActionPlan); ok {
			c, ctx = e.owners, context.WithValue(ctx, ownerKey{}, plan.Spec.Owner)
		}
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
		}
		return nil
	})
}

// ownerKey is the context key of the user a request of env.owners impersonates.
type ownerKey struct{}

// asOwner impersonates, in the administrators' group, the user the request's context
// names under ownerKey.
type asOwner struct{ next http.RoundTripper }

func (a asOwner) RoundTrip(req *http.Request) (*http.Response, error) {
	user, _ := req.Context().Value(ownerKey{}).(string)
	if user == "" {
		return a.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Impersonate-User", user)
	req.Header.Set("Impersonate-Group", "system:masters")
	return a.next.RoundTrip(req)
}

// parallel runs do(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, do func(int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for g := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(i); err != nil {
					errs[g] = err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// floor makes n status patches on the workload's objects, round robin, with
// opts.Workers writers and no client-side rate limit, each changing the Ready
// condition's message so that the API server stores it, and returns how long they took.
func (e *env) floor(ctx context.Context, w *Workload, n int) (time.Duration, error) {
	if n == 0 {
		return 0, nil
	}
	var objects []client.Object
	for _, u := range w.Units {
		objects = append(objects, u...)
	}
	stamp := time.Now().UTC().Format(time.RFC3339)
	start := time.Now()
	err := parallel(ctx, e.opts.Workers, n, func(i int) error {
		target := objects[i%len(objects)]
		gvk, err := apiutil.GVKForObject(target, e.client.Scheme())
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace(target.GetNamespace())
		u.SetName(target.GetName())
		patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []map[string]any{{
			"type": "Ready", "status": "True", "reason": "FloorWrite", "message": fmt.Sprintf("floor write %d", i), "lastTransitionTime": stamp,
		}}}})
		if err != nil {
			return err
		}
		// An API server this loaded may answer a write with a timeout while it still
		// makes it; the patch is the same again, so it is made again.
		for attempt := 1; ; attempt++ {
			err := e.client.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, patch))
			if err == nil || attempt == floorAttempts || (!apierrors.IsTimeout(err) && !apierrors.IsServerTimeout(err)) {
				return err
			}
		}
	})
	return time.Since(start), err
}

// floorAttempts is how many times a raw floor write answered with a timeout is made.
const floorAttempts = 3

// converge waits for the workload of s to converge and returns when it did.
func (e *env) converge(ctx context.Context, s Scale) (time.Time, error) {
	return e.tracker.waitConverged(ctx, s.Declared()+s.Generated(), s.Children(), e.opts.Timeout)
}

// runCold creates the workload with no manager running, then starts the manager and
// measures its convergence, then idle writes and change latency.
func runCold(ctx context.Context, opts Options, res *Result) error {
	s := opts.Scale
	e, err := newEnv(ctx, opts, "cold")
	if err != nil {
		return err
	}
	defer e.stop()
	w := NewWorkload(s, time.Now())
	opts.logf("cold start at %s: creating %d objects with no manager running", s, s.Declared())
	if err := e.createNamespaces(ctx, w); err != nil {
		return err
	}
	start := time.Now()
	if err := e.create(ctx, w.Units); err != nil {
		return err
	}
	res.Cold = Phase{Scale: s, Create: time.Since(start)}
	opts.logf("created in %s; starting the manager", round(res.Cold.Create))
	mgr, err := startManager(ctx, opts.Manager, e.configs.manager, logPath(e.dir, "manager"), opts.Workers, opts.MemoryLimit)
	if err != nil {
		return err
	}
	defer func() { _ = mgr.stopProcess() }()
	profiled := cpuProfile(mgr, e.dir, "cold", profileSeconds)
	converged, err := e.converge(ctx, s)
	if err != nil {
		return err
	}
	if err := measure(&res.Cold, mgr, mgr.started, converged, counters{}); err != nil {
		return err
	}
	if err := errors.Join(<-profiled, mgr.profile("heap?gc=1", filepath.Join(e.dir, "cold-heap.pprof"))); err != nil {
		return fmt.Errorf("profiling the manager: %w", err)
	}
	opts.logf("converged in %s: %.0f writes, %.0f status writes", round(res.Cold.Converge), res.Cold.Requests.writes(), res.Cold.Requests.statusWrites())
	if res.Idle, err = e.idle(ctx, mgr); err != nil {
		return err
	}
	opts.logf("idle for %s: %.0f writes", res.Idle.Window, res.Idle.Requests.writes())
	if res.Changes, err = e.changes(ctx, mgr, w); err != nil {
		return err
	}
	all := res.Changes.All()
	opts.logf("%d changes: p50 %s, p99 %s", len(all), round(percentile(all, 50)), round(percentile(all, 99)))
	return mgr.stopProcess()
}

// runBulk starts the manager on an empty cluster and creates the workload, pausing at
// each checkpoint until the manager has converged; the clock runs from the first
// create. The raw write floor of the manager's writes is measured last, with the
// manager stopped.
func runBulk(ctx context.Context, opts Options, res *Result) error {
	e, err := newEnv(ctx, opts, "bulk")
	if err != nil {
		return err
	}
	defer e.stop()
	w := NewWorkload(opts.Scale, time.Now())
	if err := e.createNamespaces(ctx, w); err != nil {
		return err
	}
	mgr, err := startManager(ctx, opts.Manager, e.configs.manager, logPath(e.dir, "manager"), opts.Workers, opts.MemoryLimit)
	if err != nil {
		return err
	}
	defer func() { _ = mgr.stopProcess() }()
	before, err := mgr.counters()
	if err != nil {
		return err
	}
	profiled := cpuProfile(mgr, e.dir, "bulk", profileSeconds)
	start := time.Now()
	var creating time.Duration
	created := 0
	for _, f := range append(slices.Clone(opts.Checkpoints), 1) {
		upto := min(len(w.Units), max(created+1, int(math.Round(f*float64(len(w.Units))))))
		if upto <= created {
			continue
		}
		s := Scale{Communities: upto}
		opts.logf("bulk create: creating up to %s while the manager runs", s)
		t := time.Now()
		if err := e.create(ctx, w.Units[created:upto]); err != nil {
			return err
		}
		creating += time.Since(t)
		created = upto
		converged, err := e.converge(ctx, s)
		if err != nil {
			return err
		}
		p := Phase{Scale: s, Create: creating}
		if err := measure(&p, mgr, start, converged, before); err != nil {
			return err
		}
		res.Bulk = append(res.Bulk, p)
		opts.logf("converged %s after the first create (creates took %s): %.0f writes", round(p.Converge), round(p.Create), p.Requests.writes())
	}
	if err := errors.Join(<-profiled, mgr.profile("heap?gc=1", filepath.Join(e.dir, "bulk-heap.pprof"))); err != nil {
		return fmt.Errorf("profiling the manager: %w", err)
	}
	if err := mgr.stopProcess(); err != nil {
		return err
	}
	res.FloorWrites = int(res.Bulk[len(res.Bulk)-1].Requests.writes())
	if res.Floor, err = e.floor(ctx, w, res.FloorWrites); err != nil {
		return err
	}
	opts.logf("raw write floor: %d status patches in %s", res.FloorWrites, round(res.Floor))
	return nil
}

// cpuProfile saves a CPU profile of the manager's first seconds of a phase to
// <dir>/<phase>-cpu.pprof, in the background; wait for the returned channel.
func cpuProfile(mgr *managerProcess, dir, phase string, seconds int) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- mgr.profile(fmt.Sprintf("profile?seconds=%d", seconds), filepath.Join(dir, phase+"-cpu.pprof"))
	}()
	return done
}

// measure records a converged phase's time, requests and memory.
func measure(p *Phase, mgr *managerProcess, start, converged time.Time, before counters) error {
	p.Converge = converged.Sub(start)
	now, err := mgr.counters()
	if err != nil {
		return err
	}
	p.Requests = now.since(before)
	p.PeakRSS, p.PeakHeap, err = mgr.memory()
	return err
}

// idle waits until the manager has made no write for five seconds (the Events of the
// last transitions are posted asynchronously), then counts its writes for opts.Idle.
func (e *env) idle(ctx context.Context, mgr *managerProcess) (IdleResult, error) {
	var r IdleResult
	start := time.Now()
	first, err := mgr.counters()
	if err != nil {
		return r, err
	}
	last, quietSince := first, time.Now()
	for time.Since(quietSince) < 5*time.Second {
		if time.Since(start) > 2*time.Minute {
			return r, fmt.Errorf("the manager kept writing for two minutes after convergence: %v", last.since(first).requests)
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		now, err := mgr.counters()
		if err != nil {
			return r, err
		}
		if now.writes() != last.writes() {
			quietSince = time.Now()
		}
		last = now
	}
	r.Settle = quietSince.Sub(start)
	r.SettleWrites = last.since(first).writes()
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(e.opts.Idle):
	}
	now, err := mgr.counters()
	if err != nil {
		return r, err
	}
	r.Window = e.opts.Idle
	r.Requests = now.since(last)
	return r, nil
}
