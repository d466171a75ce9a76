package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// eventually retries check until it returns nil or 30 seconds pass, then fails with
// the last error.
func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, what, check)
}

// create creates objects with the administrator's client.
func create(t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
}

// get reads obj fresh from the API server.
func get(obj client.Object) error {
	return k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
}

// update reads obj, applies change and writes it back, retrying on conflicts.
func update[T client.Object](t testing.TB, obj T, change func(T)) {
	t.Helper()
	eventually(t, "updating "+obj.GetName(), func() error {
		if err := get(obj); err != nil {
			return err
		}
		change(obj)
		return k8s.Update(context.Background(), obj)
	})
}

// hasCondition checks a condition's status and reason.
func hasCondition(conditions []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) error {
	c := apimeta.FindStatusCondition(conditions, typ)
	switch {
	case c == nil:
		return fmt.Errorf("no %s condition in %v", typ, conditions)
	case c.Status != status || c.Reason != reason:
		return fmt.Errorf("%s is %s/%s (%q), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return nil
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

// createsPlans tells the one rule of the cohort's Roles without resource names:
// create on ActionPlans, which RBAC cannot limit by name (the action-plan policy binds
// the new plan to its creator).
func createsPlans(rule rbacv1.PolicyRule) bool {
	return slices.Equal(rule.APIGroups, []string{learningv1alpha1.GroupVersion.Group}) && slices.Equal(rule.Resources, []string{"actionplans"}) &&
		slices.Equal(rule.Verbs, []string{"create"}) && len(rule.ResourceNames) == 0
}
