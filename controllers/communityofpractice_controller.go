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

// CommunityOfPracticeReconciler reconciles CommunityOfPractice objects.
type CommunityOfPracticeReconciler struct {
	client.Client
	Scheme *runtime.Scheme
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices/status,verbs=get;update;patch

// Reconcile records the observed generation of a CommunityOfPractice and reports Ready=Unknown with
// reason NotImplemented: this version of the operator does not evaluate its rules yet.
func (r *CommunityOfPracticeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	community := &learningv1alpha1.CommunityOfPractice{}
	observe := func() { community.Status.ObservedGeneration = community.Generation }
	return ctrl.Result{}, reconcileNotImplemented(ctx, r.Client, req.NamespacedName, community, observe)
}

// SetupWithManager registers the reconciler; status-only writes do not retrigger it.
func (r *CommunityOfPracticeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&learningv1alpha1.CommunityOfPractice{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("communityofpractice").
		Complete(r)
}
