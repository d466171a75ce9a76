package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ActionStatus is where an action of a plan stands.
//
// +kubebuilder:validation:Enum=Planned;InProgress;Done;Dropped
type ActionStatus string

const (
	// ActionPlanned is an action not started yet.
	ActionPlanned ActionStatus = "Planned"
	// ActionInProgress is an action under way.
	ActionInProgress ActionStatus = "InProgress"
	// ActionDone is an action carried out.
	ActionDone ActionStatus = "Done"
	// ActionDropped is an action given up; it keeps its record and is never overdue.
	ActionDropped ActionStatus = "Dropped"
)

// ActionPlanSpec declares a person's or a team's actions between gatherings and the
// check-ins in which they report on them.
//
// The API server admits spec.owner, on creation, and the author of every check-in
// written in a request only when they are the requesting user, and refuses the removal
// or change of another author's check-in (the ValidatingAdmissionPolicy of
// config/admission/actionplan_policy.yaml).
//
// +kubebuilder:validation:XValidation:rule="has(self.membershipRef) != has(self.team)",message="exactly one of spec.membershipRef or spec.team must be set"
// +kubebuilder:validation:XValidation:rule="has(self.membershipRef) == has(oldSelf.membershipRef) && (!has(self.membershipRef) || self.membershipRef.name == oldSelf.membershipRef.name)",message="spec.membershipRef is immutable: a plan stays with its membership"
// +kubebuilder:validation:XValidation:rule="has(self.team) == has(oldSelf.team) && (!has(self.team) || self.team == oldSelf.team)",message="spec.team is immutable: a plan stays with its team"
// +kubebuilder:validation:XValidation:rule="!has(self.partnerRef) || !has(self.membershipRef) || self.partnerRef.name != self.membershipRef.name",message="spec.partnerRef must name another membership than spec.membershipRef"
// +kubebuilder:validation:XValidation:rule="!has(self.checkIns) || self.checkIns.all(c, !has(c.progress) || c.progress.all(p, has(self.actions) && self.actions.exists(a, a.id == p.actionID)))",message="spec.checkIns[].progress[].actionID must name an action of spec.actions: drop an action instead of removing it"
type ActionPlanSpec struct {
	// membershipRef names the Membership whose personal plan this is. Exactly one of
	// membershipRef and team is set; immutable.
	// +optional
	MembershipRef *LocalObjectReference `json:"membershipRef,omitempty"`

	// team names the organization's team in a cohort whose workplan this is. Exactly
	// one of membershipRef and team is set; immutable.
	// +optional
	Team *PlanTeam `json:"team,omitempty"`

	// owner is the user name of the person who created the plan, as the cluster's
	// authentication knows it. The API server admits it only from that user; immutable.
	// The operator reports a plan whose owner is not the member of its membership (or,
	// for a team plan, a seated member of the team) in its conditions.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.owner is immutable"
	Owner Text `json:"owner"`

	// partnerRef names the Membership of an accountability partner, another member of
	// the same cohort, who may read the plan. The operator reports a partner outside the
	// cohort in the plan's conditions.
	// +optional
	PartnerRef *LocalObjectReference `json:"partnerRef,omitempty"`

	// actions are what the person or team commits to do. Ids are unique.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=50
	Actions []PlannedAction `json:"actions,omitempty"`

	// checkIns record, in the words of their authors, the progress of the actions,
	// what was learned and what to adjust. Ids are unique. Each is admitted only from
	// its author, and only its author may change or remove it.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=60
	CheckIns []CheckIn `json:"checkIns,omitempty"`
}

// PlanTeam names an organization's team in a cohort.
type PlanTeam struct {
	// cohortRef names the Cohort in the same namespace.
	// +required
	CohortRef LocalObjectReference `json:"cohortRef"`

	// organization is the organization whose team the plan belongs to, as the
	// memberships of the cohort name it.
	// +required
	Organization OrganizationName `json:"organization"`
}

// PlannedAction is one action of a plan.
type PlannedAction struct {
	// id identifies the action within the plan, as a DNS label such as
	// mentor-two-peers. It stays the same while the title is reworded, so that
	// check-ins can refer to it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ID string `json:"id"`

	// title says what the action is, in a line.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	Title Text `json:"title"`

	// description says more about the action: why, with whom, how.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Description Paragraph `json:"description,omitempty"`

	// due is the day by which the action is to be done, from 2000 until before 2200.
	// An action not Done or Dropped after its due day is overdue.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.actions[].due must be from 2000 until before 2200"
	Due *Date `json:"due,omitempty"`

	// status is Planned, InProgress, Done or Dropped. Defaults to Planned.
	// +optional
	// +kubebuilder:default=Planned
	Status ActionStatus `json:"status,omitempty"`

	// outcome says what came of the action: what happened, what changed.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Outcome Paragraph `json:"outcome,omitempty"`
}

// CheckIn is one report on a plan: the progress of its actions, what was learned and
// what to adjust, as its author wrote them.
type CheckIn struct {
	// id identifies the check-in within the plan, as a DNS label such as 2026-03.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ID string `json:"id"`

	// at is when the check-in was made, as an RFC 3339 time, from 2000 until before
	// 2200 (UTC).
	// +required
	// +kubebuilder:validation:XValidation:rule="self >= timestamp('2000-01-01T00:00:00Z') && self < timestamp('2200-01-01T00:00:00Z')",message="spec.checkIns[].at must be from 2000 until before 2200"
	At metav1.Time `json:"at"`

	// author is the user name of the person who wrote the check-in. The API server
	// admits it only from that user.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Author Text `json:"author"`

	// eventRef names the LearningEvent at which the check-in was made, if any. The
	// operator reports an event of another cohort in the plan's conditions.
	// +optional
	EventRef *LocalObjectReference `json:"eventRef,omitempty"`

	// progress reports on the actions that moved since the previous check-in, at most
	// one entry per action and 20 in all; each names an action of spec.actions. The
	// bounds keep a plan at every bound (50 actions, 60 check-ins) near 1 MB, within
	// what etcd stores.
	// +optional
	// +listType=map
	// +listMapKey=actionID
	// +kubebuilder:validation:MaxItems=20
	Progress []ActionProgress `json:"progress,omitempty"`

	// learned is what the author learned since the previous check-in.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Learned Paragraph `json:"learned,omitempty"`

	// adjust is what the author would do differently, or will change in the plan.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Adjust Paragraph `json:"adjust,omitempty"`

	// shared makes the check-in's reflections (learned and adjust) visible to the
	// cohort, on the agenda of its next gathering. When false, the default, they are
	// private to the plan's owner and partner.
	// +optional
	Shared bool `json:"shared,omitempty"`
}

// ActionProgress is the progress of one action reported in a check-in.
type ActionProgress struct {
	// actionID is the id of an action of spec.actions.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ActionID string `json:"actionID"`

	// status is where the action stood at the check-in: Planned, InProgress, Done or
	// Dropped.
	// +required
	Status ActionStatus `json:"status"`

	// note says in a few sentences what happened with the action since the previous
	// check-in; reflections belong in the check-in's learned and adjust.
	// +optional
	// +kubebuilder:validation:MaxLength=280
	Note Paragraph `json:"note,omitempty"`
}

// ActionCounts counts the actions of a plan.
type ActionCounts struct {
	// total is the number of actions.
	// +optional
	Total int32 `json:"total,omitempty"`
	// done is the number of actions Done.
	// +optional
	Done int32 `json:"done,omitempty"`
	// dropped is the number of actions Dropped.
	// +optional
	Dropped int32 `json:"dropped,omitempty"`
	// overdue is the number of actions neither Done nor Dropped after their due day.
	// +optional
	Overdue int32 `json:"overdue,omitempty"`
}

// ActionPlanStatus is the observed state of an ActionPlan.
type ActionPlanStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the plan's state: Ready and whether the plan is current
	// (PlanCurrent), with what CEL cannot check within the plan, such as an owner who
	// is not the membership's member or a partner outside the cohort.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// actions counts the plan's actions by status, and the overdue ones.
	// +optional
	Actions *ActionCounts `json:"actions,omitempty"`

	// nextDue is the earliest due day of an action neither Done nor Dropped.
	// +optional
	NextDue *Date `json:"nextDue,omitempty"`

	// lastCheckIn is the time of the latest check-in.
	// +optional
	LastCheckIn *metav1.Time `json:"lastCheckIn,omitempty"`
}

// ActionPlan is a person's or an organization's team's actions between gatherings,
// with the check-ins in which they report on them. People own it, never the operator:
// the operator only reports on it in status.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=aplan,categories=learning
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.owner`
// +kubebuilder:printcolumn:name="Membership",type=string,JSONPath=`.spec.membershipRef.name`
// +kubebuilder:printcolumn:name="Team",type=string,JSONPath=`.spec.team.organization`
// +kubebuilder:printcolumn:name="Cohort",type=string,JSONPath=`.spec.team.cohortRef.name`,priority=1
// +kubebuilder:printcolumn:name="Actions",type=integer,JSONPath=`.status.actions.total`
// +kubebuilder:printcolumn:name="Done",type=integer,JSONPath=`.status.actions.done`
// +kubebuilder:printcolumn:name="Overdue",type=integer,JSONPath=`.status.actions.overdue`,priority=1
// +kubebuilder:printcolumn:name="Next Due",type=string,JSONPath=`.status.nextDue`,priority=1
// +kubebuilder:printcolumn:name="Current",type=string,JSONPath=`.status.conditions[?(@.type=="PlanCurrent")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ActionPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the plan.
	// +required
	Spec ActionPlanSpec `json:"spec"`

	// status is the plan's observed state.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status ActionPlanStatus `json:"status,omitempty"`
}

// ActionPlanList is a list of ActionPlan.
//
// +kubebuilder:object:root=true
type ActionPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ActionPlan `json:"items"`
}

// GetConditions returns the status conditions.
func (in *ActionPlan) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ActionPlan) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
