package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// CommunityOfPracticeReconciler summarises a community from its cohorts' status.
type CommunityOfPracticeReconciler struct {
	Deps
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices,verbs=get;list;watch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=communityofpractices/status,verbs=get;update;patch

// Reconcile counts the community's cohorts and adds up their members by phase.
func (r *CommunityOfPracticeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	community := &learningv1alpha1.CommunityOfPractice{}
	if err := r.Client.Get(ctx, req.NamespacedName, community); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := community.DeepCopy()
	cohorts := &learningv1alpha1.CohortList{}
	if err := r.Client.List(ctx, cohorts, client.InNamespace(community.Namespace),
		client.MatchingFields{cohortCommunityIndex: community.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing cohorts of %s: %w", community.Name, err)
	}
	community.Status = communityStatus(community, cohorts.Items)
	return ctrl.Result{}, patchStatus(ctx, r.Client, before, community)
}

// communityStatus adds up the cohorts' observed status. It is a pure function.
func communityStatus(community *learningv1alpha1.CommunityOfPractice, cohorts []learningv1alpha1.Cohort) learningv1alpha1.CommunityOfPracticeStatus {
	status := *community.Status.DeepCopy()
	status.ObservedGeneration = community.Generation
	status.Cohorts = int32(len(cohorts))
	status.ActiveCohorts = 0
	members := &learningv1alpha1.MemberCounts{}
	for i := range cohorts {
		s := cohorts[i].Status
		if s.Phase == learningv1alpha1.CohortActive {
			status.ActiveCohorts++
		}
		if m := s.Members; m != nil {
			members.Pending += m.Pending
			members.Active += m.Active
			members.Expiring += m.Expiring
			members.Expired += m.Expired
			members.Withdrawn += m.Withdrawn
			members.Waitlisted += m.Waitlisted
		}
	}
	status.Members = members
	conds := conditionSet{conditions: &status.Conditions, generation: community.Generation}
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason,
		"%d cohorts, %d active, %d active members", status.Cohorts, status.ActiveCohorts, members.Active+members.Expiring)
	return status
}

// SetupWithManager watches communities, and their cohorts including status changes,
// since the summary adds up the cohorts' status.
func (r *CommunityOfPracticeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("communityofpractice").
		For(&learningv1alpha1.CommunityOfPractice{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&learningv1alpha1.Cohort{}, handler.EnqueueRequestsFromMapFunc(communityOfCohort)).
		Complete(r)
}

func communityOfCohort(_ context.Context, obj client.Object) []reconcile.Request {
	c := obj.(*learningv1alpha1.Cohort)
	if c.Spec.CommunityRef == nil {
		return nil
	}
	return requestsFor(c.Namespace, string(c.Spec.CommunityRef.Name))
}
