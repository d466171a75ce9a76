package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// conditionedObject is an object of this API that carries status conditions.
type conditionedObject interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// markNotImplemented records that this version of the controller does not evaluate the
// kind's rules yet: Ready is Unknown with reason NotImplemented. It never claims a
// rule result it did not compute.
func markNotImplemented(obj conditionedObject) {
	conditions := obj.GetConditions()
	apimeta.SetStatusCondition(&conditions, metav1.Condition{
		Type:               learningv1alpha1.ReadyCondition,
		Status:             metav1.ConditionUnknown,
		Reason:             learningv1alpha1.NotImplementedReason,
		Message:            "the rules of this kind are not evaluated by this version of the operator",
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conditions)
}

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

// reconcileNotImplemented is the whole reconcile of a kind whose rules are not
// evaluated yet: it fetches the object, lets observe record the observed generation,
// marks Ready Unknown with reason NotImplemented and writes status only on change.
func reconcileNotImplemented(ctx context.Context, c client.Client, key client.ObjectKey, obj conditionedObject, observe func()) error {
	if err := c.Get(ctx, key, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	before := obj.DeepCopyObject().(client.Object)
	observe()
	markNotImplemented(obj)
	return patchStatus(ctx, c, before, obj)
}
