package calendar

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

var (
	chicago  = mustLoadLocation("America/Chicago")
	newYork  = mustLoadLocation("America/New_York")
	berlin   = mustLoadLocation("Europe/Berlin")
	santiago = mustLoadLocation("America/Santiago")
	lordHowe = mustLoadLocation("Australia/Lord_Howe")
	kolkata  = mustLoadLocation("Asia/Kolkata")
)

// defaultDuration is the duration of the schedules the tests build.
const defaultDuration = 90 * time.Minute

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// sched builds a schedule of 90-minute gatherings.
func sched(rule, startTime string, loc *time.Location) learningv1alpha1.Schedule {
	return learningv1alpha1.Schedule{
		RRule:     learningv1alpha1.RecurrenceRule(rule),
		StartTime: startTime,
		Duration:  metav1.Duration{Duration: defaultDuration},
		TimeZone:  learningv1alpha1.TimeZone(loc.String()),
	}
}

// midnight is the start of a local calendar day.
func midnight(loc *time.Location, year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, loc)
}

// utcStarts renders the starts as UTC RFC 3339 strings, which read well in a diff.
func utcStarts(occ []Occurrence) []string {
	var out []string
	for _, o := range occ {
		out = append(out, o.Start.UTC().Format(time.RFC3339))
	}
	return out
}
