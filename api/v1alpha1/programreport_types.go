package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReportCadence is how often a program reports.
//
// +kubebuilder:validation:Enum=Monthly;Quarterly
type ReportCadence string

const (
	// MonthlyReports run from the first day of a month to the first of the next.
	MonthlyReports ReportCadence = "Monthly"
	// QuarterlyReports run from the first day of January, April, July or October to the
	// first day of the next quarter.
	QuarterlyReports ReportCadence = "Quarterly"
)

// KPIName names a figure the operator computes for a reporting period. Flow figures
// count what happened in the period: AttendanceRate (percent of the expected
// attendance at the counting events that ended in it, Late weighted by the policy,
// Excused left out), GatheringsHeld (events that ended in it, not cancelled; qualified
// by an event type), ExternalEventsApproved, ApprovalHours (median hours from an
// External event's creation to its approval) and Withdrawals (seated memberships
// withdrawn in it). State figures are the program as it stands when the period
// closes: SeatsFilled (qualified by a role), WaitlistLength, Organizations (with a
// seated member), PlansCurrent and ActionsDone (percent of ActionPlans current and of
// their actions done).
//
// +kubebuilder:validation:Enum=AttendanceRate;SeatsFilled;WaitlistLength;Withdrawals;Organizations;GatheringsHeld;ExternalEventsApproved;ApprovalHours;PlansCurrent;ActionsDone
type KPIName string

// KPIDirection says which side of its target a KPI should be on.
//
// +kubebuilder:validation:Enum=AtLeast;AtMost
type KPIDirection string

// KPIVerdict is a KPI's standing in a period: Met, Below, NoData (nothing in the
// period to measure) or Suppressed (the figure describes fewer than five people).
//
// +kubebuilder:validation:Enum=Met;Below;NoData;Suppressed
type KPIVerdict string

// ReportingPolicy sets what a program reports and when.
//
// +kubebuilder:validation:XValidation:rule="self.kpis.all(k, self.kpis.exists_one(o, o.name == k.name && has(o.qualifier) == has(k.qualifier) && (!has(o.qualifier) || o.qualifier == k.qualifier)))",message="reporting.kpis: each KPI and qualifier may be listed once"
type ReportingPolicy struct {
	// cadence is Monthly or Quarterly. Defaults to Monthly.
	// +optional
	// +kubebuilder:default=Monthly
	Cadence ReportCadence `json:"cadence,omitempty"`

	// timeZone is the IANA time zone in which periods begin and end at midnight.
	// Defaults to the cohort's time zone for a standalone cohort and to UTC for a
	// community.
	// +optional
	TimeZone TimeZone `json:"timeZone,omitempty"`

	// graceDays is how many days after a period closes its report freezes, so that
	// attendance recorded late still counts. Defaults to 7.
	// +optional
	// +kubebuilder:default=7
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=62
	GraceDays int32 `json:"graceDays,omitempty"`

	// kpis are the figures the program reports, each with a target, in the order its
	// reports list them.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=24
	KPIs []KPITarget `json:"kpis"`
}

// KPITarget is one KPI a program reports and the figure it aims for.
//
// +kubebuilder:validation:XValidation:rule="!has(self.qualifier) || self.name in ['SeatsFilled', 'GatheringsHeld']",message="reporting.kpis[].qualifier is a role for SeatsFilled or an event type for GatheringsHeld; other KPIs take none"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['AttendanceRate', 'PlansCurrent', 'ActionsDone']) || self.target <= 100",message="reporting.kpis[].target of a percentage KPI must be at most 100"
type KPITarget struct {
	// name is the KPI.
	// +required
	Name KPIName `json:"name"`

	// qualifier narrows SeatsFilled to one role and GatheringsHeld to one event type.
	// +optional
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
	// +kubebuilder:validation:MaxLength=63
	Qualifier string `json:"qualifier,omitempty"`

	// target is the figure to meet: a percentage, a count or hours, as the KPI measures.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	Target int64 `json:"target"`

	// direction is AtLeast (attendance, seats) or AtMost (waitlist, withdrawals,
	// approval hours).
	// +required
	Direction KPIDirection `json:"direction"`
}

// ProgramKind is the kind of a program unit that reports.
//
// +kubebuilder:validation:Enum=CommunityOfPractice;Cohort
type ProgramKind string

const (
	// CommunityProgram is a community with all its cohorts.
	CommunityProgram ProgramKind = "CommunityOfPractice"
	// CohortProgram is one cohort: a standalone cohort's periods, or any cohort's
	// whole run.
	CohortProgram ProgramKind = "Cohort"
)

// ProgramReference names the program a report is about, in the same namespace.
type ProgramReference struct {
	// kind is CommunityOfPractice or Cohort.
	// +required
	Kind ProgramKind `json:"kind"`

	// name is the community's or cohort's name.
	// +required
	Name ObjectName `json:"name"`
}

// RunPeriod is the period of a report on a cohort's whole run.
const RunPeriod = "run"

// ProgramReportSpec is a report's subject, its frozen figures and the leads' words.
//
// +kubebuilder:validation:XValidation:rule="self.program == oldSelf.program && self.period == oldSelf.period",message="spec.program and spec.period are immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.figures) || (has(self.figures) && self.figures == oldSelf.figures)",message="spec.figures are frozen: once written they cannot be changed or removed"
// +kubebuilder:validation:XValidation:rule="!has(self.approval) || has(self.figures)",message="spec.approval: only a frozen report (one with spec.figures) can be approved"
type ProgramReportSpec struct {
	// program is the community or cohort reported on.
	// +required
	Program ProgramReference `json:"program"`

	// period is the month (2026-11), the quarter (2026-q4) or, for a report on a
	// cohort's whole run, "run".
	// +required
	// +kubebuilder:validation:Pattern=`^([0-9]{4}-(0[1-9]|1[0-2]|q[1-4])|run)$`
	// +kubebuilder:validation:MaxLength=7
	Period string `json:"period"`

	// figures are written once by the operator when the report freezes and never
	// change after: a backup or a GitOps restore keeps them. Only the operator may
	// write them (the admission policy program-reports checks the custom verb freeze).
	// +optional
	Figures *FrozenFigures `json:"figures,omitempty"`

	// narrative is what the program's leads write about the period.
	// +optional
	Narrative *ReportNarrative `json:"narrative,omitempty"`

	// approval is an approver's sign-off on the frozen figures and the narrative as
	// they were (status.contentHash): any later change of the narrative voids it. The
	// API server admits it only from the approver it names, when they may use the verb
	// approve on the report, which the operator grants to the program's approvers.
	// +optional
	Approval *Approval `json:"approval,omitempty"`
}

// FrozenFigures are a report's figures as they were when it froze.
type FrozenFigures struct {
	// frozenAt is when the operator wrote them.
	// +required
	FrozenAt metav1.Time `json:"frozenAt"`

	// kpis are the program's KPIs, judged, in the order its policy lists them.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=24
	KPIs []KPIResult `json:"kpis"`
}

// KPIResult is one KPI of a report: its target and how the period measured up.
// Aggregates only: no result names a person.
type KPIResult struct {
	// name is the KPI; qualifier its role or event type, if any.
	// +required
	Name KPIName `json:"name"`
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Qualifier string `json:"qualifier,omitempty"`

	// target and direction are the policy's when the figure was computed.
	// +required
	Target int64 `json:"target"`
	// +required
	Direction KPIDirection `json:"direction"`

	// verdict is Met, Below, NoData or Suppressed.
	// +required
	Verdict KPIVerdict `json:"verdict"`

	// value is the figure; set when the verdict is Met or Below.
	// +optional
	Value *int64 `json:"value,omitempty"`

	// change is value less the previous period's, when both were reported.
	// +optional
	Change *int64 `json:"change,omitempty"`
}

// ReportNarrative is the leads' account of a period.
type ReportNarrative struct {
	// successes the program had.
	// +optional
	// +kubebuilder:validation:MaxLength=4000
	Successes Paragraph `json:"successes,omitempty"`
	// challenges it met.
	// +optional
	// +kubebuilder:validation:MaxLength=4000
	Challenges Paragraph `json:"challenges,omitempty"`
	// bestPractices it found.
	// +optional
	// +kubebuilder:validation:MaxLength=4000
	BestPractices Paragraph `json:"bestPractices,omitempty"`
	// nextSteps it plans.
	// +optional
	// +kubebuilder:validation:MaxLength=4000
	NextSteps Paragraph `json:"nextSteps,omitempty"`
}

// ReportPhase is Open while a report's figures follow the records, Frozen once they
// are written into spec.figures.
//
// +kubebuilder:validation:Enum=Open;Frozen
type ReportPhase string

const (
	// ReportOpen is the phase of a report whose period has not frozen yet.
	ReportOpen ReportPhase = "Open"
	// ReportFrozen is the phase of a report whose figures are in spec.figures.
	ReportFrozen ReportPhase = "Frozen"
)

// KPIAmendment is a frozen KPI whose figure, computed again from the records, differs:
// a record of the period changed after the freeze.
type KPIAmendment struct {
	// name and qualifier name the KPI.
	// +required
	Name KPIName `json:"name"`
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Qualifier string `json:"qualifier,omitempty"`
	// frozen is the figure in spec.figures; current the figure the records give now.
	// Either is unset when it is not reported (NoData or Suppressed).
	// +optional
	Frozen *int64 `json:"frozen,omitempty"`
	// +optional
	Current *int64 `json:"current,omitempty"`
}

// ProgramReportStatus is a report's observed state.
type ProgramReportStatus struct {
	// observedGeneration is the generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is Open or Frozen.
	// +optional
	Phase ReportPhase `json:"phase,omitempty"`

	// from and until are the period's first and last local days.
	// +optional
	From Date `json:"from,omitempty"`
	// +optional
	Until Date `json:"until,omitempty"`

	// freezesAt is when the figures are written into spec.figures.
	// +optional
	FreezesAt *metav1.Time `json:"freezesAt,omitempty"`

	// kpis are the figures so far while Open (flow figures follow the records until
	// the freeze; state figures stop when the period closes), and the frozen ones
	// after.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=24
	KPIs []KPIResult `json:"kpis,omitempty"`

	// met and below count the KPIs with each verdict.
	// +optional
	Met int32 `json:"met,omitempty"`
	// +optional
	Below int32 `json:"below,omitempty"`

	// amendments are the frozen KPIs that the records, changed after the freeze, would
	// now give differently. The frozen figures are never rewritten.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=24
	Amendments []KPIAmendment `json:"amendments,omitempty"`

	// contentHash is the hash of the frozen figures and the narrative that an
	// approver signs off; set once the report is Frozen.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	ContentHash string `json:"contentHash,omitempty"`

	// conditions: Ready (the report is computed: open or frozen) and Approved (a
	// frozen report approved for its current content).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ProgramReport is a program's KPIs for one period, kept as history: created by the
// operator when the period opens, frozen a grace period after it closes, never
// deleted with its program.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=preport,categories=learning
// +kubebuilder:printcolumn:name="Program",type=string,JSONPath=`.spec.program.name`
// +kubebuilder:printcolumn:name="Period",type=string,JSONPath=`.spec.period`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Met",type=integer,JSONPath=`.status.met`
// +kubebuilder:printcolumn:name="Below",type=integer,JSONPath=`.status.below`
// +kubebuilder:printcolumn:name="Approved",type=string,JSONPath=`.status.conditions[?(@.type=="Approved")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ProgramReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the program and period and holds the frozen figures and narrative.
	// +required
	Spec ProgramReportSpec `json:"spec"`

	// status is the report's observed state.
	// +optional
	Status ProgramReportStatus `json:"status,omitempty"`
}

// ProgramReportList is a list of ProgramReport.
//
// +kubebuilder:object:root=true
type ProgramReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProgramReport `json:"items"`
}

// GetConditions returns the status conditions.
func (in *ProgramReport) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ProgramReport) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }
