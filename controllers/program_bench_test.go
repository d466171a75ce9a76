package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// BenchmarkReadAndEvaluateUnit measures the work of one program reconcile before it
// writes: reading a unit from the manager's informer cache as in production and
// evaluating it. The unit is a community of two cohorts with 200 memberships, and 24
// monthly gatherings with attendance recorded for everyone.
func BenchmarkReadAndEvaluateUnit(b *testing.B) {
	fakeClock.SetTime(sampleDay)
	ctx := context.Background()
	ns := testutil.Namespace(b, k8s)
	objs := []client.Object{
		testutil.Community(ns, "cop", testutil.Role("Lead", 1, 2), testutil.Role("Member", 15, 180)),
		testutil.Cohort(ns, "c", "cop", "2025-12-01", 24),
		testutil.Cohort(ns, "other", "cop", "2025-01-01", 12),
	}
	var attendance []learningv1alpha1.AttendanceRecord
	for i := range 200 {
		role := "Member"
		if i < 2 {
			role = "Lead"
		}
		name := fmt.Sprintf("m-%03d", i)
		objs = append(objs, testutil.Membership(ns, name, "c", "u-"+name, role))
		if i%10 == 0 {
			objs = append(objs, testutil.Membership(ns, "prev-"+name, "other", "u-"+name, role))
		}
		attendance = append(attendance, testutil.Attended(name, learningv1alpha1.AttendancePresent))
	}
	for i := range 24 {
		start := time.Date(2025, 12, 10, 18, 0, 0, 0, time.UTC).AddDate(0, i, 0)
		objs = append(objs, testutil.Gathering(ns, fmt.Sprintf("g-%02d", i), "c", start, attendance...))
	}
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	cohort := &learningv1alpha1.Cohort{}
	key := client.ObjectKey{Namespace: ns, Name: "c"}
	deadline := time.Now().Add(time.Minute)
	for {
		list := &learningv1alpha1.LearningEventList{}
		err := cached.List(ctx, list, client.InNamespace(ns))
		if err == nil && len(list.Items) >= 24 && cached.Get(ctx, key, cohort) == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the cache did not sync")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	r := &ProgramReconciler{Deps: Deps{Client: cached, Clock: fakeClock}}
	for b.Loop() {
		snap, ok, err := r.readUnit(ctx, unitKey{Namespace: ns, Community: "cop"})
		if err != nil || !ok || len(snap.Memberships) != 220 {
			b.Fatalf("read %d memberships: %v", len(snap.Memberships), err)
		}
		if out := program.Evaluate(snap); len(out.Memberships) != 220 {
			b.Fatalf("evaluated %d memberships", len(out.Memberships))
		}
	}
}
