package rules

import (
	"fmt"
	"testing"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// BenchmarkAllocateSeats allocates the seats of a large cohort: 1,000 memberships in
// two roles.
// BenchmarkMemberAttendance judges one member over two years of weekly events.
func BenchmarkMemberAttendance(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	term := Term{Start: start, End: start.AddDate(2, 0, 0)}
	events := make([]EventRecord, 104)
	statuses := []learningv1alpha1.AttendanceStatus{learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceLate, learningv1alpha1.AttendanceExcused, learningv1alpha1.AttendanceAbsent}
	for i := range events {
		s := start.AddDate(0, 0, 7*i)
		events[i] = EventRecord{Name: fmt.Sprintf("e-%d", i), Start: s, End: s.Add(90 * time.Minute), Counts: true,
			Status: map[string]learningv1alpha1.AttendanceStatus{"m": statuses[i%len(statuses)]}}
	}
	policy := AttendancePolicy{RequiredPercent: 80, MinimumEvents: 3, LateWeightPercent: 100}
	now := start.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		MemberAttendance(AttendanceInput{Policy: policy, Member: "m", Term: term, Events: events, Now: now})
	}
}
