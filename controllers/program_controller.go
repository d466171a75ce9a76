package controllers

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// ProgramReconciler decides the rules of one program unit at a time: it reads the unit
// from the cache in one pass, keeps the cohorts' scheduled gatherings in existence,
// evaluates the unit with program.Evaluate, and writes the status of every object whose
// status changed, then the Events of the transitions those writes record.
type ProgramReconciler struct {
	Deps
	// Workers is how many units are evaluated at once.
	Workers int
	// Portal is how cohort portals are run.
	Portal PortalConfig
	// ApprovalPolicy names the approval policy and its binding; ApproverClusterRole
	// the ClusterRole bound to approvers.
	ApprovalPolicy, ApproverClusterRole string

	// lag holds each unit back until the cache shows its last evaluation's writes.
	lag cacheLag
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices;cohorts;memberships,verbs=get;list;watch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices/status;cohorts/status;memberships/status;learningevents/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts,verbs=update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts/finalizers,verbs=update
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=learningevents,verbs=get;list;watch;create;update;patch;delete

// conflictRetry is how soon a unit whose status writes met newer objects is evaluated
// again.
const conflictRetry = 100 * time.Millisecond

// Reconcile evaluates the unit named by key.
func (r *ProgramReconciler) Reconcile(ctx context.Context, key unitKey) (ctrl.Result, error) {
	start := time.Now()
	if behind, err := r.lag.behind(ctx, r.Client, key); err != nil || behind {
		return ctrl.Result{RequeueAfter: cacheLagRetry}, err
	}
	snap, ok, err := r.readUnit(ctx, key)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	if err := r.reconcileGatherings(ctx, key, &snap); err != nil {
		return ctrl.Result{}, err
	}
	outcome := program.Evaluate(snap)
	evaluationsMetric.WithLabelValues(key.Namespace).Inc()
	// Services are provisioned from the same outcome, before the statuses are written,
	// so that access follows a seat in the pass that decides it and each cohort's
	// status, Provisioned included, is written once.
	recheck, provisionErr := r.provisionUnit(ctx, key, snap, outcome)
	if err := r.applyOutcome(ctx, key, snap, outcome); err != nil {
		if onlyConflicts(err) {
			// The cache has not caught up with a write yet (often this reconciler's
			// own): look again shortly, without the error backoff, which grows with
			// every conflict of a busy unit.
			ctrl.LoggerFrom(ctx).V(1).Info("statuses changed since they were read; evaluating again", "error", err.Error())
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	if provisionErr != nil {
		return ctrl.Result{}, provisionErr
	}
	recordMetrics(snap, outcome)
	recordApprovalMetrics(key, snap, outcome)
	ctrl.LoggerFrom(ctx).V(1).Info("evaluated", "memberships", len(snap.Memberships), "events", len(snap.Events), "took", time.Since(start).String())
	result := requeueAt(outcome.Next, snap.Now, r.MaxRequeueAfter)
	if recheck && (result.RequeueAfter == 0 || result.RequeueAfter > nameConflictRecheck) {
		result.RequeueAfter = nameConflictRecheck
	}
	return result, nil
}

// SetupWithManager watches the four kinds and maps every change to the unit it belongs
// to. Only changes of spec (and creations and deletions) count: the reconciler's own
// status writes do not trigger another evaluation.
func (r *ProgramReconciler) SetupWithManager(mgr ctrl.Manager) error {
	workers := max(r.Workers, 1)
	cache := mgr.GetCache()
	b := builder.TypedControllerManagedBy[unitKey](mgr).
		Named("program").
		WithOptions(controller.TypedOptions[unitKey]{MaxConcurrentReconciles: workers}).
		WithLogConstructor(func(key *unitKey) logr.Logger {
			log := mgr.GetLogger().WithValues("controller", "program")
			if key != nil {
				log = log.WithValues("unit", key.String())
			}
			return log
		}).
		WatchesRawSource(source.TypedKind(cache, &learningv1alpha1.CommunityOfPractice{},
			handler.TypedEnqueueRequestsFromMapFunc(r.unitsOfNamespaceCommunities),
			predicate.TypedGenerationChangedPredicate[*learningv1alpha1.CommunityOfPractice]{})).
		WatchesRawSource(source.TypedKind(cache, &learningv1alpha1.Cohort{},
			handler.TypedEnqueueRequestsFromMapFunc(unitsOfCohort),
			predicate.Or[*learningv1alpha1.Cohort](
				predicate.TypedGenerationChangedPredicate[*learningv1alpha1.Cohort]{},
				predicate.TypedFuncs[*learningv1alpha1.Cohort]{UpdateFunc: deletionStarted[*learningv1alpha1.Cohort]},
			))).
		WatchesRawSource(source.TypedKind(cache, &learningv1alpha1.Membership{},
			handler.TypedEnqueueRequestsFromMapFunc(r.unitsOfMembership),
			predicate.TypedGenerationChangedPredicate[*learningv1alpha1.Membership]{})).
		WatchesRawSource(source.TypedKind(cache, &learningv1alpha1.LearningEvent{},
			handler.TypedEnqueueRequestsFromMapFunc(r.unitsOfEvent),
			predicate.TypedGenerationChangedPredicate[*learningv1alpha1.LearningEvent]{}))
	for _, t := range childTypes() {
		// A change of a provisioned object (a hand edit, a deletion) evaluates its
		// cohort's unit again, which repairs it. A Deployment's status changes with
		// every pod; only its spec, its labels and its available replicas (the
		// PortalAvailable condition) matter.
		var p predicate.Predicate = predicate.Funcs{}
		if _, ok := t.(*appsv1.Deployment); ok {
			p = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.Funcs{UpdateFunc: availabilityChanged})
		}
		b = b.WatchesRawSource(source.TypedKind(cache, t, handler.TypedEnqueueRequestsFromMapFunc(r.unitsOfChild), p))
	}
	// The approval policy and its binding: installing or removing either changes
	// whether any approval is trusted.
	for _, t := range []client.Object{&admissionregistrationv1.ValidatingAdmissionPolicy{}, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}} {
		b = b.WatchesRawSource(source.TypedKind(cache, t, handler.TypedEnqueueRequestsFromMapFunc(r.allUnits)))
	}
	return b.Complete(r)
}

// availabilityChanged passes a Deployment update that changes its available replicas.
func availabilityChanged(e event.UpdateEvent) bool {
	before, ok1 := e.ObjectOld.(*appsv1.Deployment)
	after, ok2 := e.ObjectNew.(*appsv1.Deployment)
	return ok1 && ok2 && before.Status.AvailableReplicas != after.Status.AvailableReplicas
}

// onlyConflicts reports whether err (possibly several joined) holds nothing but
// conflicts: writes refused because the object changed since it was read.
func onlyConflicts(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !onlyConflicts(e) {
				return false
			}
		}
		return true
	}
	var status apierrors.APIStatus
	return errors.As(err, &status) && apierrors.IsConflict(err)
}
