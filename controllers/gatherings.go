package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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

// takenNames fills snap.Taken: the names the cohorts' schedules generate in this pass
// that an event outside the unit holds, looked up in the cache. Names the unit's own
// events hold are not looked up: the plan sees those events.
func (r *ProgramReconciler) takenNames(ctx context.Context, snap *program.Snapshot) error {
	held := make(map[string]bool, len(snap.Events))
	for _, e := range snap.Events {
		held[e.Name] = true
	}
	snap.Taken = map[string]bool{}
	for _, cohort := range snap.Cohorts {
		for _, name := range program.ScheduledNames(cohort, snap.Schedules[cohort.Name]) {
			if held[name] {
				continue
			}
			switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: cohort.Namespace, Name: name}, &learningv1alpha1.LearningEvent{}); {
			case err == nil:
				snap.Taken[name] = true
			case !apierrors.IsNotFound(err):
				return fmt.Errorf("looking up gathering %s: %w", name, err)
			}
		}
	}
	return nil
}

// writeGatherings carries out the decision's gatherings plans (see
// program.PlanScheduledGatherings) and keeps every cohort's finalizer. A deleted
// cohort deletes its untouched future gatherings, then releases its finalizer.
//
// Every object it writes replaces its cached copy in snap (a created gathering joins
// it, a deleted one leaves it), so that the status writes that follow carry the
// resourceVersions the API server returned: a new gathering gets its status in this
// pass, and the cohort's status patch does not meet a conflict with its own finalizer
// and record patches. Each cohort's step writes the cohort's status.gatherings itself
// (recordGatherings), the one writer of that list, and reports the record in facts.
//
// One cohort's failure stops only that cohort's step: it is reported on that cohort
// (facts.Failures) and its siblings go on. The errors are returned, joined, for the
// unit to be retried with backoff once it has been provisioned and reported.
func (r *ProgramReconciler) writeGatherings(ctx context.Context, key unitKey, snap *program.Snapshot, decision *program.Decision, facts *program.Facts) error {
	var errs []error
	for i, cohort := range snap.Cohorts {
		var written gatheringWrites
		var record []learningv1alpha1.GeneratedGathering
		var recorded bool
		var err error
		plan, planned := decision.Gatherings[cohort.Name]
		failure := program.Guard(cohort.Name, program.StepGatherings, func() {
			written, record, recorded, err = r.writeCohortGatherings(ctx, cohort, plan, planned, snap.Events)
		})
		written.record(&r.lag, key, cohort, snap.Events)
		if written.cohort != nil {
			snap.Cohorts[i] = written.cohort
		}
		snap.Events = written.applyTo(snap.Events)
		if recorded {
			facts.Gatherings[cohort.Name] = record
		}
		switch {
		case failure != nil:
			facts.Failures[cohort.Name] = append(facts.Failures[cohort.Name], failure)
		case err != nil:
			facts.Failures[cohort.Name] = append(facts.Failures[cohort.Name], &program.StepFailure{Cohort: cohort.Name, Step: program.StepGatherings, Err: err})
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

// writeCohortGatherings carries out one cohort's gatherings plan (planned says it has
// one) and returns what it wrote and the cohort's record of generated gatherings
// afterwards (recorded is false when there was no plan: the cohort keeps its record).
// The record is returned with an error too, so that a gathering created before the
// failure is recorded.
func (r *ProgramReconciler) writeCohortGatherings(ctx context.Context, cohort *learningv1alpha1.Cohort, plan program.GatheringPlan, planned bool, events []*learningv1alpha1.LearningEvent) (written gatheringWrites, record []learningv1alpha1.GeneratedGathering, recorded bool, err error) {
	deleting := cohort.DeletionTimestamp != nil
	if !deleting && !controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		patched, err := r.patchFinalizers(ctx, cohort, true)
		if err != nil {
			return written, nil, false, err
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
			return written, nil, false, err
		}
		if released != nil {
			events[i] = released
			written.events = append(written.events, released)
		}
	}
	if !planned {
		// The evaluation reports the schedule; nothing is changed.
		return written, nil, false, nil
	}
	record = slices.Clone(plan.Keep)
	writeErr := r.applyGatherings(ctx, plan, events, &written, &record)
	if !deleting {
		// Recorded right after the writes, even when one failed, so that what was
		// created is recorded.
		patched, err := r.recordGatherings(ctx, cohort, record)
		if patched != nil {
			written.cohort = patched
		}
		writeErr = errors.Join(writeErr, err)
	}
	if writeErr != nil {
		return written, record, true, writeErr
	}
	if deleting && controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
		patched, err := r.patchFinalizers(ctx, cohort, false)
		if patched != nil {
			written.cohort = patched
		}
		return written, record, true, err
	}
	return written, record, true, nil
}

// applyGatherings creates, rewrites and deletes the planned gatherings, and keeps the
// record in step with each write that succeeded: a created gathering is recorded with
// the UID the API server gave it, a deleted one leaves the record.
func (r *ProgramReconciler) applyGatherings(ctx context.Context, plan program.GatheringPlan, events []*learningv1alpha1.LearningEvent, written *gatheringWrites, record *[]learningv1alpha1.GeneratedGathering) error {
	defer func() {
		slices.SortFunc(*record, func(a, b learningv1alpha1.GeneratedGathering) int { return strings.Compare(a.Name, b.Name) })
	}()
	for _, want := range plan.Apply {
		applied, err := r.applyGathering(ctx, want, events)
		if err != nil {
			return err
		}
		written.events = append(written.events, applied)
		*record = slices.DeleteFunc(*record, func(g learningv1alpha1.GeneratedGathering) bool { return g.Name == applied.Name })
		*record = append(*record, learningv1alpha1.GeneratedGathering{Name: applied.Name, UID: string(applied.UID)})
	}
	for _, e := range plan.Delete {
		rv := e.ResourceVersion
		if err := r.Client.Delete(ctx, e, client.Preconditions{UID: &e.UID, ResourceVersion: &rv}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting unscheduled gathering %s: %w", e.Name, err)
		}
		written.deleted = append(written.deleted, e.Name)
		*record = slices.DeleteFunc(*record, func(g learningv1alpha1.GeneratedGathering) bool { return g.Name == e.Name })
	}
	return nil
}

// recordGatherings writes the cohort's status.gatherings when it differs from
// generated, and returns the cohort as the API server stored it (nil when nothing was
// written or the cohort is gone).
//
// This step is the one writer of the field: the outcome takes it from the facts
// (program.Facts.Gatherings), and the cohort's status patch starts from the cohort
// this returns, so it holds no change to it. The patch has no optimistic lock, because nobody else writes the field and the
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
// the API server stored it. An event outside the unit that took the name after the
// pass read the cache refuses the creation: an error, retried, and the next pass skips
// that name (Snapshot.Taken). The optimistic lock keeps a stale cache from
// overwriting attendance recorded meanwhile.
func (r *ProgramReconciler) applyGathering(ctx context.Context, want *learningv1alpha1.LearningEvent, existing []*learningv1alpha1.LearningEvent) (*learningv1alpha1.LearningEvent, error) {
	i := slices.IndexFunc(existing, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == want.Name && e.UID == want.UID })
	if want.UID == "" || i < 0 {
		created := want.DeepCopy()
		created.UID, created.ResourceVersion = "", ""
		if err := r.Client.Create(ctx, created, client.FieldOwner(fieldOwner)); err != nil {
			return nil, fmt.Errorf("creating gathering %s: %w", want.Name, err)
		}
		return created, nil
	}
	have := existing[i]
	updated := program.Rewritten(have, want)
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
