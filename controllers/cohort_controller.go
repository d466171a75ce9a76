package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// CohortReconciler reports a Cohort's phase, seats, composition and attendance, and
// materialises its recurring schedule as LearningEvents.
type CohortReconciler struct {
	Deps
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts,verbs=get;list;watch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts/finalizers,verbs=update
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=learningevents,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices,verbs=get;list;watch

// Reconcile observes the cohort's program, generates its scheduled gatherings, and
// writes the cohort's status once.
func (r *CohortReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cohort := &learningv1alpha1.Cohort{}
	if err := r.Client.Get(ctx, req.NamespacedName, cohort); err != nil {
		if client.IgnoreNotFound(err) == nil {
			forgetCohortMetrics(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := cohort.DeepCopy()
	now := r.Clock.Now()

	p, err := observeProgram(ctx, r.Client, cohort, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	sched, err := r.reconcileSchedule(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	p.observeBoundary(sched.next)

	cohort.Status = cohortStatus(cohort, p, sched)
	recordCohortMetrics(p, cohort.Status.AttendancePercent)
	if err := patchStatus(ctx, r.Client, before, cohort); err != nil {
		return ctrl.Result{}, err
	}
	return requeueAt(p.next, now, r.MaxRequeueAfter), nil
}

// SetupWithManager watches Cohorts, their memberships and events (generated or
// declared) and their community. Status-only writes do not trigger a reconcile.
func (r *CohortReconciler) SetupWithManager(mgr ctrl.Manager) error {
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	return ctrl.NewControllerManagedBy(mgr).
		Named("cohort").
		For(&learningv1alpha1.Cohort{}, specChanged).
		Watches(&learningv1alpha1.Membership{}, handler.EnqueueRequestsFromMapFunc(r.cohortsOfMembership), specChanged).
		Watches(&learningv1alpha1.LearningEvent{}, handler.EnqueueRequestsFromMapFunc(r.cohortsOfEvent), specChanged).
		Watches(&learningv1alpha1.CommunityOfPractice{}, handler.EnqueueRequestsFromMapFunc(r.cohortsOfCommunity), specChanged).
		Complete(r)
}

// cohortsOfMembership maps a Membership to its cohort and to the other cohorts of the
// same person, whose seats its claim can change.
func (r *CohortReconciler) cohortsOfMembership(ctx context.Context, obj client.Object) []reconcile.Request {
	m := obj.(*learningv1alpha1.Membership)
	cohorts := append(cohortsOfPerson(ctx, r.Client, m.Namespace, m.Spec.Member), string(m.Spec.CohortRef.Name))
	return requestsFor(m.Namespace, uniq(cohorts)...)
}

func (r *CohortReconciler) cohortsOfEvent(ctx context.Context, obj client.Object) []reconcile.Request {
	e := obj.(*learningv1alpha1.LearningEvent)
	return requestsFor(e.Namespace, eventCohorts(ctx, r.Client, e)...)
}

func (r *CohortReconciler) cohortsOfCommunity(ctx context.Context, obj client.Object) []reconcile.Request {
	return requestsFor(obj.GetNamespace(), cohortsOfCommunity(ctx, r.Client, obj.GetNamespace(), obj.GetName())...)
}
