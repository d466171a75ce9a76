package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EventType is the kind of a learning event.
//
// +kubebuilder:validation:Enum=Gathering;CheckIn;Intensive;SpeakerSeries;ListeningSession;Workshop;Other
type EventType string

const (
	// GatheringEvent is a regular community gathering.
	GatheringEvent EventType = "Gathering"
	// CheckInEvent is a periodic check-in.
	CheckInEvent EventType = "CheckIn"
	// IntensiveEvent is an in-depth session, such as a two-day kickoff.
	IntensiveEvent EventType = "Intensive"
	// SpeakerSeriesEvent is a talk in a speaker series.
	SpeakerSeriesEvent EventType = "SpeakerSeries"
	// ListeningSessionEvent is a listening session.
	ListeningSessionEvent EventType = "ListeningSession"
	// WorkshopEvent is a workshop.
	WorkshopEvent EventType = "Workshop"
	// OtherEvent is any other event.
	OtherEvent EventType = "Other"
)

// Audience says who an event is for.
//
// +kubebuilder:validation:Enum=Internal;External
type Audience string

const (
	// InternalAudience events are for the cohort or community only.
	InternalAudience Audience = "Internal"
	// ExternalAudience events are external communications and need an approval before
	// they are published.
	ExternalAudience Audience = "External"
)

// AttendanceStatus is how a member attended an event.
//
// +kubebuilder:validation:Enum=Present;Late;Excused;Absent
type AttendanceStatus string

const (
	// AttendancePresent counts in full.
	AttendancePresent AttendanceStatus = "Present"
	// AttendanceLate counts by the policy's lateWeightPercent.
	AttendanceLate AttendanceStatus = "Late"
	// AttendanceExcused leaves the event out of the member's denominator.
	AttendanceExcused AttendanceStatus = "Excused"
	// AttendanceAbsent counts as missed.
	AttendanceAbsent AttendanceStatus = "Absent"
)

// LearningEventSpec declares a gathering, intensive, speaker series or other event.
//
// +kubebuilder:validation:XValidation:rule="has(self.cohortRef) != has(self.communityRef)",message="exactly one of spec.cohortRef or spec.communityRef must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.approval) || self.audience == 'External'",message="spec.approval is only allowed when spec.audience is External"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.cohortRef) || (has(self.cohortRef) && self.cohortRef.name == oldSelf.cohortRef.name)",message="spec.cohortRef is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.communityRef) || (has(self.communityRef) && self.communityRef.name == oldSelf.communityRef.name)",message="spec.communityRef is immutable once set"
type LearningEventSpec struct {
	// cohortRef names the Cohort the event belongs to. Exactly one of cohortRef and
	// communityRef is set; immutable once set.
	// +optional
	CohortRef *LocalObjectReference `json:"cohortRef,omitempty"`

	// communityRef names the CommunityOfPractice the event belongs to; it counts for
	// every cohort of the community. Exactly one of cohortRef and communityRef is set;
	// immutable once set.
	// +optional
	CommunityRef *LocalObjectReference `json:"communityRef,omitempty"`

	// type is the kind of event.
	// +required
	Type EventType `json:"type"`

	// title is the event's title.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	Title Text `json:"title"`

	// description says what the event is about.
	// +optional
	// +kubebuilder:validation:MaxLength=4000
	Description Paragraph `json:"description,omitempty"`

	// start is when the event begins, as an RFC 3339 time, from 2000 until before 2200
	// (UTC), as every date of the API.
	// +required
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.start must be from 2000 until before 2200"
	Start metav1.Time `json:"start"`

	// duration is how long the event lasts, for example 90m, or 48h for a two-day
	// intensive.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(h|m|s))+$`
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5m') && duration(self) <= duration('168h')",message="spec.duration must be between 5m and 168h"
	Duration metav1.Duration `json:"duration"`

	// timeZone is the IANA time zone the event is shown in. Defaults to UTC.
	// +optional
	// +kubebuilder:default=UTC
	TimeZone TimeZone `json:"timeZone,omitempty"`

	// location is where the event takes place: a room, an address or a meeting link.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Location Text `json:"location,omitempty"`

	// audience is Internal or External. External events are external communications:
	// they are published only while approved. Defaults to Internal.
	// +optional
	// +kubebuilder:default=Internal
	Audience Audience `json:"audience,omitempty"`

	// countsTowardAttendance says whether the event counts toward members' attendance.
	// When unset, Gathering, CheckIn and Intensive events count and others do not.
	// +optional
	CountsTowardAttendance *bool `json:"countsTowardAttendance,omitempty"`

	// attendance records who attended, one entry per Membership. It holds up to 5,000
	// entries, so a community-wide gathering of every seated member fits. Entries that
	// name no membership of the event's cohort or community are reported in status,
	// never counted.
	// +optional
	// +listType=map
	// +listMapKey=member
	// +kubebuilder:validation:MaxItems=5000
	Attendance []AttendanceRecord `json:"attendance,omitempty"`

	// approval records the approval of an External event: who approved and the content
	// hash they saw in status.contentHash. Only approvers may set it.
	// +optional
	Approval *Approval `json:"approval,omitempty"`

	// cancelled marks an event that will not take place. It keeps its record and does
	// not count toward attendance.
	// +optional
	Cancelled bool `json:"cancelled,omitempty"`
}

// AttendanceRecord is one member's attendance at an event.
type AttendanceRecord struct {
	// member is the name of the Membership.
	// +required
	Member ObjectName `json:"member"`

	// status is Present, Late, Excused or Absent.
	// +required
	Status AttendanceStatus `json:"status"`

	// note is a short remark, such as the reason for an excused absence.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Note Paragraph `json:"note,omitempty"`
}

// Approval records who approved an External event and what they saw.
type Approval struct {
	// approver is the user name of the approver. The API server admits it only from
	// that user, and only when they may approve learningevents in the namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Approver Text `json:"approver"`

	// contentHash is the status.contentHash the approver saw. A change of the event's
	// content changes the hash and voids the approval.
	// +required
	// +kubebuilder:validation:Pattern=`^v[1-9][0-9]{0,2}:sha256:[a-f0-9]{64}$`
	// +kubebuilder:validation:MaxLength=80
	ContentHash string `json:"contentHash"`
}

// EventPhase is where an event is in time.
//
// +kubebuilder:validation:Enum=Scheduled;InProgress;Ended;Cancelled
type EventPhase string

const (
	// EventScheduled is the phase before the event starts.
	EventScheduled EventPhase = "Scheduled"
	// EventInProgress is the phase while the event runs.
	EventInProgress EventPhase = "InProgress"
	// EventEnded is the phase after the event ends.
	EventEnded EventPhase = "Ended"
	// EventCancelled is the phase of a cancelled event.
	EventCancelled EventPhase = "Cancelled"
)

// EventAttendance counts the attendance recorded on an event.
type EventAttendance struct {
	// expected is the number of seated members expected at the event.
	// +optional
	Expected int32 `json:"expected,omitempty"`
	// present is the number of members recorded Present.
	// +optional
	Present int32 `json:"present,omitempty"`
	// late is the number of members recorded Late.
	// +optional
	Late int32 `json:"late,omitempty"`
	// excused is the number of members recorded Excused.
	// +optional
	Excused int32 `json:"excused,omitempty"`
	// absent is the number of members recorded Absent.
	// +optional
	Absent int32 `json:"absent,omitempty"`
	// unrecorded is the number of expected members with nothing recorded.
	// +optional
	Unrecorded int32 `json:"unrecorded,omitempty"`
	// unknown is the number of attendance entries that name no membership of the
	// event's cohort or community; they are not counted for anyone.
	// +optional
	Unknown int32 `json:"unknown,omitempty"`
}

// LearningEventStatus is the observed state of a LearningEvent.
type LearningEventStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the event's state: Ready, CohortFound or CommunityFound,
	// Approved and AttendanceRecorded.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// phase is Scheduled, InProgress, Ended or Cancelled.
	// +optional
	Phase EventPhase `json:"phase,omitempty"`

	// end is when the event ends.
	// +optional
	End *metav1.Time `json:"end,omitempty"`

	// contentHash is the hash of the event's title, description, time, location and
	// audience, prefixed with the version of its canonical form (v1:sha256:<hex>). An
	// approver copies it into spec.approval.contentHash.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	ContentHash string `json:"contentHash,omitempty"`

	// contentChanged is when the operator first saw the content as it is now: how long
	// an approval has been awaited.
	// +optional
	ContentChanged *metav1.Time `json:"contentChanged,omitempty"`

	// attendance counts the attendance recorded on the event.
	// +optional
	Attendance *EventAttendance `json:"attendance,omitempty"`

	// calendar is how the event is published in the cohorts' calendar feeds.
	// +optional
	Calendar *EventCalendar `json:"calendar,omitempty"`
}

// EventCalendar records the revision of an event's calendar entry, so that calendar
// clients replace their copy when it changes.
type EventCalendar struct {
	// sequence is the iCalendar SEQUENCE of the event: 0 when first published, one more
	// each time a published field (title, description, time, location, status) changes.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Sequence int32 `json:"sequence,omitempty"`

	// hash is the hash of the published fields the sequence was counted for.
	// +optional
	// +kubebuilder:validation:MaxLength=71
	Hash string `json:"hash,omitempty"`

	// revised is when the operator first saw the published fields as they are now; the
	// calendar entry's DTSTAMP and LAST-MODIFIED.
	// +optional
	Revised *metav1.Time `json:"revised,omitempty"`
}

// LearningEvent is a gathering, intensive, speaker series, listening session or other
// event of a cohort or community.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lev,categories=learning
// +kubebuilder:printcolumn:name="Cohort",type=string,JSONPath=`.spec.cohortRef.name`
// +kubebuilder:printcolumn:name="Community",type=string,JSONPath=`.spec.communityRef.name`,priority=1
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Start",type=string,JSONPath=`.spec.start`
// +kubebuilder:printcolumn:name="Audience",type=string,JSONPath=`.spec.audience`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Present",type=integer,JSONPath=`.status.attendance.present`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LearningEvent struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the event.
	// +required
	Spec LearningEventSpec `json:"spec"`

	// status is the event's observed state.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status LearningEventStatus `json:"status,omitempty"`
}

// LearningEventList is a list of LearningEvent.
//
// +kubebuilder:object:root=true
type LearningEventList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LearningEvent `json:"items"`
}

// GetConditions returns the status conditions.
func (in *LearningEvent) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *LearningEvent) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
