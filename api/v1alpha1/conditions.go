package v1alpha1

// Condition types shared by every kind. Ready is always present; Reconciling and
// Stalled follow the kstatus conventions so that GitOps tools can judge health.
const (
	// ReadyCondition summarises whether the object is fully reconciled and healthy.
	ReadyCondition = "Ready"

	// ReconcilingCondition is True while the controller is still working toward the
	// declared state.
	ReconcilingCondition = "Reconciling"

	// StalledCondition is True when the controller cannot make progress without a
	// change from the user.
	StalledCondition = "Stalled"
)

// Condition types specific to one or more kinds.
const (
	// StaffedCondition reports whether every role of a Cohort has its minimum of seated
	// members.
	StaffedCondition = "Staffed"

	// CompositionValidCondition reports whether a Cohort's organizations and teams follow
	// the composition policy.
	CompositionValidCondition = "CompositionValid"

	// ProvisionedCondition reports whether the services of a Cohort are in place.
	ProvisionedCondition = "Provisioned"

	// SeatedCondition reports whether a Membership holds a seat in its role.
	SeatedCondition = "Seated"

	// EligibleCondition reports whether a Membership may hold a seat at all.
	EligibleCondition = "Eligible"

	// TermActiveCondition reports whether today falls inside a Membership's term.
	TermActiveCondition = "TermActive"

	// AttendanceMetCondition reports whether a Membership meets the attendance
	// commitment.
	AttendanceMetCondition = "AttendanceMet"

	// ApprovedCondition reports whether a LearningEvent may be published.
	ApprovedCondition = "Approved"

	// AttendanceRecordedCondition reports whether an ended LearningEvent has attendance
	// recorded for every seated member.
	AttendanceRecordedCondition = "AttendanceRecorded"

	// CohortFoundCondition reports whether the Cohort an object refers to exists.
	CohortFoundCondition = "CohortFound"

	// CommunityFoundCondition reports whether the CommunityOfPractice an object refers to
	// exists.
	CommunityFoundCondition = "CommunityFound"
)

// Condition reasons.
const (
	// NotImplementedReason marks a condition whose rules this version of the
	// controller does not evaluate yet.
	NotImplementedReason = "NotImplemented"

	// ProgressingReason marks work in progress toward the declared state.
	ProgressingReason = "Progressing"

	// SucceededReason marks a fully reconciled object.
	SucceededReason = "Succeeded"
)
