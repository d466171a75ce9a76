package benchscale

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// tracker watches the workload through informers, as an observer with kubectl's
// watch would, and knows at every moment how many objects are reconciled (Ready
// present and every observedGeneration current) and how many provisioned children
// exist.
type tracker struct {
	cache cache.Cache

	mu sync.Mutex
	// reconciledBy records, for every workload object by kind/namespace/name, whether
	// it is reconciled; pending counts those that are not.
	reconciledBy map[string]bool
	pending      int
	children     int
	changed      chan struct{}
}

// managedBy selects the objects the operator provisions.
var managedBy = labels.SelectorFromSet(labels.Set{"app.kubernetes.io/managed-by": "cohort-operator"})

// childTypes are the kinds the operator provisions.
func childTypes() []client.Object {
	return []client.Object{&corev1.ConfigMap{}, &corev1.ServiceAccount{}, &corev1.Service{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &appsv1.Deployment{}, &networkingv1.NetworkPolicy{}}
}

// workloadTypes are the kinds of the workload.
func workloadTypes() []client.Object {
	return []client.Object{&learningv1alpha1.CommunityOfPractice{}, &learningv1alpha1.Cohort{}, &learningv1alpha1.Membership{},
		&learningv1alpha1.LearningEvent{}, &learningv1alpha1.ActionPlan{}, &learningv1alpha1.ProgramReport{}}
}

func startTracker(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) (*tracker, error) {
	byObject := map[client.Object]cache.ByObject{}
	for _, t := range childTypes() {
		byObject[t] = cache.ByObject{Label: managedBy}
	}
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return nil, err
	}
	t := &tracker{cache: c, reconciledBy: map[string]bool{}, changed: make(chan struct{})}
	for _, obj := range workloadTypes() {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { t.update(o, false) },
			UpdateFunc: func(_, o any) { t.update(o, false) },
			DeleteFunc: func(o any) { t.update(o, true) },
		}); err != nil {
			return nil, err
		}
	}
	for _, obj := range childTypes() {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { t.child(1) },
			DeleteFunc: func(any) { t.child(-1) },
		}); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the tracker's informers did not sync")
	}
	return t, nil
}

// update records whether a workload object is reconciled.
func (t *tracker) update(o any, deleted bool) {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o, deleted = d.Obj, true
	}
	obj, ok := o.(client.Object)
	if !ok {
		return
	}
	key := fmt.Sprintf("%T/%s/%s", obj, obj.GetNamespace(), obj.GetName())
	t.mu.Lock()
	defer t.mu.Unlock()
	if was, known := t.reconciledBy[key]; known && !was {
		t.pending--
	}
	if deleted {
		delete(t.reconciledBy, key)
	} else {
		done := reconciled(obj)
		t.reconciledBy[key] = done
		if !done {
			t.pending++
		}
	}
	t.notify()
}

func (t *tracker) child(delta int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.children += delta
	t.notify()
}

// notify wakes the waiters; t.mu is held.
func (t *tracker) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// reconciled reports whether obj's status shows the operator's decision on its current
// spec: a Ready condition and status.observedGeneration both of the current generation.
func reconciled(obj client.Object) bool {
	var observed int64
	var conditions []metav1.Condition
	switch o := obj.(type) {
	case *learningv1alpha1.CommunityOfPractice:
		observed, conditions = o.Status.ObservedGeneration, o.Status.Conditions
	case *learningv1alpha1.Cohort:
		observed, conditions = o.Status.ObservedGeneration, o.Status.Conditions
	case *learningv1alpha1.Membership:
		observed, conditions = o.Status.ObservedGeneration, o.Status.Conditions
	case *learningv1alpha1.LearningEvent:
		observed, conditions = o.Status.ObservedGeneration, o.Status.Conditions
	case *learningv1alpha1.ActionPlan:
		observed, conditions = o.Status.ObservedGeneration, o.Status.Conditions
	case *learningv1alpha1.ProgramReport:
		observed, conditions = o.Status.ObservedGeneration, o.Status.Conditions
	default:
		return false
	}
	if observed != obj.GetGeneration() {
		return false
	}
	for _, c := range conditions {
		if c.Type == learningv1alpha1.ReadyCondition {
			return c.ObservedGeneration == obj.GetGeneration()
		}
	}
	return false
}

// state is what the tracker has seen.
type state struct {
	objects, pending, children int
}

func (t *tracker) state() state {
	t.mu.Lock()
	defer t.mu.Unlock()
	return state{objects: len(t.reconciledBy), pending: t.pending, children: t.children}
}

// waitConverged waits until the tracker has seen objects workload objects (declared and
// generated), all reconciled, and children provisioned objects, and returns the time
// it saw that state first.
func (t *tracker) waitConverged(ctx context.Context, objects, children int, timeout time.Duration) (time.Time, error) {
	var s state
	err := t.wait(ctx, timeout, func() bool {
		s = t.state()
		return s.objects == objects && s.pending == 0 && s.children == children
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("not converged after %s: %d of %d objects seen, %d not reconciled, %d of %d children", timeout, s.objects, objects, s.pending, s.children, children)
	}
	return time.Now(), nil
}

// waitFor waits until check passes on the tracker's cache.
func (t *tracker) waitFor(ctx context.Context, timeout time.Duration, check func(client.Reader) bool) error {
	return t.wait(ctx, timeout, func() bool { return check(t.cache) })
}

// wait waits until done passes, checking it again on every change the tracker sees.
func (t *tracker) wait(ctx context.Context, timeout time.Duration, done func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		t.mu.Lock()
		changed := t.changed
		t.mu.Unlock()
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}
