package calendar

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// eventSuffixLayout is the local date and time of an occurrence in an event name.
const eventSuffixLayout = "20060102-1504"

// EventName is the stable name of the generated LearningEvent for an occurrence:
// "<cohort>-<YYYYMMDD>-<HHMM>" using the occurrence's local date and time in loc, e.g.
// "allyship-2026-20260113-1200". When the result would exceed 253 characters, truncate the
// cohort part and keep the suffix; the result must be a valid DNS subdomain name.
//
// cohort is the Cohort's object name, itself a DNS subdomain name. Truncation also drops
// any '-' or '.' it leaves at the end of the cohort part, so that the name stays valid;
// an empty cohort part leaves just the suffix. A nil loc means UTC.
func EventName(cohort string, start time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	suffix := start.In(loc).Format(eventSuffixLayout)
	prefix := cohort
	if limit := validation.DNS1123SubdomainMaxLength - len(suffix) - 1; len(prefix) > limit {
		prefix = strings.TrimRight(prefix[:limit], "-.")
	}
	if prefix == "" {
		return suffix
	}
	return prefix + "-" + suffix
}
