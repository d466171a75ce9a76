package controllers

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

func learningEvent(ns, name string) *learningv1alpha1.LearningEvent {
	return &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// TestScheduleGeneratesGatherings checks the generator: stable names, local time kept
// across the daylight-saving change, no owner references (so no deletion of the cohort
// can garbage-collect one), a moving window, and that a gathering with attendance is
// a record that is never rewritten.
func TestScheduleGeneratesGatherings(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "monthly", "club", "2026-01-01", 12)
	cohort.Spec.TimeZone = "America/Chicago"
	cohort.Spec.Schedule = &learningv1alpha1.Schedule{
		RRule: "FREQ=MONTHLY;BYDAY=2TU", StartTime: "12:00", Duration: metav1.Duration{Duration: 90 * time.Minute},
		TimeZone: "America/Chicago", Lookahead: 3, Type: learningv1alpha1.GatheringEvent, Title: "Monthly gathering",
	}
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 20)), cohort, testutil.Membership(ns, "ana", "monthly", "u-ana", "Member"))
	if err := get(cohort); err != nil {
		t.Fatal(err)
	}

	generated := func(name string, start time.Time) func() error {
		return func() error {
			e := learningEvent(ns, name)
			if err := get(e); err != nil {
				return err
			}
			if !e.Spec.Start.Time.Equal(start) {
				return fmt.Errorf("%s starts %s, want %s", name, e.Spec.Start.UTC(), start)
			}
			if len(e.OwnerReferences) > 0 {
				return fmt.Errorf("%s has owner references %v, want none", name, e.OwnerReferences)
			}
			if e.Labels[program.ScheduleLabel] != "monthly" {
				return fmt.Errorf("%s is labelled %v", name, e.Labels)
			}
			return nil
		}
	}
	// Noon in Chicago is 18:00Z in winter and 17:00Z once daylight saving starts.
	eventually(t, "February is generated", generated("monthly-20260210-1200", time.Date(2026, 2, 10, 18, 0, 0, 0, time.UTC)))
	eventually(t, "March is generated", generated("monthly-20260310-1200", time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)))
	eventually(t, "April is generated", generated("monthly-20260414-1200", time.Date(2026, 4, 14, 17, 0, 0, 0, time.UTC)))

	update(t, learningEvent(ns, "monthly-20260210-1200"), func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Attendance = []learningv1alpha1.AttendanceRecord{testutil.Attended("ana", learningv1alpha1.AttendancePresent)}
	})
	fakeClock.SetTime(time.Date(2026, 2, 20, 12, 0, 0, 0, time.UTC))
	eventually(t, "the window moves on to May", generated("monthly-20260512-1200", time.Date(2026, 5, 12, 17, 0, 0, 0, time.UTC)))
	eventually(t, "February is still there", generated("monthly-20260210-1200", time.Date(2026, 2, 10, 18, 0, 0, 0, time.UTC)))

	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.Schedule.Title = "Allyship circle" })
	eventually(t, "upcoming gatherings follow the new title", func() error {
		e := learningEvent(ns, "monthly-20260310-1200")
		if err := get(e); err != nil {
			return err
		}
		if e.Spec.Title != "Allyship circle, March 10, 2026" {
			return fmt.Errorf("title %q", e.Spec.Title)
		}
		return nil
	})
	record := learningEvent(ns, "monthly-20260210-1200")
	if err := get(record); err != nil {
		t.Fatal(err)
	}
	if record.Spec.Title != "Monthly gathering, February 10, 2026" || len(record.Spec.Attendance) != 1 {
		t.Fatalf("the record was rewritten: %q %v", record.Spec.Title, record.Spec.Attendance)
	}
}
