package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// readUnit reads a program unit from the cache in one pass. The objects are the cache's
// own (listed without copying): the reconciler only reads them and copies the few it
// writes. ok is false when there is nothing to evaluate: a cohort key whose cohort
// belongs to a community, which that community's unit evaluates.
func (r *ProgramReconciler) readUnit(ctx context.Context, key unitKey) (snap program.Snapshot, ok bool, err error) {
	snap.Now = r.Clock.Now()
	if snap.ApprovalPolicyMissing, err = r.approvalPolicyMissing(ctx, r.Client); err != nil {
		return snap, false, err
	}
	var cohortNames []string
	if key.Community != "" {
		community := &learningv1alpha1.CommunityOfPractice{}
		switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Community}, community); {
		case err == nil:
			snap.Community = community
		case !apierrors.IsNotFound(err):
			return snap, false, fmt.Errorf("reading community %s: %w", key.Community, err)
		}
		communities := &learningv1alpha1.CommunityOfPracticeList{}
		if err := r.Client.List(ctx, communities, client.InNamespace(key.Namespace), readOnly); err != nil {
			return snap, false, fmt.Errorf("listing communities of namespace %s: %w", key.Namespace, err)
		}
		for _, c := range communities.Items {
			if c.Name != key.Community {
				snap.Neighbours = append(snap.Neighbours, c.Name)
			}
		}
		cohorts := &learningv1alpha1.CohortList{}
		if err := r.Client.List(ctx, cohorts, client.InNamespace(key.Namespace), readOnly,
			client.MatchingFields{cohortCommunityIndex: key.Community}); err != nil {
			return snap, false, fmt.Errorf("listing cohorts of community %s: %w", key.Community, err)
		}
		for i := range cohorts.Items {
			snap.Cohorts = append(snap.Cohorts, &cohorts.Items[i])
			cohortNames = append(cohortNames, cohorts.Items[i].Name)
		}
	} else {
		cohort := &learningv1alpha1.Cohort{}
		switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Cohort}, cohort); {
		case err == nil && cohort.Spec.CommunityRef != nil:
			return snap, false, nil
		case err == nil:
			snap.Cohorts = []*learningv1alpha1.Cohort{cohort}
		case !apierrors.IsNotFound(err):
			return snap, false, fmt.Errorf("reading cohort %s: %w", key.Cohort, err)
		}
		cohortNames = []string{key.Cohort}
	}
	for _, name := range cohortNames {
		if err := r.readCohortObjects(ctx, &snap, key.Namespace, name); err != nil {
			return snap, false, err
		}
		if err := r.readReports(ctx, &snap, key.Namespace, learningv1alpha1.CohortProgram, name); err != nil {
			return snap, false, err
		}
	}
	if key.Community != "" {
		if err := r.readReports(ctx, &snap, key.Namespace, learningv1alpha1.CommunityProgram, key.Community); err != nil {
			return snap, false, err
		}
	}
	if key.Community != "" {
		events := &learningv1alpha1.LearningEventList{}
		if err := r.Client.List(ctx, events, client.InNamespace(key.Namespace), readOnly,
			client.MatchingFields{eventCommunityIndex: key.Community}); err != nil {
			return snap, false, fmt.Errorf("listing events of community %s: %w", key.Community, err)
		}
		for i := range events.Items {
			snap.Events = append(snap.Events, &events.Items[i])
		}
	}
	return snap, true, nil
}

// readCohortObjects adds the memberships and events of one cohort to the snapshot.
func (r *ProgramReconciler) readCohortObjects(ctx context.Context, snap *program.Snapshot, namespace, cohort string) error {
	members := &learningv1alpha1.MembershipList{}
	if err := r.Client.List(ctx, members, client.InNamespace(namespace), readOnly,
		client.MatchingFields{membershipCohortIndex: cohort}); err != nil {
		return fmt.Errorf("listing memberships of cohort %s: %w", cohort, err)
	}
	for i := range members.Items {
		snap.Memberships = append(snap.Memberships, &members.Items[i])
	}
	events := &learningv1alpha1.LearningEventList{}
	if err := r.Client.List(ctx, events, client.InNamespace(namespace), readOnly,
		client.MatchingFields{eventCohortIndex: cohort}); err != nil {
		return fmt.Errorf("listing events of cohort %s: %w", cohort, err)
	}
	for i := range events.Items {
		snap.Events = append(snap.Events, &events.Items[i])
	}
	if err := r.readPlans(ctx, snap, namespace, planHolderKey("cohort", cohort)); err != nil {
		return err
	}
	for _, m := range members.Items {
		if err := r.readPlans(ctx, snap, namespace, planHolderKey("membership", m.Name)); err != nil {
			return err
		}
	}
	return nil
}

// readPlans adds the ActionPlans of one holder (see planHolderKey) to the snapshot.
func (r *ProgramReconciler) readPlans(ctx context.Context, snap *program.Snapshot, namespace, holder string) error {
	plans := &learningv1alpha1.ActionPlanList{}
	if err := r.Client.List(ctx, plans, client.InNamespace(namespace), readOnly,
		client.MatchingFields{planHolderIndex: holder}); err != nil {
		return fmt.Errorf("listing action plans of %s: %w", holder, err)
	}
	for i := range plans.Items {
		snap.Plans = append(snap.Plans, &plans.Items[i])
	}
	return nil
}

// readReports adds the ProgramReports of one program to the snapshot.
func (r *ProgramReconciler) readReports(ctx context.Context, snap *program.Snapshot, namespace string, kind learningv1alpha1.ProgramKind, name string) error {
	reports := &learningv1alpha1.ProgramReportList{}
	if err := r.Client.List(ctx, reports, client.InNamespace(namespace), readOnly,
		client.MatchingFields{reportProgramIndex: reportProgramKey(kind, name)}); err != nil {
		return fmt.Errorf("listing reports of %s %s: %w", kind, name, err)
	}
	for i := range reports.Items {
		snap.Reports = append(snap.Reports, &reports.Items[i])
	}
	return nil
}

// readOrphanPlans reads the unit of a membership that does not exist: its plans only,
// which the evaluation reports as MembershipNotFound. ok is false when the membership
// exists: its cohort's unit evaluates its plans.
func (r *ProgramReconciler) readOrphanPlans(ctx context.Context, key unitKey) (snap program.Snapshot, ok bool, err error) {
	snap.Now = r.Clock.Now()
	err = r.Client.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Membership}, &learningv1alpha1.Membership{})
	switch {
	case err == nil:
		return snap, false, nil
	case !apierrors.IsNotFound(err):
		return snap, false, fmt.Errorf("reading membership %s: %w", key.Membership, err)
	}
	if err := r.readPlans(ctx, &snap, key.Namespace, planHolderKey("membership", key.Membership)); err != nil {
		return snap, false, err
	}
	return snap, len(snap.Plans) > 0, nil
}
