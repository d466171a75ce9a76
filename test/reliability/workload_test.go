package reliability

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// The workload's names.
const (
	community = "guild"
	cohort    = "guild-2026"
	kickoff   = "kickoff"
	speaker   = "speaker-series"
	approver  = "approver@example.org"
)

// workload is a small program that makes the manager use every kind of write it has:
// a community with an approver (the approvers' RoleBinding), a cohort with a schedule
// (its finalizer and two generated gatherings) and a portal (ConfigMaps, Roles,
// RoleBindings, a ServiceAccount, a Deployment, a Service, a NetworkPolicy), a lead,
// two seated members and a waitlisted one (status patches of every kind), a past
// gathering with attendance and an External event awaiting approval.
func workload(ns string) []client.Object {
	lead := testutil.Role("Lead", 1, 2)
	lead.Access = learningv1alpha1.AccessEdit
	guild := testutil.Community(ns, community, lead, testutil.Role("Member", 0, 2))
	guild.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: approver}}

	c := testutil.Cohort(ns, cohort, community, "2026-10-01", 12)
	c.Spec.Schedule = testutil.MonthlySchedule()
	c.Spec.Schedule.Lookahead = 2
	c.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}

	talk := &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: speaker},
		Spec: learningv1alpha1.LearningEventSpec{
			CommunityRef: &learningv1alpha1.LocalObjectReference{Name: community},
			Type:         learningv1alpha1.SpeakerSeriesEvent,
			Title:        "Allyship in practice",
			Start:        metav1.NewTime(time.Date(2027, 1, 20, 17, 0, 0, 0, time.UTC)),
			Duration:     metav1.Duration{Duration: time.Hour},
			Audience:     learningv1alpha1.ExternalAudience,
		},
	}
	return []client.Object{
		guild, c,
		testutil.Membership(ns, "lead-1", cohort, "lead-1@example.org", "Lead"),
		testutil.Membership(ns, "m-1", cohort, "m-1@example.org", "Member"),
		testutil.Membership(ns, "m-2", cohort, "m-2@example.org", "Member"),
		testutil.Membership(ns, "m-3", cohort, "m-3@example.org", "Member"),
		testutil.Gathering(ns, kickoff, cohort, time.Date(2026, 10, 13, 17, 0, 0, 0, time.UTC),
			testutil.Attended("lead-1", learningv1alpha1.AttendancePresent),
			testutil.Attended("m-1", learningv1alpha1.AttendancePresent),
			testutil.Attended("m-2", learningv1alpha1.AttendanceLate)),
		talk,
	}
}
