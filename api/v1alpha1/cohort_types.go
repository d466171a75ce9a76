package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CohortSpec declares one time-boxed intake of a program.
//
// +kubebuilder:validation:XValidation:rule="has(self.durationMonths) != has(self.endDate)",message="exactly one of spec.durationMonths or spec.endDate must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.endDate) || self.endDate > self.startDate",message="spec.endDate must be after spec.startDate"
// +kubebuilder:validation:XValidation:rule="has(self.communityRef) || (has(self.policy) && has(self.policy.roles) && size(self.policy.roles) > 0 && self.policy.roles.all(r, has(r.maxMembers)))",message="spec.policy.roles with maxMembers for every role is required when spec.communityRef is not set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.communityRef) || (has(self.communityRef) && self.communityRef.name == oldSelf.communityRef.name)",message="spec.communityRef is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(self.reporting) || !has(self.communityRef)",message="spec.reporting is set on the community of a cohort that has a communityRef: its reports cover all its cohorts"
// +kubebuilder:validation:XValidation:rule="!has(self.approvers) || size(self.approvers) == 0 || !has(self.communityRef)",message="spec.approvers is set on the community of a cohort that has a communityRef: its approvers approve for all its cohorts"
type CohortSpec struct {
	// communityRef names the CommunityOfPractice the cohort runs under, in the same
	// namespace. Its policy is the default for this cohort. A cohort without one is
	// standalone and must declare its own policy.roles. Immutable once set.
	// +optional
	CommunityRef *LocalObjectReference `json:"communityRef,omitempty"`

	// displayName is the cohort's name as people read it, for example
	// "Allyship 2026".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName Text `json:"displayName,omitempty"`

	// startDate is the first day of the cohort, from 2000 until before 2200.
	// +required
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.startDate must be from 2000 until before 2200"
	StartDate Date `json:"startDate"`

	// durationMonths is the length of the cohort in months. Exactly one of
	// durationMonths and endDate is set.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	DurationMonths *int32 `json:"durationMonths,omitempty"`

	// endDate is the last day of the cohort, from 2000 until before 2200. Exactly one of
	// durationMonths and endDate is set.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.endDate must be from 2000 until before 2200"
	EndDate *Date `json:"endDate,omitempty"`

	// timeZone is the IANA time zone in which the cohort's dates begin and end.
	// Defaults to UTC.
	// +optional
	// +kubebuilder:default=UTC
	TimeZone TimeZone `json:"timeZone,omitempty"`

	// enrollment is the window in which the program takes new memberships, for people
	// planning the intake. Memberships are never rejected or dropped for their date.
	// +optional
	Enrollment *EnrollmentWindow `json:"enrollment,omitempty"`

	// policy overrides the community's policy field by field; roles are matched by name.
	// A standalone cohort declares its whole policy here.
	// +optional
	Policy *ProgramPolicy `json:"policy,omitempty"`

	// schedule declares recurring gatherings. The operator creates the next lookahead
	// occurrences as LearningEvents labelled with the cohort, without an owner
	// reference: a gathering with attendance is a record that outlives the cohort.
	// +optional
	Schedule *Schedule `json:"schedule,omitempty"`

	// services selects what the operator provisions for the cohort besides its RBAC,
	// roster and calendar.
	// +optional
	Services *CohortServices `json:"services,omitempty"`

	// reporting, when set on a standalone cohort, makes the operator keep a
	// ProgramReport of the cohort's KPIs for every period. A cohort of a community
	// reports with its community.
	// +optional
	Reporting *ReportingPolicy `json:"reporting,omitempty"`

	// approvers, on a standalone cohort, may approve its external communications
	// (External LearningEvents) and its ProgramReports. The operator grants them the
	// approve verb in this namespace, as a community's. A cohort of a community has its
	// community's approvers.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Approvers []Approver `json:"approvers,omitempty"`

	// suspend stops provisioning changes and event generation without deleting
	// anything. Status is still reported.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// EnrollmentWindow is the period in which a cohort takes new memberships.
//
// +kubebuilder:validation:XValidation:rule="!has(self.opens) || !has(self.closes) || self.opens <= self.closes",message="enrollment.opens must not be after enrollment.closes"
type EnrollmentWindow struct {
	// opens is the first day of enrollment, from 2000 until before 2200.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.enrollment.opens must be from 2000 until before 2200"
	Opens *Date `json:"opens,omitempty"`

	// closes is the last day of enrollment, from 2000 until before 2200.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.enrollment.closes must be from 2000 until before 2200"
	Closes *Date `json:"closes,omitempty"`
}

// RecurrenceRule is an RFC 5545 RRULE value without the "RRULE:" prefix, limited to
// daily and coarser frequencies, for example FREQ=MONTHLY;BYDAY=2TU. Its UNTIL date
// lies from 2000 until before 2200, as every date does.
//
// +kubebuilder:validation:MinLength=10
// +kubebuilder:validation:MaxLength=256
// +kubebuilder:validation:Pattern=`^FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;(INTERVAL=[1-9][0-9]{0,2}|COUNT=[1-9][0-9]{0,3}|UNTIL=[0-9]{8}(T[0-9]{6}Z)?|BYDAY=([+-]?[1-5]?(MO|TU|WE|TH|FR|SA|SU))(,[+-]?[1-5]?(MO|TU|WE|TH|FR|SA|SU))*|BYMONTHDAY=-?([1-9]|[12][0-9]|3[01])(,-?([1-9]|[12][0-9]|3[01]))*|BYMONTH=([1-9]|1[0-2])(,([1-9]|1[0-2]))*|BYSETPOS=-?[1-9][0-9]{0,2}(,-?[1-9][0-9]{0,2})*|WKST=(MO|TU|WE|TH|FR|SA|SU)))*$`
// +kubebuilder:validation:XValidation:rule="!(self.contains('COUNT=') && self.contains('UNTIL='))",message="schedule.rrule may set COUNT or UNTIL, not both"
// +kubebuilder:validation:XValidation:rule="!self.matches('UNTIL=([013-9]|2[2-9])')",message="spec.schedule.rrule UNTIL must be from 2000 until before 2200"
type RecurrenceRule string

// Schedule declares recurring gatherings of a cohort.
type Schedule struct {
	// rrule is the RFC 5545 recurrence rule, for example FREQ=MONTHLY;BYDAY=2TU for the
	// second Tuesday of every month.
	// +required
	RRule RecurrenceRule `json:"rrule"`

	// startTime is the local time of day gatherings start, as HH:MM in timeZone.
	// +required
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	// +kubebuilder:validation:MaxLength=5
	StartTime string `json:"startTime"`

	// duration is how long each gathering lasts, for example 90m or 1h30m.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(h|m|s))+$`
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5m') && duration(self) <= duration('24h')",message="schedule.duration must be between 5m and 24h"
	Duration metav1.Duration `json:"duration"`

	// timeZone is the IANA time zone of startTime. Gatherings keep their local time
	// across daylight-saving changes.
	// +required
	TimeZone TimeZone `json:"timeZone"`

	// lookahead is how many upcoming gatherings exist as LearningEvents at any time.
	// Defaults to 3.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=52
	Lookahead int32 `json:"lookahead,omitempty"`

	// type is the type of the generated events. Defaults to Gathering.
	// +optional
	// +kubebuilder:default=Gathering
	Type EventType `json:"type,omitempty"`

	// title is the title of the generated events; the date is appended.
	// +optional
	// +kubebuilder:validation:MaxLength=150
	Title Text `json:"title,omitempty"`

	// location is where the gatherings take place: a room, an address or a meeting link.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Location Text `json:"location,omitempty"`
}

// CohortServices selects the services provisioned for a cohort.
type CohortServices struct {
	// portal is a read-only web overview of the cohort.
	// +optional
	Portal *PortalService `json:"portal,omitempty"`
}

// PortalService configures the cohort portal.
type PortalService struct {
	// enabled runs the portal for the cohort.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// replicas is the number of portal pods. Defaults to 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=5
	Replicas *int32 `json:"replicas,omitempty"`
}

// CohortPhase is where a cohort is in its life.
//
// +kubebuilder:validation:Enum=Enrolling;Active;Completed
type CohortPhase string

const (
	// CohortEnrolling is the phase before the cohort starts.
	CohortEnrolling CohortPhase = "Enrolling"
	// CohortActive is the phase between the start and end dates.
	CohortActive CohortPhase = "Active"
	// CohortCompleted is the phase after the end date.
	CohortCompleted CohortPhase = "Completed"
)

// RoleSeats reports the seats of one role.
type RoleSeats struct {
	// name of the role.
	// +required
	Name RoleName `json:"name"`

	// minMembers is the effective minimum of the role.
	// +optional
	MinMembers int32 `json:"minMembers,omitempty"`

	// maxMembers is the effective number of seats.
	// +optional
	MaxMembers int32 `json:"maxMembers,omitempty"`

	// seated is the number of memberships holding a seat.
	// +optional
	Seated int32 `json:"seated,omitempty"`

	// waitlisted is the number of memberships waiting for a seat.
	// +optional
	Waitlisted int32 `json:"waitlisted,omitempty"`
}

// CohortStatus is the observed state of a Cohort.
type CohortStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the cohort's state: Ready, Reconciling, Stalled, Staffed,
	// CompositionValid, Provisioned, PortalAvailable and CommunityFound.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// phase is Enrolling, Active or Completed.
	// +optional
	Phase CohortPhase `json:"phase,omitempty"`

	// startDate is the first day of the cohort.
	// +optional
	StartDate Date `json:"startDate,omitempty"`

	// endDate is the last day of the cohort, resolved from durationMonths when needed.
	// +optional
	EndDate Date `json:"endDate,omitempty"`

	// roles reports the seats of each role: the community's and the cohort's own.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Roles []RoleSeats `json:"roles,omitempty"`

	// seats summarises the roles for a glance, for example "Lead 2/2, Member 18/20".
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Seats string `json:"seats,omitempty"`

	// waitlisted is the number of memberships waiting for a seat in any role.
	// +optional
	Waitlisted int32 `json:"waitlisted,omitempty"`

	// members counts the cohort's memberships by phase, and those waiting for a seat.
	// +optional
	Members *MemberCounts `json:"members,omitempty"`

	// organizations is the number of organizations with seated members.
	// +optional
	Organizations int32 `json:"organizations,omitempty"`

	// attendancePercent is the cohort's attendance over ended events, rounded down.
	// +optional
	AttendancePercent *int32 `json:"attendancePercent,omitempty"`

	// actionPlans sums up the ActionPlans of the cohort's memberships and teams; set
	// when plans are required or any exists.
	// +optional
	ActionPlans *ActionPlanFigures `json:"actionPlans,omitempty"`

	// nextEvent is the start of the cohort's next scheduled event.
	// +optional
	NextEvent *metav1.Time `json:"nextEvent,omitempty"`

	// gatherings are the LearningEvents the operator generated from spec.schedule (or
	// adopted as exactly what it would generate) and may still bring back to the
	// schedule or delete, by name and UID. The operator rewrites or deletes only the
	// events listed here, never one that merely carries the schedule's label.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=512
	Gatherings []GeneratedGathering `json:"gatherings,omitempty"`
}

// GeneratedGathering names one LearningEvent the operator generated for a cohort.
type GeneratedGathering struct {
	// name is the LearningEvent's name.
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// uid is the LearningEvent's metadata.uid.
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
}

// Cohort is one intake of a program, such as a twelve-month community cohort or a
// six-month cohort of organizations.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=coh,categories=learning
// +kubebuilder:printcolumn:name="Community",type=string,JSONPath=`.spec.communityRef.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Seats",type=string,JSONPath=`.status.seats`
// +kubebuilder:printcolumn:name="Waitlist",type=integer,JSONPath=`.status.waitlisted`
// +kubebuilder:printcolumn:name="Attendance",type=integer,JSONPath=`.status.attendancePercent`
// +kubebuilder:printcolumn:name="Plans",type=string,JSONPath=`.status.actionPlans.summary`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Start",type=string,JSONPath=`.spec.startDate`,priority=1
// +kubebuilder:printcolumn:name="End",type=string,JSONPath=`.status.endDate`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Cohort struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the cohort.
	// +required
	Spec CohortSpec `json:"spec"`

	// status is the cohort's observed state.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status CohortStatus `json:"status,omitempty"`
}

// CohortList is a list of Cohort.
//
// +kubebuilder:object:root=true
type CohortList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Cohort `json:"items"`
}

// GetConditions returns the status conditions.
func (in *Cohort) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Cohort) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
