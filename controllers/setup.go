package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// DefaultMaxRequeueAfter caps how long a reconciler sleeps until its next clock boundary,
// so that a wall-clock jump is noticed within a bounded time.
const DefaultMaxRequeueAfter = 12 * time.Hour

// fieldOwner is the server-side apply field manager of the objects the operator writes.
const fieldOwner = "cohort-operator"

// Options configure the reconcilers.
type Options struct {
	// Clock tells the time the rules are evaluated at. Defaults to the real clock.
	Clock clock.PassiveClock
	// MaxRequeueAfter caps the wait until the next clock boundary. Defaults to
	// DefaultMaxRequeueAfter.
	MaxRequeueAfter time.Duration
	// Workers is how many program units are evaluated at once. Defaults to
	// DefaultWorkers.
	Workers int
	// Portal is how cohort portals are run.
	Portal PortalConfig
	// ApprovalPolicy names the ValidatingAdmissionPolicy that verifies approvers, and
	// its binding. Defaults to DefaultApprovalPolicy.
	ApprovalPolicy string
	// ApproverClusterRole names the ClusterRole bound to each community's approvers.
	// Defaults to DefaultApproverClusterRole.
	ApproverClusterRole string
}

// DefaultWorkers is how many program units are evaluated at once by default.
const DefaultWorkers = 4

// Deps are what every reconciler needs.
type Deps struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server directly, for objects the cache does not
	// hold.
	APIReader client.Reader
	// Clock tells the time the rules are evaluated at.
	Clock clock.PassiveClock
	// Recorder emits Kubernetes Events on transitions.
	Recorder events.EventRecorder
	// MaxRequeueAfter caps the wait until the next clock boundary.
	MaxRequeueAfter time.Duration
}

// SetupWithManager registers the field indexes and the program reconciler.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Workers == 0 {
		opts.Workers = DefaultWorkers
	}
	opts.ApprovalPolicy = cmp.Or(opts.ApprovalPolicy, DefaultApprovalPolicy)
	opts.ApproverClusterRole = cmp.Or(opts.ApproverClusterRole, DefaultApproverClusterRole)
	if opts.MaxRequeueAfter == 0 {
		opts.MaxRequeueAfter = DefaultMaxRequeueAfter
	}
	if err := setupIndexes(ctx, mgr); err != nil {
		return err
	}
	eventsClient, err := eventsv1client.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return fmt.Errorf("creating the Events client: %w", err)
	}
	recorder := NewEventPoster(eventsClient, mgr.GetScheme(), clock.RealClock{}, "cohort-operator")
	if err := mgr.Add(recorder); err != nil {
		return fmt.Errorf("adding the Event poster: %w", err)
	}
	r := &ProgramReconciler{
		Deps: Deps{
			Client:          mgr.GetClient(),
			APIReader:       mgr.GetAPIReader(),
			Clock:           opts.Clock,
			Recorder:        recorder,
			MaxRequeueAfter: opts.MaxRequeueAfter,
		},
		Workers:             opts.Workers,
		Portal:              opts.Portal,
		ApprovalPolicy:      opts.ApprovalPolicy,
		ApproverClusterRole: opts.ApproverClusterRole,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the program controller: %w", err)
	}
	return nil
}

// apiWaitRetry is how often WaitForAPIs asks again while the API server does not serve a
// kind yet.
const apiWaitRetry = 250 * time.Millisecond

// apiWaitProbeLabel is a label no object carries: WaitForAPIs watches for it, so that the
// API server sends no object, only the bookmark that ends the initial events.
const apiWaitProbeLabel = "learning.cohort.dev/startup-probe"

// WaitForAPIs returns once the API server serves a consistent watch of each kind of the
// operator's CustomResourceDefinitions, as the informers will ask for it, or fails after
// timeout.
//
// Why: on a cluster whose CRDs were just installed, kube-apiserver builds the watch cache
// of a custom resource on the first request for it, and answers watches with 429 "storage
// is (re)initializing" until that cache is filled. The informers' reflectors meet that
// 429 on their first watch and then wait with client-go's exponential backoff (up to 30 s
// a step, logged only at V(2) and V(4)); the controller starts no worker until every
// informer has synced, so a program applied meanwhile waits silently. Asked here every
// apiWaitRetry instead, the caches are ready before the informers start, whose first
// watch then succeeds. It also waits out CRDs that are not Established yet, whose kinds
// the RESTMapper reloads on each try.
//
// namespace is the one namespace the manager watches, or "" for all: the watch is made
// where the informers' will be, so that a manager allowed only one namespace may make it.
func WaitForAPIs(ctx context.Context, cfg *rest.Config, mapper apimeta.RESTMapper, namespace string, timeout time.Duration) error {
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating a metadata client: %w", err)
	}
	log := ctrl.LoggerFrom(ctx).WithName("startup")
	kinds := []schema.GroupVersionKind{
		learningv1alpha1.GroupVersion.WithKind("CommunityOfPractice"),
		learningv1alpha1.GroupVersion.WithKind("Cohort"),
		learningv1alpha1.GroupVersion.WithKind("Membership"),
		learningv1alpha1.GroupVersion.WithKind("LearningEvent"),
	}
	// The kinds are waited for at once: the API server fills each watch cache only once
	// asked for it, about a second each on a fresh cluster.
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, gvk := range kinds {
		wg.Go(func() { errs[i] = waitForKind(ctx, log, mc, mapper, namespace, gvk, timeout) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitForKind asks every apiWaitRetry, until timeout, whether the API server serves gvk.
func waitForKind(ctx context.Context, log logr.Logger, mc metadata.Interface, mapper apimeta.RESTMapper, namespace string, gvk schema.GroupVersionKind, timeout time.Duration) error {
	start, tries := time.Now(), 0
	var last error
	err := wait.PollUntilContextTimeout(ctx, apiWaitRetry, timeout, true, func(ctx context.Context) (bool, error) {
		err := watchServed(ctx, mc, mapper, namespace, gvk)
		if err == nil {
			return true, nil
		}
		// The try the timeout cut short says nothing about the API server: the error
		// reported is the last one it answered.
		if ctx.Err() == nil || last == nil {
			last = err
		}
		if tries++; tries == 1 {
			log.Info("waiting for the API server to serve a kind", "kind", gvk.Kind, "reason", err.Error())
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("the API server did not serve %s within %s (are the CRDs of config/crd installed?): %w", gvk.Kind, timeout, cmp.Or(last, err))
	}
	log.V(1).Info("the API server serves the kind", "kind", gvk.Kind, "waited", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// watchServed opens a watch of gvk that asks for the initial events of no object, and
// returns nil once the API server ends them with its bookmark.
func watchServed(ctx context.Context, mc metadata.Interface, mapper apimeta.RESTMapper, namespace string, gvk schema.GroupVersionKind) error {
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w, err := mc.Resource(mapping.Resource).Namespace(namespace).Watch(ctx, metav1.ListOptions{
		LabelSelector:        apiWaitProbeLabel,
		SendInitialEvents:    ptr.To(true),
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		AllowWatchBookmarks:  true,
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Error:
			return apierrors.FromObject(ev.Object)
		case watch.Bookmark:
			if o, err := apimeta.Accessor(ev.Object); err == nil && o.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true" {
				return nil
			}
		}
	}
	return cmp.Or(ctx.Err(), errors.New("the watch ended before its initial events"))
}
