package program

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// BenchmarkEvaluateLargeCohort evaluates a community cohort of 1,000 seated members and
// 10 waiting, with five ended gatherings of 1,000 attendance entries and a monthly
// schedule, starting from the statuses of an earlier evaluation: the work of one
// change in the change-latency benchmark, without the API server.
func BenchmarkEvaluateLargeCohort(b *testing.B) {
	snap := benchLargeUnit(1000, 10)
	out := Evaluate(snap)
	for _, m := range snap.Memberships {
		m.Status = out.Memberships[m.Name]
	}
	for _, c := range snap.Cohorts {
		c.Status = out.Cohorts[c.Name]
	}
	for _, e := range snap.Events {
		e.Status = out.Events[e.Name]
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(snap)
	}
}

func benchLargeUnit(seated, waiting int) Snapshot {
	ns := "bench"
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	cohort := testutil.Cohort(ns, "large", "cop", "2026-01-01", 12)
	cohort.Spec.Schedule = testutil.MonthlySchedule()
	snap := Snapshot{
		Now:       now,
		Community: testutil.Community(ns, "cop", testutil.Role("Member", 0, int32(seated))),
		Cohorts:   []*learningv1alpha1.Cohort{cohort},
	}
	var attendance []learningv1alpha1.AttendanceRecord
	for i := range seated + waiting {
		m := testutil.Membership(ns, fmt.Sprintf("m-%04d", i), "large", fmt.Sprintf("u-%04d", i), "Member")
		m.CreationTimestamp = metav1.NewTime(now.Add(time.Duration(i) * time.Second))
		snap.Memberships = append(snap.Memberships, m)
		if i < seated {
			attendance = append(attendance, testutil.Attended(m.Name, learningv1alpha1.AttendancePresent))
		}
	}
	for g := range 5 {
		start := time.Date(2026, time.Month(6+g), 9, 17, 0, 0, 0, time.UTC)
		snap.Events = append(snap.Events, testutil.Gathering(ns, fmt.Sprintf("g-%d", g), "large", start, attendance...))
	}
	return snap
}
