package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// CohortReconciler reconciles Cohort objects.
type CohortReconciler struct {
	client.Client
	Scheme *runtime.Scheme
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=cohorts/status,verbs=get;update;patch

// Reconcile records the observed generation of a Cohort and reports Ready=Unknown with
// reason NotImplemented: this version of the operator does not evaluate its rules yet.
func (r *CohortReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cohort := &learningv1alpha1.Cohort{}
	observe := func() { cohort.Status.ObservedGeneration = cohort.Generation }
	return ctrl.Result{}, reconcileNotImplemented(ctx, r.Client, req.NamespacedName, cohort, observe)
}

// SetupWithManager registers the reconciler; status-only writes do not retrigger it.
func (r *CohortReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&learningv1alpha1.Cohort{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("cohort").
		Complete(r)
}
