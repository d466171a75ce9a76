package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// conditionSet builds the conditions of one status, stamped with the generation they
// were computed for. It keeps the last transition time of conditions whose status did
// not change, so an unchanged object yields an identical status.
type conditionSet struct {
	conditions *[]metav1.Condition
	generation int64
}

func (s conditionSet) set(typ string, status metav1.ConditionStatus, reason, format string, args ...any) {
	apimeta.SetStatusCondition(s.conditions, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            fmt.Sprintf(format, args...),
		ObservedGeneration: s.generation,
	})
}

func (s conditionSet) remove(typ string) { apimeta.RemoveStatusCondition(s.conditions, typ) }

// patchStatus writes the status of obj with one merge patch against before, and makes
// no request at all when nothing changed.
func patchStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	if equality.Semantic.DeepEqual(before, obj) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patching status of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// requeueAt asks to run again at the next clock boundary, capped at maxWait so that a
// clock jump is noticed; no boundary means no requeue.
func requeueAt(next, now time.Time, maxWait time.Duration) ctrl.Result {
	if next.IsZero() {
		return ctrl.Result{}
	}
	wait := next.Sub(now)
	if wait <= 0 {
		wait = time.Second
	}
	if maxWait > 0 && wait > maxWait {
		wait = maxWait
	}
	return ctrl.Result{RequeueAfter: wait}
}

// conditionReason returns the reason of a condition, or "" when absent.
func conditionReason(conditions []metav1.Condition, typ string) string {
	if c := apimeta.FindStatusCondition(conditions, typ); c != nil {
		return c.Reason
	}
	return ""
}

// conditionMessage returns the message of a condition, or "" when absent.
func conditionMessage(conditions []metav1.Condition, typ string) string {
	if c := apimeta.FindStatusCondition(conditions, typ); c != nil {
		return c.Message
	}
	return ""
}
