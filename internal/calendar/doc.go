// Package calendar expands the recurring schedule of a cohort into occurrences and
// names the LearningEvents generated for them.
//
// Everything here is a pure function of its arguments: no clients, no clock. The
// controllers pass the cohort's start and end and the current time in.
package calendar

// The operator and portal images may ship without a zoneinfo database; embedding
// it keeps schedule.timeZone working the same in every image. time.LoadLocation
// still prefers the system database when one is present.
import _ "time/tzdata"
