package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

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
//
// Every object it writes replaces its cached copy in snap (a created gathering joins
// it, a deleted one leaves it), so that the evaluation that follows decides on what the
// API server now holds: a new gathering gets its status and a place in the calendar and
// the Roles in this pass, and the cohort's status patch carries the resourceVersion its
// finalizer patch returned instead of meeting a conflict.
func (r *ProgramReconciler) reconcileGatherings(ctx context.Context, key unitKey, snap *program.Snapshot) error {
	generated := map[string][]*learningv1alpha1.LearningEvent{}
	for _, e := range snap.Events {
		if ref := e.Spec.CohortRef; ref != nil && e.Labels[program.ScheduleLabel] != "" {
			generated[string(ref.Name)] = append(generated[string(ref.Name)], e)
		}
	}
	for i, cohort := range snap.Cohorts {
		events := slices.DeleteFunc(slices.Clone(generated[cohort.Name]), func(e *learningv1alpha1.LearningEvent) bool {
			return e.Labels[program.ScheduleLabel] != names.CohortLabel(cohort.Name)
		})
		written, err := r.reconcileCohortGatherings(ctx, cohort, slices.Clone(events), snap.Now)
		written.record(&r.lag, key, cohort, events)
		if written.cohort != nil {
			snap.Cohorts[i] = written.cohort
		}
		snap.Events = written.applyTo(snap.Events)
		if err != nil {
			return err
		}
	}
	return nil
}

// gatheringWrites are the objects one cohort's gatherings step wrote, as the API server
// returned them.
type gatheringWrites struct {
	// cohort is the cohort after its finalizers changed; nil when they did not.
	cohort *learningv1alpha1.Cohort
	// events are created or updated gatherings; deleted are the names of deleted ones.
	events  []*learningv1alpha1.LearningEvent
	deleted []string
}

// record tells lag what was written, over which versions of cohort and its events.
func (w gatheringWrites) record(lag *cacheLag, key unitKey, cohort *learningv1alpha1.Cohort, events []*learningv1alpha1.LearningEvent) {
	if w.cohort != nil {
		lag.wrote(key, w.cohort, cohort.ResourceVersion)
	}
	replaced := func(name string) string {
		if i := slices.IndexFunc(events, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == name }); i >= 0 {
			return events[i].ResourceVersion
		}
		return ""
	}
	for _, e := range w.events {
		lag.wrote(key, e, replaced(e.Name))
	}
	for _, name := range w.deleted {
		deleted := &learningv1alpha1.LearningEvent{}
		deleted.Name = name
		lag.wrote(key, deleted, replaced(name))
	}
}

// applyTo returns events with the written gatherings in place of their cached copies.
func (w gatheringWrites) applyTo(events []*learningv1alpha1.LearningEvent) []*learningv1alpha1.LearningEvent {
	if len(w.events) == 0 && len(w.deleted) == 0 {
		return events
	}
	events = slices.DeleteFunc(events, func(e *learningv1alpha1.LearningEvent) bool { return slices.Contains(w.deleted, e.Name) })
	for _, written := range w.events {
		if i := slices.IndexFunc(events, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == written.Name }); i >= 0 {
			events[i] = written
		} else {
			events = append(events, written)
		}
	}
	return events
}

func (r *ProgramReconciler) reconcileCohortGatherings(ctx context.Context, cohort *learningv1alpha1.Cohort, events []*learningv1alpha1.LearningEvent, now time.Time) (gatheringWrites, error) {
	var written gatheringWrites
	deleting := cohort.DeletionTimestamp != nil
	if !deleting && !controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		patched, err := r.patchFinalizers(ctx, cohort, true)
		if err != nil {
			return written, err
		}
		written.cohort, cohort = patched, patched
	}
	for i, e := range events {
		released, err := r.releaseOwnerReference(ctx, cohort, e)
		if err != nil {
			return written, err
		}
		if released != nil {
			events[i] = released
			written.events = append(written.events, released)
		}
	}
	if cohort.Spec.Suspend && !deleting {
		return written, nil
	}
	plan, err := program.PlanGatherings(cohort, events, now)
	if err != nil {
		// The evaluation reports the schedule as Stalled; nothing is changed.
		return written, nil //nolint:nilerr // a bad schedule is reported in status, not retried
	}
	for _, want := range plan.Apply {
		applied, err := r.applyGathering(ctx, want, events)
		if err != nil {
			return written, err
		}
		if applied != nil {
			written.events = append(written.events, applied)
		}
	}
	for _, e := range plan.Delete {
		rv := e.ResourceVersion
		if err := r.Client.Delete(ctx, e, client.Preconditions{UID: &e.UID, ResourceVersion: &rv}); client.IgnoreNotFound(err) != nil {
			return written, fmt.Errorf("deleting unscheduled gathering %s: %w", e.Name, err)
		}
		written.deleted = append(written.deleted, e.Name)
	}
	if deleting && controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		patched, err := r.patchFinalizers(ctx, cohort, false)
		if patched != nil {
			written.cohort = patched
		}
		return written, err
	}
	return written, nil
}

// applyGathering creates a missing generated gathering or brings an untouched one back
// to the schedule, and returns it as the API server stored it (nil when another writer
// created it first). The optimistic lock keeps a stale cache from overwriting
// attendance recorded meanwhile.
func (r *ProgramReconciler) applyGathering(ctx context.Context, want *learningv1alpha1.LearningEvent, existing []*learningv1alpha1.LearningEvent) (*learningv1alpha1.LearningEvent, error) {
	i := slices.IndexFunc(existing, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == want.Name })
	if i < 0 {
		switch err := r.Client.Create(ctx, want, client.FieldOwner(fieldOwner)); {
		case apierrors.IsAlreadyExists(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("creating gathering %s: %w", want.Name, err)
		}
		return want, nil
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
		return nil, fmt.Errorf("updating gathering %s: %w", want.Name, err)
	}
	return updated, nil
}

// releaseOwnerReference removes the cohort's owner reference from a generated
// gathering made by an earlier version of the operator, so that garbage collection
// never deletes it with the cohort, and returns the released gathering (nil when it
// had no such reference).
func (r *ProgramReconciler) releaseOwnerReference(ctx context.Context, cohort *learningv1alpha1.Cohort, e *learningv1alpha1.LearningEvent) (*learningv1alpha1.LearningEvent, error) {
	owned := func(ref metav1.OwnerReference) bool { return ref.UID == cohort.UID }
	if !slices.ContainsFunc(e.OwnerReferences, owned) {
		return nil, nil
	}
	released := e.DeepCopy()
	released.OwnerReferences = slices.DeleteFunc(released.OwnerReferences, owned)
	if err := r.Client.Patch(ctx, released, client.MergeFromWithOptions(e, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner)); err != nil {
		return nil, fmt.Errorf("releasing gathering %s from its cohort: %w", e.Name, err)
	}
	return released, nil
}

// patchFinalizers adds or removes the gatherings finalizer of a cohort and returns the
// cohort as the API server stored it (nil when it is gone).
func (r *ProgramReconciler) patchFinalizers(ctx context.Context, cohort *learningv1alpha1.Cohort, add bool) (*learningv1alpha1.Cohort, error) {
	changed := cohort.DeepCopy()
	if add {
		controllerutil.AddFinalizer(changed, GatheringsFinalizer)
	} else {
		controllerutil.RemoveFinalizer(changed, GatheringsFinalizer)
	}
	switch err := r.Client.Patch(ctx, changed, client.MergeFromWithOptions(cohort, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner)); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("updating the finalizers of cohort %s: %w", cohort.Name, err)
	}
	return changed, nil
}

// deletionStarted passes the update that marks an object for deletion.
func deletionStarted[T client.Object](e event.TypedUpdateEvent[T]) bool {
	return e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil
}
