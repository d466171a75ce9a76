package transitions

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// object is one object of the workload: its kind, its name and its spec.
type object struct {
	kind, name string
	spec       map[string]any
}

func (o object) key() string { return o.kind + "/" + o.name }

// baseWorkload is the program every transition starts from, on the managers' clock
// (2026-11-22): a community with three roles, two approvers, a charter, a composition
// policy, personal ActionPlans required and monthly reports of two KPIs (so the
// operator keeps a ProgramReport per month since January, October's frozen); an
// 18-month cohort that overrides the
// Member seats (two) and when a plan is due, with a monthly schedule and a portal; a
// lead, two seated members and, created a second later, a waitlisted one; a past
// gathering with attendance, an approved External event of the cohort and a
// community-wide listening session ahead; member-a's personal plan, with member-b as
// partner and a shared check-in made during the past gathering (which ended after it,
// so one more counting gathering makes the plan stale), and the Northstar team's
// workplan, checked in after that gathering. The lead and member-b have no personal
// plan: theirs are missing past their due day. Each plan is created by its owner (see
// owners). Objects come in creation order; those after the first batch are created a
// second later, so that creation times order the claims on seats.
func baseWorkload(t *testing.T) (first, later []object) {
	t.Helper()
	parse := func(kind, name, spec string) object {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(spec), &m); err != nil {
			t.Fatalf("workload %s %s: %v", kind, name, err)
		}
		return object{kind: kind, name: name, spec: m}
	}
	first = []object{
		parse("CommunityOfPractice", "cop", `
displayName: Allyship Community of Practice
charter:
  purpose: Practise allyship together.
  goals: [Shared vocabulary, Monthly practice]
  deliverables: [A playbook]
policy:
  roles:
  - name: Lead
    minMembers: 1
    maxMembers: 2
    access: Edit
    maxConsecutiveTerms: 3
    commitment: {meetingHoursPerMonth: "1-1.5", otherHoursPerMonth: "4-5", description: Runs the gatherings.}
  - name: Member
    maxMembers: 5
    termMonths: 12
  - name: Facilitator
    maxMembers: 2
  composition: {minOrganizations: 1, maxOrganizations: 4, teamSize: 2, roles: [Lead, Member], requiredTeamRoles: [ExecutiveDirector]}
  attendance: {requiredPercent: 80, minimumEvents: 1, lateWeightPercent: 100}
  termNoticeDays: 30
  actionPlans: {required: Personal, dueDays: 30, staleAfter: 2}
approvers:
- {kind: User, name: ap-approver@example.org}
- {kind: Group, name: ap-pillar-leads}
eligibleOrganizations: [Northstar, Lakeside]
reporting:
  cadence: Monthly
  graceDays: 7
  kpis:
  - {name: AttendanceRate, target: 80, direction: AtLeast}
  - {name: SeatsFilled, qualifier: Member, target: 2, direction: AtLeast}
`),
		parse("Cohort", "spring", `
communityRef: {name: cop}
displayName: Spring cohort
startDate: "2026-01-01"
durationMonths: 18
timeZone: America/Chicago
enrollment: {opens: "2025-11-01", closes: "2026-03-31"}
policy:
  roles:
  - name: Member
    minMembers: 1
    maxMembers: 2
    termMonths: 12
    access: Read
    maxConsecutiveTerms: 2
    commitment: {meetingHoursPerMonth: "2", otherHoursPerMonth: "1", description: Takes part.}
  composition: {minOrganizations: 1, maxOrganizations: 3, teamSize: 2, roles: [Lead, Member], requiredTeamRoles: [ExecutiveDirector]}
  attendance: {requiredPercent: 75, minimumEvents: 1, lateWeightPercent: 100}
  termNoticeDays: 20
  actionPlans: {dueDays: 45}
schedule:
  rrule: FREQ=MONTHLY;BYDAY=2TU
  startTime: "12:00"
  duration: 1h30m
  timeZone: America/Chicago
  lookahead: 3
  type: Gathering
  title: Circle
  location: Room 1
services:
  portal: {enabled: true, replicas: 1}
`),
		parse("Membership", "lead", `
cohortRef: {name: spring}
member: u-lead@example.org
displayName: Lee Lead
organization: Northstar
role: Lead
teamRole: ExecutiveDirector
`),
		parse("Membership", "member-a", `
cohortRef: {name: spring}
member: u-a@example.org
displayName: Ada
organization: Lakeside
role: Member
teamRole: ExecutiveDirector
`),
		parse("Membership", "member-b", `
cohortRef: {name: spring}
member: u-b@example.org
displayName: Bo
organization: Northstar
role: Member
startDate: "2026-02-01"
endDate: "2027-01-31"
`),
	}
	later = []object{
		parse("Membership", "waiting", `
cohortRef: {name: spring}
member: u-w@example.org
displayName: Wai
organization: Lakeside
role: Member
`),
		parse("LearningEvent", "kickoff", `
cohortRef: {name: spring}
type: Gathering
title: Kickoff
start: "2026-11-10T18:00:00Z"
duration: 1h30m
attendance:
- {member: lead, status: Present}
- {member: member-a, status: Late}
- {member: member-b, status: Excused, note: travelling}
`),
		parse("LearningEvent", "launch", `
cohortRef: {name: spring}
type: SpeakerSeries
title: Public launch
description: Our first open session.
start: "2026-12-01T17:00:00Z"
duration: 2h
timeZone: America/Chicago
location: Main hall
audience: External
`),
		parse("LearningEvent", "townhall", `
communityRef: {name: cop}
type: ListeningSession
title: Town hall
start: "2026-12-15T18:00:00Z"
duration: 1h30m
countsTowardAttendance: true
`),
		parse("ActionPlan", "plan-a", `
membershipRef: {name: member-a}
owner: u-a@example.org
partnerRef: {name: member-b}
actions:
- id: mentor
  title: Mentor two newcomers
  description: Pair with newcomers of the spring intake.
  due: "2026-12-31"
  status: InProgress
- {id: read, title: Read the allyship guide, status: Done, outcome: Shared notes with the circle.}
checkIns:
- id: kickoff
  at: "2026-11-10T18:45:00Z"
  author: u-a@example.org
  eventRef: {name: kickoff}
  progress: [{actionID: mentor, status: InProgress, note: Met one newcomer.}]
  learned: Listening first works.
  adjust: Ask before advising.
  shared: true
`),
		parse("ActionPlan", "northstar", `
team: {cohortRef: {name: spring}, organization: Northstar}
owner: u-lead@example.org
actions:
- {id: budget, title: Budget for the equity work, due: "2027-01-31"}
checkIns:
- {id: kickoff, at: "2026-11-10T19:45:00Z", author: u-lead@example.org, eventRef: {name: kickoff}, learned: The board asks for numbers.}
`),
	}
	return first, later
}

// approved names the events the approver approves once the operator has computed
// their content hash.
var approved = []string{"launch"}

// removed, as a value, deletes a field.
type removed struct{}

// set changes the field at path (dot-separated, with [i] for list items) of a spec,
// creating maps on the way; a removed{} value deletes it.
func set(spec map[string]any, path string, value any) error {
	parts := strings.Split(strings.TrimPrefix(path, "spec."), ".")
	var cur any = spec
	for i, part := range parts {
		name, index := part, -1
		if open := strings.Index(part, "["); open >= 0 {
			n, err := strconv.Atoi(strings.TrimSuffix(part[open+1:], "]"))
			if err != nil {
				return fmt.Errorf("%s: bad index in %q", path, part)
			}
			name, index = part[:open], n
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %s is not an object", path, name)
		}
		last := i == len(parts)-1
		if index < 0 {
			if last {
				if _, del := value.(removed); del {
					delete(m, name)
				} else {
					m[name] = value
				}
				return nil
			}
			if _, ok := m[name].(map[string]any); !ok {
				m[name] = map[string]any{}
			}
			cur = m[name]
			continue
		}
		list, ok := m[name].([]any)
		if !ok || index >= len(list) {
			return fmt.Errorf("%s: %s has no item %d", path, name, index)
		}
		if last {
			list[index] = value
			return nil
		}
		cur = list[index]
	}
	return nil
}
