package admission

import (
	"strings"
	"testing"
)

// reportingKPIs is a reporting policy of two KPIs, to be appended to a spec.
const reportingKPIs = `
reporting:
  kpis:
  - {name: AttendanceRate, target: 80, direction: AtLeast}
  - {name: SeatsFilled, qualifier: Member, target: 15, direction: AtLeast}`

// reportingCases break the rules of a reporting policy on a kind that declares one.
func reportingCases(kind, base string) []admissionCase {
	return []admissionCase{
		{name: "reporting policy", kind: kind, spec: base + reportingKPIs},
		{name: "quarterly in a time zone, no grace", kind: kind, spec: base + `
reporting:
  cadence: Quarterly
  timeZone: America/Chicago
  graceDays: 0
  kpis: [{name: GatheringsHeld, qualifier: Intensive, target: 2, direction: AtLeast}, {name: GatheringsHeld, target: 6, direction: AtLeast}]`},
		{name: "a KPI listed twice", kind: kind, spec: base + reportingKPIs + `
  - {name: SeatsFilled, qualifier: Member, target: 10, direction: AtLeast}`,
			want: "reporting.kpis: each KPI and qualifier may be listed once"},
		{name: "a qualifier on attendance", kind: kind, spec: base + `
reporting:
  kpis: [{name: AttendanceRate, qualifier: Member, target: 80, direction: AtLeast}]`,
			want: "reporting.kpis[].qualifier is a role for SeatsFilled or an event type for GatheringsHeld; other KPIs take none"},
		{name: "a percentage above 100", kind: kind, spec: base + `
reporting:
  kpis: [{name: PlansCurrent, target: 120, direction: AtLeast}]`,
			want: "reporting.kpis[].target of a percentage KPI must be at most 100"},
		{name: "an unknown KPI", kind: kind, spec: base + `
reporting:
  kpis: [{name: Happiness, target: 1, direction: AtLeast}]`,
			want: "Unsupported value: \"Happiness\""},
		{name: "no KPIs", kind: kind, spec: base + `
reporting: {kpis: []}`,
			want: "spec.reporting.kpis: Invalid value"},
	}
}

var communityReportingCases = reportingCases("CommunityOfPractice", validPolicy)

var cohortReportingCases = append(reportingCases("Cohort", `
startDate: "2026-07-01"
durationMonths: 6
policy: {roles: [{name: Member, maxMembers: 8}]}`),
	admissionCase{name: "reporting on a cohort of a community", kind: "Cohort", spec: cohortBase + `
durationMonths: 6` + reportingKPIs,
		want: "spec.reporting is set on the community of a cohort that has a communityRef: its reports cover all its cohorts"},
	admissionCase{name: "approvers of a standalone cohort", kind: "Cohort", spec: `
startDate: "2026-07-01"
durationMonths: 6
policy: {roles: [{name: Member, maxMembers: 8}]}
approvers: [{kind: User, name: u-director}, {kind: Group, name: board}]`},
	admissionCase{name: "approvers on a cohort of a community", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
approvers: [{kind: User, name: u-director}]`,
		want: "spec.approvers is set on the community of a cohort that has a communityRef: its approvers approve for all its cohorts"},
	admissionCase{name: "a system group approving a cohort", kind: "Cohort", spec: `
startDate: "2026-07-01"
durationMonths: 6
policy: {roles: [{name: Member, maxMembers: 8}]}
approvers: [{kind: Group, name: "system:authenticated"}]`,
		want: "spec.approvers[].name must not be a system: user or group"},
	admissionCase{name: "an approver with a line break", kind: "Cohort", spec: `
startDate: "2026-07-01"
durationMonths: 6
policy: {roles: [{name: Member, maxMembers: 8}]}
approvers: [{kind: User, name: "u-\ndirector"}]`,
		want: "must be one line of text: no control characters (tab and line breaks included) and no bidirectional controls"})

const reportBase = `
program: {kind: CommunityOfPractice, name: allyship}
period: "2026-11"`

const reportFigures = `
figures:
  frozenAt: "2026-12-08T00:00:00Z"
  kpis: [{name: AttendanceRate, target: 80, direction: AtLeast, verdict: Met, value: 86}]`

// hash64 is a content hash's hex digits.
var hash64 = strings.Repeat("ab", 32)

var reportCases = []admissionCase{
	{name: "open report", kind: "ProgramReport", spec: reportBase},
	{name: "quarter and run periods", kind: "ProgramReport", spec: `
program: {kind: Cohort, name: oe-2026}
period: run`},
	{name: "a period that is no month", kind: "ProgramReport", spec: `
program: {kind: CommunityOfPractice, name: allyship}
period: "2026-13"`,
		want: "spec.period: Invalid value"},
	{name: "narrative written", kind: "ProgramReport", spec: reportBase, update: reportBase + `
narrative: {successes: "Twelve members\nmentored newcomers.", nextSteps: Recruit co-leads.}`},
	{name: "narrative with an escape sequence", kind: "ProgramReport", spec: reportBase + `
narrative: {challenges: "\u001b[2J"}`,
		want: "must not contain control characters other than tab, newline and CRLF, nor bidirectional controls"},
	{name: "approved while open", kind: "ProgramReport", spec: reportBase + `
approval: {approver: u-pillar-lead, contentHash: "v1:sha256:` + hash64 + `"}`,
		want: "spec.approval: only a frozen report (one with spec.figures) can be approved"},
	{name: "approver name with a line break", kind: "ProgramReport", spec: reportBase + reportFigures + `
approval: {approver: "u-pillar\nlead", contentHash: "v1:sha256:` + hash64 + `"}`,
		want: "must be one line of text: no control characters (tab and line breaks included) and no bidirectional controls"},
	{name: "approved once frozen", kind: "ProgramReport", spec: reportBase + reportFigures + `
approval: {approver: ` + caseUser + `, contentHash: "v1:sha256:` + hash64 + `"}`},
	{name: "period changed", kind: "ProgramReport", spec: reportBase, update: `
program: {kind: CommunityOfPractice, name: allyship}
period: "2026-10"`,
		want: "spec.program and spec.period are immutable"},
	{name: "figures frozen once", kind: "ProgramReport", spec: reportBase, update: reportBase + reportFigures},
	{name: "frozen figures changed", kind: "ProgramReport", spec: reportBase + reportFigures, update: reportBase + `
figures:
  frozenAt: "2026-12-08T00:00:00Z"
  kpis: [{name: AttendanceRate, target: 80, direction: AtLeast, verdict: Met, value: 99}]`,
		want: "spec.figures are frozen: once written they cannot be changed or removed"},
	{name: "frozen figures removed", kind: "ProgramReport", spec: reportBase + reportFigures, update: reportBase,
		want: "spec.figures are frozen: once written they cannot be changed or removed"},
}

func TestReportingPolicyAdmission(t *testing.T) {
	runCases(t, append(append([]admissionCase{}, communityReportingCases...), cohortReportingCases...))
}

func TestProgramReportAdmission(t *testing.T) { runCases(t, reportCases) }
