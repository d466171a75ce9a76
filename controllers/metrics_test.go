package controllers

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// TestApprovalMetricsTimestamp: the oldest pending approval is exported as the instant
// it started waiting, which stays right between evaluations (an alert computes
// time() - it), and its series goes away once nothing waits.
func TestApprovalMetricsTimestamp(t *testing.T) {
	key := unitKey{Namespace: "metrics-test", Community: "allyship"}
	t.Cleanup(func() {
		approvalsPendingMetric.DeleteLabelValues(key.Namespace, key.Community)
		approvalWaitMetric.DeleteLabelValues(key.Namespace, key.Community)
	})
	now := time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)
	event := func(name string) *learningv1alpha1.LearningEvent {
		e := &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: name}}
		e.Spec.Audience = learningv1alpha1.ExternalAudience
		return e
	}
	older, newer := now.Add(-50*time.Hour), now.Add(-2*time.Hour)
	snap := program.Snapshot{Now: now, Events: []*learningv1alpha1.LearningEvent{event("talk"), event("panel")}}
	out := program.Outcome{Events: map[string]learningv1alpha1.LearningEventStatus{
		"talk":  {ContentChanged: &metav1.Time{Time: newer}},
		"panel": {ContentChanged: &metav1.Time{Time: older}},
	}}

	recordApprovalMetrics(key, snap, out)
	if got := testutil.ToFloat64(approvalsPendingMetric.WithLabelValues(key.Namespace, key.Community)); got != 2 {
		t.Errorf("cohort_approvals_pending = %v, want 2", got)
	}
	if got, want := testutil.ToFloat64(approvalWaitMetric.WithLabelValues(key.Namespace, key.Community)), float64(older.Unix()); got != want {
		t.Errorf("cohort_approval_oldest_pending_timestamp_seconds = %v, want %v (when the older event's content changed)", got, want)
	}

	// Evaluated again a day later: the timestamp does not move.
	snap.Now = now.Add(24 * time.Hour)
	recordApprovalMetrics(key, snap, out)
	if got, want := testutil.ToFloat64(approvalWaitMetric.WithLabelValues(key.Namespace, key.Community)), float64(older.Unix()); got != want {
		t.Errorf("a day later, the timestamp = %v, want still %v", got, want)
	}

	// Both approved: no series, so neither a dashboard nor an alert sees a wait.
	approved := []metav1.Condition{{Type: learningv1alpha1.ApprovedCondition, Status: metav1.ConditionTrue}}
	out.Events["talk"] = learningv1alpha1.LearningEventStatus{ContentChanged: &metav1.Time{Time: newer}, Conditions: approved}
	out.Events["panel"] = learningv1alpha1.LearningEventStatus{ContentChanged: &metav1.Time{Time: older}, Conditions: approved}
	recordApprovalMetrics(key, snap, out)
	if got := testutil.ToFloat64(approvalsPendingMetric.WithLabelValues(key.Namespace, key.Community)); got != 0 {
		t.Errorf("cohort_approvals_pending = %v, want 0", got)
	}
	// DeleteLabelValues reports whether the series existed.
	if approvalWaitMetric.DeleteLabelValues(key.Namespace, key.Community) {
		t.Error("cohort_approval_oldest_pending_timestamp_seconds has a series while nothing waits, want none")
	}
}
