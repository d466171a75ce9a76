package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// errInjected is the fault a write meets: the API server was unavailable.
var errInjected = apierrors.NewServiceUnavailable("injected fault")

// errStopped is what a write of a stopped manager meets: it is never sent.
var errStopped = errors.New("the manager has stopped")

// writeLog counts the writes a manager makes through its client, by verb and kind, and
// injects at most one fault: the first write of failWrite fails once, or the manager
// stops right after its first write of stopAfter (writes already in flight may still
// land, as they may when a process dies) and sends no other. A write is named by its
// verb, kind and object name: "patch status Membership m-1".
type writeLog struct {
	failWrite, stopAfter string
	// stop stops the manager; called once, after the write of stopAfter.
	stop func()

	mu      sync.Mutex
	n       int
	started time.Time
	last    time.Time
	kinds   map[string]int
	made    []string
	failed  bool
	stopped bool
	// hit names the write the fault struck; hitKind its verb and kind.
	hit, hitKind string
}

func newWriteLog() *writeLog { return &writeLog{kinds: map[string]int{}, started: time.Now()} }

// write records one write of verb on the named object and makes it, unless the fault
// strikes it.
func (w *writeLog) write(verb, kind, name string, do func() error) error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return errStopped
	}
	w.n++
	what := verb + " " + kind
	id := what + " " + name
	w.last = time.Now()
	w.kinds[what]++
	w.made = append(w.made, id)
	if id == w.failWrite && !w.failed {
		w.failed, w.hit, w.hitKind = true, id, what
		w.mu.Unlock()
		return errInjected
	}
	stop := id == w.stopAfter && w.hit == ""
	if stop {
		w.hit, w.hitKind = id, what
	}
	w.mu.Unlock()
	err := do()
	if stop {
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		w.stop()
	}
	return err
}

// snapshot returns how many writes were made, when the last was, and whether the
// manager was stopped.
func (w *writeLog) snapshot() (n int, last time.Time, stopped bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.last, w.stopped
}

// struck returns the write the fault struck, and its verb and kind; empty when none.
func (w *writeLog) struck() (hit, kind string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hit, w.hitKind
}

// writesMade returns the names of the writes made, in order.
func (w *writeLog) writesMade() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.made)
}

// kindsMade returns the verbs and kinds of the writes made, with how many of each.
func (w *writeLog) kindsMade() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.kinds))
	for k, v := range w.kinds {
		out[k] = v
	}
	return out
}

// funcs routes every write verb of the manager's client through the log.
func (w *writeLog) funcs() *interceptor.Funcs {
	return &interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			return w.write("create", kindOf(obj), obj.GetName(), func() error { return c.Create(ctx, obj, opts...) })
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			return w.write("update", kindOf(obj), obj.GetName(), func() error { return c.Update(ctx, obj, opts...) })
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			return w.write("patch", kindOf(obj), obj.GetName(), func() error { return c.Patch(ctx, obj, patch, opts...) })
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			return w.write("delete", kindOf(obj), obj.GetName(), func() error { return c.Delete(ctx, obj, opts...) })
		},
		DeleteAllOf: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteAllOfOption) error {
			return w.write("deletecollection", kindOf(obj), "", func() error { return c.DeleteAllOf(ctx, obj, opts...) })
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			kind, name := applied(obj)
			return w.write("apply", kind, name, func() error { return c.Apply(ctx, obj, opts...) })
		},
		SubResourceCreate: func(ctx context.Context, c client.Client, sub string, obj, subObj client.Object, opts ...client.SubResourceCreateOption) error {
			return w.write("create "+sub, kindOf(obj), obj.GetName(), func() error { return c.SubResource(sub).Create(ctx, obj, subObj, opts...) })
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			return w.write("update "+sub, kindOf(obj), obj.GetName(), func() error { return c.SubResource(sub).Update(ctx, obj, opts...) })
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			return w.write("patch "+sub, kindOf(obj), obj.GetName(), func() error { return c.SubResource(sub).Patch(ctx, obj, patch, opts...) })
		},
		SubResourceApply: func(ctx context.Context, c client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			kind, name := applied(obj)
			return w.write("apply "+sub, kind, name, func() error { return c.SubResource(sub).Apply(ctx, obj, opts...) })
		},
	}
}

// kindOf names the kind of a typed object through the scheme.
func kindOf(obj runtime.Object) string {
	gvk, err := apiutil.GVKForObject(obj, testutil.Scheme())
	if err != nil {
		return "unknown"
	}
	return gvk.Kind
}

// applied reads the kind and name of a server-side apply configuration.
func applied(obj runtime.ApplyConfiguration) (kind, name string) {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	data, err := json.Marshal(obj)
	if err != nil || json.Unmarshal(data, &head) != nil {
		return "unknown", ""
	}
	return head.Kind, head.Metadata.Name
}

// waitQuiet waits until the manager has made no write for quiet, and at least one
// write if it must.
func waitQuiet(t *testing.T, w *writeLog, mustWrite bool, quiet, timeout time.Duration) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, false, func(context.Context) (bool, error) {
		n, last, _ := w.snapshot()
		if mustWrite && n == 0 {
			return false, nil
		}
		return time.Since(last) >= quiet && time.Since(w.started) >= quiet, nil
	})
	if err != nil {
		n, _, _ := w.snapshot()
		t.Fatalf("the manager was still writing after %s (%d writes)", timeout, n)
	}
}
