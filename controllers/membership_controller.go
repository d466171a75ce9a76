package controllers

import (
	"context"
	"fmt"

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

// MembershipReconciler reports a Membership's seat, eligibility, term and attendance.
type MembershipReconciler struct {
	Deps
}

// +kubebuilder:rbac:groups=learning.cohort.dev,resources=memberships,verbs=get;list;watch
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=memberships/status,verbs=get;update;patch

// Reconcile observes the membership's cohort as a whole (seats are allocated across the
// role, eligibility across the community) and writes the membership's status once.
func (r *MembershipReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	m := &learningv1alpha1.Membership{}
	if err := r.Client.Get(ctx, req.NamespacedName, m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := m.DeepCopy()
	now := r.Clock.Now()

	p, err := r.observeCohort(ctx, m)
	if err != nil {
		return ctrl.Result{}, err
	}
	m.Status = membershipStatus(m, p)
	r.recordTransitions(before, m)
	if err := patchStatus(ctx, r.Client, before, m); err != nil {
		return ctrl.Result{}, err
	}
	if p == nil {
		return ctrl.Result{}, nil
	}
	return requeueAt(p.next, now, r.MaxRequeueAfter), nil
}

// observeCohort reads the membership's cohort and evaluates its program; it returns a
// nil program when the cohort does not exist.
func (r *MembershipReconciler) observeCohort(ctx context.Context, m *learningv1alpha1.Membership) (*program, error) {
	cohort := &learningv1alpha1.Cohort{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: string(m.Spec.CohortRef.Name)}, cohort)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading cohort %s: %w", m.Spec.CohortRef.Name, err)
	}
	return observeProgram(ctx, r.Client, cohort, r.Clock.Now())
}

// recordTransitions emits an Event for each transition a person would want to know of:
// Seated, Promoted, Waitlisted, Expired and AttendanceBelowThreshold.
func (r *MembershipReconciler) recordTransitions(before, after *learningv1alpha1.Membership) {
	was := conditionReason(before.Status.Conditions, learningv1alpha1.SeatedCondition)
	is := conditionReason(after.Status.Conditions, learningv1alpha1.SeatedCondition)
	seatMessage := func() string { return conditionMessage(after.Status.Conditions, learningv1alpha1.SeatedCondition) }
	switch {
	case is == learningv1alpha1.SeatedReason && was == learningv1alpha1.WaitlistedReason:
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "Promoted", "Promote", "promoted from the waitlist: %s", seatMessage())
	case is == learningv1alpha1.SeatedReason && was != learningv1alpha1.SeatedReason:
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "Seated", "Seat", "%s", seatMessage())
	case is == learningv1alpha1.WaitlistedReason && was != learningv1alpha1.WaitlistedReason:
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "Waitlisted", "Waitlist", "%s", seatMessage())
	}
	if after.Status.Phase == learningv1alpha1.MembershipExpired && before.Status.Phase != learningv1alpha1.MembershipExpired {
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "Expired", "Expire", "term ended on %s; the seat is freed", after.Status.EndDate)
	}
	wasAtt := conditionReason(before.Status.Conditions, learningv1alpha1.AttendanceMetCondition)
	isAtt := conditionReason(after.Status.Conditions, learningv1alpha1.AttendanceMetCondition)
	below := func(reason string) bool {
		return reason == learningv1alpha1.BelowThresholdReason || reason == learningv1alpha1.CannotReachThresholdReason
	}
	if below(isAtt) && !below(wasAtt) {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, "AttendanceBelowThreshold", "JudgeAttendance", "%s",
			conditionMessage(after.Status.Conditions, learningv1alpha1.AttendanceMetCondition))
	}
}

// SetupWithManager watches Memberships and what their status depends on: the other
// memberships of the same cohort or person, their cohort and community, and the events
// that count toward their attendance. Status-only writes do not trigger a reconcile.
func (r *MembershipReconciler) SetupWithManager(mgr ctrl.Manager) error {
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	return ctrl.NewControllerManagedBy(mgr).
		Named("membership").
		For(&learningv1alpha1.Membership{}, specChanged).
		Watches(&learningv1alpha1.Membership{}, handler.EnqueueRequestsFromMapFunc(r.peersOfMembership), specChanged).
		Watches(&learningv1alpha1.Cohort{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfCohort), specChanged).
		Watches(&learningv1alpha1.CommunityOfPractice{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfCommunity), specChanged).
		Watches(&learningv1alpha1.LearningEvent{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfEvent), specChanged).
		Complete(r)
}

// peersOfMembership maps a Membership to those whose seat or eligibility it can change:
// the memberships of its cohort, and of every cohort where the same person holds a
// membership (their eligibility, and so the seats there, depend on this one).
func (r *MembershipReconciler) peersOfMembership(ctx context.Context, obj client.Object) []reconcile.Request {
	m := obj.(*learningv1alpha1.Membership)
	cohorts := append(cohortsOfPerson(ctx, r.Client, m.Namespace, m.Spec.Member), string(m.Spec.CohortRef.Name))
	return requestsFor(m.Namespace, membershipsOfCohorts(ctx, r.Client, m.Namespace, uniq(cohorts)...)...)
}

// uniq drops repeated names, keeping the first.
func uniq(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := names[:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func (r *MembershipReconciler) membershipsOfCohort(ctx context.Context, obj client.Object) []reconcile.Request {
	return requestsFor(obj.GetNamespace(), membershipsOfCohorts(ctx, r.Client, obj.GetNamespace(), obj.GetName())...)
}

func (r *MembershipReconciler) membershipsOfCommunity(ctx context.Context, obj client.Object) []reconcile.Request {
	cohorts := cohortsOfCommunity(ctx, r.Client, obj.GetNamespace(), obj.GetName())
	return requestsFor(obj.GetNamespace(), membershipsOfCohorts(ctx, r.Client, obj.GetNamespace(), cohorts...)...)
}

func (r *MembershipReconciler) membershipsOfEvent(ctx context.Context, obj client.Object) []reconcile.Request {
	e := obj.(*learningv1alpha1.LearningEvent)
	return requestsFor(e.Namespace, membershipsOfCohorts(ctx, r.Client, e.Namespace, eventCohorts(ctx, r.Client, e)...)...)
}
