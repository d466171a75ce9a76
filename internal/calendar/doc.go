// Package calendar expands the recurring schedule of a cohort into occurrences.
package calendar

import _ "github.com/teambition/rrule-go" // pinned in go.mod for the schedule expansion
