package v1alpha1

// Date is a calendar day in ISO 8601 form (YYYY-MM-DD). CEL rules see it as a
// timestamp at midnight UTC (its format is date), so they order dates as dates.
//
// +kubebuilder:validation:Format=date
// +kubebuilder:validation:Pattern=`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`
// +kubebuilder:validation:MaxLength=10
type Date string

// Text and Paragraph are aliases of string so that Go code reads them as the strings
// they are; controller-gen still carries their markers to every field declared with
// them, so the rule is written once. Each field sets its own MaxLength.
//
// Their rules are written in a CEL string, not a raw one: CEL turns \x1F and \u202A
// into the characters themselves, so the regular expression the API server compiles
// is some 30 characters long instead of 80. The API server estimates the cost of a
// match as the length of the text times that of the expression, and an event's 5,000
// attendance notes would otherwise exceed its budget for one rule.

// Text is one line that people write and other people read, such as a title, a name or
// a location. It holds no control characters (U+0000-U+001F, tab and line breaks
// included, U+007F and U+0080-U+009F) and no bidirectional controls (U+061C, U+200E,
// U+200F, U+202A-U+202E, U+2066-U+2069), so that it cannot rewrite a terminal, forge a
// table row or read in another order than it is stored.
//
// +kubebuilder:validation:XValidation:rule=`!self.matches('[\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]')`,message="must be one line of text: no control characters (tab and line breaks included) and no bidirectional controls"
type Text = string

// Paragraph is free text that people write, such as a description, a note or a charter.
// It may hold tabs and line breaks (LF, or CRLF as Windows editors write them) but no
// other control characters (U+0000-U+001F, U+007F and U+0080-U+009F, a carriage return
// alone included) and no bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069).
//
// +kubebuilder:validation:XValidation:rule=`!self.matches('[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]|\r([^\n]|$)')`,message="must not contain control characters other than tab, newline and CRLF, nor bidirectional controls"
type Paragraph = string

// TimeZone is an IANA time zone name such as America/Chicago, Europe/Berlin or UTC.
//
// +kubebuilder:validation:Pattern=`^(UTC|Etc/[A-Za-z0-9+-]{1,16}|[A-Z][A-Za-z_-]{1,30}(/[A-Za-z0-9_+-]{1,30}){1,2})$`
// +kubebuilder:validation:MaxLength=64
type TimeZone string

// RoleName names a role in a program, such as Lead, Member or Facilitator.
//
// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=63
type RoleName string

// ObjectName is the name of an object in the same namespace.
//
// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
type ObjectName string

// LocalObjectReference refers to an object of a known kind in the same namespace.
type LocalObjectReference struct {
	// name of the referenced object.
	// +required
	Name ObjectName `json:"name"`
}

// ProgramPolicy holds the rules a program applies to its cohorts. On a
// CommunityOfPractice it is the default for every cohort; on a Cohort it overrides the
// community's policy field by field (a role is matched by name).
//
// +kubebuilder:validation:XValidation:rule="!has(self.roles) || self.roles.all(r, !has(r.minMembers) || !has(r.maxMembers) || r.minMembers <= r.maxMembers)",message="policy.roles: minMembers must be less than or equal to maxMembers"
type ProgramPolicy struct {
	// roles lists the roles of the program with their seat counts and terms.
	// Role names are unique.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Roles []RolePolicy `json:"roles,omitempty"`

	// composition sets the rules for cohorts of organizations: how many organizations
	// take part and the size and make-up of each organization's team.
	// +optional
	Composition *CompositionPolicy `json:"composition,omitempty"`

	// attendance sets the attendance commitment members make.
	// +optional
	Attendance *AttendancePolicy `json:"attendance,omitempty"`

	// termNoticeDays is how many days before the end of a term a membership reports the
	// Expiring phase. Defaults to 30.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=365
	TermNoticeDays *int32 `json:"termNoticeDays,omitempty"`

	// actionPlans sets whether members keep ActionPlans, and when a plan is due and
	// when it goes stale.
	// +optional
	ActionPlans *ActionPlanPolicy `json:"actionPlans,omitempty"`
}

// PlanRequirement is which ActionPlans a program requires.
//
// +kubebuilder:validation:Enum=None;Personal;Team
type PlanRequirement string

const (
	// PlansNotRequired requires no plan; plans members keep are still judged.
	PlansNotRequired PlanRequirement = "None"
	// PersonalPlansRequired requires a personal plan of every seated membership.
	PersonalPlansRequired PlanRequirement = "Personal"
	// TeamPlansRequired requires a workplan of every organization's team.
	TeamPlansRequired PlanRequirement = "Team"
)

// ActionPlanPolicy sets what a program expects of ActionPlans. A cohort's fields
// override its community's one by one.
type ActionPlanPolicy struct {
	// required says which plans are required: None (the default), Personal (one per
	// seated membership) or Team (one per organization's team).
	// +optional
	Required PlanRequirement `json:"required,omitempty"`

	// dueDays is how many days a required plan is due after the later of the seat's
	// start (for a team, the cohort's start) and the end of the cohort's first
	// Intensive, when it has one. Defaults to 30.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=365
	DueDays *int32 `json:"dueDays,omitempty"`

	// staleAfter is how many ended events that count toward attendance may pass since a
	// plan's last check-in (or since it was due, or created, when it has none) before
	// the plan is Stale. Defaults to 2.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=24
	StaleAfter *int32 `json:"staleAfter,omitempty"`
}

// ActionPlanFigures sum up the ActionPlans of a cohort or a community: counts only,
// never what a plan says.
type ActionPlanFigures struct {
	// required is the number of plans the policy requires: one per seated membership,
	// or one per organization's team.
	// +optional
	Required int32 `json:"required,omitempty"`
	// present is the number of required plans that exist.
	// +optional
	Present int32 `json:"present,omitempty"`
	// plans is the number of plans, required or not.
	// +optional
	Plans int32 `json:"plans,omitempty"`
	// current is the number of plans that are PlanCurrent=True.
	// +optional
	Current int32 `json:"current,omitempty"`
	// overdue and stale are the numbers of plans Overdue and Stale.
	// +optional
	Overdue int32 `json:"overdue,omitempty"`
	// +optional
	Stale int32 `json:"stale,omitempty"`
	// actionsDone and actionsTotal count the plans' actions: Done, and all of them.
	// +optional
	ActionsDone int32 `json:"actionsDone,omitempty"`
	// +optional
	ActionsTotal int32 `json:"actionsTotal,omitempty"`
	// summary is the figures in a line, such as "4/5 plans current, 12/30 actions done".
	// +optional
	Summary string `json:"summary,omitempty"`
}

// RolePolicy sets the seats and term of one role.
type RolePolicy struct {
	// name of the role, for example Lead, Member or Facilitator.
	// +required
	Name RoleName `json:"name"`

	// minMembers is the number of seated members the role needs for the cohort to be
	// staffed. Defaults to 0.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	MinMembers *int32 `json:"minMembers,omitempty"`

	// maxMembers is the number of seats of the role. Memberships beyond it are
	// waitlisted, never rejected. Required on a CommunityOfPractice and on a standalone
	// Cohort.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxMembers *int32 `json:"maxMembers,omitempty"`

	// termMonths is the length of a term in the role, in months. Defaults to 12.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	TermMonths *int32 `json:"termMonths,omitempty"`

	// maxConsecutiveTerms limits how many consecutive terms a person may serve in the
	// role within the community. Unlimited when unset.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=20
	MaxConsecutiveTerms *int32 `json:"maxConsecutiveTerms,omitempty"`

	// access is what a seated member of the role may do in the cluster: Read may read
	// the cohort, its events and its roster; Edit may also update the cohort's
	// LearningEvents and record attendance on them. Access lasts while the membership
	// holds a seat and its term has not expired. Defaults to Read.
	// +optional
	Access AccessLevel `json:"access,omitempty"`

	// commitment describes the time the role asks for. It is informational, for the
	// people reading the policy; nothing enforces it.
	// +optional
	Commitment *Commitment `json:"commitment,omitempty"`
}

// AccessLevel is the cluster access a role's seated members get.
//
// +kubebuilder:validation:Enum=Read;Edit
type AccessLevel string

const (
	// AccessRead may read the cohort, its events and its roster.
	AccessRead AccessLevel = "Read"
	// AccessEdit may also update the cohort's LearningEvents and record attendance.
	AccessEdit AccessLevel = "Edit"
)

// HoursRange is a number of hours or a range of hours, such as "2" or "1-1.5".
//
// +kubebuilder:validation:Pattern=`^[0-9]{1,3}(\.[0-9]{1,2})?(-[0-9]{1,3}(\.[0-9]{1,2})?)?$`
// +kubebuilder:validation:MaxLength=16
type HoursRange string

// Commitment describes the monthly time a role asks for.
type Commitment struct {
	// meetingHoursPerMonth is the time spent in meetings each month, for example "1-1.5".
	// +optional
	MeetingHoursPerMonth HoursRange `json:"meetingHoursPerMonth,omitempty"`

	// otherHoursPerMonth is the time spent on preparation and other activities each
	// month, for example "4-5".
	// +optional
	OtherHoursPerMonth HoursRange `json:"otherHoursPerMonth,omitempty"`

	// description says what the role does, in a sentence or two.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description Paragraph `json:"description,omitempty"`
}

// CompositionPolicy sets the rules for cohorts whose members come as teams of
// organizations.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minOrganizations) || !has(self.maxOrganizations) || self.minOrganizations <= self.maxOrganizations",message="composition: minOrganizations must be less than or equal to maxOrganizations"
type CompositionPolicy struct {
	// minOrganizations is the fewest organizations a cohort may have.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	MinOrganizations *int32 `json:"minOrganizations,omitempty"`

	// maxOrganizations is the most organizations a cohort may have.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	MaxOrganizations *int32 `json:"maxOrganizations,omitempty"`

	// teamSize is the number of seated members each organization sends.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	TeamSize *int32 `json:"teamSize,omitempty"`

	// roles are the program roles whose seated members form the organizations' teams,
	// for example Leader; facilitators and other roles outside it are not counted.
	// Every role counts when empty.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	Roles []RoleName `json:"roles,omitempty"`

	// requiredTeamRoles are team roles every organization's team must include, for
	// example ExecutiveDirector.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10
	RequiredTeamRoles []RoleName `json:"requiredTeamRoles,omitempty"`
}

// AttendancePolicy sets the attendance commitment of members.
type AttendancePolicy struct {
	// requiredPercent is the share of eligible events a member commits to attend.
	// Defaults to 80.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	RequiredPercent *int32 `json:"requiredPercent,omitempty"`

	// minimumEvents is how many eligible events must have ended before attendance is
	// judged. Defaults to 3.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	MinimumEvents *int32 `json:"minimumEvents,omitempty"`

	// lateWeightPercent is how much a Late arrival counts, as a percentage of a Present
	// one. Defaults to 100 (a late arrival counts in full).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	LateWeightPercent *int32 `json:"lateWeightPercent,omitempty"`
}

// AttendanceSummary counts attendance over a set of events.
type AttendanceSummary struct {
	// eligibleEvents is the number of ended events that count toward attendance.
	// +optional
	EligibleEvents int32 `json:"eligibleEvents,omitempty"`

	// present is the number of events attended on time.
	// +optional
	Present int32 `json:"present,omitempty"`

	// late is the number of events attended late.
	// +optional
	Late int32 `json:"late,omitempty"`

	// excused is the number of excused absences; they leave the denominator.
	// +optional
	Excused int32 `json:"excused,omitempty"`

	// absent is the number of absences, including events with nothing recorded.
	// +optional
	Absent int32 `json:"absent,omitempty"`

	// percent is the attendance rate, rounded down; unset while nothing can be judged.
	// +optional
	Percent *int32 `json:"percent,omitempty"`
}
