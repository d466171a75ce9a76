package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/program"
)

// concurrentWrites is how many writes of one unit's evaluation are in flight at once:
// status patches, or cohorts whose children are being applied. A unit of thousands of
// members changes every status on its first evaluation; made one after another, those
// writes would take minutes.
const concurrentWrites = 8

// forEachConcurrently calls do(0), ..., do(n-1) on at most limit goroutines and returns
// when every call has.
func forEachConcurrently(n, limit int, do func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(limit, n) {
		wg.Go(func() {
			for i := range work {
				do(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// statusWrite is one status patch of the outcome, and the Events it records.
type statusWrite struct {
	before, next client.Object
	events       []program.Transition
}

// applyOutcome writes the status of every object of the unit whose status changed, one
// patch each, and after each successful write emits the Events of the transitions it
// records. A patch carries the resourceVersion it was computed from: if the cache was
// stale, the API server refuses it and the unit is evaluated again from fresh objects,
// so a decision is never made twice and an Event is never emitted twice. Objects that
// did not change get no request at all.
func (r *ProgramReconciler) applyOutcome(ctx context.Context, key unitKey, snap program.Snapshot, out program.Outcome) error {
	writes := changedStatuses(snap, out)
	errs := make([]error, len(writes))
	forEachConcurrently(len(writes), concurrentWrites, func(i int) {
		w := writes[i]
		if err := r.patchStatus(ctx, w.before, w.next); err != nil {
			errs[i] = client.IgnoreNotFound(err)
			return
		}
		r.lag.wrote(key, w.next, w.before.GetResourceVersion())
		r.emit(w.next, w.events)
	})
	return errors.Join(errs...)
}

// changedStatuses lists the objects of the unit whose status the outcome changes.
func changedStatuses(snap program.Snapshot, out program.Outcome) []statusWrite {
	var writes []statusWrite
	if c := snap.Community; c != nil && out.Community != nil && !equality.Semantic.DeepEqual(c.Status, *out.Community) {
		next := c.DeepCopy()
		next.Status = *out.Community
		writes = append(writes, statusWrite{before: c, next: next})
	}
	for _, c := range snap.Cohorts {
		if status, ok := out.Cohorts[c.Name]; ok && !equality.Semantic.DeepEqual(c.Status, status) {
			next := c.DeepCopy()
			next.Status = status
			writes = append(writes, statusWrite{before: c, next: next})
		}
	}
	for _, m := range snap.Memberships {
		if status, ok := out.Memberships[m.Name]; ok && !equality.Semantic.DeepEqual(m.Status, status) {
			next := m.DeepCopy()
			next.Status = status
			writes = append(writes, statusWrite{before: m, next: next, events: out.Transitions[program.ObjectKey{Kind: "Membership", Name: m.Name}]})
		}
	}
	for _, e := range snap.Events {
		if status, ok := out.Events[e.Name]; ok && !equality.Semantic.DeepEqual(e.Status, status) {
			next := e.DeepCopy()
			next.Status = status
			writes = append(writes, statusWrite{before: e, next: next, events: out.Transitions[program.ObjectKey{Kind: "LearningEvent", Name: e.Name}]})
		}
	}
	for _, p := range snap.Plans {
		if status, ok := out.Plans[p.Name]; ok && !equality.Semantic.DeepEqual(p.Status, status) {
			next := p.DeepCopy()
			next.Status = status
			writes = append(writes, statusWrite{before: p, next: next, events: out.Transitions[program.ObjectKey{Kind: "ActionPlan", Name: p.Name}]})
		}
	}
	for _, p := range snap.Reports {
		if status, ok := out.Reports[p.Name]; ok && !equality.Semantic.DeepEqual(p.Status, status) {
			next := p.DeepCopy()
			next.Status = status
			writes = append(writes, statusWrite{before: p, next: next})
		}
	}
	return writes
}

// patchStatus writes next's status with one merge patch against before, locked to the
// resourceVersion it was computed from. A NotFound error stays recognisable: the object
// was deleted meanwhile.
func (r *ProgramReconciler) patchStatus(ctx context.Context, before, next client.Object) error {
	if err := r.Client.Status().Patch(ctx, next, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("patching status of %s %s: %w", kindName(before), client.ObjectKeyFromObject(before), err)
	}
	return nil
}

// emit records the transitions as Kubernetes Events of obj.
func (r *ProgramReconciler) emit(obj client.Object, transitions []program.Transition) {
	for _, t := range transitions {
		r.Recorder.Eventf(obj, nil, t.Type, t.Reason, t.Action, "%s", t.Message)
	}
}
