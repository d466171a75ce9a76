package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// BenchmarkObserveProgram measures one evaluation of a cohort's whole program, the work
// behind every Cohort, Membership and LearningEvent reconcile, reading from the
// manager's informer cache as in production: 200 memberships in a community of two
// cohorts, and 24 monthly gatherings with attendance recorded for everyone.
func BenchmarkObserveProgram(b *testing.B) {
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
	for b.Loop() {
		p, err := observeProgram(ctx, cached, cohort, sampleDay)
		if err != nil || len(p.members) != 200 {
			b.Fatalf("observed %d members: %v", len(p.members), err)
		}
	}
}
