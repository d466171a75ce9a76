package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
// program.PlanScheduledGatherings), from the schedules expanded once for this pass
// (snap.Schedules). A suspended cohort changes nothing. A deleted cohort deletes its
// untouched future gatherings, then releases its finalizer.
//
// Every object it writes replaces its cached copy in snap (a created gathering joins
// it, a deleted one leaves it), so that the evaluation that follows decides on what the
// API server now holds: a new gathering gets its status and a place in the calendar and
// the Roles in this pass, and the cohort's status patch carries the resourceVersion its
// finalizer and record patches returned instead of meeting a conflict. Each cohort's
// step writes the cohort's status.gatherings itself (recordGatherings), the one writer
// of that list; what it skipped (snap.Gatherings) the evaluation reports.
//
// One cohort's failure stops only that cohort's step: it is reported on that cohort
// (snap.Failures) and its siblings go on. The errors are returned, joined, for the unit
// to be retried with backoff once it has been evaluated and provisioned.
func (r *ProgramReconciler) reconcileGatherings(ctx context.Context, key unitKey, snap *program.Snapshot) error {
	snap.Gatherings = map[string]program.GatheringRecord{}
	if snap.Failures == nil {
		snap.Failures = map[string][]*program.StepFailure{}
	}
	var errs []error
	for i, cohort := range snap.Cohorts {
		var written gatheringWrites
		var record *program.GatheringRecord
		var err error
		failure := program.Guard(cohort.Name, program.StepGatherings, func() {
			written, record, err = r.reconcileCohortGatherings(ctx, cohort, snap.Schedules[cohort.Name], snap.Events, snap.Now)
		})
		written.record(&r.lag, key, cohort, snap.Events)
		if written.cohort != nil {
			snap.Cohorts[i] = written.cohort
		}
		snap.Events = written.applyTo(snap.Events)
		if record != nil {
			snap.Gatherings[cohort.Name] = *record
		}
		switch {
		case failure != nil:
			snap.Failures[cohort.Name] = append(snap.Failures[cohort.Name], failure)
		case err != nil:
			snap.Failures[cohort.Name] = append(snap.Failures[cohort.Name], &program.StepFailure{Cohort: cohort.Name, Step: program.StepGatherings, Err: err})
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// gatheringWrites are the objects one cohort's gatherings step wrote, as the API server
// returned them.
type gatheringWrites struct {
	// cohort is the cohort after its finalizers or its status.gatherings changed; nil
	// when neither did.
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

// reconcileCohortGatherings writes one cohort's gatherings plan and returns what it
// wrote and the cohort's record of generated gatherings afterwards (nil when the plan
// did not run: the cohort keeps its record). The record is returned with an error too,
// so that a gathering created before the failure is recorded.
func (r *ProgramReconciler) reconcileCohortGatherings(ctx context.Context, cohort *learningv1alpha1.Cohort, sched *program.Schedule, events []*learningv1alpha1.LearningEvent, now time.Time) (gatheringWrites, *program.GatheringRecord, error) {
	var written gatheringWrites
	deleting := cohort.DeletionTimestamp != nil
	if !deleting && !controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		patched, err := r.patchFinalizers(ctx, cohort, true)
		if err != nil {
			return written, nil, err
		}
		written.cohort, cohort = patched, patched
	}
	events = slices.Clone(events)
	for i, e := range events {
		if e.Labels[program.ScheduleLabel] != names.CohortLabel(cohort.Name) || !refersTo(e, cohort.Name) {
			continue
		}
		released, err := r.releaseOwnerReference(ctx, cohort, e)
		if err != nil {
			return written, nil, err
		}
		if released != nil {
			events[i] = released
			written.events = append(written.events, released)
		}
	}
	plan, err := program.PlanScheduledGatherings(cohort, sched, events, now)
	if err != nil {
		// The evaluation reports the schedule as Stalled; nothing is changed.
		return written, nil, nil //nolint:nilerr // a bad schedule is reported in status, not retried
	}
	record := &program.GatheringRecord{Generated: plan.Keep, Skipped: plan.Skipped}
	var writeErr error
	if !cohort.Spec.Suspend || deleting {
		writeErr = r.writeGatherings(ctx, plan, events, &written, record)
	}
	if !deleting {
		// Recorded right after the writes, even when one failed, so that what was
		// created is recorded; suspension stops gathering writes, not the record.
		patched, err := r.recordGatherings(ctx, cohort, record.Generated)
		if patched != nil {
			written.cohort = patched
		}
		writeErr = errors.Join(writeErr, err)
	}
	if writeErr != nil {
		return written, record, writeErr
	}
	if deleting && controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		patched, err := r.patchFinalizers(ctx, cohort, false)
		if patched != nil {
			written.cohort = patched
		}
		return written, record, err
	}
	return written, record, nil
}

// writeGatherings creates, rewrites and deletes the planned gatherings, and keeps the
// record in step with each write that succeeded: a created gathering is recorded with
// the UID the API server gave it, a deleted one leaves the record.
func (r *ProgramReconciler) writeGatherings(ctx context.Context, plan program.GatheringPlan, events []*learningv1alpha1.LearningEvent, written *gatheringWrites, record *program.GatheringRecord) error {
	defer func() {
		slices.SortFunc(record.Generated, func(a, b learningv1alpha1.GeneratedGathering) int { return strings.Compare(a.Name, b.Name) })
	}()
	for _, want := range plan.Apply {
		applied, err := r.applyGathering(ctx, want, events)
		if err != nil {
			return err
		}
		if applied == nil {
			// An event the unit does not hold (another cohort's or community's, or
			// none's) has that name: the schedule skips it.
			record.Skipped = append(record.Skipped, want.Name)
			continue
		}
		written.events = append(written.events, applied)
		record.Generated = slices.DeleteFunc(record.Generated, func(g learningv1alpha1.GeneratedGathering) bool { return g.Name == applied.Name })
		record.Generated = append(record.Generated, learningv1alpha1.GeneratedGathering{Name: applied.Name, UID: string(applied.UID)})
	}
	for _, e := range plan.Delete {
		rv := e.ResourceVersion
		if err := r.Client.Delete(ctx, e, client.Preconditions{UID: &e.UID, ResourceVersion: &rv}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting unscheduled gathering %s: %w", e.Name, err)
		}
		written.deleted = append(written.deleted, e.Name)
		record.Generated = slices.DeleteFunc(record.Generated, func(g learningv1alpha1.GeneratedGathering) bool { return g.Name == e.Name })
	}
	return nil
}

// recordGatherings writes the cohort's status.gatherings when it differs from
// generated, and returns the cohort as the API server stored it (nil when nothing was
// written or the cohort is gone).
//
// This step is the one writer of the field: the evaluation carries it over unchanged
// (its status patch starts from the cohort this returns, so it holds no change to
// it). The patch has no optimistic lock, because nobody else writes the field and the
// unit's passes are serialized: a pass starts only once the cache shows this write
// (cacheLag). Writing the record here, right after the creates, rather than with the
// evaluation's status patch, leaves the smallest window in which a created gathering
// is not recorded; PlanScheduledGatherings closes it by adoption.
func (r *ProgramReconciler) recordGatherings(ctx context.Context, cohort *learningv1alpha1.Cohort, generated []learningv1alpha1.GeneratedGathering) (*learningv1alpha1.Cohort, error) {
	if slices.Equal(cohort.Status.Gatherings, generated) {
		return nil, nil
	}
	changed := cohort.DeepCopy()
	changed.Status.Gatherings = generated
	switch err := r.Client.Status().Patch(ctx, changed, client.MergeFrom(cohort)); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("recording the generated gatherings of cohort %s: %w", cohort.Name, err)
	}
	return changed, nil
}

// refersTo reports whether the event is declared for the named cohort.
func refersTo(e *learningv1alpha1.LearningEvent, cohort string) bool {
	return e.Spec.CohortRef != nil && string(e.Spec.CohortRef.Name) == cohort
}

// applyGathering creates a missing generated gathering (want has no UID) or brings a
// recorded, untouched one back to the schedule (want has its UID), and returns it as
// the API server stored it (nil when an event of that name exists that the unit does
// not hold). The optimistic lock keeps a stale cache from overwriting attendance
// recorded meanwhile.
func (r *ProgramReconciler) applyGathering(ctx context.Context, want *learningv1alpha1.LearningEvent, existing []*learningv1alpha1.LearningEvent) (*learningv1alpha1.LearningEvent, error) {
	i := slices.IndexFunc(existing, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == want.Name && e.UID == want.UID })
	if want.UID == "" || i < 0 {
		created := want.DeepCopy()
		created.UID, created.ResourceVersion = "", ""
		switch err := r.Client.Create(ctx, created, client.FieldOwner(fieldOwner)); {
		case apierrors.IsAlreadyExists(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("creating gathering %s: %w", want.Name, err)
		}
		return created, nil
	}
	have := existing[i]
	updated := have.DeepCopy()
	updated.Spec = want.Spec
	if updated.Labels == nil {
		updated.Labels = map[string]string{}
	}
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
