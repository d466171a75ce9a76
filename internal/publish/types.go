// Package publish renders the documents the operator publishes for each cohort: the
// roster, the calendar and the overview the cohort portal shows. The manager stores them
// in ConfigMaps it owns; the portal reads those ConfigMaps by name and serves them.
//
// The documents hold what a member of the cohort may see: display names, organizations,
// roles, seats, terms and attendance figures. They never hold spec.member, the user name
// the cluster authenticates, which may be an e-mail address.
package publish

import "time"

// Keys of the documents in the cohort's ConfigMaps.
const (
	// RosterKey holds the Roster as JSON.
	RosterKey = "roster.json"
	// CalendarKey holds the iCalendar feed (RFC 5545).
	CalendarKey = "calendar.ics"
	// OverviewKey holds the Overview as JSON.
	OverviewKey = "overview.json"
)

// Seat states of a roster entry.
const (
	// SeatHeld is a member who holds a seat (or held it until the term ended).
	SeatHeld = "Seated"
	// SeatWaitlisted is a member waiting for a seat.
	SeatWaitlisted = "Waitlisted"
)

// Roster lists the cohort's members who hold a seat, held one for a term that has
// ended, or wait for one. Withdrawn and ineligible memberships are left out.
type Roster struct {
	// Cohort is the cohort's name.
	Cohort string `json:"cohort"`
	// Members are ordered by organization, role, seat (seated first, then by
	// waitlist position) and display name.
	Members []RosterEntry `json:"members"`
}

// RosterEntry is one membership of the roster.
type RosterEntry struct {
	// DisplayName is the member's display name, or the Membership's name when none
	// is declared.
	DisplayName  string `json:"displayName"`
	Organization string `json:"organization,omitempty"`
	Role         string `json:"role"`
	TeamRole     string `json:"teamRole,omitempty"`
	// Seat is SeatHeld or SeatWaitlisted.
	Seat string `json:"seat"`
	// WaitlistPosition is the place in the role's waitlist, from 1, when waitlisted.
	WaitlistPosition int32 `json:"waitlistPosition,omitempty"`
	// Phase is the membership's phase: Pending, Active, Expiring or Expired.
	Phase string `json:"phase"`
	// TermStart and TermEnd are the term's first and last day, as YYYY-MM-DD.
	TermStart string `json:"termStart,omitempty"`
	TermEnd   string `json:"termEnd,omitempty"`
	// AttendancePercent is the member's attendance, when there is any to report.
	AttendancePercent *int32 `json:"attendancePercent,omitempty"`
}

// Overview is what the portal's page shows besides the roster.
type Overview struct {
	Cohort    CohortSummary `json:"cohort"`
	Community *Community    `json:"community,omitempty"`
	// Roles are the cohort's seats per role.
	Roles []RoleSeats `json:"roles"`
	// Waitlisted is the number of memberships waiting for a seat in any role.
	Waitlisted int32 `json:"waitlisted"`
	// AttendancePercent is the cohort's attendance over ended events.
	AttendancePercent *int32 `json:"attendancePercent,omitempty"`
	// RequiredPercent is the attendance the policy asks of each member.
	RequiredPercent int32 `json:"requiredPercent"`
	// Upcoming are the next events of the cohort and its community, earliest first,
	// cancelled ones included (marked). External events appear only while approved.
	Upcoming []Event `json:"upcoming"`
	// Attendance is the attendance at each ended event that counts, oldest first.
	Attendance []EventAttendance `json:"attendance"`
}

// CohortSummary describes the cohort.
type CohortSummary struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	// Phase is Enrolling, Active or Completed.
	Phase string `json:"phase"`
	// StartDate and EndDate are the cohort's first and last day, as YYYY-MM-DD.
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
	TimeZone  string `json:"timeZone"`
}

// Community describes the community the cohort runs under.
type Community struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Purpose     string `json:"purpose,omitempty"`
}

// RoleSeats are the seats of one role.
type RoleSeats struct {
	Name       string `json:"name"`
	MinMembers int32  `json:"minMembers"`
	MaxMembers int32  `json:"maxMembers"`
	Seated     int32  `json:"seated"`
	Waitlisted int32  `json:"waitlisted"`
}

// Event is an upcoming event.
type Event struct {
	Title     string    `json:"title"`
	Type      string    `json:"type"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	TimeZone  string    `json:"timeZone,omitempty"`
	Location  string    `json:"location,omitempty"`
	Cancelled bool      `json:"cancelled,omitempty"`
}

// EventAttendance is the attendance recorded at one ended event.
type EventAttendance struct {
	Title   string    `json:"title"`
	Start   time.Time `json:"start"`
	Present int32     `json:"present"`
	Late    int32     `json:"late"`
	Excused int32     `json:"excused"`
	Absent  int32     `json:"absent"`
	// Percent is (present + late x weight) / (recorded - excused), when anyone but
	// the excused was recorded.
	Percent *int32 `json:"percent,omitempty"`
}
