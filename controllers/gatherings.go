package controllers

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// GatheringsFinalizer holds a Cohort until the operator has deleted its untouched
// future gatherings. Generated gatherings carry no owner reference, so no deletion of
// the Cohort, foreground included, can garbage-collect a record.
const GatheringsFinalizer = "learning.cohort.dev/gatherings"

// reconcileGatherings keeps every cohort's scheduled gatherings in existence (see
// program.PlanGatherings). A suspended cohort changes nothing. A deleted cohort deletes
// its untouched future gatherings, then releases its finalizer.
func (r *ProgramReconciler) reconcileGatherings(ctx context.Context, snap program.Snapshot) error {
	generated := map[string][]*learningv1alpha1.LearningEvent{}
	for _, e := range snap.Events {
		if ref := e.Spec.CohortRef; ref != nil && e.Labels[program.ScheduleLabel] != "" {
			generated[string(ref.Name)] = append(generated[string(ref.Name)], e)
		}
	}
	for _, cohort := range snap.Cohorts {
		events := slices.DeleteFunc(slices.Clone(generated[cohort.Name]), func(e *learningv1alpha1.LearningEvent) bool {
			return e.Labels[program.ScheduleLabel] != names.CohortLabel(cohort.Name)
		})
		if err := r.reconcileCohortGatherings(ctx, cohort, events, snap); err != nil {
			return err
		}
	}
	return nil
}

func (r *ProgramReconciler) reconcileCohortGatherings(ctx context.Context, cohort *learningv1alpha1.Cohort, events []*learningv1alpha1.LearningEvent, snap program.Snapshot) error {
	deleting := cohort.DeletionTimestamp != nil
	if !deleting && !controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		if err := r.patchFinalizers(ctx, cohort, true); err != nil {
			return err
		}
	}
	if err := r.releaseOwnerReferences(ctx, cohort, events); err != nil {
		return err
	}
	if cohort.Spec.Suspend && !deleting {
		return nil
	}
	plan, err := program.PlanGatherings(cohort, events, snap.Now)
	if err != nil {
		// The evaluation reports the schedule as Stalled; nothing is changed.
		return nil //nolint:nilerr // a bad schedule is reported in status, not retried
	}
	for _, want := range plan.Apply {
		if err := r.applyGathering(ctx, want, events); err != nil {
			return err
		}
	}
	for _, e := range plan.Delete {
		rv := e.ResourceVersion
		if err := r.Client.Delete(ctx, e, client.Preconditions{UID: &e.UID, ResourceVersion: &rv}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting unscheduled gathering %s: %w", e.Name, err)
		}
	}
	if deleting && controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		return r.patchFinalizers(ctx, cohort, false)
	}
	return nil
}

// applyGathering creates a missing generated gathering or brings an untouched one back
// to the schedule. The optimistic lock keeps a stale cache from overwriting attendance
// recorded meanwhile.
func (r *ProgramReconciler) applyGathering(ctx context.Context, want *learningv1alpha1.LearningEvent, existing []*learningv1alpha1.LearningEvent) error {
	i := slices.IndexFunc(existing, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == want.Name })
	if i < 0 {
		if err := r.Client.Create(ctx, want, client.FieldOwner(fieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating gathering %s: %w", want.Name, err)
		}
		return nil
	}
	have := existing[i]
	updated := have.DeepCopy()
	updated.Spec = want.Spec
	updated.Labels[program.ScheduleLabel] = want.Labels[program.ScheduleLabel]
	if updated.Annotations == nil {
		updated.Annotations = map[string]string{}
	}
	updated.Annotations[program.GeneratedAnnotation] = want.Annotations[program.GeneratedAnnotation]
	if err := r.Client.Patch(ctx, updated, client.MergeFromWithOptions(have, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner)); err != nil {
		return fmt.Errorf("updating gathering %s: %w", want.Name, err)
	}
	return nil
}

// releaseOwnerReferences removes the cohort's owner reference from generated gatherings
// made by earlier versions of the operator, so that garbage collection never deletes
// them with the cohort.
func (r *ProgramReconciler) releaseOwnerReferences(ctx context.Context, cohort *learningv1alpha1.Cohort, events []*learningv1alpha1.LearningEvent) error {
	for _, e := range events {
		owned := func(ref metav1.OwnerReference) bool { return ref.UID == cohort.UID }
		if !slices.ContainsFunc(e.OwnerReferences, owned) {
			continue
		}
		released := e.DeepCopy()
		released.OwnerReferences = slices.DeleteFunc(released.OwnerReferences, owned)
		if err := r.Client.Patch(ctx, released, client.MergeFromWithOptions(e, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner)); err != nil {
			return fmt.Errorf("releasing gathering %s from its cohort: %w", e.Name, err)
		}
	}
	return nil
}

// patchFinalizers adds or removes the gatherings finalizer of a cohort.
func (r *ProgramReconciler) patchFinalizers(ctx context.Context, cohort *learningv1alpha1.Cohort, add bool) error {
	changed := cohort.DeepCopy()
	if add {
		controllerutil.AddFinalizer(changed, GatheringsFinalizer)
	} else {
		controllerutil.RemoveFinalizer(changed, GatheringsFinalizer)
	}
	err := r.Client.Patch(ctx, changed, client.MergeFromWithOptions(cohort, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner))
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("updating the finalizers of cohort %s: %w", cohort.Name, err)
	}
	return nil
}

// deletionStarted passes the update that marks an object for deletion.
func deletionStarted[T client.Object](e event.TypedUpdateEvent[T]) bool {
	return e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil
}
