package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// ProgramReconciler decides the rules of one program unit at a time, in one pass: it
// reads the unit from the cache, decides it with program.Decide, writes the cohorts'
// scheduled gatherings and applies their services as decided, reports the decision
// with what those writes found (Decision.Outcome), and writes the status of every
// object whose status changed, then the Events of the transitions those writes record.
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
	// cache is the manager's, which lag reads resourceVersions from.
	cache client.Reader
	// verified are the children others also wrote that a full read found as declared.
	verified verifiedChildren
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices;cohorts;memberships;actionplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices/status;cohorts/status;memberships/status;learningevents/status;actionplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts,verbs=update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts/finalizers,verbs=update
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=learningevents,verbs=get;list;watch;create;update;patch;delete
// The manager holds update on programreports only because it grants it to cohorts'
// leads (their narrative): RBAC lets it grant no more than it holds.
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=programreports,verbs=get;list;watch;create;update;patch;freeze
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=programreports/status,verbs=get;update;patch

// conflictRetry is how soon a unit whose status writes met newer objects is evaluated
// again.
const conflictRetry = 100 * time.Millisecond

// Reconcile evaluates the unit named by key.
func (r *ProgramReconciler) Reconcile(ctx context.Context, key unitKey) (ctrl.Result, error) {
	start := time.Now()
	if behind, err := r.lag.behind(ctx, cmp.Or[client.Reader](r.cache, r.Client), key); err != nil || behind {
		return ctrl.Result{RequeueAfter: cacheLagRetry}, err
	}
	if key.Membership != "" {
		return r.reconcileOrphanPlans(ctx, key)
	}
	snap, ok, err := r.readUnit(ctx, key)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	// Each schedule is expanded once per pass; the names it generates are looked up
	// outside the unit, and the decision reads the same expansion.
	snap.Schedules = program.ExpandSchedules(snap.Cohorts, snap.Now)
	if err := r.takenNames(ctx, &snap); err != nil {
		return ctrl.Result{}, err
	}
	// One pass: decide every rule, carry out the decision's writes, then report the
	// decision with what the writes found. A cohort whose gatherings could not be
	// written is reported on that cohort; its siblings are still provisioned, and the
	// unit is retried after. Services are provisioned from the same decision, before
	// the statuses are written, so that access follows a seat in the pass that decides
	// it and each cohort's status, Provisioned included, is written once.
	decision := program.Decide(snap)
	evaluationsMetric.WithLabelValues(key.Namespace).Inc()
	facts := program.Facts{
		Gatherings:  map[string][]learningv1alpha1.GeneratedGathering{},
		Failures:    map[string][]*program.StepFailure{},
		Provisioned: map[string]program.Provisioning{},
	}
	gatheringsErr := r.writeGatherings(ctx, key, &snap, decision, &facts)
	reportsErr := r.writeReports(ctx, key, &snap, decision, &facts)
	recheck, provisionErr := r.provisionUnit(ctx, key, snap, decision, &facts)
	provisionErr = errors.Join(gatheringsErr, reportsErr, provisionErr)
	outcome := decision.Outcome(facts)
	logFailures(ctx, snap, outcome.Failures)
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
	recordReportMetrics(key.Namespace, snap)
	ctrl.LoggerFrom(ctx).V(1).Info("evaluated", "memberships", len(snap.Memberships), "events", len(snap.Events), "took", time.Since(start).String())
	result := requeueAt(outcome.Next, snap.Now, r.MaxRequeueAfter)
	if recheck && (result.RequeueAfter == 0 || result.RequeueAfter > nameConflictRecheck) {
		result.RequeueAfter = nameConflictRecheck
	}
	return result, nil
}

// SetupWithManager watches the custom kinds and maps every change to the unit it
// belongs to. The cache holds them packed (cachedResource): their map functions are
// given them unpacked. Only changes of spec (and creations and deletions) count: the reconciler's own
// status writes do not trigger another evaluation.
func (r *ProgramReconciler) SetupWithManager(mgr ctrl.Manager) error {
	workers := max(r.Workers, 1)
	cache := mgr.GetCache()
	r.cache = cache
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
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.CommunityOfPractice{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(r.unitsOfNamespaceCommunities)),
			predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.Cohort{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(unitsOfCohort)),
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.Funcs{UpdateFunc: deletionStarted[client.Object]}))).
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.Membership{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(r.unitsOfMembership)),
			predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.Membership{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(unitOfDeletedMembership)),
			predicate.Funcs{
				CreateFunc:  func(event.CreateEvent) bool { return false },
				UpdateFunc:  func(event.UpdateEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false },
			})).
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.LearningEvent{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(r.unitsOfEvent)),
			predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.ActionPlan{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(r.unitsOfPlan)),
			predicate.GenerationChangedPredicate{})).
		// A report's creation, deletion and spec changes (its narrative, its frozen
		// figures, an approval) and its labels.
		WatchesRawSource(source.TypedKind(cache, client.Object(&learningv1alpha1.ProgramReport{}),
			handler.TypedEnqueueRequestsFromMapFunc(unpacked(r.unitsOfReport)),
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{})))
	// The echo of the reconciler's own apply of a child starts no evaluation: the pass
	// that applied it decided everything it shows (one evaluation per change).
	notEcho := predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return !r.lag.echoes(e.Object, &r.verified) },
		UpdateFunc: func(e event.UpdateEvent) bool { return !r.lag.echoes(e.ObjectNew, &r.verified) },
		DeleteFunc: func(e event.DeleteEvent) bool {
			// A deleted child's content is no longer known to hold anything.
			r.verified.forget(e.Object)
			return !r.lag.echoesDeletion(e.Object)
		},
	}
	for _, t := range childTypes() {
		// A change of a provisioned object (a hand edit, a deletion) evaluates its
		// cohort's unit again, which repairs it. A Deployment's status changes with
		// every pod; only its spec, its labels and its available replicas (the
		// PortalAvailable condition) matter. Its creation is never a mere echo: the
		// pass that created it read the cache before it existed and reported that, so
		// the next pass reports the Deployment and its replicas.
		var p predicate.Predicate = notEcho
		if _, ok := t.(*appsv1.Deployment); ok {
			p = predicate.Or(predicate.Funcs{UpdateFunc: availabilityChanged, CreateFunc: func(event.CreateEvent) bool { return true }},
				predicate.And(notEcho, predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{})))
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

// reconcileOrphanPlans reports the ActionPlans of a membership that does not exist.
func (r *ProgramReconciler) reconcileOrphanPlans(ctx context.Context, key unitKey) (ctrl.Result, error) {
	snap, ok, err := r.readOrphanPlans(ctx, key)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	outcome := program.Evaluate(snap)
	evaluationsMetric.WithLabelValues(key.Namespace).Inc()
	if err := r.applyOutcome(ctx, key, snap, outcome); err != nil {
		if onlyConflicts(err) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// unpacked is the map function of a packed kind for the cache's objects: it is given
// the object unpacked (typedObject). An object that does not unpack maps to no unit
// and is logged.
func unpacked[T client.Object](mapFunc func(context.Context, T) []unitKey) handler.TypedMapFunc[client.Object, unitKey] {
	return func(ctx context.Context, obj client.Object) []unitKey {
		typed, ok := typedObject[T](obj)
		if !ok {
			ctrl.LoggerFrom(ctx).Error(nil, "a watched object is not of its kind", "object", client.ObjectKeyFromObject(obj), "type", fmt.Sprintf("%T", obj))
			return nil
		}
		return mapFunc(ctx, typed)
	}
}

// availabilityChanged passes a Deployment update that changes its available replicas.
func availabilityChanged(e event.UpdateEvent) bool {
	before, ok1 := availableReplicas(e.ObjectOld)
	after, ok2 := availableReplicas(e.ObjectNew)
	return ok1 && ok2 && before != after
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

// logFailures logs the failed steps of the unit's cohorts. A panic is logged with its
// stack once, when the cohort's status does not report it yet; while it stays
// reported, each pass logs it at debug level only.
func logFailures(ctx context.Context, snap program.Snapshot, failures []*program.StepFailure) {
	log := ctrl.LoggerFrom(ctx)
	for _, f := range failures {
		if !f.Panicked {
			log.Info("a step of a cohort failed; retrying", "cohort", f.Cohort, "step", f.Step, "error", f.Err.Error())
			continue
		}
		reported := false
		if i := slices.IndexFunc(snap.Cohorts, func(c *learningv1alpha1.Cohort) bool { return c.Name == f.Cohort }); i >= 0 {
			reported = alreadyReported(snap.Cohorts[i].Status.Conditions, learningv1alpha1.StalledCondition, f.Message())
		}
		if reported {
			log.V(1).Info("a step of a cohort still panics", "cohort", f.Cohort, "step", f.Step, "error", f.Err.Error())
			continue
		}
		log.Error(f.Err, "a step of a cohort panicked; it is reported on the cohort, its siblings go on", "cohort", f.Cohort, "step", f.Step, "stack", f.Stack)
	}
}

// alreadyReported reports whether the condition of type typ already says message.
func alreadyReported(conditions []metav1.Condition, typ, message string) bool {
	c := apimeta.FindStatusCondition(conditions, typ)
	return c != nil && c.Reason == learningv1alpha1.InternalErrorReason && strings.Contains(c.Message, message)
}

// guardedProvisionCohort is provisionCohort, which when it panics reports the panic
// on the cohort (Provisioned=False, InternalError) without an error, so that the
// unit's other cohorts are provisioned and a bug is not retried in a loop; the panic
// is logged with its stack when the cohort does not report it yet.
func (r *ProgramReconciler) guardedProvisionCohort(ctx context.Context, key unitKey, cohort *learningv1alpha1.Cohort, pub program.Publication) (p program.Provisioning, err error) {
	failure := program.Guard(cohort.Name, program.StepProvisioning, func() { p, err = r.provisionCohort(ctx, key, cohort, pub) })
	if failure == nil {
		return p, err
	}
	msg := failure.Message()
	if !alreadyReported(cohort.Status.Conditions, learningv1alpha1.ProvisionedCondition, msg) {
		ctrl.LoggerFrom(ctx).Error(failure.Err, "provisioning a cohort panicked; it is reported on the cohort, its siblings go on", "cohort", cohort.Name, "stack", failure.Stack)
	}
	return program.Provisioning{Status: metav1.ConditionFalse, Reason: learningv1alpha1.InternalErrorReason, Message: msg}, nil
}
