package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OrganizationName names a member organization of a coalition.
//
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:Pattern=`^[^\s](.*[^\s])?$`
type OrganizationName Text

// CommunityOfPracticeSpec declares a standing program and the default policy of its
// cohorts.
type CommunityOfPracticeSpec struct {
	// displayName is the community's name as people read it, for example
	// "Allyship Community of Practice".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName Text `json:"displayName,omitempty"`

	// charter states the community's purpose, goals and deliverables. Its purpose is
	// shown in the portals of the community's cohorts.
	// +optional
	Charter *Charter `json:"charter,omitempty"`

	// policy is the default policy of the community's cohorts. Every role needs
	// maxMembers here; cohorts may override any field.
	// +required
	// +kubebuilder:validation:XValidation:rule="has(self.roles) && size(self.roles) > 0",message="policy.roles must list at least one role"
	// +kubebuilder:validation:XValidation:rule="!has(self.roles) || self.roles.all(r, has(r.maxMembers))",message="policy.roles: every role of a community needs maxMembers"
	Policy ProgramPolicy `json:"policy"`

	// approvers may approve the community's external communications (External
	// LearningEvents). The operator grants them the approve verb on learningevents in
	// this namespace.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Approvers []Approver `json:"approvers,omitempty"`

	// reporting, when set, makes the operator keep a ProgramReport of the community's
	// KPIs for every period.
	// +optional
	Reporting *ReportingPolicy `json:"reporting,omitempty"`

	// eligibleOrganizations, when set, lists the only organizations whose people may
	// hold a seat in the community's cohorts.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	EligibleOrganizations []OrganizationName `json:"eligibleOrganizations,omitempty"`
}

// Charter states why a community exists.
type Charter struct {
	// purpose is the community's core purpose.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Purpose Paragraph `json:"purpose,omitempty"`

	// goals are the outcomes the community works toward.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=500
	Goals []Paragraph `json:"goals,omitempty"`

	// deliverables are what the community produces.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=500
	Deliverables []Paragraph `json:"deliverables,omitempty"`
}

// SubjectKind is the kind of an RBAC subject that may approve.
//
// +kubebuilder:validation:Enum=User;Group
type SubjectKind string

const (
	// UserSubject is a user as the cluster's authentication names it.
	UserSubject SubjectKind = "User"
	// GroupSubject is a group as the cluster's authentication names it.
	GroupSubject SubjectKind = "Group"
)

// Approver is an RBAC subject allowed to approve external communications.
type Approver struct {
	// kind is User or Group.
	// +required
	Kind SubjectKind `json:"kind"`

	// name is the user or group name as the cluster's authentication knows it. Names
	// starting with system: are refused: a group such as system:authenticated would
	// make everyone an approver.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('system:')",message="spec.approvers[].name must not be a system: user or group"
	Name Text `json:"name"`
}

// MemberCounts counts memberships by phase.
type MemberCounts struct {
	// pending memberships have not started their term.
	// +optional
	Pending int32 `json:"pending,omitempty"`
	// active memberships are seated and inside their term.
	// +optional
	Active int32 `json:"active,omitempty"`
	// expiring memberships are inside the notice window before the end of their term.
	// +optional
	Expiring int32 `json:"expiring,omitempty"`
	// expired memberships have passed the end of their term.
	// +optional
	Expired int32 `json:"expired,omitempty"`
	// withdrawn memberships were withdrawn by their owners.
	// +optional
	Withdrawn int32 `json:"withdrawn,omitempty"`
	// waitlisted memberships wait for a seat.
	// +optional
	Waitlisted int32 `json:"waitlisted,omitempty"`
}

// CommunityOfPracticeStatus is the observed state of a CommunityOfPractice.
type CommunityOfPracticeStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the community's state: Ready, Provisioned (its approvers'
	// RoleBinding), Isolated (whether it has its namespace to itself), and Stalled when
	// a name conflict blocks provisioning.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// cohorts is the number of cohorts that refer to the community.
	// +optional
	Cohorts int32 `json:"cohorts,omitempty"`

	// activeCohorts is the number of those cohorts in the Active phase.
	// +optional
	ActiveCohorts int32 `json:"activeCohorts,omitempty"`

	// members counts the memberships of all the community's cohorts by phase.
	// +optional
	Members *MemberCounts `json:"members,omitempty"`

	// actionPlans sums up the ActionPlans of every cohort; set when plans are required
	// or any exists.
	// +optional
	ActionPlans *ActionPlanFigures `json:"actionPlans,omitempty"`
}

// CommunityOfPractice is a standing program, such as an allyship community, that runs
// cohorts under a shared policy.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cop,categories=learning
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Cohorts",type=integer,JSONPath=`.status.cohorts`
// +kubebuilder:printcolumn:name="Active",type=integer,JSONPath=`.status.activeCohorts`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.members.active`
// +kubebuilder:printcolumn:name="Plans",type=string,JSONPath=`.status.actionPlans.summary`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CommunityOfPractice struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the community.
	// +required
	Spec CommunityOfPracticeSpec `json:"spec"`

	// status is the community's observed state.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status CommunityOfPracticeStatus `json:"status,omitempty"`
}

// CommunityOfPracticeList is a list of CommunityOfPractice.
//
// +kubebuilder:object:root=true
type CommunityOfPracticeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CommunityOfPractice `json:"items"`
}

// GetConditions returns the status conditions.
func (in *CommunityOfPractice) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *CommunityOfPractice) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
