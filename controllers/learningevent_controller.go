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

// LearningEventReconciler reconciles LearningEvent objects.
type LearningEventReconciler struct {
	client.Client
	Scheme *runtime.Scheme
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=learningevents,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=learningevents/status,verbs=get;update;patch

// Reconcile records the observed generation of a LearningEvent and reports Ready=Unknown with
// reason NotImplemented: this version of the operator does not evaluate its rules yet.
func (r *LearningEventReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	event := &learningv1alpha1.LearningEvent{}
	observe := func() { event.Status.ObservedGeneration = event.Generation }
	return ctrl.Result{}, reconcileNotImplemented(ctx, r.Client, req.NamespacedName, event, observe)
}

// SetupWithManager registers the reconciler; status-only writes do not retrigger it.
func (r *LearningEventReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&learningv1alpha1.LearningEvent{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("learningevent").
		Complete(r)
}
