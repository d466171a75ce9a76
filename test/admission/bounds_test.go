package admission

import (
	"fmt"
	"strings"
	"testing"
)

// This file holds the cases of the rules that contain hostile or absurd input: every
// date lies from 2000 until before 2200, and text carries no control characters and no
// bidirectional controls (tab and line breaks only in free text).

// dateBoundMessage ends the message of every date rule, which starts with the field.
const dateBoundMessage = " must be from 2000 until before 2200"

// The messages of the text rules, one for a line of text (v1alpha1.Text) and one for
// free text (v1alpha1.Paragraph). The rules sit on types, so the message cannot name
// the field: the API server's error names it, and the cases check that it does.
const (
	textMessage      = "must be one line of text: no control characters (tab and line breaks included) and no bidirectional controls"
	paragraphMessage = "must not contain control characters other than tab, newline and CRLF, nor bidirectional controls"
)

// textRefused is the API server's error for a Text field at path that breaks the rule;
// paragraphRefused is the same for a Paragraph field.
func textRefused(path string) string {
	return path + ": Invalid value: " + anyValue + ": " + textMessage
}
func paragraphRefused(path string) string {
	return path + ": Invalid value: " + anyValue + ": " + paragraphMessage
}

// boundCases returns the four cases of one date field: the last day before 2000 and
// the first day of 2200 are refused with the field's message, the first day of 2000
// and the last of 2199 are accepted. spec is a format with one %s for the value;
// values holds the four values in that order (before, first, last, after).
func boundCases(kind, field, spec string, values [4]string) []admissionCase {
	want := field + dateBoundMessage
	return []admissionCase{
		{name: field + " " + values[0], kind: kind, spec: fmt.Sprintf(spec, values[0]), want: want},
		{name: field + " " + values[1], kind: kind, spec: fmt.Sprintf(spec, values[1])},
		{name: field + " " + values[2], kind: kind, spec: fmt.Sprintf(spec, values[2])},
		{name: field + " " + values[3], kind: kind, spec: fmt.Sprintf(spec, values[3]), want: want},
	}
}

// days are the bounds of a Date field.
var days = [4]string{"1999-12-31", "2000-01-01", "2199-12-31", "2200-01-01"}

// dateCases checks each date field of each kind at its bounds.
var dateCases = concat(
	boundCases("Cohort", "spec.startDate", `
communityRef: {name: allyship}
startDate: "%s"
durationMonths: 1`, days),
	// endDate must also follow startDate, so the first day it accepts is 2000-01-02.
	boundCases("Cohort", "spec.endDate", `
communityRef: {name: allyship}
startDate: "2000-01-01"
endDate: "%s"`, [4]string{"1999-12-31", "2000-01-02", "2199-12-31", "2200-01-01"}),
	boundCases("Cohort", "spec.enrollment.opens", cohortBase+`
durationMonths: 6
enrollment: {opens: "%s"}`, days),
	boundCases("Cohort", "spec.enrollment.closes", cohortBase+`
durationMonths: 6
enrollment: {closes: "%s"}`, days),
	boundCases("Cohort", "spec.schedule.rrule UNTIL", cohortBase+`
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU;UNTIL=%s", startTime: "12:00", duration: 90m, timeZone: America/Chicago}`,
		[4]string{"19991231T235959Z", "20000101", "21991231T235959Z", "22000101"}),
	boundCases("Membership", "spec.startDate", membershipBase+`
startDate: "%s"`, days),
	boundCases("Membership", "spec.endDate", membershipBase+`
endDate: "%s"`, days),
	boundCases("LearningEvent", "spec.start", `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "%s"
duration: 90m`, [4]string{"1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z"}),
	[]admissionCase{
		// The bound is an instant: the first half hour of 2200 in Paris is still 2199 in UTC.
		{name: "spec.start at 2200 in Paris", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: Monthly gathering
start: "2200-01-01T00:30:00+01:00"
duration: 90m`},
		{name: "recurrence until the year 999", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=YEARLY;UNTIL=09991231", startTime: "12:00", duration: 90m, timeZone: America/Chicago}`,
			want: "spec.schedule.rrule UNTIL" + dateBoundMessage},
	},
	actionPlanDateCases,
)

// textCases checks the text rules on fields of every kind: control characters (C0,
// DEL, C1) and bidirectional controls are refused naming the field; tab and line
// breaks only in free text; any other text, in any script, is accepted.
var textCases = []admissionCase{
	{name: "ESC in a community's displayName", kind: "CommunityOfPractice", spec: validPolicy + `
displayName: "Allyship \x1b]52;c;ZXZpbA==\x07"`,
		want: textRefused("spec.displayName")},
	{name: "newline in an approver's name", kind: "CommunityOfPractice", spec: validPolicy + `
approvers: [{kind: User, name: "pillar-lead\nforged"}]`,
		want: textRefused("spec.approvers[0].name")},
	{name: "ESC in an eligible organization", kind: "CommunityOfPractice", spec: validPolicy + `
eligibleOrganizations: ["Lakeside \x1b[8mBank"]`,
		want: textRefused("spec.eligibleOrganizations[0]")},
	{name: "a charter in lines, with tabs and CRLF", kind: "CommunityOfPractice", spec: validPolicy + `
charter:
  purpose: "Allies learn together.\n\tMonthly gatherings.\r\nListening sessions."
  goals: ["Listen\nfirst", "Act\r\nsecond"]
  deliverables: ["A\tguide"]`},
	{name: "a lone carriage return in a charter", kind: "CommunityOfPractice", spec: validPolicy + `
charter: {purpose: "Allies learn together.\rEveryone is approved."}`,
		want: paragraphRefused("spec.charter.purpose")},
	{name: "a right-to-left override in a charter goal", kind: "CommunityOfPractice", spec: validPolicy + `
charter: {goals: ["Listen", "gnol \u202esay"]}`,
		want: paragraphRefused("spec.charter.goals[1]")},
	{name: "C1 CSI in a commitment of a community", kind: "CommunityOfPractice", spec: `
policy: {roles: [{name: Lead, maxMembers: 2, commitment: {description: "Leads \u009b2J"}}]}`,
		want: paragraphRefused("spec.policy.roles[0].commitment.description")},

	{name: "ESC in a cohort's displayName", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
displayName: "Allyship \x1b[31m2026"`,
		want: textRefused("spec.displayName")},
	{name: "newline in a schedule's title", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU", startTime: "12:00", duration: 90m, timeZone: America/Chicago, title: "Gathering\nforged row"}`,
		want: textRefused("spec.schedule.title")},
	{name: "a right-to-left override in a schedule's location", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU", startTime: "12:00", duration: 90m, timeZone: America/Chicago, location: "https://meet.example.org/\u202egnp.exe"}`,
		want: textRefused("spec.schedule.location")},
	{name: "a commitment of a cohort in lines", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
policy: {roles: [{name: Member, commitment: {description: "Gatherings:\n\t1h a month"}}]}`},
	{name: "an isolate in a commitment of a cohort", kind: "Cohort", spec: cohortBase + `
durationMonths: 6
policy: {roles: [{name: Member, commitment: {description: "1h \u2066a month\u2069"}}]}`,
		want: paragraphRefused("spec.policy.roles[0].commitment.description")},

	{name: "ESC in a member's displayName", kind: "Membership", spec: membershipBase + `
displayName: "Ally \x1b[2J One"`,
		want: textRefused("spec.displayName")},
	{name: "C1 CSI in a member's displayName", kind: "Membership", spec: membershipBase + `
displayName: "Ally \u009b2J One"`,
		want: textRefused("spec.displayName")},
	{name: "DEL in a member's displayName", kind: "Membership", spec: membershipBase + `
displayName: "Ally\x7f One"`,
		want: textRefused("spec.displayName")},
	{name: "tab in a member's displayName", kind: "Membership", spec: membershipBase + `
displayName: "Ally\tOne"`,
		want: textRefused("spec.displayName")},
	{name: "newline in a member's user name", kind: "Membership", spec: `
cohortRef: {name: allyship-2026}
member: "u-ally-001\nu-ally-002"
role: Member`,
		want: textRefused("spec.member")},
	{name: "a right-to-left mark in an organization", kind: "Membership", spec: membershipBase + `
organization: "Lakeside\u200f Bank"`,
		want: textRefused("spec.organization")},
	{name: "a name in any script", kind: "Membership", spec: membershipBase + `
displayName: "Zoë Ōkubo-عربي 🏳️‍🌈"
organization: "Société Générale"`},

	{name: "a right-to-left override in a title", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: "Gathering \u202e2026"
start: "2026-01-13T18:00:00Z"
duration: 90m`,
		want: textRefused("spec.title")},
	{name: "newline in a title", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: "Gathering\nApproved: yes"
start: "2026-01-13T18:00:00Z"
duration: 90m`,
		want: textRefused("spec.title")},
	{name: "a description in lines, with tabs", kind: "LearningEvent", spec: eventBase + `
description: "Agenda:\n\t1. Check-in\r\n\t2. Listening"`},
	{name: "C1 CSI in a description", kind: "LearningEvent", spec: eventBase + `
description: "Agenda \u009b2J"`,
		want: paragraphRefused("spec.description")},
	{name: "ESC in a description", kind: "LearningEvent", spec: eventBase + `
description: "Agenda \x1b]52;c;ZXZpbA==\x07"`,
		want: paragraphRefused("spec.description")},
	{name: "an Arabic letter mark in a location", kind: "LearningEvent", spec: eventBase + `
location: "Room \u061c12"`,
		want: textRefused("spec.location")},
	{name: "an attendance note in lines", kind: "LearningEvent", spec: eventBase + `
attendance: [{member: allyship-2026-member-01, status: Excused, note: "travelling\n\tback on the 20th"}]`},
	{name: "ESC in an attendance note", kind: "LearningEvent", spec: eventBase + `
attendance: [{member: allyship-2026-member-01, status: Present}, {member: allyship-2026-member-02, status: Excused, note: "ill \x1b[1A"}]`,
		want: paragraphRefused("spec.attendance[1].note")},
	{name: "newline in an approver", kind: "LearningEvent", spec: eventBase + `
audience: External
approval: {approver: "allyship-pillar-lead\nanyone", contentHash: "v1:sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
		want: textRefused("spec.approval.approver")},
	{name: "a title in any script", kind: "LearningEvent", spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: "Rencontre mensuelle — 月例会 — لقاء 🏳️‍🌈"
start: "2026-01-13T18:00:00Z"
duration: 90m`},
	// Every note checked at its longest must stay well inside the API server's budget.
	{name: "attendance of 5000 members with long notes", kind: "LearningEvent",
		spec: eventWithNotes(maxAttendance, strings.Repeat("n", 255)+"\n"), within: largeEventBudget},
}

// eventWithNotes returns the spec of a gathering with n members recorded Excused, each
// with note.
func eventWithNotes(n int, note string) string {
	var b strings.Builder
	b.WriteString(eventBase)
	b.WriteString("\nattendance:")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\n- {member: m-%05d, status: Excused, note: %q}", i, note)
	}
	return b.String()
}

func concat(groups ...[]admissionCase) []admissionCase {
	var out []admissionCase
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func TestDateBounds(t *testing.T) { runCases(t, dateCases) }
func TestTextRules(t *testing.T)  { runCases(t, concat(textCases, actionPlanTextCases)) }
