package kubectlcohort

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

const ns = "programs"

// now is the clock of the unit tests: late November 2026.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.NewTime(now)}
}

// cohort is the 2026 allyship cohort with its status: Leads and Members.
func cohort() *learningv1alpha1.Cohort {
	c := testutil.Cohort(ns, "allyship-2026", "allyship", "2026-01-01", 12)
	c.Spec.DisplayName = "Allyship 2026"
	c.Spec.TimeZone = "America/Chicago"
	c.Status.Phase = learningv1alpha1.CohortActive
	c.Status.Roles = []learningv1alpha1.RoleSeats{{Name: "Lead", MinMembers: 1, MaxMembers: 2, Seated: 1}, {Name: "Member", MinMembers: 1, MaxMembers: 1, Seated: 1, Waitlisted: 2}}
	c.Status.Seats = "Lead 1/2, Member 1/1"
	c.Status.Waitlisted = 2
	return c
}

// member builds a membership of the cohort with its status.
func member(name, display, person, org, role string, status learningv1alpha1.MembershipStatus) learningv1alpha1.Membership {
	m := testutil.Membership(ns, name, "allyship-2026", person, role)
	m.Spec.DisplayName = display
	m.Spec.Organization = learningv1alpha1.OrganizationName(org)
	m.Status = status
	return *m
}

// seated is the status of a membership seated since its term started.
func seated(start, end learningv1alpha1.Date, percent *int32) learningv1alpha1.MembershipStatus {
	since := metav1.NewTime(time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC))
	s := learningv1alpha1.MembershipStatus{
		Phase: learningv1alpha1.MembershipActive, StartDate: start, EndDate: end, SeatedSince: &since,
		Conditions: []metav1.Condition{
			cond(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, learningv1alpha1.EligibleReason, "eligible"),
			cond(learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason, "holds one of 2 seats"),
		},
	}
	if percent != nil {
		s.Attendance = &learningv1alpha1.AttendanceSummary{Percent: percent}
	}
	return s
}

func waitlisted(position int32) learningv1alpha1.MembershipStatus {
	return learningv1alpha1.MembershipStatus{
		Phase: learningv1alpha1.MembershipActive, StartDate: "2026-01-01", EndDate: "2026-12-31", WaitlistPosition: &position,
		Conditions: []metav1.Condition{
			cond(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, learningv1alpha1.EligibleReason, "eligible"),
			cond(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WaitlistedReason, "waiting"),
		},
	}
}

func notEligible(reason string) learningv1alpha1.MembershipStatus {
	return learningv1alpha1.MembershipStatus{
		Phase: learningv1alpha1.MembershipActive, StartDate: "2026-01-01", EndDate: "2026-12-31",
		Conditions: []metav1.Condition{
			cond(learningv1alpha1.EligibleCondition, metav1.ConditionFalse, reason, "not eligible"),
			cond(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NotEligibleReason, "not eligible"),
		},
	}
}

func ptr[T any](v T) *T { return &v }

// update rewrites the golden files: go test ./internal/kubectlcohort/ -update.
var update = flag.Bool("update", false, "rewrite testdata/*.golden with the output the tests get")

// golden compares got with testdata/<name>.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
}
