package calendar

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func benchmarkExpand(b *testing.B, rrule string) {
	s := learningv1alpha1.Schedule{RRule: learningv1alpha1.RecurrenceRule(rrule), StartTime: "12:00",
		Duration: metav1.Duration{Duration: 90 * time.Minute}, TimeZone: "America/Chicago", Lookahead: 3}
	start := time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Expand(s, start, end, start.AddDate(0, 6, 0), 3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpandMonthly expands the next three monthly gatherings of a year-long cohort.
func BenchmarkExpandMonthly(b *testing.B) { benchmarkExpand(b, "FREQ=MONTHLY;BYDAY=2TU") }

// BenchmarkExpandWeekly expands the next three weekly gatherings of a year-long cohort.
func BenchmarkExpandWeekly(b *testing.B) { benchmarkExpand(b, "FREQ=WEEKLY;BYDAY=TU") }
