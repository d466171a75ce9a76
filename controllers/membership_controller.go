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

// MembershipReconciler reconciles Membership objects.
type MembershipReconciler struct {
	client.Client
	Scheme *runtime.Scheme
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=memberships,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=memberships/status,verbs=get;update;patch

// Reconcile records the observed generation of a Membership and reports Ready=Unknown with
// reason NotImplemented: this version of the operator does not evaluate its rules yet.
func (r *MembershipReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	membership := &learningv1alpha1.Membership{}
	observe := func() { membership.Status.ObservedGeneration = membership.Generation }
	return ctrl.Result{}, reconcileNotImplemented(ctx, r.Client, req.NamespacedName, membership, observe)
}

// SetupWithManager registers the reconciler; status-only writes do not retrigger it.
func (r *MembershipReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&learningv1alpha1.Membership{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("membership").
		Complete(r)
}
