package testutil

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// Role builds a role policy with seat bounds.
func Role(name string, minMembers, maxMembers int32) learningv1alpha1.RolePolicy {
	return learningv1alpha1.RolePolicy{Name: learningv1alpha1.RoleName(name), MinMembers: &minMembers, MaxMembers: &maxMembers}
}

// Community builds a CommunityOfPractice with the given roles.
func Community(namespace, name string, roles ...learningv1alpha1.RolePolicy) *learningv1alpha1.CommunityOfPractice {
	return &learningv1alpha1.CommunityOfPractice{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       learningv1alpha1.CommunityOfPracticeSpec{Policy: learningv1alpha1.ProgramPolicy{Roles: roles}},
	}
}

// Cohort builds a Cohort of a community, from start for months.
func Cohort(namespace, name, community string, start learningv1alpha1.Date, months int32) *learningv1alpha1.Cohort {
	return &learningv1alpha1.Cohort{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: learningv1alpha1.CohortSpec{
			CommunityRef:   &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(community)},
			StartDate:      start,
			DurationMonths: &months,
		},
	}
}

// StandaloneCohort builds a Cohort with its own policy.
func StandaloneCohort(namespace, name string, start learningv1alpha1.Date, months int32, policy learningv1alpha1.ProgramPolicy) *learningv1alpha1.Cohort {
	c := Cohort(namespace, name, "", start, months)
	c.Spec.CommunityRef = nil
	c.Spec.Policy = &policy
	return c
}

// Membership builds a Membership of person in cohort with role.
func Membership(namespace, name, cohort, person, role string) *learningv1alpha1.Membership {
	return &learningv1alpha1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: learningv1alpha1.MembershipSpec{
			CohortRef: learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort)},
			Member:    person,
			Role:      learningv1alpha1.RoleName(role),
		},
	}
}

// Gathering builds a 90-minute gathering of a cohort with attendance recorded.
func Gathering(namespace, name, cohort string, start time.Time, attendance ...learningv1alpha1.AttendanceRecord) *learningv1alpha1.LearningEvent {
	return &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: learningv1alpha1.LearningEventSpec{
			CohortRef:  &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort)},
			Type:       learningv1alpha1.GatheringEvent,
			Title:      "Gathering " + name,
			Start:      metav1.NewTime(start),
			Duration:   metav1.Duration{Duration: 90 * time.Minute},
			Attendance: attendance,
		},
	}
}

// Attended records one member's attendance.
func Attended(membership string, status learningv1alpha1.AttendanceStatus) learningv1alpha1.AttendanceRecord {
	return learningv1alpha1.AttendanceRecord{Member: learningv1alpha1.ObjectName(membership), Status: status}
}

// MonthlySchedule is a schedule of 90-minute gatherings at noon Chicago time on the
// second Tuesday of every month, three at a time.
func MonthlySchedule() *learningv1alpha1.Schedule {
	return &learningv1alpha1.Schedule{
		RRule:     "FREQ=MONTHLY;BYDAY=2TU",
		StartTime: "12:00",
		Duration:  metav1.Duration{Duration: 90 * time.Minute},
		TimeZone:  "America/Chicago",
		Lookahead: 3,
		Type:      learningv1alpha1.GatheringEvent,
	}
}

// PersonalPlan builds a personal ActionPlan of a membership, owned by owner, with
// actions.
func PersonalPlan(namespace, name, membership, owner string, actions ...learningv1alpha1.PlannedAction) *learningv1alpha1.ActionPlan {
	return &learningv1alpha1.ActionPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: learningv1alpha1.ActionPlanSpec{
			MembershipRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(membership)},
			Owner:         owner,
			Actions:       actions,
		},
	}
}

// Action builds an action of a plan, due on due ("" for none), with status.
func Action(id string, due learningv1alpha1.Date, status learningv1alpha1.ActionStatus) learningv1alpha1.PlannedAction {
	a := learningv1alpha1.PlannedAction{ID: id, Title: "Action " + id, Status: status}
	if due != "" {
		a.Due = &due
	}
	return a
}
