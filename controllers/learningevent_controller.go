package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// LearningEventReconciler reports a LearningEvent's phase, approval and attendance.
type LearningEventReconciler struct {
	Deps
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=learningevents/status,verbs=get;update;patch

// Reconcile resolves the event's cohort or community, finds the seated members expected
// at it, and writes the event's status once.
func (r *LearningEventReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	e := &learningv1alpha1.LearningEvent{}
	if err := r.Client.Get(ctx, req.NamespacedName, e); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := e.DeepCopy()
	now := r.Clock.Now()

	obs, err := r.observe(ctx, e)
	if err != nil {
		return ctrl.Result{}, err
	}
	e.Status = eventStatus(e, obs, now)
	r.recordTransitions(before, e)
	if err := patchStatus(ctx, r.Client, before, e); err != nil {
		return ctrl.Result{}, err
	}
	return requeueAt(earliest(eventBoundary(e, now), obs.next), now, r.MaxRequeueAfter), nil
}

// earliest returns the earlier of two instants, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// eventObservation is what the event's status depends on besides the event itself.
type eventObservation struct {
	// refFound is false when the cohort or community does not exist.
	refFound bool
	// expected are the seated members whose term includes the event's start.
	expected []string
	// next is when the seats behind expected can change by the clock alone.
	next time.Time
}

func (r *LearningEventReconciler) observe(ctx context.Context, e *learningv1alpha1.LearningEvent) (eventObservation, error) {
	var cohorts []string
	switch {
	case e.Spec.CohortRef != nil:
		cohorts = []string{string(e.Spec.CohortRef.Name)}
	case e.Spec.CommunityRef != nil:
		community := &learningv1alpha1.CommunityOfPractice{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: string(e.Spec.CommunityRef.Name)}, community)
		if apierrors.IsNotFound(err) {
			return eventObservation{}, nil
		}
		if err != nil {
			return eventObservation{}, fmt.Errorf("reading community %s: %w", e.Spec.CommunityRef.Name, err)
		}
		cohorts = cohortsOfCommunity(ctx, r.Client, e.Namespace, community.Name)
	}
	obs := eventObservation{refFound: true}
	now := r.Clock.Now()
	for _, name := range cohorts {
		cohort := &learningv1alpha1.Cohort{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: name}, cohort)
		if apierrors.IsNotFound(err) {
			if e.Spec.CohortRef != nil {
				return eventObservation{}, nil
			}
			continue
		}
		if err != nil {
			return eventObservation{}, fmt.Errorf("reading cohort %s: %w", name, err)
		}
		p, err := observeSeats(ctx, r.Client, cohort, now)
		if err != nil {
			return eventObservation{}, err
		}
		obs.next = earliest(obs.next, p.next)
		start := e.Spec.Start.Time
		for _, m := range p.members {
			if m.competing && m.seat.Seated && !start.Before(m.term.Start) && start.Before(m.term.End) {
				obs.expected = append(obs.expected, m.obj.Name)
			}
		}
	}
	return obs, nil
}

// recordTransitions emits Approved and ApprovalVoided Events.
func (r *LearningEventReconciler) recordTransitions(before, after *learningv1alpha1.LearningEvent) {
	was := conditionReason(before.Status.Conditions, learningv1alpha1.ApprovedCondition)
	is := conditionReason(after.Status.Conditions, learningv1alpha1.ApprovedCondition)
	switch {
	case is == learningv1alpha1.ApprovedReason && was != learningv1alpha1.ApprovedReason:
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "Approved", "Approve", "approved by %s", after.Spec.Approval.Approver)
	case is == learningv1alpha1.ContentChangedReason && was == learningv1alpha1.ApprovedReason:
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, "ApprovalVoided", "VoidApproval", "the content changed after approval; it needs a new approval")
	}
}

// SetupWithManager watches LearningEvents and what their status depends on: the
// memberships of their cohorts, their cohort and their community.
func (r *LearningEventReconciler) SetupWithManager(mgr ctrl.Manager) error {
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	return ctrl.NewControllerManagedBy(mgr).
		Named("learningevent").
		For(&learningv1alpha1.LearningEvent{}, specChanged).
		Watches(&learningv1alpha1.Membership{}, handler.EnqueueRequestsFromMapFunc(r.eventsOfMembership), specChanged).
		Watches(&learningv1alpha1.Cohort{}, handler.EnqueueRequestsFromMapFunc(r.eventsOfCohort), specChanged).
		Watches(&learningv1alpha1.CommunityOfPractice{}, handler.EnqueueRequestsFromMapFunc(r.eventsOfCommunity), specChanged).
		Complete(r)
}

// eventsOfCohortNamed names the events that count for a cohort: its own, and those of
// its community. The community comes from the caller, since a deleted cohort is no
// longer in the cache.
func (r *LearningEventReconciler) eventsOfCohortNamed(ctx context.Context, namespace, cohort string, community *learningv1alpha1.LocalObjectReference) []string {
	names := relatedNames(ctx, r.Client, &learningv1alpha1.LearningEventList{}, namespace, eventCohortIndex, cohort)
	if community != nil {
		names = append(names, relatedNames(ctx, r.Client, &learningv1alpha1.LearningEventList{}, namespace, eventCommunityIndex, string(community.Name))...)
	}
	return names
}

func (r *LearningEventReconciler) eventsOfMembership(ctx context.Context, obj client.Object) []reconcile.Request {
	m := obj.(*learningv1alpha1.Membership)
	cohort := &learningv1alpha1.Cohort{}
	var community *learningv1alpha1.LocalObjectReference
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: string(m.Spec.CohortRef.Name)}, cohort); err == nil {
		community = cohort.Spec.CommunityRef
	}
	return requestsFor(m.Namespace, r.eventsOfCohortNamed(ctx, m.Namespace, string(m.Spec.CohortRef.Name), community)...)
}

func (r *LearningEventReconciler) eventsOfCohort(ctx context.Context, obj client.Object) []reconcile.Request {
	c := obj.(*learningv1alpha1.Cohort)
	return requestsFor(c.Namespace, r.eventsOfCohortNamed(ctx, c.Namespace, c.Name, c.Spec.CommunityRef)...)
}

// eventsOfCommunity names the community's own events and those of its cohorts, whose
// seats its policy decides.
func (r *LearningEventReconciler) eventsOfCommunity(ctx context.Context, obj client.Object) []reconcile.Request {
	ns := obj.GetNamespace()
	names := relatedNames(ctx, r.Client, &learningv1alpha1.LearningEventList{}, ns, eventCommunityIndex, obj.GetName())
	for _, cohort := range cohortsOfCommunity(ctx, r.Client, ns, obj.GetName()) {
		names = append(names, relatedNames(ctx, r.Client, &learningv1alpha1.LearningEventList{}, ns, eventCohortIndex, cohort)...)
	}
	return requestsFor(ns, names...)
}
