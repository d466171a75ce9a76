package admission

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const validPolicy = `
policy:
  roles:
  - {name: Lead, minMembers: 1, maxMembers: 2}
  - {name: Member, minMembers: 15, maxMembers: 20}`

var communityCases = []admissionCase{
	{name: "minimal community", kind: "CommunityOfPractice", spec: validPolicy},
	{name: "no roles", kind: "CommunityOfPractice", spec: `
policy: {attendance: {requiredPercent: 80}}`,
		want: "policy.roles must list at least one role"},
	{name: "role without maxMembers", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, minMembers: 1}]}`,
		want: "policy.roles: every role of a community needs maxMembers"},
	{name: "minMembers above maxMembers", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, minMembers: 3, maxMembers: 2}]}`,
		want: "policy.roles: minMembers must be less than or equal to maxMembers"},
	{name: "duplicate role names", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, maxMembers: 2}, {name: Lead, maxMembers: 3}]}`,
		want: "spec.policy.roles[1]: Duplicate value"},
	{name: "role name with a space", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: "Co Lead", maxMembers: 2}]}`,
		want: "spec.policy.roles[0].name"},
	{name: "zero seats", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, maxMembers: 0}]}`,
		want: "spec.policy.roles[0].maxMembers"},
	{name: "term of 100 months", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, maxMembers: 2, termMonths: 100}]}`,
		want: "spec.policy.roles[0].termMonths"},
	{name: "attendance above 100 percent", kind: "CommunityOfPractice", spec: validPolicy + `
  attendance: {requiredPercent: 120}`,
		want: "spec.policy.attendance.requiredPercent"},
	{name: "composition bounds reversed", kind: "CommunityOfPractice", spec: validPolicy + `
  composition: {minOrganizations: 8, maxOrganizations: 6}`,
		want: "composition: minOrganizations must be less than or equal to maxOrganizations"},
	{name: "commitment hours in words", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, maxMembers: 2, commitment: {meetingHoursPerMonth: "about two"}}]}`,
		want: "spec.policy.roles[0].commitment.meetingHoursPerMonth"},
	{name: "approver of kind ServiceAccount", kind: "CommunityOfPractice", spec: validPolicy + `
approvers: [{kind: ServiceAccount, name: robot}]`,
		want: "spec.approvers[0].kind: Unsupported value"},
	{name: "a system group as approvers", kind: "CommunityOfPractice", spec: validPolicy + `
approvers: [{kind: Group, name: "system:authenticated"}]`,
		want: "spec.approvers[].name must not be a system: user or group"},
	{name: "duplicate approvers", kind: "CommunityOfPractice", spec: validPolicy + `
approvers: [{kind: User, name: pillar-lead}, {kind: User, name: pillar-lead}]`,
		want: "spec.approvers[1]: Duplicate value"},
	{name: "duplicate eligible organizations", kind: "CommunityOfPractice", spec: validPolicy + `
eligibleOrganizations: [Lakeside Bank, Lakeside Bank]`,
		want: "spec.eligibleOrganizations[1]: Duplicate value"},
}

const cohortBase = `
communityRef: {name: allyship}
startDate: "2026-01-01"`

var cohortCases = []admissionCase{
	{name: "cohort under a community", kind: "Cohort", spec: cohortBase + `
durationMonths: 12`},
	{name: "standalone cohort with its own roles", kind: "Cohort", spec: `
startDate: "2026-07-01"
endDate: "2026-12-31"
timeZone: America/Argentina/Buenos_Aires
policy: {roles: [{name: Leader, maxMembers: 24}], composition: {minOrganizations: 6, maxOrganizations: 8, teamSize: 3, requiredTeamRoles: [ExecutiveDirector]}}
schedule: {rrule: "FREQ=MONTHLY;BYDAY=1TH;UNTIL=20261231T000000Z", startTime: "14:00", duration: 2h, timeZone: Etc/GMT+5}`},
	{name: "both durationMonths and endDate", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
endDate: "2026-06-30"`,
		want: "exactly one of spec.durationMonths or spec.endDate must be set"},
	{name: "neither durationMonths nor endDate", kind: "Cohort", spec: cohortBase,
		want: "exactly one of spec.durationMonths or spec.endDate must be set"},
	{name: "end before start", kind: "Cohort", spec: cohortBase + `
endDate: "2025-12-31"`,
		want: "spec.endDate must be after spec.startDate"},
	{name: "standalone cohort without roles", kind: "Cohort", spec: `
startDate: "2026-01-01"
durationMonths: 6`,
		want: "spec.policy.roles with maxMembers for every role is required when spec.communityRef is not set"},
	{name: "month 13", kind: "Cohort", spec: `
communityRef: {name: allyship}
startDate: "2026-13-01"
durationMonths: 6`,
		want: "spec.startDate"},
	{name: "duration of zero months", kind: "Cohort", spec: cohortBase + `
durationMonths: 0`,
		want: "spec.durationMonths"},
	{name: "time zone with a space", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
timeZone: Central Time`,
		want: "spec.timeZone"},
	{name: "enrollment closes before it opens", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
enrollment: {opens: "2026-01-31", closes: "2026-01-01"}`,
		want: "enrollment.opens must not be after enrollment.closes"},
	{name: "override with minMembers above maxMembers", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
policy: {roles: [{name: Member, minMembers: 21, maxMembers: 20}]}`,
		want: "policy.roles: minMembers must be less than or equal to maxMembers"},
	{name: "override with composition bounds reversed", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
policy: {composition: {minOrganizations: 8, maxOrganizations: 6}}`,
		want: "composition: minOrganizations must be less than or equal to maxOrganizations"},
	{name: "hourly recurrence", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=HOURLY", startTime: "12:00", duration: 90m, timeZone: America/Chicago}`,
		want: "spec.schedule.rrule"},
	{name: "recurrence in words", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "every second tuesday", startTime: "12:00", duration: 90m, timeZone: America/Chicago}`,
		want: "spec.schedule.rrule"},
	{name: "recurrence with COUNT and UNTIL", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;COUNT=6;UNTIL=20261231", startTime: "12:00", duration: 90m, timeZone: America/Chicago}`,
		want: "schedule.rrule may set COUNT or UNTIL, not both"},
	{name: "start time 25:00", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU", startTime: "25:00", duration: 90m, timeZone: America/Chicago}`,
		want: "spec.schedule.startTime"},
	{name: "gathering of two days", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU", startTime: "12:00", duration: 48h, timeZone: America/Chicago}`,
		want: "schedule.duration must be between 5m and 24h"},
	{name: "lookahead of 100", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU", startTime: "12:00", duration: 90m, timeZone: America/Chicago, lookahead: 100}`,
		want: "spec.schedule.lookahead"},
	{name: "portal with ten replicas", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
services: {portal: {enabled: true, replicas: 10}}`,
		want: "spec.services.portal.replicas"},
	{name: "community reference changed", kind: "Cohort", spec: cohortBase + `
durationMonths: 6`, update: `
communityRef: {name: another}
startDate: "2026-01-01"
durationMonths: 6`,
		want: "spec.communityRef is immutable once set"},
	{name: "community reference removed", kind: "Cohort", spec: cohortBase + `
durationMonths: 6`, update: `
startDate: "2026-01-01"
durationMonths: 6
policy: {roles: [{name: Lead, maxMembers: 2}]}`,
		want: "spec.communityRef is immutable once set"},
	{name: "suspending is an allowed update", kind: "Cohort", spec: cohortBase + `
durationMonths: 6`, update: cohortBase + `
durationMonths: 6
suspend: true`},
}

const membershipBase = `
cohortRef: {name: allyship-2026}
member: u-ally-001
role: Member`

var membershipCases = []admissionCase{
	{name: "minimal membership", kind: "Membership", spec: membershipBase},
	{name: "membership with a term", kind: "Membership", spec: membershipBase + `
organization: Lakeside Bank
teamRole: ExecutiveDirector
startDate: "2026-01-01"
endDate: "2026-12-31"`},
	{name: "term ends before it starts", kind: "Membership", spec: membershipBase + `
startDate: "2026-06-01"
endDate: "2026-01-01"`,
		want: "spec.endDate must be after spec.startDate"},
	{name: "empty member", kind: "Membership", spec: `
cohortRef: {name: allyship-2026}
member: ""
role: Member`,
		want: "spec.member"},
	{name: "system user as member", kind: "Membership", spec: `
cohortRef: {name: allyship-2026}
member: "system:admin"
role: Member`,
		want: "spec.member must not be a system: user"},
	{name: "no role", kind: "Membership", spec: `
cohortRef: {name: allyship-2026}
member: u-ally-001`,
		want: "spec.role: Required value"},
	{name: "cohort reference with capitals", kind: "Membership", spec: `
cohortRef: {name: Allyship_2026}
member: u-ally-001
role: Member`,
		want: "spec.cohortRef.name"},
	{name: "organization with leading space", kind: "Membership", spec: membershipBase + `
organization: " Lakeside Bank"`,
		want: "spec.organization"},
	{name: "cohort reference changed", kind: "Membership", spec: membershipBase, update: `
cohortRef: {name: allyship-2027}
member: u-ally-001
role: Member`,
		want: "spec.cohortRef is immutable"},
	{name: "member changed", kind: "Membership", spec: membershipBase, update: `
cohortRef: {name: allyship-2026}
member: u-ally-002
role: Member`,
		want: "spec.member is immutable"},
	{name: "role changed", kind: "Membership", spec: membershipBase, update: `
cohortRef: {name: allyship-2026}
member: u-ally-001
role: Lead`,
		want: "spec.role is immutable: create a new Membership for another role"},
	{name: "withdrawing is an allowed update", kind: "Membership", spec: membershipBase, update: membershipBase + `
withdrawn: true`},
	{name: "withdrawn false to true is an allowed update", kind: "Membership", spec: membershipBase + `
withdrawn: false`, update: membershipBase + `
withdrawn: true`},
	{name: "clearing withdrawn false is an allowed update", kind: "Membership", spec: membershipBase + `
withdrawn: false`, update: membershipBase},
	{name: "a withdrawn membership may still be edited", kind: "Membership", spec: membershipBase + `
withdrawn: true`, update: membershipBase + `
withdrawn: true
displayName: Ally One`},
	{name: "withdrawn true to false", kind: "Membership", spec: membershipBase + `
withdrawn: true`, update: membershipBase + `
withdrawn: false`,
		want: "spec.withdrawn cannot be undone: create a new Membership to come back"},
	{name: "withdrawn removed", kind: "Membership", spec: membershipBase + `
withdrawn: true`, update: membershipBase,
		want: "spec.withdrawn cannot be undone: create a new Membership to come back"},
}

const eventBase = `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "2026-01-13T18:00:00Z"
duration: 90m`

var eventCases = []admissionCase{
	{name: "minimal event", kind: "LearningEvent", spec: eventBase},
	{name: "approved external community event", kind: "LearningEvent", spec: `
communityRef: {name: allyship}
type: SpeakerSeries
title: Speaker series
start: "2026-03-10T18:00:00Z"
duration: 1h
audience: External
approval: {approver: allyship-pillar-lead, contentHash: "v1:sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`},
	{name: "both cohort and community", kind: "LearningEvent", spec: eventBase + `
communityRef: {name: allyship}`,
		want: "exactly one of spec.cohortRef or spec.communityRef must be set"},
	{name: "neither cohort nor community", kind: "LearningEvent", spec: `
type: Gathering
title: Monthly gathering
start: "2026-01-13T18:00:00Z"
duration: 90m`,
		want: "exactly one of spec.cohortRef or spec.communityRef must be set"},
	{name: "approval on an internal event", kind: "LearningEvent", spec: eventBase + `
approval: {approver: allyship-pillar-lead, contentHash: "v1:sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
		want: "spec.approval is only allowed when spec.audience is External"},
	{name: "malformed content hash", kind: "LearningEvent", spec: eventBase + `
audience: External
approval: {approver: allyship-pillar-lead, contentHash: "md5:abc"}`,
		want: "spec.approval.contentHash"},
	{name: "unknown event type", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Party
title: End of year party
start: "2026-12-13T18:00:00Z"
duration: 3h`,
		want: "spec.type: Unsupported value: \"Party\""},
	{name: "public audience", kind: "LearningEvent", spec: eventBase + `
audience: Public`,
		want: "spec.audience: Unsupported value"},
	{name: "empty title", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: ""
start: "2026-01-13T18:00:00Z"
duration: 90m`,
		want: "spec.title"},
	{name: "event of two weeks", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Intensive
title: Long intensive
start: "2026-01-13T18:00:00Z"
duration: 336h`,
		want: "spec.duration must be between 5m and 168h"},
	{name: "duration in words", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "2026-01-13T18:00:00Z"
duration: an hour`,
		want: "spec.duration"},
	{name: "start without a time", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "January 13"
duration: 90m`,
		want: "spec.start"},
	{name: "start in the year 9999", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "9999-12-31T23:00:00Z"
duration: 90m`,
		want: "spec.start must be from 2000 until before 2200"},
	{name: "start at the zero time", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "0001-01-01T00:00:00Z"
duration: 90m`,
		want: "spec.start must be from 2000 until before 2200"},
	{name: "attendance status Maybe", kind: "LearningEvent", spec: eventBase + `
attendance: [{member: allyship-2026-member-01, status: Maybe}]`,
		want: "spec.attendance[0].status: Unsupported value"},
	{name: "member recorded twice", kind: "LearningEvent", spec: eventBase + `
attendance: [{member: allyship-2026-member-01, status: Present}, {member: allyship-2026-member-01, status: Late}]`,
		want: "spec.attendance[1]: Duplicate value"},
	{name: "cohort reference changed", kind: "LearningEvent", spec: eventBase, update: `
cohortRef: {name: allyship-2027}
type: Gathering
title: Monthly gathering
start: "2026-01-13T18:00:00Z"
duration: 90m`,
		want: "spec.cohortRef is immutable once set"},
	{name: "community reference changed", kind: "LearningEvent", spec: `
communityRef: {name: allyship}
type: ListeningSession
title: Listening session
start: "2026-01-13T18:00:00Z"
duration: 1h`, update: `
communityRef: {name: equity}
type: ListeningSession
title: Listening session
start: "2026-01-13T18:00:00Z"
duration: 1h`,
		want: "spec.communityRef is immutable once set"},
	{name: "recording attendance is an allowed update", kind: "LearningEvent", spec: eventBase, update: eventBase + `
attendance: [{member: allyship-2026-member-01, status: Present}, {member: allyship-2026-member-02, status: Excused, note: travelling}]`},
	// A community-wide gathering of every seated member must fit, and admitting it must
	// stay fast enough for kubectl.
	{name: "attendance of 5000 members", kind: "LearningEvent", spec: eventWithAttendance(maxAttendance),
		within: largeEventBudget},
	{name: "attendance of 5001 members", kind: "LearningEvent", spec: eventWithAttendance(maxAttendance + 1),
		want: "spec.attendance: Too many: 5001: must have at most 5000 items", within: largeEventBudget},
}

// maxAttendance is the largest attendance list an event accepts.
const maxAttendance = 5000

// largeEventBudget bounds the API server's answer to an event with a full attendance
// list (about 200 kB): it takes under a second on a 2-core machine, and five leave
// room for a loaded CI runner while still catching a quadratic validation.
const largeEventBudget = 5 * time.Second

// eventWithAttendance returns the spec of a gathering with n members recorded Present,
// named m-00001, m-00002 and so on.
func eventWithAttendance(n int) string {
	var b strings.Builder
	b.WriteString(eventBase)
	b.WriteString("\nattendance:")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\n- {member: m-%05d, status: Present}", i)
	}
	return b.String()
}

func TestCommunityOfPracticeAdmission(t *testing.T) { runCases(t, communityCases) }
func TestCohortAdmission(t *testing.T)              { runCases(t, cohortCases) }
func TestMembershipAdmission(t *testing.T)          { runCases(t, membershipCases) }
func TestLearningEventAdmission(t *testing.T)       { runCases(t, eventCases) }

// allCases holds the cases of every kind.
var allCases = [][]admissionCase{communityCases, cohortCases, membershipCases, eventCases, actionPlanCases, dateCases, textCases, actionPlanTextCases,
	communityReportingCases, cohortReportingCases, reportCases}

func TestAtLeastThirtyRejections(t *testing.T) {
	n := 0
	for _, cases := range allCases {
		for _, tc := range cases {
			if tc.want != "" {
				n++
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d bad manifests are checked, want at least 30", n)
	}
}
