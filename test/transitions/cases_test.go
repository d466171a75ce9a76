package transitions

import (
	"strings"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// edit sets one field of a spec.
type edit struct {
	path  string
	value any
}

// transition is what one spec field admits and refuses on update.
type transition struct {
	// field is the field as specFields names it.
	field string
	// object is the workload object changed, "Kind/name".
	object string
	// valid is a change the API server admits, made from the state before it.
	valid []edit
	// noValid says why no change of the field is admitted on update.
	noValid string
	// invalid is a change the API server refuses, with a message containing want.
	invalid []edit
	want    string
	// noFinal says why the final spec, applied to an empty namespace, is not expected
	// to give the state reached step by step.
	noFinal string
	// oneWay marks a change that cannot be undone: the way back is the invalid change,
	// refused with want, and nothing is reverted.
	oneWay bool
}

func e(path string, value any) []edit { return []edit{{path, value}} }

func long(n int) string { return strings.Repeat("x", n) }

func many(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "R" + strings.Repeat("a", i+1)
	}
	return out
}

// A well-formed content hash that is not the hash of any event of the workload.
const staleHash = "v1:sha256:0000000000000000000000000000000000000000000000000000000000000000"

// policyTransitions are the transitions of a ProgramPolicy at prefix of obj; role is the
// index of a role that has every field set, access the access level it does not have.
func policyTransitions(kind, obj, prefix, role, access string) []transition {
	r := prefix + ".roles[" + role + "]"
	f := kind + " spec.policy"
	return []transition{
		{field: f + ".roles[].name", object: obj, valid: e(r+".name", "Guide"), invalid: e(r+".name", "9-lives"), want: r + ".name"},
		{field: f + ".roles[].minMembers", object: obj, valid: e(r+".minMembers", int64(2)), invalid: e(r+".minMembers", int64(-1)), want: r + ".minMembers"},
		{field: f + ".roles[].maxMembers", object: obj, valid: e(r+".maxMembers", int64(3)), invalid: e(r+".maxMembers", int64(0)), want: r + ".maxMembers"},
		{field: f + ".roles[].termMonths", object: obj, valid: e(r+".termMonths", int64(24)), invalid: e(r+".termMonths", int64(61)), want: r + ".termMonths"},
		{field: f + ".roles[].maxConsecutiveTerms", object: obj, valid: e(r+".maxConsecutiveTerms", int64(1)), invalid: e(r+".maxConsecutiveTerms", int64(0)), want: r + ".maxConsecutiveTerms"},
		{field: f + ".roles[].access", object: obj, valid: e(r+".access", access), invalid: e(r+".access", "Admin"), want: r + ".access"},
		{field: f + ".roles[].commitment.description", object: obj, valid: e(r+".commitment.description", "Hosts a circle."), invalid: e(r+".commitment.description", long(1025)), want: r + ".commitment.description"},
		{field: f + ".roles[].commitment.meetingHoursPerMonth", object: obj, valid: e(r+".commitment.meetingHoursPerMonth", "3"), invalid: e(r+".commitment.meetingHoursPerMonth", "two"), want: r + ".commitment.meetingHoursPerMonth"},
		{field: f + ".roles[].commitment.otherHoursPerMonth", object: obj, valid: e(r+".commitment.otherHoursPerMonth", "3-4"), invalid: e(r+".commitment.otherHoursPerMonth", "lots"), want: r + ".commitment.otherHoursPerMonth"},
		{field: f + ".composition.minOrganizations", object: obj, valid: e(prefix+".composition.minOrganizations", int64(3)), invalid: e(prefix+".composition.minOrganizations", int64(0)), want: prefix + ".composition.minOrganizations"},
		{field: f + ".composition.maxOrganizations", object: obj, valid: e(prefix+".composition.maxOrganizations", int64(1)), invalid: e(prefix+".composition.maxOrganizations", int64(501)), want: prefix + ".composition.maxOrganizations"},
		{field: f + ".composition.teamSize", object: obj, valid: e(prefix+".composition.teamSize", int64(1)), invalid: e(prefix+".composition.teamSize", int64(51)), want: prefix + ".composition.teamSize"},
		{field: f + ".composition.roles", object: obj, valid: e(prefix+".composition.roles", []any{"Lead"}), invalid: e(prefix+".composition.roles", []any{"9-lives"}), want: prefix + ".composition.roles[0]"},
		{field: f + ".composition.requiredTeamRoles", object: obj, valid: e(prefix+".composition.requiredTeamRoles", []any{"ExecutiveDirector", "Treasurer"}), invalid: e(prefix+".composition.requiredTeamRoles", many(11)), want: prefix + ".composition.requiredTeamRoles"},
		{field: f + ".attendance.requiredPercent", object: obj, valid: e(prefix+".attendance.requiredPercent", int64(100)), invalid: e(prefix+".attendance.requiredPercent", int64(101)), want: prefix + ".attendance.requiredPercent"},
		{field: f + ".attendance.minimumEvents", object: obj, valid: e(prefix+".attendance.minimumEvents", int64(5)), invalid: e(prefix+".attendance.minimumEvents", int64(-1)), want: prefix + ".attendance.minimumEvents"},
		{field: f + ".attendance.lateWeightPercent", object: obj, valid: e(prefix+".attendance.lateWeightPercent", int64(50)), invalid: e(prefix+".attendance.lateWeightPercent", int64(101)), want: prefix + ".attendance.lateWeightPercent"},
		{field: f + ".termNoticeDays", object: obj, valid: e(prefix+".termNoticeDays", int64(60)), invalid: e(prefix+".termNoticeDays", int64(366)), want: prefix + ".termNoticeDays"},
		// Team plans instead of personal ones: the lead's and member-b's missing plans
		// are no longer reported, the Lakeside team's is.
		{field: f + ".actionPlans.required", object: obj, valid: e(prefix+".actionPlans.required", "Team"), invalid: e(prefix+".actionPlans.required", "Always"), want: prefix + ".actionPlans.required"},
		{field: f + ".actionPlans.dueDays", object: obj, valid: e(prefix+".actionPlans.dueDays", int64(60)), invalid: e(prefix+".actionPlans.dueDays", int64(366)), want: prefix + ".actionPlans.dueDays"},
		// One counting gathering without a check-in makes member-a's plan stale: the
		// kickoff ended after its check-in.
		{field: f + ".actionPlans.staleAfter", object: obj, valid: e(prefix+".actionPlans.staleAfter", int64(1)), invalid: e(prefix+".actionPlans.staleAfter", int64(25)), want: prefix + ".actionPlans.staleAfter"},
	}
}

// transitions is the table: one case per spec field of the program kinds.
func transitions() []transition {
	cases := []transition{
		// CommunityOfPractice
		{field: "CommunityOfPractice spec.displayName", object: "CommunityOfPractice/cop", valid: e("spec.displayName", "Allyship CoP"), invalid: e("spec.displayName", long(129)), want: "spec.displayName"},
		{field: "CommunityOfPractice spec.charter.purpose", object: "CommunityOfPractice/cop", valid: e("spec.charter.purpose", "Practise allyship at work."), invalid: e("spec.charter.purpose", long(2001)), want: "spec.charter.purpose"},
		{field: "CommunityOfPractice spec.charter.goals", object: "CommunityOfPractice/cop", valid: e("spec.charter.goals", []any{"One", "Two", "Three"}), invalid: e("spec.charter.goals", many(21)), want: "spec.charter.goals"},
		{field: "CommunityOfPractice spec.charter.deliverables", object: "CommunityOfPractice/cop", valid: e("spec.charter.deliverables", []any{"A playbook", "A report"}), invalid: e("spec.charter.deliverables", []any{long(501)}), want: "spec.charter.deliverables[0]"},
		{field: "CommunityOfPractice spec.approvers[].kind", object: "CommunityOfPractice/cop", valid: e("spec.approvers[1].kind", "User"), invalid: e("spec.approvers[1].kind", "Robot"), want: "spec.approvers[1].kind"},
		{field: "CommunityOfPractice spec.approvers[].name", object: "CommunityOfPractice/cop", valid: e("spec.approvers[1].name", "ap-pillar-chairs"), invalid: e("spec.approvers[1].name", "system:authenticated"), want: "spec.approvers[1].name"},
		// Removing Lakeside unseats member-a (no longer eligible); on the way back
		// member-a competes for the seat again.
		{field: "CommunityOfPractice spec.eligibleOrganizations", object: "CommunityOfPractice/cop", valid: e("spec.eligibleOrganizations", []any{"Northstar"}), invalid: e("spec.eligibleOrganizations", []any{" Lakeside"}), want: "spec.eligibleOrganizations[0]"},

		// Cohort
		{field: "Cohort spec.communityRef.name", object: "Cohort/spring", noValid: "immutable once set: a cohort stays in its community", invalid: e("spec.communityRef.name", "other"), want: "spec.communityRef is immutable"},
		{field: "Cohort spec.displayName", object: "Cohort/spring", valid: e("spec.displayName", "Spring"), invalid: e("spec.displayName", long(129)), want: "spec.displayName"},
		{field: "Cohort spec.startDate", object: "Cohort/spring", valid: e("spec.startDate", "2026-02-01"), invalid: e("spec.startDate", "2026-13-01"), want: "spec.startDate"},
		{field: "Cohort spec.durationMonths", object: "Cohort/spring", valid: e("spec.durationMonths", int64(12)), invalid: e("spec.durationMonths", int64(0)), want: "spec.durationMonths"},
		{field: "Cohort spec.endDate", object: "Cohort/spring", valid: []edit{{"spec.durationMonths", removed{}}, {"spec.endDate", "2027-03-31"}}, invalid: []edit{{"spec.durationMonths", removed{}}, {"spec.endDate", "2025-12-31"}}, want: "spec.endDate must be after spec.startDate"},
		{field: "Cohort spec.timeZone", object: "Cohort/spring", valid: e("spec.timeZone", "Europe/Berlin"), invalid: e("spec.timeZone", "berlin"), want: "spec.timeZone"},
		{field: "Cohort spec.enrollment.opens", object: "Cohort/spring", valid: e("spec.enrollment.opens", "2025-12-01"), invalid: e("spec.enrollment.opens", "2026-04-01"), want: "enrollment.opens must not be after enrollment.closes"},
		// Closing enrollment before member-b's start unseats member-b.
		{field: "Cohort spec.enrollment.closes", object: "Cohort/spring", valid: e("spec.enrollment.closes", "2026-01-15"), invalid: e("spec.enrollment.closes", "31.03.2026"), want: "spec.enrollment.closes"},
		{field: "Cohort spec.schedule.rrule", object: "Cohort/spring", valid: e("spec.schedule.rrule", "FREQ=MONTHLY;BYDAY=3TH"), invalid: e("spec.schedule.rrule", "FREQ=HOURLY"), want: "spec.schedule.rrule"},
		{field: "Cohort spec.schedule.startTime", object: "Cohort/spring", valid: e("spec.schedule.startTime", "18:30"), invalid: e("spec.schedule.startTime", "25:00"), want: "spec.schedule.startTime"},
		{field: "Cohort spec.schedule.duration", object: "Cohort/spring", valid: e("spec.schedule.duration", "2h"), invalid: e("spec.schedule.duration", "1m"), want: "schedule.duration must be between 5m and 24h"},
		{field: "Cohort spec.schedule.timeZone", object: "Cohort/spring", valid: e("spec.schedule.timeZone", "Europe/Berlin"), invalid: e("spec.schedule.timeZone", "utc"), want: "spec.schedule.timeZone"},
		{field: "Cohort spec.schedule.lookahead", object: "Cohort/spring", valid: e("spec.schedule.lookahead", int64(5)), invalid: e("spec.schedule.lookahead", int64(53)), want: "spec.schedule.lookahead"},
		{field: "Cohort spec.schedule.type", object: "Cohort/spring", valid: e("spec.schedule.type", "CheckIn"), invalid: e("spec.schedule.type", "Party"), want: "spec.schedule.type"},
		{field: "Cohort spec.schedule.title", object: "Cohort/spring", valid: e("spec.schedule.title", "Monthly circle"), invalid: e("spec.schedule.title", long(151)), want: "spec.schedule.title"},
		{field: "Cohort spec.schedule.location", object: "Cohort/spring", valid: e("spec.schedule.location", "Room 2"), invalid: e("spec.schedule.location", long(513)), want: "spec.schedule.location"},
		{field: "Cohort spec.services.portal.enabled", object: "Cohort/spring", valid: e("spec.services.portal.enabled", false), invalid: e("spec.services.portal.enabled", "yes"), want: "spec.services.portal.enabled"},
		{field: "Cohort spec.services.portal.replicas", object: "Cohort/spring", valid: e("spec.services.portal.replicas", int64(2)), invalid: e("spec.services.portal.replicas", int64(6)), want: "spec.services.portal.replicas"},
		{field: "Cohort spec.suspend", object: "Cohort/spring", valid: e("spec.suspend", true), invalid: e("spec.suspend", "true"), want: "spec.suspend",
			noFinal: "suspension keeps what exists; a cohort created suspended gets its members' access only (TestCreatedSuspended)"},

		// Membership
		{field: "Membership spec.cohortRef.name", object: "Membership/member-a", noValid: "immutable: a membership stays in its cohort", invalid: e("spec.cohortRef.name", "autumn"), want: "spec.cohortRef is immutable"},
		{field: "Membership spec.member", object: "Membership/member-a", noValid: "immutable: a membership is one person's", invalid: e("spec.member", "u-other@example.org"), want: "spec.member is immutable"},
		{field: "Membership spec.role", object: "Membership/member-a", noValid: "immutable: another role is another membership", invalid: e("spec.role", "Lead"), want: "spec.role is immutable"},
		{field: "Membership spec.displayName", object: "Membership/member-a", valid: e("spec.displayName", "Ada L."), invalid: e("spec.displayName", long(129)), want: "spec.displayName"},
		// An organization outside the community's unseats member-b; the waitlisted
		// member takes the seat and keeps it when member-b comes back.
		{field: "Membership spec.organization", object: "Membership/member-b", valid: e("spec.organization", "Riverbend"), invalid: e("spec.organization", " Northstar"), want: "spec.organization"},
		{field: "Membership spec.teamRole", object: "Membership/lead", valid: e("spec.teamRole", "Treasurer"), invalid: e("spec.teamRole", "Executive Director"), want: "spec.teamRole"},
		{field: "Membership spec.startDate", object: "Membership/member-b", valid: e("spec.startDate", "2026-03-01"), invalid: e("spec.startDate", "2026-2-1"), want: "spec.startDate"},
		{field: "Membership spec.endDate", object: "Membership/member-b", valid: e("spec.endDate", "2026-12-15"), invalid: e("spec.endDate", "2026-01-15"), want: "spec.endDate must be after spec.startDate"},
		// Withdrawal is one-way: the way back is refused.
		{field: "Membership spec.withdrawn", object: "Membership/waiting", valid: e("spec.withdrawn", true), oneWay: true, want: "spec.withdrawn cannot be undone"},

		// LearningEvent
		{field: "LearningEvent spec.cohortRef.name", object: "LearningEvent/kickoff", noValid: "immutable once set: an event stays with its cohort", invalid: e("spec.cohortRef.name", "autumn"), want: "spec.cohortRef is immutable"},
		{field: "LearningEvent spec.communityRef.name", object: "LearningEvent/townhall", noValid: "immutable once set: an event stays with its community", invalid: e("spec.communityRef.name", "other"), want: "spec.communityRef is immutable"},
		{field: "LearningEvent spec.type", object: "LearningEvent/kickoff", valid: e("spec.type", "Workshop"), invalid: e("spec.type", "Party"), want: "spec.type"},
		// A content change voids the approval; the way back restores it.
		{field: "LearningEvent spec.title", object: "LearningEvent/launch", valid: e("spec.title", "Public launch, second edition"), invalid: e("spec.title", ""), want: "spec.title"},
		{field: "LearningEvent spec.description", object: "LearningEvent/launch", valid: e("spec.description", "Open to all."), invalid: e("spec.description", long(4001)), want: "spec.description"},
		{field: "LearningEvent spec.start", object: "LearningEvent/townhall", valid: e("spec.start", "2026-12-16T18:00:00Z"), invalid: e("spec.start", "tomorrow"), want: "spec.start"},
		{field: "LearningEvent spec.duration", object: "LearningEvent/townhall", valid: e("spec.duration", "2h"), invalid: e("spec.duration", "200h"), want: "spec.duration must be between 5m and 168h"},
		{field: "LearningEvent spec.timeZone", object: "LearningEvent/launch", valid: e("spec.timeZone", "Europe/Berlin"), invalid: e("spec.timeZone", "berlin"), want: "spec.timeZone"},
		{field: "LearningEvent spec.location", object: "LearningEvent/launch", valid: e("spec.location", "Side hall"), invalid: e("spec.location", long(513)), want: "spec.location"},
		{field: "LearningEvent spec.audience", object: "LearningEvent/townhall", valid: e("spec.audience", "External"), invalid: e("spec.audience", "Public"), want: "spec.audience"},
		{field: "LearningEvent spec.countsTowardAttendance", object: "LearningEvent/kickoff", valid: e("spec.countsTowardAttendance", false), invalid: e("spec.countsTowardAttendance", "maybe"), want: "spec.countsTowardAttendance"},
		{field: "LearningEvent spec.attendance[].member", object: "LearningEvent/kickoff", valid: e("spec.attendance[2].member", "ghost"), invalid: e("spec.attendance[2].member", "Member_B"), want: "spec.attendance[2].member"},
		{field: "LearningEvent spec.attendance[].status", object: "LearningEvent/kickoff", valid: e("spec.attendance[1].status", "Absent"), invalid: e("spec.attendance[1].status", "Asleep"), want: "spec.attendance[1].status"},
		{field: "LearningEvent spec.attendance[].note", object: "LearningEvent/kickoff", valid: e("spec.attendance[2].note", "ill"), invalid: e("spec.attendance[2].note", long(257)), want: "spec.attendance[2].note"},
		// Withdrawing an approval needs only the verb; giving one back is the approver's.
		{field: "LearningEvent spec.approval.approver", object: "LearningEvent/launch", valid: e("spec.approval", removed{}), invalid: e("spec.approval.approver", "someone-else@example.org"), want: "spec.approval.approver"},
		{field: "LearningEvent spec.approval.contentHash", object: "LearningEvent/launch", valid: e("spec.approval.contentHash", staleHash), invalid: e("spec.approval.contentHash", "sha256:abc"), want: "spec.approval.contentHash"},
		{field: "LearningEvent spec.cancelled", object: "LearningEvent/townhall", valid: e("spec.cancelled", true), invalid: e("spec.cancelled", "no"), want: "spec.cancelled"},
	}
	cases = append(cases, planTransitions()...)
	cases = append(cases, reportTransitions()...)
	// The community's Lead role and the cohort's Member override have every field of a
	// role set. Raising the cohort's Member seats promotes the waitlisted member, who
	// keeps the seat when the seats are lowered again.
	cases = append(cases, policyTransitions("CommunityOfPractice", "CommunityOfPractice/cop", "spec.policy", "0", "Read")...)
	cases = append(cases, policyTransitions("Cohort", "Cohort/spring", "spec.policy", "0", "Edit")...)
	return cases
}

// fieldName is the name a refusal must mention for field: its last segment, or for a
// reference's name the reference (spec.cohortRef for spec.cohortRef.name).
func fieldName(field string) string {
	parts := strings.Split(strings.ReplaceAll(field, "[]", ""), ".")
	last := parts[len(parts)-1]
	if last == "name" && len(parts) > 1 && strings.HasSuffix(parts[len(parts)-2], "Ref") {
		return parts[len(parts)-2]
	}
	return last
}

// planTransitions are the transitions of the ActionPlan fields. Its owner writes each
// plan (see write), so the action-plan policy admits the check-ins.
func planTransitions() []transition {
	const a, ci, p = "spec.actions", "spec.checkIns[0]", "spec.checkIns[0].progress[0]"
	return []transition{
		{field: "ActionPlan spec.membershipRef.name", object: "ActionPlan/plan-a", noValid: "immutable: a plan stays with its membership", invalid: e("spec.membershipRef.name", "member-b"), want: "spec.membershipRef is immutable"},
		// The immutability rule names spec.team; a name the schema refuses names the field.
		{field: "ActionPlan spec.team.cohortRef.name", object: "ActionPlan/northstar", noValid: "immutable: a plan stays with its team", invalid: e("spec.team.cohortRef.name", "Spring"), want: "spec.team.cohortRef.name"},
		{field: "ActionPlan spec.team.organization", object: "ActionPlan/northstar", noValid: "immutable: a plan stays with its team", invalid: e("spec.team.organization", " Northstar"), want: "spec.team.organization"},
		{field: "ActionPlan spec.owner", object: "ActionPlan/plan-a", noValid: "immutable: the owner is who created the plan", invalid: e("spec.owner", "u-b@example.org"), want: "spec.owner is immutable"},
		{field: "ActionPlan spec.partnerRef.name", object: "ActionPlan/plan-a", valid: e("spec.partnerRef.name", "lead"), invalid: e("spec.partnerRef.name", "member-a"), want: "spec.partnerRef must name another membership than spec.membershipRef"},
		// No check-in reports on read: its id may change.
		{field: "ActionPlan spec.actions[].id", object: "ActionPlan/plan-a", valid: e(a+"[1].id", "read-guide"), invalid: e(a+"[1].id", "Read"), want: a + "[1].id"},
		{field: "ActionPlan spec.actions[].title", object: "ActionPlan/plan-a", valid: e(a+"[0].title", "Mentor three newcomers"), invalid: e(a+"[0].title", long(201)), want: a + "[0].title"},
		{field: "ActionPlan spec.actions[].description", object: "ActionPlan/plan-a", valid: e(a+"[0].description", "With the buddy programme."), invalid: e(a+"[0].description", long(2001)), want: a + "[0].description"},
		// A due day before the clock makes the plan overdue.
		{field: "ActionPlan spec.actions[].due", object: "ActionPlan/plan-a", valid: e(a+"[0].due", "2026-11-15"), invalid: e(a+"[0].due", "2200-01-01"), want: "spec.actions[].due must be from 2000 until before 2200"},
		{field: "ActionPlan spec.actions[].status", object: "ActionPlan/plan-a", valid: e(a+"[0].status", "Done"), invalid: e(a+"[0].status", "Someday"), want: a + "[0].status"},
		{field: "ActionPlan spec.actions[].outcome", object: "ActionPlan/plan-a", valid: e(a+"[1].outcome", "Shared notes."), invalid: e(a+"[1].outcome", long(2001)), want: a + "[1].outcome"},
		{field: "ActionPlan spec.checkIns[].id", object: "ActionPlan/plan-a", valid: e(ci+".id", "2026-11"), invalid: e(ci+".id", "November"), want: ci + ".id"},
		// A check-in after the kickoff ended leaves no counting gathering since it.
		{field: "ActionPlan spec.checkIns[].at", object: "ActionPlan/plan-a", valid: e(ci+".at", "2026-11-10T19:45:00Z"), invalid: e(ci+".at", "2200-01-01T00:00:00Z"), want: "spec.checkIns[].at must be from 2000 until before 2200"},
		// The action-plan policy refuses, from its owner, a check-in in another's name.
		{field: "ActionPlan spec.checkIns[].author", object: "ActionPlan/plan-a", noValid: "a check-in is written by its author: the action-plan policy admits only the writer as author, and only the author may change it",
			invalid: e(ci+".author", "u-b@example.org"), want: `spec.checkIns[].author: check-in "kickoff" must be authored by the user writing it`},
		// An event of the community is one of the cohort's too.
		{field: "ActionPlan spec.checkIns[].eventRef.name", object: "ActionPlan/plan-a", valid: e(ci+".eventRef.name", "townhall"), invalid: e(ci+".eventRef.name", "Kickoff"), want: ci + ".eventRef.name"},
		{field: "ActionPlan spec.checkIns[].progress[].actionID", object: "ActionPlan/plan-a", valid: e(p+".actionID", "read"), invalid: e(p+".actionID", "listen"), want: "spec.checkIns[].progress[].actionID must name an action of spec.actions"},
		{field: "ActionPlan spec.checkIns[].progress[].status", object: "ActionPlan/plan-a", valid: e(p+".status", "Done"), invalid: e(p+".status", "Asleep"), want: p + ".status"},
		{field: "ActionPlan spec.checkIns[].progress[].note", object: "ActionPlan/plan-a", valid: e(p+".note", "Met two newcomers."), invalid: e(p+".note", long(281)), want: p + ".note"},
		{field: "ActionPlan spec.checkIns[].learned", object: "ActionPlan/plan-a", valid: e(ci+".learned", "Silence is an answer too."), invalid: e(ci+".learned", long(2001)), want: ci + ".learned"},
		{field: "ActionPlan spec.checkIns[].adjust", object: "ActionPlan/plan-a", valid: e(ci+".adjust", "Listen longer."), invalid: e(ci+".adjust", long(2001)), want: ci + ".adjust"},
		// The reflections become private to the owner and the partner.
		{field: "ActionPlan spec.checkIns[].shared", object: "ActionPlan/plan-a", valid: e(ci+".shared", false), invalid: e(ci+".shared", "yes"), want: ci + ".shared"},
	}
}

// reportTransitions are the transitions of a reporting policy (on the community; a
// cohort of a community may not have one) and of the ProgramReport fields, on October's
// report, which the operator created frozen.
func reportTransitions() []transition {
	const c, k, r = "CommunityOfPractice/cop", "spec.reporting.kpis[0]", "ProgramReport/community-cop-2026-10"
	cohortOnly := "a cohort of a community reports with its community: spec.reporting is refused on it"
	kpi := func(fields map[string]any) map[string]any {
		out := map[string]any{"name": "AttendanceRate", "target": int64(80), "direction": "AtLeast"}
		for key, v := range fields {
			out[key] = v
		}
		return out
	}
	onCohort := func(field string, policy map[string]any) transition {
		if _, ok := policy["kpis"]; !ok {
			policy["kpis"] = []any{kpi(nil)}
		}
		return transition{field: "Cohort spec.reporting." + field, object: "Cohort/spring", noValid: cohortOnly, invalid: e("spec.reporting", policy), want: fieldName(field)}
	}
	frozen := "written once by the operator when the report freezes; the CRD keeps them unchanged"
	notDeclared := "ProgramReports are created by the operator, not declared: the workload's final spec holds none"
	figure := "spec.figures.kpis[0]"
	return []transition{
		{field: "CommunityOfPractice spec.reporting.cadence", object: c, valid: e("spec.reporting.cadence", "Quarterly"), invalid: e("spec.reporting.cadence", "Weekly"), want: "spec.reporting.cadence"},
		{field: "CommunityOfPractice spec.reporting.timeZone", object: c, valid: e("spec.reporting.timeZone", "America/Chicago"), invalid: e("spec.reporting.timeZone", "chicago"), want: "spec.reporting.timeZone"},
		{field: "CommunityOfPractice spec.reporting.graceDays", object: c, valid: e("spec.reporting.graceDays", int64(3)), invalid: e("spec.reporting.graceDays", int64(63)), want: "spec.reporting.graceDays"},
		{field: "CommunityOfPractice spec.reporting.kpis[].name", object: c, valid: e(k+".name", "GatheringsHeld"), invalid: e(k+".name", "Happiness"), want: "spec.reporting.kpis[0].name"},
		{field: "CommunityOfPractice spec.reporting.kpis[].qualifier", object: c, valid: e("spec.reporting.kpis[1].qualifier", "Lead"), invalid: e(k+".qualifier", "Member"), want: "reporting.kpis[].qualifier is a role for SeatsFilled"},
		{field: "CommunityOfPractice spec.reporting.kpis[].target", object: c, valid: e(k+".target", int64(90)), invalid: e(k+".target", int64(120)), want: "reporting.kpis[].target of a percentage KPI must be at most 100"},
		{field: "CommunityOfPractice spec.reporting.kpis[].direction", object: c, valid: e(k+".direction", "AtMost"), invalid: e(k+".direction", "Around"), want: "spec.reporting.kpis[0].direction"},

		{field: "Cohort spec.approvers[].kind", object: "Cohort/spring", noValid: "a cohort of a community has its community's approvers: spec.approvers is refused on it",
			invalid: e("spec.approvers", []any{map[string]any{"kind": "Robot", "name": "r2"}}), want: "spec.approvers[0].kind"},
		{field: "Cohort spec.approvers[].name", object: "Cohort/spring", noValid: "a cohort of a community has its community's approvers: spec.approvers is refused on it",
			invalid: e("spec.approvers", []any{map[string]any{"kind": "Group", "name": "system:authenticated"}}), want: "spec.approvers[].name must not be a system: user or group"},
		onCohort("cadence", map[string]any{"cadence": "Weekly"}),
		onCohort("timeZone", map[string]any{"timeZone": "chicago"}),
		onCohort("graceDays", map[string]any{"graceDays": int64(63)}),
		onCohort("kpis[].name", map[string]any{"kpis": []any{kpi(map[string]any{"name": "Happiness"})}}),
		onCohort("kpis[].qualifier", map[string]any{"kpis": []any{kpi(map[string]any{"qualifier": "Member"})}}),
		onCohort("kpis[].target", map[string]any{"kpis": []any{kpi(map[string]any{"target": int64(120)})}}),
		onCohort("kpis[].direction", map[string]any{"kpis": []any{kpi(map[string]any{"direction": "Around"})}}),

		{field: "ProgramReport spec.program.kind", object: r, noValid: "immutable: a report stays with its program", invalid: e("spec.program.kind", "Team"), want: "spec.program.kind"},
		{field: "ProgramReport spec.program.name", object: r, noValid: "immutable: a report stays with its program", invalid: e("spec.program.name", "Not A Name"), want: "spec.program.name"},
		{field: "ProgramReport spec.period", object: r, noValid: "immutable: a report stays with its period", invalid: e("spec.period", "2026-09"), want: "spec.program and spec.period are immutable"},
		{field: "ProgramReport spec.figures.frozenAt", object: r, noValid: frozen, invalid: e("spec.figures.frozenAt", "yesterday"), want: "spec.figures.frozenAt"},
		{field: "ProgramReport spec.figures.kpis[].name", object: r, noValid: frozen, invalid: e(figure+".name", "Happiness"), want: figure + ".name"},
		{field: "ProgramReport spec.figures.kpis[].qualifier", object: r, noValid: frozen, invalid: e(figure+".qualifier", long(64)), want: figure + ".qualifier"},
		{field: "ProgramReport spec.figures.kpis[].target", object: r, noValid: frozen, invalid: e(figure+".target", "eighty"), want: figure + ".target"},
		{field: "ProgramReport spec.figures.kpis[].direction", object: r, noValid: frozen, invalid: e(figure+".direction", "Around"), want: figure + ".direction"},
		{field: "ProgramReport spec.figures.kpis[].verdict", object: r, noValid: frozen, invalid: e(figure+".verdict", "Great"), want: figure + ".verdict"},
		{field: "ProgramReport spec.figures.kpis[].value", object: r, noValid: frozen, invalid: e(figure+".value", "high"), want: figure + ".value"},
		{field: "ProgramReport spec.figures.kpis[].change", object: r, noValid: frozen, invalid: e(figure+".change", "up"), want: figure + ".change"},
		{field: "ProgramReport spec.narrative.successes", object: r, valid: e("spec.narrative.successes", "Everyone came."), invalid: e("spec.narrative.successes", long(4001)), want: "spec.narrative.successes", noFinal: notDeclared},
		{field: "ProgramReport spec.narrative.challenges", object: r, valid: e("spec.narrative.challenges", "Winter."), invalid: e("spec.narrative.challenges", long(4001)), want: "spec.narrative.challenges", noFinal: notDeclared},
		{field: "ProgramReport spec.narrative.bestPractices", object: r, valid: e("spec.narrative.bestPractices", "Partners."), invalid: e("spec.narrative.bestPractices", long(4001)), want: "spec.narrative.bestPractices", noFinal: notDeclared},
		{field: "ProgramReport spec.narrative.nextSteps", object: r, valid: e("spec.narrative.nextSteps", "Recruit."), invalid: e("spec.narrative.nextSteps", long(4001)), want: "spec.narrative.nextSteps", noFinal: notDeclared},
		// The approver approves as themselves (see write); a name that is not theirs is
		// refused by the admission policy.
		{field: "ProgramReport spec.approval.approver", object: r, valid: e("spec.approval", map[string]any{"approver": testutil.ApproverUser, "contentHash": staleHash}),
			invalid: e("spec.approval", map[string]any{"approver": "someone-else@example.org", "contentHash": staleHash}), want: "spec.approval.approver", noFinal: notDeclared},
		{field: "ProgramReport spec.approval.contentHash", object: r, valid: e("spec.approval", map[string]any{"approver": testutil.ApproverUser, "contentHash": staleHash}),
			invalid: e("spec.approval", map[string]any{"approver": testutil.ApproverUser, "contentHash": "sha256:abc"}), want: "spec.approval.contentHash", noFinal: notDeclared},
	}
}
