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
	// Plans is the progress of the cohort's ActionPlans: counts only, never a plan's
	// text. Absent when no plan is required and none exists.
	Plans *PlanProgress `json:"plans,omitempty"`
	// Agenda is what the next gathering takes up: the reflections members chose to
	// share in their check-ins since the last gathering ended. Absent when no plan
	// exists.
	Agenda *Agenda `json:"agenda,omitempty"`
	// Attendance is the attendance at each ended event that counts, oldest first.
	Attendance []EventAttendance `json:"attendance"`
	// Reports are the approved ProgramReports of the cohort's program (its community's,
	// or its own) and of its run, newest period first, at most ReportLimit: aggregates
	// and the leads' narrative only.
	Reports []Report `json:"reports,omitempty"`
}

// ReportLimit is how many approved reports an overview carries: half a year of
// monthly reports, the trend the portal shows.
const ReportLimit = 6

// PlanProgress counts the cohort's ActionPlans and their actions.
type PlanProgress struct {
	// Required is how many plans the program requires (one per seated member, or per
	// organization with a seated member), and Present how many of them exist.
	Required int32 `json:"required"`
	Present  int32 `json:"present"`
	// Plans is how many plans the cohort has; Current, Overdue and Stale how many of
	// them are so.
	Plans   int32 `json:"plans"`
	Current int32 `json:"current"`
	Overdue int32 `json:"overdue"`
	Stale   int32 `json:"stale"`
	// ActionsDone of ActionsTotal are the actions done across the plans.
	ActionsDone  int32 `json:"actionsDone"`
	ActionsTotal int32 `json:"actionsTotal"`
}

// AgendaLimit is how many reflections an agenda holds, the latest; the others are
// counted in More and stay in their plans.
const AgendaLimit = 50

// Agenda is the reflections shared since the last gathering, for the next one.
type Agenda struct {
	// Next is the next gathering that counts toward attendance, if one is scheduled.
	Next *Event `json:"next,omitempty"`
	// Since is when the last such gathering ended, or the cohort started: the
	// reflections shared after it are on the agenda.
	Since time.Time `json:"since"`
	// Reflections are the shared check-ins, oldest first.
	Reflections []Reflection `json:"reflections"`
	// More is how many more were shared than the agenda holds (AgendaLimit).
	More int `json:"more,omitempty"`
}

// Reflection is one shared check-in: what its author learned and would adjust.
type Reflection struct {
	// By is the author's display name, as the roster shows it.
	By string `json:"by"`
	// Team is the organization, for a team workplan's check-in.
	Team    string    `json:"team,omitempty"`
	At      time.Time `json:"at"`
	Learned string    `json:"learned,omitempty"`
	Adjust  string    `json:"adjust,omitempty"`
	// ActionsDone of Actions are the plan's actions done, as progress.
	ActionsDone int32 `json:"actionsDone"`
	Actions     int32 `json:"actions"`
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
