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

	// IsolatedCondition reports whether a CommunityOfPractice has its namespace to
	// itself. Approvals and members' access are granted per namespace, so communities
	// sharing one can reach each other's events.
	IsolatedCondition = "Isolated"

	// PortalAvailableCondition reports whether a Cohort's portal has its replicas
	// available. It is informational: it never makes the cohort Reconciling or not
	// Ready, because pods depend on the cluster's nodes, not on the declaration.
	PortalAvailableCondition = "PortalAvailable"

	// PlanCurrentCondition reports whether an ActionPlan is current: its owner holds a
	// seat, no action is overdue and it was checked in on recently enough.
	PlanCurrentCondition = "PlanCurrent"

	// ActionPlanCondition reports, on a seated Membership whose program requires
	// personal plans, whether its plan exists (or is not due yet).
	ActionPlanCondition = "ActionPlan"

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
	// ProgressingReason marks work in progress toward the declared state.
	ProgressingReason = "Progressing"

	// SucceededReason marks a fully reconciled object.
	SucceededReason = "Succeeded"

	// CohortNotFoundReason marks an object whose Cohort does not exist.
	CohortNotFoundReason = "CohortNotFound"

	// CommunityNotFoundReason marks an object whose CommunityOfPractice does not exist.
	CommunityNotFoundReason = "CommunityNotFound"

	// FoundReason marks a reference that resolves.
	FoundReason = "Found"

	// InvalidPolicyReason marks a cohort whose merged policy cannot be applied, such as
	// a role without maxMembers.
	InvalidPolicyReason = "InvalidPolicy"

	// InvalidScheduleReason marks a cohort whose schedule cannot be expanded, such as an
	// unknown time zone.
	InvalidScheduleReason = "InvalidSchedule"

	// StaffedReason marks a cohort whose roles all have their minimum.
	StaffedReason = "Staffed"

	// UnderstaffedReason marks a cohort with a role below its minimum.
	UnderstaffedReason = "Understaffed"

	// CompositionValidReason marks a cohort whose teams follow the composition policy.
	CompositionValidReason = "CompositionValid"

	// CompositionInvalidReason marks a cohort whose organizations or teams break the
	// composition policy.
	CompositionInvalidReason = "CompositionInvalid"

	// SeatedReason marks a membership that holds a seat.
	SeatedReason = "Seated"

	// WaitlistedReason marks a membership waiting for a seat.
	WaitlistedReason = "Waitlisted"

	// NotEligibleReason marks a membership that may not hold a seat.
	NotEligibleReason = "NotEligible"

	// WithdrawnReason marks a withdrawn membership.
	WithdrawnReason = "Withdrawn"

	// NeverSeatedReason marks a membership whose term ended, or whose cohort completed,
	// without it ever holding a seat: its term does not count toward term limits.
	NeverSeatedReason = "NeverSeated"

	// TermPendingReason marks a membership whose term has not started.
	TermPendingReason = "TermPending"

	// TermActiveReason marks a membership inside its term.
	TermActiveReason = "TermActive"

	// TermExpiringReason marks a membership inside the notice window before its term ends.
	TermExpiringReason = "TermExpiring"

	// TermExpiredReason marks a membership whose term has ended.
	TermExpiredReason = "TermExpired"

	// AttendanceMetReason marks a membership at or above the required attendance.
	AttendanceMetReason = "AttendanceMet"

	// NotEnoughEventsReason marks a membership with fewer ended events than the policy's
	// minimumEvents.
	NotEnoughEventsReason = "NotEnoughEvents"

	// BelowThresholdReason marks a membership below the required attendance.
	BelowThresholdReason = "BelowThreshold"

	// CannotReachThresholdReason marks a membership that cannot reach the required
	// attendance even by attending every remaining event of its term.
	CannotReachThresholdReason = "CannotReachThreshold"

	// NotSeatedReason marks a condition that only applies to seated memberships.
	NotSeatedReason = "NotSeated"

	// NotRequiredReason marks an Internal event, which needs no approval.
	NotRequiredReason = "NotRequired"

	// ApprovedReason marks an External event approved for its current content.
	ApprovedReason = "Approved"

	// NotFrozenReason: a report is approved only once its figures are frozen.
	NotFrozenReason = "NotFrozen"

	// AwaitingApprovalReason marks an External event that has no approval yet.
	AwaitingApprovalReason = "AwaitingApproval"

	// ContentChangedReason marks an External event whose content changed after it was
	// approved.
	ContentChangedReason = "ContentChanged"

	// PolicyMissingReason marks an approved External event that is not published
	// because the admission policy verifying approvers, or its binding, is not
	// installed: without it nobody checked who approved.
	PolicyMissingReason = "PolicyMissing"

	// RecordedReason marks an event with attendance recorded for every seated member.
	RecordedReason = "Recorded"

	// NotRecordedReason marks an ended event with seated members whose attendance is
	// not recorded.
	NotRecordedReason = "NotRecorded"

	// NotEndedReason marks an event whose attendance is not due yet.
	NotEndedReason = "NotEnded"

	// CancelledReason marks a cancelled event.
	CancelledReason = "Cancelled"

	// UnknownMembersReason marks an event whose attendance names memberships that are
	// not in its cohort or community.
	UnknownMembersReason = "UnknownMembers"

	// SeatsFrozenReason marks a membership whose seat is kept as it was because its
	// cohort's policy cannot be resolved (the cohort is Stalled).
	SeatsFrozenReason = "SeatsFrozen"

	// ProvisionedReason marks a cohort whose services are all applied and match their
	// declaration.
	ProvisionedReason = "Provisioned"

	// NameConflictReason marks a cohort whose service could not be provisioned because
	// an object of the derived name exists that the operator did not create.
	NameConflictReason = "NameConflict"

	// ApplyFailedReason marks a cohort whose services could not be applied, for example
	// because the API server refused an object.
	ApplyFailedReason = "ApplyFailed"

	// InternalErrorReason marks a cohort one of whose steps (expanding its schedule,
	// evaluating it, generating its gatherings or provisioning it) failed on a bug of
	// the operator: a panic, reported on that cohort alone while its siblings are
	// still evaluated and provisioned.
	InternalErrorReason = "InternalError"

	// OwnNamespaceReason marks a community alone in its namespace.
	OwnNamespaceReason = "OwnNamespace"

	// SharedNamespaceReason marks a community that shares its namespace with another.
	SharedNamespaceReason = "SharedNamespace"

	// AvailableReason marks a portal whose replicas are all available.
	AvailableReason = "Available"

	// UnavailableReason marks a portal with fewer available replicas than declared.
	UnavailableReason = "Unavailable"

	// SharedPortalReason marks a cohort whose namespace has a shared portal, which
	// serves it instead of a portal of its own.
	SharedPortalReason = "SharedPortal"

	// SuspendedReason marks a suspended cohort whose services differ from their
	// declaration: nothing but its members' access is changed until it is resumed.
	SuspendedReason = "Suspended"

	// CompletedReason marks a condition reporting the final outcome of a completed
	// cohort.
	CompletedReason = "Completed"
)

// Reasons of the Eligible condition, one per eligibility rule.
const (
	// EligibleReason means the membership may compete for a seat.
	EligibleReason = "Eligible"

	// SeatKeptReason means the membership keeps the seat it holds although a term limit
	// would refuse it a new one: a term limit is judged when a seat is given, and terms
	// recorded later (imported history) never take a seat back.
	SeatKeptReason = "SeatKept"

	// UnknownRoleReason means the membership's role is not in the cohort's policy.
	UnknownRoleReason = "UnknownRole"

	// OrganizationNotEligibleReason means the organization is not among the community's
	// eligible organizations.
	OrganizationNotEligibleReason = "OrganizationNotEligible"

	// AlreadySeatedReason means the person holds a seat in another membership of the
	// same community (or cohort) for an overlapping term.
	AlreadySeatedReason = "AlreadySeated"

	// TermLimitReachedReason means the person has served the role's maximum number of
	// consecutive terms.
	TermLimitReachedReason = "TermLimitReached"

	// EnrollmentClosedReason means the membership's startDate falls after the cohort's
	// enrollment.closes.
	EnrollmentClosedReason = "EnrollmentClosed"
)

// The DocumentsComplete condition of a Cohort and its reasons.
const (
	// DocumentsCompleteCondition reports whether a Cohort's published documents (roster,
	// calendar, overview) hold everything they should. It is informational: it never
	// makes the cohort Reconciling or not Ready, because the documents are published as
	// far as they fit and members' access never waits on them.
	DocumentsCompleteCondition = "DocumentsComplete"

	// DocumentsCompleteReason marks documents that hold everything: the calendar every
	// published event of its window, the roster and the overview everyone (in as many
	// ConfigMaps as they need).
	DocumentsCompleteReason = "Complete"

	// CalendarTruncatedReason marks a calendar that leaves out events of its window: the
	// oldest, to stay within the ConfigMap size budget, or events whose times the feed
	// cannot hold.
	CalendarTruncatedReason = "CalendarTruncated"

	// RenderFailedReason marks a document that could not be rendered and is published in
	// its empty form.
	RenderFailedReason = "RenderFailed"
)

// Reasons of the ActionPlan kind's conditions, and of the ActionPlan condition of a
// Membership.
const (
	// PlanCurrentReason means the plan is current.
	PlanCurrentReason = "Current"
	// PlanOverdueReason means an action is neither Done nor Dropped after its due day;
	// the message names the overdue actions.
	PlanOverdueReason = "Overdue"
	// PlanStaleReason means staleAfter events that count toward attendance ended since
	// the plan's last check-in (or since it was due).
	PlanStaleReason = "Stale"
	// OwnerNotSeatedReason means the plan's membership holds no seat (for a team plan,
	// no member of the team does): nothing is expected of it now.
	OwnerNotSeatedReason = "OwnerNotSeated"
	// MembershipNotFoundReason means the plan's membership does not exist.
	MembershipNotFoundReason = "MembershipNotFound"
	// OwnerNotMemberReason means the plan's owner is not the member of its membership
	// (for a team plan, not a member of the team).
	OwnerNotMemberReason = "OwnerNotMember"
	// PartnerNotInCohortReason means the plan's partner is not a membership of the
	// plan's cohort.
	PartnerNotInCohortReason = "PartnerNotInCohort"
	// EventNotInCohortReason means a check-in names an event that is not the cohort's
	// (nor its community's).
	EventNotInCohortReason = "EventNotInCohort"
	// PlanPresentReason means the membership's required plan exists.
	PlanPresentReason = "PlanPresent"
	// PlanNotDueReason means the membership's required plan is not due yet.
	PlanNotDueReason = "PlanNotDue"
	// PlanMissingReason means the membership's required plan is missing past its due
	// day.
	PlanMissingReason = "PlanMissing"
)
