package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MembershipSpec declares one person in one cohort, in one role.
//
// +kubebuilder:validation:XValidation:rule="!has(self.startDate) || !has(self.endDate) || self.startDate < self.endDate",message="spec.endDate must be after spec.startDate"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.withdrawn) || !oldSelf.withdrawn || (has(self.withdrawn) && self.withdrawn)",message="spec.withdrawn cannot be undone: create a new Membership to come back"
type MembershipSpec struct {
	// cohortRef names the Cohort in the same namespace. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.cohortRef is immutable"
	CohortRef LocalObjectReference `json:"cohortRef"`

	// member is the person's user name as the cluster's authentication knows it. It is
	// used as the subject of RBAC bindings and is an opaque id: no e-mail or other
	// personal data is required. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.member is immutable"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('system:')",message="spec.member must not be a system: user"
	Member Text `json:"member"`

	// displayName is the name shown in the roster and portal.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName Text `json:"displayName,omitempty"`

	// organization is the organization the person represents. Cohorts of
	// organizations group teams by it.
	// +optional
	Organization OrganizationName `json:"organization,omitempty"`

	// role is the program role the membership holds, one of the cohort's policy roles.
	// Immutable: to change role, a person gets a new Membership, which queues like any
	// other.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.role is immutable: create a new Membership for another role"
	Role RoleName `json:"role"`

	// teamRole is the person's role within their organization's team, for example
	// ExecutiveDirector.
	// +optional
	TeamRole RoleName `json:"teamRole,omitempty"`

	// startDate is the first day of the term, from 2000 until before 2200. Defaults to
	// the cohort's start date.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.startDate must be from 2000 until before 2200"
	StartDate *Date `json:"startDate,omitempty"`

	// endDate is the last day of the term, from 2000 until before 2200. Defaults to the
	// start date plus the role's termMonths, capped by the cohort's end date.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.endDate must be from 2000 until before 2200"
	EndDate *Date `json:"endDate,omitempty"`

	// withdrawn marks a membership its person has left. The record stays; the seat is
	// freed and access is revoked. It is one-way: once true it can be neither set to
	// false nor removed.
	// +optional
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// MembershipPhase is where a membership is in its term.
//
// +kubebuilder:validation:Enum=Pending;Active;Expiring;Expired;Withdrawn
type MembershipPhase string

const (
	// MembershipPending is the phase before the term starts.
	MembershipPending MembershipPhase = "Pending"
	// MembershipActive is the phase inside the term.
	MembershipActive MembershipPhase = "Active"
	// MembershipExpiring is the phase inside the notice window before the term ends.
	MembershipExpiring MembershipPhase = "Expiring"
	// MembershipExpired is the phase after the term ends.
	MembershipExpired MembershipPhase = "Expired"
	// MembershipWithdrawn is the phase of a withdrawn membership.
	MembershipWithdrawn MembershipPhase = "Withdrawn"
)

// MembershipStatus is the observed state of a Membership.
type MembershipStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the membership's state: Ready, Reconciling, Stalled,
	// CohortFound, Eligible, Seated, TermActive and AttendanceMet.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// phase is Pending, Active, Expiring, Expired or Withdrawn.
	// +optional
	Phase MembershipPhase `json:"phase,omitempty"`

	// seatedSince is when the membership has held the seat it holds (or last held): the
	// start of its term when it was seated as soon as it was evaluated, the time of its
	// promotion when it waited for the seat. A seat is sticky: it is kept while the
	// membership stays eligible and claiming, so a newer or newly eligible membership
	// waits instead of displacing it. It stays after the seat is freed, as the record
	// that the person served the term.
	// +optional
	SeatedSince *metav1.Time `json:"seatedSince,omitempty"`

	// waitlistPosition is the membership's place in its role's waitlist, from 1; unset
	// when seated or not eligible.
	// +optional
	WaitlistPosition *int32 `json:"waitlistPosition,omitempty"`

	// startDate is the effective first day of the term.
	// +optional
	StartDate Date `json:"startDate,omitempty"`

	// endDate is the effective last day of the term.
	// +optional
	EndDate Date `json:"endDate,omitempty"`

	// attendance counts the member's attendance at the events that count.
	// +optional
	Attendance *AttendanceSummary `json:"attendance,omitempty"`
}

// Membership is one person in one cohort, in one role.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mbr,categories=learning
// +kubebuilder:printcolumn:name="Cohort",type=string,JSONPath=`.spec.cohortRef.name`
// +kubebuilder:printcolumn:name="Member",type=string,JSONPath=`.spec.member`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Organization",type=string,JSONPath=`.spec.organization`,priority=1
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Seated",type=string,JSONPath=`.status.conditions[?(@.type=="Seated")].status`
// +kubebuilder:printcolumn:name="Waitlist",type=integer,JSONPath=`.status.waitlistPosition`
// +kubebuilder:printcolumn:name="Attendance",type=integer,JSONPath=`.status.attendance.percent`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Membership struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the membership.
	// +required
	Spec MembershipSpec `json:"spec"`

	// status is the membership's observed state.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status MembershipStatus `json:"status,omitempty"`
}

// MembershipList is a list of Membership.
//
// +kubebuilder:object:root=true
type MembershipList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Membership `json:"items"`
}

// GetConditions returns the status conditions.
func (in *Membership) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Membership) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
