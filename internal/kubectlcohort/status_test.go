package kubectlcohort

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

const (
	condTrue    = metav1.ConditionTrue
	condFalse   = metav1.ConditionFalse
	condUnknown = metav1.ConditionUnknown
)

func TestExplainCondition(t *testing.T) {
	cases := map[string]struct {
		cond                 metav1.Condition
		healthy              bool
		explanation, next    string // fragments each must contain; next "" means none
		wantNoNext, wantNext bool
	}{
		"understaffed": {
			cond:        cond(learningv1alpha1.StaffedCondition, condFalse, learningv1alpha1.UnderstaffedReason, "Lead: 0 of minimum 1"),
			explanation: "fewer seated members than their minimum",
			next:        "Lead: 0 of minimum 1 — add or promote memberships",
		},
		"name conflict": {
			cond:        cond(learningv1alpha1.ProvisionedCondition, condFalse, learningv1alpha1.NameConflictReason, "not created by cohort-operator for this cohort, left as they are: ConfigMap allyship-2026-roster; rename or delete them"),
			explanation: "cannot provision those services: ConfigMap allyship-2026-roster.",
			next:        "rename or delete the named objects",
		},
		"stalled on an invalid policy": {
			cond:        cond(learningv1alpha1.StalledCondition, condTrue, learningv1alpha1.InvalidPolicyReason, "seats are frozen until the policy can be applied: role Guest has no maxMembers"),
			explanation: "cannot be applied",
			next:        "fix the policy: seats are frozen until the policy can be applied: role Guest has no maxMembers. Edit spec.policy of the cohort or of CommunityOfPractice allyship.",
		},
		"stalled on an invalid schedule": {
			cond:        cond(learningv1alpha1.StalledCondition, condTrue, learningv1alpha1.InvalidScheduleReason, `unknown time zone "Mars/Olympus"`),
			explanation: "no gatherings are generated",
			next:        `fix spec.schedule: unknown time zone "Mars/Olympus".`,
		},
		"portal unavailable": {
			cond:        cond(learningv1alpha1.PortalAvailableCondition, condFalse, learningv1alpha1.UnavailableReason, "0 of 1 replicas available; see the Deployment allyship-2026-portal and its pods"),
			explanation: "Portal pods are not available: 0 of 1 replicas available",
			next:        "see the Deployment allyship-2026-portal and its pods: kubectl -n programs describe deployment allyship-2026-portal",
		},
		"community not found": {
			cond:        cond(learningv1alpha1.CommunityFoundCondition, condFalse, learningv1alpha1.CommunityNotFoundReason, "community allyship not found"),
			explanation: "CommunityOfPractice allyship does not exist",
			next:        "create CommunityOfPractice allyship in namespace programs",
		},
		"apply failed": {
			cond:        cond(learningv1alpha1.ProvisionedCondition, condFalse, learningv1alpha1.ApplyFailedReason, "not applied: Deployment allyship-2026-portal: exceeded quota"),
			explanation: "refused one of the cohort's services: not applied: Deployment allyship-2026-portal: exceeded quota.",
			next:        "The operator retries on its own.",
		},
		"suspended": {
			cond:        cond(learningv1alpha1.ProvisionedCondition, condFalse, learningv1alpha1.SuspendedReason, "suspended: members' access follows the seats; not applied until resumed: Deployment allyship-2026-portal"),
			explanation: "members' access still follows the seats",
			next:        `kubectl -n programs patch cohort allyship-2026 --type=merge -p '{"spec":{"suspend":false}}'`,
		},
		"composition invalid": {
			cond:        cond(learningv1alpha1.CompositionValidCondition, condFalse, learningv1alpha1.CompositionInvalidReason, "organization Prairie Foods: team lacks ExecutiveDirector"),
			explanation: "break the composition policy: organization Prairie Foods: team lacks ExecutiveDirector.",
			next:        "spec.policy.composition",
		},
		"staffed": {
			cond: cond(learningv1alpha1.StaffedCondition, condTrue, learningv1alpha1.StaffedReason, "every role has its minimum: Lead 2/2, Member 18/20"), healthy: true,
			explanation: "Every role has its minimum of seated members: Lead 2/2, Member 18/20.",
		},
		"frozen staffing": {
			cond: cond(learningv1alpha1.StaffedCondition, condUnknown, learningv1alpha1.InvalidPolicyReason, "seats are frozen"), explanation: "see Stalled",
		},
		"ready": {
			cond: cond(learningv1alpha1.ReadyCondition, condTrue, learningv1alpha1.SucceededReason, "Active cohort: Lead 2/2"), healthy: true,
			explanation: "The cohort is reconciled: Active cohort: Lead 2/2.",
		},
		"a reason this plugin does not know": {
			cond:        cond(learningv1alpha1.ReadyCondition, condFalse, "SomethingNew", "the operator says why"),
			explanation: "the operator says why.",
			next:        "kubectl -n programs describe cohort allyship-2026",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ExplainCondition(cohort(), tc.cond)
			if got.Healthy != tc.healthy {
				t.Errorf("healthy = %v, want %v", got.Healthy, tc.healthy)
			}
			if !strings.Contains(got.Explanation, tc.explanation) {
				t.Errorf("explanation %q does not say %q", got.Explanation, tc.explanation)
			}
			switch {
			case tc.next == "" && got.Next != "":
				t.Errorf("next = %q, want nothing to do", got.Next)
			case !strings.Contains(got.Next, tc.next):
				t.Errorf("next %q does not say %q", got.Next, tc.next)
			}
		})
	}
}

// TestEveryCohortReasonIsExplained checks that every condition type and reason the
// operator sets on a cohort has its own explanation, not the fallback.
func TestEveryCohortReasonIsExplained(t *testing.T) {
	reasons := map[string][]string{
		learningv1alpha1.ReadyCondition: {learningv1alpha1.SucceededReason, learningv1alpha1.InvalidPolicyReason, learningv1alpha1.InvalidScheduleReason,
			learningv1alpha1.CommunityNotFoundReason, learningv1alpha1.NameConflictReason, learningv1alpha1.ApplyFailedReason, learningv1alpha1.InternalErrorReason},
		learningv1alpha1.StalledCondition: {learningv1alpha1.InvalidPolicyReason, learningv1alpha1.InvalidScheduleReason, learningv1alpha1.NameConflictReason,
			learningv1alpha1.InternalErrorReason},
		learningv1alpha1.ReconcilingCondition:    {learningv1alpha1.ProgressingReason},
		learningv1alpha1.CommunityFoundCondition: {learningv1alpha1.FoundReason, learningv1alpha1.CommunityNotFoundReason},
		learningv1alpha1.StaffedCondition: {learningv1alpha1.StaffedReason, learningv1alpha1.UnderstaffedReason, learningv1alpha1.CompletedReason,
			learningv1alpha1.InvalidPolicyReason},
		learningv1alpha1.CompositionValidCondition: {learningv1alpha1.CompositionValidReason, learningv1alpha1.CompositionInvalidReason, learningv1alpha1.InvalidPolicyReason},
		learningv1alpha1.ProvisionedCondition: {learningv1alpha1.ProvisionedReason, learningv1alpha1.NameConflictReason, learningv1alpha1.ApplyFailedReason,
			learningv1alpha1.SuspendedReason, learningv1alpha1.InternalErrorReason},
		learningv1alpha1.PortalAvailableCondition:   {learningv1alpha1.AvailableReason, learningv1alpha1.UnavailableReason},
		learningv1alpha1.DocumentsCompleteCondition: {learningv1alpha1.DocumentsCompleteReason, learningv1alpha1.CalendarTruncatedReason, learningv1alpha1.RenderFailedReason},
	}
	for typ, rs := range reasons {
		for _, reason := range rs {
			if _, ok := explainers[key(typ, reason)]; !ok {
				t.Errorf("%s/%s has no explanation", typ, reason)
			}
		}
	}
}

// troubledCohort is a cohort with conditions that need attention.
func troubledCohort() *learningv1alpha1.Cohort {
	c := cohort()
	c.Generation, c.Status.ObservedGeneration = 3, 3
	c.Status.StartDate, c.Status.EndDate = "2026-01-01", "2026-12-31"
	c.Status.Organizations = 2
	c.Status.AttendancePercent = ptr(int32(86))
	c.Status.Members = &learningv1alpha1.MemberCounts{Active: 2, Waitlisted: 2}
	next := metav1.NewTime(noon(12, 8))
	c.Status.NextEvent = &next
	conflict := "not created by cohort-operator for this cohort, left as they are: ConfigMap allyship-2026-roster; rename or delete them"
	c.Status.Conditions = []metav1.Condition{
		cond(learningv1alpha1.PortalAvailableCondition, condFalse, learningv1alpha1.UnavailableReason, "0 of 1 replicas available; see the Deployment allyship-2026-portal and its pods"),
		cond(learningv1alpha1.ProvisionedCondition, condFalse, learningv1alpha1.NameConflictReason, conflict),
		cond(learningv1alpha1.StaffedCondition, condFalse, learningv1alpha1.UnderstaffedReason, "Lead: 0 of minimum 1"),
		cond(learningv1alpha1.StalledCondition, condTrue, learningv1alpha1.NameConflictReason, conflict),
		cond(learningv1alpha1.ReadyCondition, condFalse, learningv1alpha1.NameConflictReason, conflict),
		cond(learningv1alpha1.CommunityFoundCondition, condTrue, learningv1alpha1.FoundReason, "community allyship"),
		cond(learningv1alpha1.CompositionValidCondition, condTrue, learningv1alpha1.CompositionValidReason, "no composition policy"),
	}
	return c
}

func TestBuildStatusOrdersConditions(t *testing.T) {
	var got []string
	for _, c := range BuildStatus(troubledCohort()).Conditions {
		got = append(got, c.Type)
	}
	want := []string{"Ready", "Stalled", "CommunityFound", "Staffed", "CompositionValid", "Provisioned", "PortalAvailable"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestBuildStatusNotices(t *testing.T) {
	behind := troubledCohort()
	behind.Generation = 4
	cases := map[string]struct {
		cohort *learningv1alpha1.Cohort
		want   string
	}{
		"current":          {troubledCohort(), ""},
		"never reconciled": {cohort(), "the operator has not reported on this cohort yet"},
		"behind the spec":  {behind, "the status describes generation 3 of the cohort, which is at generation 4"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := BuildStatus(tc.cohort).Notice
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("notice %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusText(t *testing.T) {
	var out bytes.Buffer
	if err := BuildStatus(troubledCohort()).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	golden(t, "status", out.String())
}
