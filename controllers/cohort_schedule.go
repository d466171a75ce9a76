package controllers

import (
	"context"
	"fmt"
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
	s := cohort.Spec.Schedule
	if s == nil || p.termErr != nil {
		return scheduleResult{}, nil
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
	existing, err := r.generatedEvents(ctx, cohort)
	if err != nil {
		return scheduleResult{}, err
	}
	result := scheduleResult{}
	if len(occurrences) > 0 {
		result.next = occurrences[0].End
	}
	if cohort.Spec.Suspend {
		result.generated = len(existing)
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
		if err := r.retireEvent(ctx, cohort, e, desired[name], p.now); err != nil {
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
	if err := r.Client.Patch(ctx, updated, client.MergeFrom(have), client.FieldOwner(fieldOwner)); err != nil {
		return fmt.Errorf("updating event %s: %w", want.Name, err)
	}
	return nil
}

// retireEvent releases a generated event that became a record, and deletes a future
// one the schedule no longer wants (the schedule changed). Past events stay.
func (r *CohortReconciler) retireEvent(ctx context.Context, cohort *learningv1alpha1.Cohort, e *learningv1alpha1.LearningEvent, wanted bool, now time.Time) error {
	if !metav1.IsControlledBy(e, cohort) {
		return nil
	}
	if len(e.Spec.Attendance) > 0 {
		released := e.DeepCopy()
		refs := released.OwnerReferences[:0]
		for _, ref := range e.OwnerReferences {
			if ref.UID != cohort.UID {
				refs = append(refs, ref)
			}
		}
		released.OwnerReferences = refs
		if err := r.Client.Patch(ctx, released, client.MergeFrom(e), client.FieldOwner(fieldOwner)); err != nil {
			return fmt.Errorf("releasing recorded event %s: %w", e.Name, err)
		}
		return nil
	}
	if wanted || !e.Spec.Start.After(now) {
		return nil
	}
	if err := r.Client.Delete(ctx, e, client.Preconditions{UID: &e.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting unscheduled event %s: %w", e.Name, err)
	}
	return nil
}
