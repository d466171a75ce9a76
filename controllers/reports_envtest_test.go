package controllers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

func programReport(ns, name string) *learningv1alpha1.ProgramReport {
	return &learningv1alpha1.ProgramReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// kpi finds a KPI's result by name and qualifier.
func kpi(results []learningv1alpha1.KPIResult, name learningv1alpha1.KPIName, qualifier string) (learningv1alpha1.KPIResult, error) {
	for _, k := range results {
		if k.Name == name && k.Qualifier == qualifier {
			return k, nil
		}
	}
	return learningv1alpha1.KPIResult{}, fmt.Errorf("no KPI %s %s in %+v", name, qualifier, results)
}

// wantKPI checks a KPI's verdict and value (nil: no value).
func wantKPI(results []learningv1alpha1.KPIResult, name learningv1alpha1.KPIName, qualifier string, verdict learningv1alpha1.KPIVerdict, value *int64) error {
	k, err := kpi(results, name, qualifier)
	if err != nil {
		return err
	}
	if k.Verdict != verdict || (k.Value == nil) != (value == nil) || (value != nil && *k.Value != *value) {
		got := "nil"
		if k.Value != nil {
			got = fmt.Sprint(*k.Value)
		}
		return fmt.Errorf("%s %s is %s with %s, want %s with %v", name, qualifier, k.Verdict, got, verdict, ptrString(value))
	}
	return nil
}

func ptrString(v *int64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

// bindEditor binds the shipped editor ClusterRole's rules, as a Role of the namespace,
// to user: what a namespace editor may do with the operator's kinds.
func bindEditor(t *testing.T, ns, user string) {
	t.Helper()
	data, err := os.ReadFile(testutil.Path("config", "rbac", "cohort_editor_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	shipped := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, shipped); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "editor"}, Rules: shipped.Rules}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "editor"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	create(t, role, binding)
}

// TestProgramReports runs a community that reports monthly against the real API
// server: it began in October and turns reporting on on November 22, so October's
// report is created frozen (its flow figures from the records, its state figures
// unknown)
// and November's is Open; a lead writes the narrative but cannot forge the figures,
// create or delete a report; nobody can change frozen figures; after the grace period
// November freezes with the seats it had before it closed, December opens and
// becomes the latest, and an attendance entry changed after the freeze is counted as
// an amendment without rewriting the figures.
func TestProgramReports(t *testing.T) {
	ctx := context.Background()
	fakeClock.SetTime(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	leadRole := testutil.Role("Lead", 0, 1)
	leadRole.Access = learningv1alpha1.AccessEdit
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 10), leadRole)
	community.Spec.Reporting = &learningv1alpha1.ReportingPolicy{
		Cadence: learningv1alpha1.MonthlyReports, GraceDays: 7,
		KPIs: []learningv1alpha1.KPITarget{
			{Name: "AttendanceRate", Target: 80, Direction: "AtLeast"},
			{Name: "SeatsFilled", Qualifier: "Member", Target: 6, Direction: "AtLeast"},
			{Name: "GatheringsHeld", Target: 1, Direction: "AtLeast"},
			{Name: "Withdrawals", Target: 0, Direction: "AtMost"},
		},
	}
	reporting := community.Spec.Reporting
	community.Spec.Reporting = nil
	community.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: "u-approver"}}
	create(t, community, testutil.Cohort(ns, "fall", "cop", "2026-10-01", 12))
	var everyone, mostly []learningv1alpha1.AttendanceRecord
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("m%d", i)
		create(t, testutil.Membership(ns, name, "fall", "u-"+name, "Member"))
		everyone = append(everyone, testutil.Attended(name, learningv1alpha1.AttendancePresent))
		status := learningv1alpha1.AttendancePresent
		if i == 6 {
			status = learningv1alpha1.AttendanceAbsent
		}
		mostly = append(mostly, testutil.Attended(name, status))
	}
	create(t, testutil.Membership(ns, "co-lead", "fall", "u-co-lead", "Lead"))
	create(t,
		testutil.Gathering(ns, "oct-13", "fall", time.Date(2026, 10, 13, 17, 0, 0, 0, time.UTC), everyone...),
		testutil.Gathering(ns, "nov-10", "fall", time.Date(2026, 11, 10, 17, 0, 0, 0, time.UTC), mostly...))

	// The program owner turns reporting on once the records are in: a report created
	// after its period froze is frozen at once, from the records there are.
	eventually(t, "the gatherings are evaluated", func() error {
		for _, name := range []string{"oct-13", "nov-10"} {
			e := &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
			if err := get(e); err != nil {
				return err
			}
			if e.Status.ObservedGeneration != e.Generation {
				return fmt.Errorf("%s is not evaluated yet", name)
			}
		}
		return nil
	})
	update(t, community, func(c *learningv1alpha1.CommunityOfPractice) { c.Spec.Reporting = reporting })

	october, november := "community-cop-2026-10", "community-cop-2026-11"
	eventually(t, "October's report is created frozen", func() error {
		r := programReport(ns, october)
		if err := get(r); err != nil {
			return err
		}
		if r.Spec.Figures == nil || r.Status.Phase != learningv1alpha1.ReportFrozen {
			return fmt.Errorf("phase %q, figures %v", r.Status.Phase, r.Spec.Figures)
		}
		if err := wantKPI(r.Spec.Figures.KPIs, "AttendanceRate", "", "Met", testutil.Ptr[int64](100)); err != nil {
			return err
		}
		// Seats are the program as it stands: October's are not in the records.
		return wantKPI(r.Spec.Figures.KPIs, "SeatsFilled", "Member", "NoData", nil)
	})
	eventually(t, "November's report follows the records", func() error {
		r := programReport(ns, november)
		if err := get(r); err != nil {
			return err
		}
		if r.Status.Phase != learningv1alpha1.ReportOpen || r.Spec.Figures != nil {
			return fmt.Errorf("phase %q, figures %v", r.Status.Phase, r.Spec.Figures)
		}
		if r.Labels[program.LatestReportLabel] != "true" || r.Labels[program.ReportPeriodLabel] != "2026-11" || r.Labels[program.ReportProgramLabel] != "cop" {
			return fmt.Errorf("labels %v", r.Labels)
		}
		if want := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC); r.Status.FreezesAt == nil || !r.Status.FreezesAt.Time.Equal(want) {
			return fmt.Errorf("freezes at %v, want %v", r.Status.FreezesAt, want)
		}
		if r.Status.From != "2026-11-01" || r.Status.Until != "2026-11-30" {
			return fmt.Errorf("from %s until %s", r.Status.From, r.Status.Until)
		}
		k, err := kpi(r.Status.KPIs, "AttendanceRate", "")
		if err != nil {
			return err
		}
		if k.Value == nil || *k.Value != 83 || k.Change == nil || *k.Change != -17 {
			return fmt.Errorf("attendance %+v, want 83 (5 of 6), 17 below October", k)
		}
		if r.Status.Met != 4 || r.Status.Below != 0 {
			return fmt.Errorf("%d met, %d below; want 4 and 0", r.Status.Met, r.Status.Below)
		}
		return wantKPI(r.Status.KPIs, "SeatsFilled", "Member", "Met", testutil.Ptr[int64](6))
	})
	eventually(t, "the cohort's run has its report", func() error { return get(programReport(ns, "cohort-fall-run")) })

	// A lead edits the narrative; the figures, creating and deleting are not theirs.
	bindEditor(t, ns, "u-lead")
	lead := impersonating(t, "u-lead")
	allowed(t, "writing the narrative", func() error {
		r := programReport(ns, november)
		if err := lead.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		before := r.DeepCopy()
		r.Spec.Narrative = &learningv1alpha1.ReportNarrative{Successes: "Every member came to a gathering."}
		return lead.Patch(ctx, r, client.MergeFrom(before))
	})
	forge := func() error {
		r := programReport(ns, november)
		if err := lead.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		before := r.DeepCopy()
		r.Spec.Figures = &learningv1alpha1.FrozenFigures{FrozenAt: metav1.Now(), KPIs: []learningv1alpha1.KPIResult{
			{Name: "AttendanceRate", Target: 80, Direction: "AtLeast", Verdict: "Met", Value: testutil.Ptr[int64](100)}}}
		return lead.Patch(ctx, r, client.MergeFrom(before))
	}
	denied(t, "a lead writing the figures", forge)
	if err := forge(); err == nil || !strings.Contains(err.Error(), "spec.figures: user \"u-lead\" may not write the figures") {
		t.Errorf("forged figures: %v", err)
	}
	denied(t, "a lead creating a report", func() error {
		r := programReport(ns, "community-cop-2027-01")
		r.Spec = learningv1alpha1.ProgramReportSpec{Program: learningv1alpha1.ProgramReference{Kind: "CommunityOfPractice", Name: "cop"}, Period: "2027-01"}
		return lead.Create(ctx, r)
	})
	denied(t, "a lead deleting a report", func() error { return lead.Delete(ctx, programReport(ns, october)) })

	// The cohort's seated lead (a role with Edit access) writes the narrative of the
	// community's reports too, granted by name; a seated member (Read) may not; neither
	// can forge the figures.
	coLead, member := impersonating(t, "u-co-lead"), impersonating(t, "u-m1")
	allowed(t, "the cohort's lead writing the narrative", func() error {
		r := programReport(ns, november)
		if err := coLead.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		before := r.DeepCopy()
		r.Spec.Narrative.NextSteps = "Invite the spring cohort's leads."
		return coLead.Patch(ctx, r, client.MergeFrom(before))
	})
	denied(t, "a seated member reading a report", func() error {
		return member.Get(ctx, client.ObjectKeyFromObject(programReport(ns, november)), programReport(ns, november))
	})
	denied(t, "the cohort's lead writing the figures", func() error {
		r := programReport(ns, november)
		if err := coLead.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		before := r.DeepCopy()
		r.Spec.Figures = &learningv1alpha1.FrozenFigures{FrozenAt: metav1.Now(), KPIs: []learningv1alpha1.KPIResult{}}
		return coLead.Patch(ctx, r, client.MergeFrom(before))
	})

	// Frozen figures are frozen for everyone, the administrator included.
	frozen := programReport(ns, october)
	if err := get(frozen); err != nil {
		t.Fatal(err)
	}
	changed := frozen.DeepCopy()
	changed.Spec.Figures.KPIs[0].Value = testutil.Ptr[int64](1)
	if err := k8s.Update(ctx, changed); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.figures are frozen") {
		t.Errorf("changing frozen figures: got %v, want Invalid", err)
	}

	// The grace period ends: November freezes, December opens.
	fakeClock.SetTime(time.Date(2026, 12, 8, 0, 0, 1, 0, time.UTC))
	eventually(t, "November freezes with its narrative and the seats it had", func() error {
		r := programReport(ns, november)
		if err := get(r); err != nil {
			return err
		}
		if r.Spec.Figures == nil || r.Status.Phase != learningv1alpha1.ReportFrozen {
			return fmt.Errorf("phase %q, figures %v", r.Status.Phase, r.Spec.Figures)
		}
		if r.Spec.Narrative == nil || r.Spec.Narrative.Successes == "" {
			return fmt.Errorf("the narrative is gone: %+v", r.Spec.Narrative)
		}
		if _, latest := r.Labels[program.LatestReportLabel]; latest {
			return fmt.Errorf("November is still labelled latest: %v", r.Labels)
		}
		if err := wantKPI(r.Spec.Figures.KPIs, "AttendanceRate", "", "Met", testutil.Ptr[int64](83)); err != nil {
			return err
		}
		return wantKPI(r.Spec.Figures.KPIs, "SeatsFilled", "Member", "Met", testutil.Ptr[int64](6))
	})
	eventually(t, "December is the latest", func() error {
		r := programReport(ns, "community-cop-2026-12")
		if err := get(r); err != nil {
			return err
		}
		if r.Labels[program.LatestReportLabel] != "true" {
			return fmt.Errorf("labels %v", r.Labels)
		}
		return nil
	})

	// Approving: the frozen report only, by an approver of the community, as themselves,
	// for its current content.
	approve := func(c client.Client, name, approver string) error {
		r := programReport(ns, name)
		if err := c.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		before := r.DeepCopy()
		r.Spec.Approval = &learningv1alpha1.Approval{Approver: approver, ContentHash: r.Status.ContentHash}
		return c.Patch(ctx, r, client.MergeFrom(before))
	}
	approver := impersonating(t, "u-approver")
	denied(t, "a lead approving", func() error { return approve(lead, november, "u-lead") })
	if err := approve(approver, "community-cop-2026-12", "u-approver"); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "only a frozen report") {
		t.Errorf("approving an open report: got %v, want Invalid", err)
	}
	if err := approve(approver, november, "u-lead"); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "an approver approves as themselves") {
		t.Errorf("approving in another's name: got %v, want Forbidden", err)
	}
	allowed(t, "the approver approving November", func() error { return approve(approver, november, "u-approver") })
	approved := func(status metav1.ConditionStatus, reason string) func() error {
		return func() error {
			r := programReport(ns, november)
			if err := get(r); err != nil {
				return err
			}
			if r.Status.ObservedGeneration != r.Generation {
				return fmt.Errorf("status is for generation %d, not %d", r.Status.ObservedGeneration, r.Generation)
			}
			return hasCondition(r.Status.Conditions, learningv1alpha1.ApprovedCondition, status, reason)
		}
	}
	eventually(t, "November is approved", approved(metav1.ConditionTrue, learningv1alpha1.ApprovedReason))
	update(t, programReport(ns, november), func(r *learningv1alpha1.ProgramReport) {
		r.Spec.Narrative.Challenges = "Two members could not attend in person."
	})
	eventually(t, "a narrative change voids the approval", approved(metav1.ConditionFalse, learningv1alpha1.ContentChangedReason))

	// A late correction: m6 was there after all.
	update(t, &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nov-10"}}, func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Attendance[5].Status = learningv1alpha1.AttendancePresent
	})
	eventually(t, "the correction is an amendment; the figures stay", func() error {
		r := programReport(ns, november)
		if err := get(r); err != nil {
			return err
		}
		if err := wantKPI(r.Spec.Figures.KPIs, "AttendanceRate", "", "Met", testutil.Ptr[int64](83)); err != nil {
			return err
		}
		if len(r.Status.Amendments) != 1 {
			return fmt.Errorf("amendments %+v, want one", r.Status.Amendments)
		}
		a := r.Status.Amendments[0]
		if a.Name != "AttendanceRate" || ptrString(a.Frozen) != "83" || ptrString(a.Current) != "100" {
			return fmt.Errorf("amendment %+v, want AttendanceRate 83 -> 100", a)
		}
		return nil
	})

	// A restore into an empty namespace, by an administrator, the reports first (the
	// backup holds spec, not status; docs/operations.md says to restore reports before
	// their programs): nothing frozen is computed again, and what the records now give
	// differently is an amendment. An approval, like an event's, is admitted only from
	// its approver, so the reports are restored without it.
	restore := testutil.Namespace(t, k8s)
	for _, name := range []string{october, november} {
		r := programReport(ns, name)
		if err := get(r); err != nil {
			t.Fatal(err)
		}
		copied := &learningv1alpha1.ProgramReport{ObjectMeta: metav1.ObjectMeta{Namespace: restore, Name: name, Labels: r.Labels}, Spec: r.Spec}
		copied.Spec.Approval = nil
		create(t, copied)
	}
	restoredCommunity := testutil.Community(restore, "cop", testutil.Role("Member", 0, 10))
	restoredCommunity.Spec.Reporting = reporting
	create(t, restoredCommunity, testutil.Cohort(restore, "fall", "cop", "2026-10-01", 12))
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("m%d", i)
		create(t, testutil.Membership(restore, name, "fall", "u-"+name, "Member"))
	}
	create(t,
		testutil.Gathering(restore, "oct-13", "fall", time.Date(2026, 10, 13, 17, 0, 0, 0, time.UTC), everyone...),
		testutil.Gathering(restore, "nov-10", "fall", time.Date(2026, 11, 10, 17, 0, 0, 0, time.UTC), everyone...))
	eventually(t, "the restored reports keep their frozen figures", func() error {
		r := programReport(restore, november)
		if err := get(r); err != nil {
			return err
		}
		if r.Status.Phase != learningv1alpha1.ReportFrozen || len(r.Status.KPIs) != 4 {
			return fmt.Errorf("phase %q with %d KPIs", r.Status.Phase, len(r.Status.KPIs))
		}
		if err := wantKPI(r.Status.KPIs, "AttendanceRate", "", "Met", testutil.Ptr[int64](83)); err != nil {
			return err
		}
		if err := wantKPI(r.Status.KPIs, "SeatsFilled", "Member", "Met", testutil.Ptr[int64](6)); err != nil {
			return err
		}
		if len(r.Status.Amendments) != 1 || ptrString(r.Status.Amendments[0].Current) != "100" {
			return fmt.Errorf("amendments %+v, want attendance now 100", r.Status.Amendments)
		}
		return hasCondition(r.Status.Conditions, learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason)
	})
	if err := get(programReport(restore, "community-cop-2026-12")); err != nil {
		t.Errorf("the open month of the restored program: %v", err)
	}

	// Reports are history: deleting their program keeps them.
	if err := k8s.Delete(ctx, community); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the community is gone", func() error {
		if err := get(&learningv1alpha1.CommunityOfPractice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cop"}}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %w", err)
		}
		return nil
	})
	list := &learningv1alpha1.ProgramReportList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 4 { // October, November, December and the cohort's run
		t.Errorf("%d reports after the community was deleted, want 4", len(list.Items))
	}
	for _, r := range list.Items {
		if len(r.OwnerReferences) > 0 {
			t.Errorf("%s has owners %v: it would be collected with them", r.Name, r.OwnerReferences)
		}
	}
}

// TestStandaloneCohortReports: a standalone cohort reports on its own and appoints its
// own approvers, whom the operator binds (the policy installed as shipped); one of them
// approves the frozen October report as themselves, and removing them from
// spec.approvers removes them from the binding.
func TestStandaloneCohortReports(t *testing.T) {
	ctx := context.Background()
	fakeClock.SetTime(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.StandaloneCohort(ns, "solo", "2026-10-01", 6, learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{testutil.Role("Member", 0, 8)}})
	cohort.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: "u-director"}}
	cohort.Spec.Reporting = &learningv1alpha1.ReportingPolicy{Cadence: learningv1alpha1.MonthlyReports, GraceDays: 7,
		KPIs: []learningv1alpha1.KPITarget{{Name: "GatheringsHeld", Target: 1, Direction: "AtLeast"}}}
	create(t, cohort)

	const october = "cohort-solo-2026-10"
	eventually(t, "October's report is frozen", func() error {
		r := programReport(ns, october)
		if err := get(r); err != nil {
			return err
		}
		if r.Status.Phase != learningv1alpha1.ReportFrozen || r.Status.ContentHash == "" {
			return fmt.Errorf("phase %q, hash %q", r.Status.Phase, r.Status.ContentHash)
		}
		return wantKPI(r.Status.KPIs, "GatheringsHeld", "", "Below", testutil.Ptr[int64](0))
	})
	eventually(t, "the cohort's approvers are bound", func() error {
		b := &rbacv1.RoleBinding{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "solo-approvers"}, b); err != nil {
			return err
		}
		if len(b.Subjects) != 1 || b.Subjects[0].Name != "u-director" || b.RoleRef.Name != testutil.ApproverClusterRole {
			return fmt.Errorf("binding %+v to %s", b.Subjects, b.RoleRef.Name)
		}
		return nil
	})
	director := impersonating(t, "u-director")
	allowed(t, "the cohort's approver approving October", func() error {
		r := programReport(ns, october)
		if err := director.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		before := r.DeepCopy()
		r.Spec.Approval = &learningv1alpha1.Approval{Approver: "u-director", ContentHash: r.Status.ContentHash}
		return director.Patch(ctx, r, client.MergeFrom(before))
	})
	eventually(t, "October is approved", func() error {
		r := programReport(ns, october)
		if err := get(r); err != nil {
			return err
		}
		return hasCondition(r.Status.Conditions, learningv1alpha1.ApprovedCondition, metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
	})

	update(t, &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "solo"}}, func(c *learningv1alpha1.Cohort) { c.Spec.Approvers = nil })
	eventually(t, "the removed approver is unbound", func() error {
		b := &rbacv1.RoleBinding{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "solo-approvers"}, b); err != nil {
			return err
		}
		if len(b.Subjects) != 0 {
			return fmt.Errorf("still binds %+v", b.Subjects)
		}
		return nil
	})
}
