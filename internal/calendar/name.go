package calendar

import (
	"time"

	"github.com/cohort-dev/cohort-operator/internal/names"
)

// eventSuffixLayout is the local date and time of an occurrence in an event name.
const eventSuffixLayout = "20060102-1504"

// EventName is the stable name of the generated LearningEvent for an occurrence:
// "<cohort>-<YYYYMMDD>-<HHMM>" using the occurrence's local date and time in loc, e.g.
// "allyship-2026-20260113-1200", shortened by the operator's one naming rule
// (names.Derive) when longer than an object name may be. A nil loc means UTC.
func EventName(cohort string, start time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return names.Derive(cohort, start.In(loc).Format(eventSuffixLayout), names.ObjectLimit)
}
