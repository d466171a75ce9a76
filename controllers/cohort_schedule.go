package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
)

// ScheduleLabel marks a LearningEvent generated from a cohort's schedule; its value is
// the cohort's name.
const ScheduleLabel = "learning.cohort.dev/schedule"

// scheduleResult is what the schedule step observed.
type scheduleResult struct {
	// err is a schedule that cannot be expanded; the user must fix the spec.
	err error
	// generated counts the generated events the cohort owns.
	generated int
	// next is when the window of upcoming gatherings moves.
	next time.Time
}

// reconcileSchedule keeps the next spec.schedule.lookahead gatherings in existence as
// LearningEvents owned by the cohort, with stable names. A generated event that has
// attendance recorded is a record: it is never rewritten or deleted, and its owner
// reference is released so that deleting the cohort keeps it. A suspended or completed
// cohort generates nothing.
func (r *CohortReconciler) reconcileSchedule(ctx context.Context, p *program) (scheduleResult, error) {
	cohort := p.cohort
	existing, err := r.generatedEvents(ctx, cohort)
	if err != nil {
		return scheduleResult{}, err
	}
	// Records are released in every case, also when the schedule is gone, invalid or
	// suspended, so that deleting the cohort never deletes attendance.
	if err := r.releaseRecords(ctx, cohort, existing); err != nil {
		return scheduleResult{}, err
	}
	result := scheduleResult{generated: len(existing)}
	s := cohort.Spec.Schedule
	if s == nil || p.termErr != nil {
		return result, nil
	}
	loc, err := time.LoadLocation(string(s.TimeZone))
	if err != nil {
		return scheduleResult{err: fmt.Errorf("spec.schedule.timeZone: unknown time zone %q", s.TimeZone)}, nil
	}
	// An event in progress is still upcoming: start the window one duration back.
	occurrences, err := calendar.Expand(*s, p.term.Start, p.term.End, p.now.Add(-s.Duration.Duration), int(s.Lookahead))
	if err != nil {
		return scheduleResult{err: err}, nil
	}
	if len(occurrences) == 0 {
		if any, err := calendar.Expand(*s, p.term.Start, p.term.End, p.term.Start, 1); err == nil && len(any) == 0 {
			return scheduleResult{err: fmt.Errorf("spec.schedule.rrule: %q has no occurrence between the cohort's start and end", s.RRule)}, nil
		}
	}
	if len(occurrences) > 0 {
		result.next = occurrences[0].End
	}
	if cohort.Spec.Suspend {
		return result, nil
	}
	desired := map[string]bool{}
	for _, occ := range occurrences {
		want := desiredEvent(cohort, occ, loc)
		desired[want.Name] = true
		if err := r.applyEvent(ctx, cohort, want, existing[want.Name]); err != nil {
			return scheduleResult{}, err
		}
	}
	for name, e := range existing {
		if err := r.deleteUnscheduled(ctx, cohort, e, desired[name], p.now); err != nil {
			return scheduleResult{}, err
		}
	}
	result.generated = len(desired)
	return result, nil
}

// generatedEvents returns the cohort's generated events by name.
func (r *CohortReconciler) generatedEvents(ctx context.Context, cohort *learningv1alpha1.Cohort) (map[string]*learningv1alpha1.LearningEvent, error) {
	list := &learningv1alpha1.LearningEventList{}
	if err := r.Client.List(ctx, list, client.InNamespace(cohort.Namespace),
		client.MatchingFields{eventCohortIndex: cohort.Name}, client.MatchingLabels{ScheduleLabel: cohort.Name}); err != nil {
		return nil, fmt.Errorf("listing generated events of %s: %w", cohort.Name, err)
	}
	byName := make(map[string]*learningv1alpha1.LearningEvent, len(list.Items))
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	return byName, nil
}

// desiredEvent builds the generated LearningEvent of one occurrence.
func desiredEvent(cohort *learningv1alpha1.Cohort, occ calendar.Occurrence, loc *time.Location) *learningv1alpha1.LearningEvent {
	s := cohort.Spec.Schedule
	title := s.Title
	if title == "" {
		name := cohort.Spec.DisplayName
		if name == "" {
			name = cohort.Name
		}
		title = name + " " + string(s.Type)
	}
	// Leave room for ", September 30, 2026" within the 200 characters of a title.
	if len(title) > 170 {
		title = strings.TrimSpace(title[:170])
	}
	return &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{
			Name:      calendar.EventName(cohort.Name, occ.Start, loc),
			Namespace: cohort.Namespace,
			Labels:    map[string]string{ScheduleLabel: cohort.Name},
		},
		Spec: learningv1alpha1.LearningEventSpec{
			CohortRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort.Name)},
			Type:      s.Type,
			Title:     title + ", " + occ.Start.In(loc).Format("January 2, 2006"),
			Start:     metav1.NewTime(occ.Start.UTC()),
			Duration:  s.Duration,
			TimeZone:  s.TimeZone,
			Location:  s.Location,
			Audience:  learningv1alpha1.InternalAudience,
		},
	}
}

// applyEvent creates a missing generated event or brings a generated one that is not
// yet a record back to the schedule. It never touches an event it does not control.
func (r *CohortReconciler) applyEvent(ctx context.Context, cohort *learningv1alpha1.Cohort, want, have *learningv1alpha1.LearningEvent) error {
	if have == nil {
		if err := controllerutil.SetControllerReference(cohort, want, r.Client.Scheme()); err != nil {
			return err
		}
		if err := r.Client.Create(ctx, want, client.FieldOwner(fieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating event %s: %w", want.Name, err)
		}
		return nil
	}
	if !metav1.IsControlledBy(have, cohort) || len(have.Spec.Attendance) > 0 {
		return nil
	}
	updated := have.DeepCopy()
	updated.Spec.Type, updated.Spec.Title = want.Spec.Type, want.Spec.Title
	updated.Spec.Start, updated.Spec.Duration = want.Spec.Start, want.Spec.Duration
	updated.Spec.TimeZone, updated.Spec.Location = want.Spec.TimeZone, want.Spec.Location
	if equality.Semantic.DeepEqual(updated.Spec, have.Spec) {
		return nil
	}
	// The lock keeps a stale cache from overwriting attendance recorded meanwhile.
	if err := r.Client.Patch(ctx, updated, client.MergeFromWithOptions(have, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner)); err != nil {
		return fmt.Errorf("updating event %s: %w", want.Name, err)
	}
	return nil
}

// releaseRecords removes the cohort's owner reference from generated events that have
// attendance recorded: they are records now, and garbage collection must not delete
// them with the cohort.
func (r *CohortReconciler) releaseRecords(ctx context.Context, cohort *learningv1alpha1.Cohort, events map[string]*learningv1alpha1.LearningEvent) error {
	for _, e := range events {
		if !metav1.IsControlledBy(e, cohort) || len(e.Spec.Attendance) == 0 {
			continue
		}
		released := e.DeepCopy()
		refs := released.OwnerReferences[:0]
		for _, ref := range e.OwnerReferences {
			if ref.UID != cohort.UID {
				refs = append(refs, ref)
			}
		}
		released.OwnerReferences = refs
		if err := r.Client.Patch(ctx, released, client.MergeFromWithOptions(e, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldOwner)); err != nil {
			return fmt.Errorf("releasing recorded event %s: %w", e.Name, err)
		}
		events[e.Name] = released
	}
	return nil
}

// deleteUnscheduled deletes a future generated event, without attendance, that the
// schedule no longer wants (the schedule changed). Past events stay.
func (r *CohortReconciler) deleteUnscheduled(ctx context.Context, cohort *learningv1alpha1.Cohort, e *learningv1alpha1.LearningEvent, wanted bool, now time.Time) error {
	if wanted || !metav1.IsControlledBy(e, cohort) || len(e.Spec.Attendance) > 0 || !e.Spec.Start.After(now) {
		return nil
	}
	rv := e.ResourceVersion
	if err := r.Client.Delete(ctx, e, client.Preconditions{UID: &e.UID, ResourceVersion: &rv}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting unscheduled event %s: %w", e.Name, err)
	}
	return nil
}
