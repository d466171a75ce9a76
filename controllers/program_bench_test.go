package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// BenchmarkObserveProgram measures one evaluation of a cohort's whole program, the work
// behind every Cohort and Membership reconcile: 200 memberships in a community, and 24
// monthly gatherings with attendance recorded for everyone.
func BenchmarkObserveProgram(b *testing.B) {
	const ns = "bench"
	objs := []client.Object{
		testutil.Community(ns, "cop", testutil.Role("Lead", 1, 2), testutil.Role("Member", 15, 180)),
		testutil.Cohort(ns, "c", "cop", "2026-01-01", 24),
	}
	var attendance []learningv1alpha1.AttendanceRecord
	for i := range 200 {
		role := "Member"
		if i < 2 {
			role = "Lead"
		}
		name := fmt.Sprintf("m-%03d", i)
		objs = append(objs, testutil.Membership(ns, name, "c", "u-"+name, role))
		attendance = append(attendance, testutil.Attended(name, learningv1alpha1.AttendancePresent))
	}
	for i := range 24 {
		start := time.Date(2026, time.Month(i%12+1), 10, 18, 0, 0, 0, time.UTC).AddDate(i/12, 0, 0)
		objs = append(objs, testutil.Gathering(ns, fmt.Sprintf("g-%02d", i), "c", start, attendance...))
	}
	c := fake.NewClientBuilder().WithScheme(testutil.Scheme()).WithObjects(objs...).
		WithIndex(&learningv1alpha1.Membership{}, membershipCohortIndex, func(o client.Object) []string {
			return []string{string(o.(*learningv1alpha1.Membership).Spec.CohortRef.Name)}
		}).
		WithIndex(&learningv1alpha1.Membership{}, membershipMemberIndex, func(o client.Object) []string {
			return []string{o.(*learningv1alpha1.Membership).Spec.Member}
		}).
		WithIndex(&learningv1alpha1.Cohort{}, cohortCommunityIndex, func(o client.Object) []string {
			return refName(o.(*learningv1alpha1.Cohort).Spec.CommunityRef)
		}).
		WithIndex(&learningv1alpha1.LearningEvent{}, eventCohortIndex, func(o client.Object) []string {
			return refName(o.(*learningv1alpha1.LearningEvent).Spec.CohortRef)
		}).
		WithIndex(&learningv1alpha1.LearningEvent{}, eventCommunityIndex, func(o client.Object) []string {
			return refName(o.(*learningv1alpha1.LearningEvent).Spec.CommunityRef)
		}).
		Build()
	ctx := context.Background()
	cohort := &learningv1alpha1.Cohort{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "c"}, cohort); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		p, err := observeProgram(ctx, c, cohort, now)
		if err != nil || len(p.members) != 200 {
			b.Fatalf("observed %v members: %v", p, err)
		}
	}
}
