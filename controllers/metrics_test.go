package controllers

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// TestApprovalMetricsTimestamp: the oldest pending approval is exported as the instant
// it started waiting, which stays right between evaluations (an alert computes
// time() - it), and its series goes away once nothing waits.
func TestApprovalMetricsTimestamp(t *testing.T) {
	key := unitKey{Namespace: "metrics-test", Community: "allyship"}
	t.Cleanup(func() {
		approvalsPendingMetric.DeleteLabelValues(key.Namespace, key.Community)
		approvalWaitMetric.DeleteLabelValues(key.Namespace, key.Community)
	})
	now := time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)
	event := func(name string) *learningv1alpha1.LearningEvent {
		e := &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: name}}
		e.Spec.Audience = learningv1alpha1.ExternalAudience
		return e
	}
	older, newer := now.Add(-50*time.Hour), now.Add(-2*time.Hour)
	snap := program.Snapshot{Now: now, Events: []*learningv1alpha1.LearningEvent{event("talk"), event("panel")}}
	out := program.Outcome{Events: map[string]learningv1alpha1.LearningEventStatus{
		"talk":  {ContentChanged: &metav1.Time{Time: newer}},
		"panel": {ContentChanged: &metav1.Time{Time: older}},
	}}

	recordApprovalMetrics(key, snap, out)
	if got := testutil.ToFloat64(approvalsPendingMetric.WithLabelValues(key.Namespace, key.Community)); got != 2 {
		t.Errorf("cohort_approvals_pending = %v, want 2", got)
	}
	if got, want := testutil.ToFloat64(approvalWaitMetric.WithLabelValues(key.Namespace, key.Community)), float64(older.Unix()); got != want {
		t.Errorf("cohort_approval_oldest_pending_timestamp_seconds = %v, want %v (when the older event's content changed)", got, want)
	}

	// Evaluated again a day later: the timestamp does not move.
	snap.Now = now.Add(24 * time.Hour)
	recordApprovalMetrics(key, snap, out)
	if got, want := testutil.ToFloat64(approvalWaitMetric.WithLabelValues(key.Namespace, key.Community)), float64(older.Unix()); got != want {
		t.Errorf("a day later, the timestamp = %v, want still %v", got, want)
	}

	// Both approved: no series, so neither a dashboard nor an alert sees a wait.
	approved := []metav1.Condition{{Type: learningv1alpha1.ApprovedCondition, Status: metav1.ConditionTrue}}
	out.Events["talk"] = learningv1alpha1.LearningEventStatus{ContentChanged: &metav1.Time{Time: newer}, Conditions: approved}
	out.Events["panel"] = learningv1alpha1.LearningEventStatus{ContentChanged: &metav1.Time{Time: older}, Conditions: approved}
	recordApprovalMetrics(key, snap, out)
	if got := testutil.ToFloat64(approvalsPendingMetric.WithLabelValues(key.Namespace, key.Community)); got != 0 {
		t.Errorf("cohort_approvals_pending = %v, want 0", got)
	}
	// DeleteLabelValues reports whether the series existed.
	if approvalWaitMetric.DeleteLabelValues(key.Namespace, key.Community) {
		t.Error("cohort_approval_oldest_pending_timestamp_seconds has a series while nothing waits, want none")
	}
}

// TestPlanMetrics: a cohort's plans by state, the required plans missing and the
// overdue actions of its personal and team plans; another cohort's plans are not
// counted, and a cohort without plans has no plan series.
func TestPlanMetrics(t *testing.T) {
	const ns = "plan-metrics-test"
	t.Cleanup(func() {
		forgetCohortMetrics(ns, "spring")
		forgetCohortMetrics(ns, "autumn")
	})
	cohort := func(name string) *learningv1alpha1.Cohort {
		return &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	membership := func(name, cohort string) *learningv1alpha1.Membership {
		m := &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		m.Spec.CohortRef.Name = learningv1alpha1.ObjectName(cohort)
		return m
	}
	personal := func(name, membership string) *learningv1alpha1.ActionPlan {
		p := &learningv1alpha1.ActionPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		p.Spec.MembershipRef = &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(membership)}
		return p
	}
	team := personal("lakeside", "")
	team.Spec.MembershipRef = nil
	team.Spec.Team = &learningv1alpha1.PlanTeam{CohortRef: learningv1alpha1.LocalObjectReference{Name: "spring"}, Organization: "Lakeside"}
	snap := program.Snapshot{
		Cohorts:     []*learningv1alpha1.Cohort{cohort("spring"), cohort("autumn")},
		Memberships: []*learningv1alpha1.Membership{membership("ann", "spring"), membership("bo", "autumn")},
		Plans:       []*learningv1alpha1.ActionPlan{personal("ann-plan", "ann"), team, personal("bo-plan", "bo")},
	}
	out := program.Outcome{
		Cohorts: map[string]learningv1alpha1.CohortStatus{
			"spring": {ActionPlans: &learningv1alpha1.ActionPlanFigures{Required: 3, Present: 1, Plans: 2, Current: 0, Overdue: 1, Stale: 0}},
			"autumn": {},
		},
		Plans: map[string]learningv1alpha1.ActionPlanStatus{
			"ann-plan": {Actions: &learningv1alpha1.ActionCounts{Total: 4, Overdue: 2}},
			"lakeside": {Actions: &learningv1alpha1.ActionCounts{Total: 1, Overdue: 1}},
			"bo-plan":  {Actions: &learningv1alpha1.ActionCounts{Total: 5, Overdue: 5}},
		},
	}
	recordMetrics(snap, out)
	for what, want := range map[string]float64{
		"Overdue":   1,
		"Current":   0,
		"NotJudged": 1,
	} {
		if got := figureValue(t, plansMetric, ns, "spring", what); got != want {
			t.Errorf("cohort_action_plans{state=%q} = %v, want %v", what, got, want)
		}
	}
	if got := figureValue(t, plansMissingMetric, ns, "spring"); got != 2 {
		t.Errorf("cohort_action_plans_missing = %v, want 2", got)
	}
	if got := figureValue(t, actionsOverdueMetric, ns, "spring"); got != 3 {
		t.Errorf("cohort_actions_overdue = %v, want 3 (ann's 2 and the team's 1, not autumn's 5)", got)
	}
	if hasFigures(actionsOverdueMetric, ns, "autumn") || hasFigures(plansMetric, ns, "autumn") {
		t.Error("autumn, without plan figures, has plan series")
	}
}

// TestReportMetrics: a KPI's figure comes from the newest frozen periodic report, and
// the periods it has been Below in a row count back from it, stopping at the first it
// met; an open report and a cohort's run report count for neither.
func TestReportMetrics(t *testing.T) {
	const ns = "report-metrics-test"
	community := &learningv1alpha1.CommunityOfPractice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allyship"}}
	t.Cleanup(func() {
		reportKPIMetric.replace(figureOwner(ns, "CommunityOfPractice", "allyship"), nil)
		reportBelowMetric.replace(figureOwner(ns, "CommunityOfPractice", "allyship"), nil)
	})
	value := func(v int64) *int64 { return &v }
	report := func(period string, frozen bool, attendance string, v int64) *learningv1alpha1.ProgramReport {
		r := &learningv1alpha1.ProgramReport{Spec: learningv1alpha1.ProgramReportSpec{
			Program: learningv1alpha1.ProgramReference{Kind: learningv1alpha1.CommunityProgram, Name: "allyship"}, Period: period}}
		kpis := []learningv1alpha1.KPIResult{
			{Name: "AttendanceRate", Target: 80, Direction: "AtLeast", Verdict: learningv1alpha1.KPIVerdict(attendance), Value: value(v)},
			{Name: "SeatsFilled", Qualifier: "Member", Target: 15, Direction: "AtLeast", Verdict: "NoData"},
		}
		if frozen {
			r.Spec.Figures = &learningv1alpha1.FrozenFigures{KPIs: kpis}
		} else {
			r.Status.KPIs = kpis
		}
		return r
	}
	snap := program.Snapshot{Community: community, Reports: []*learningv1alpha1.ProgramReport{
		report("2026-08", true, "Below", 70),
		report("2026-10", true, "Below", 75), // listed out of order
		report("2026-09", true, "Met", 85),
		report("2026-12", false, "Met", 90), // open: not counted
		report("run", true, "Below", 10),    // a run: not a period
	}}
	recordReportMetrics(ns, snap)
	series := []string{ns, "CommunityOfPractice", "allyship", "AttendanceRate", ""}
	if got := figureValue(t, reportKPIMetric, series...); got != 75 {
		t.Errorf("cohort_report_kpi_value = %v, want October's 75", got)
	}
	if got := figureValue(t, reportBelowMetric, series...); got != 1 {
		t.Errorf("cohort_report_kpi_below_periods = %v, want 1 (September met)", got)
	}
	snap.Reports = append(snap.Reports, report("2026-11", true, "Below", 72))
	recordReportMetrics(ns, snap)
	if got := figureValue(t, reportBelowMetric, series...); got != 2 {
		t.Errorf("cohort_report_kpi_below_periods = %v, want 2 (October and November)", got)
	}
	seats := []string{ns, "CommunityOfPractice", "allyship", "SeatsFilled", "Member"}
	if _, ok := reportKPIMetric.value(seats...); ok {
		t.Error("seats have a value series, with no figure")
	}
	if got := figureValue(t, reportBelowMetric, seats...); got != 0 {
		t.Errorf("seats below for %v periods, want 0", got)
	}
}

// figureValue is the value of a series of set, which must exist.
func figureValue(t *testing.T, set *figureSet, labels ...string) float64 {
	t.Helper()
	v, ok := set.value(labels...)
	if !ok {
		t.Fatalf("no series %v", labels)
	}
	return v
}

// hasFigures reports whether set has a series whose label values start with prefix.
func hasFigures(set *figureSet, prefix ...string) bool {
	set.mu.RLock()
	defer set.mu.RUnlock()
	for _, figures := range set.owned {
		for _, f := range figures {
			if len(f.labels) >= len(prefix) && slices.Equal(f.labels[:len(prefix)], prefix) {
				return true
			}
		}
	}
	return false
}

// TestFigureSetScrape: a figure set's series are what a scrape gathers, one per label
// values even when an owner's figures repeat some, and replacing an owner's figures
// leaves the other owners' alone.
func TestFigureSetScrape(t *testing.T) {
	set := newFigureSet("test_figures", "Figures of a test.", "namespace", "cohort", "role")
	registry := prometheus.NewRegistry()
	registry.MustRegister(set)
	set.replace(figureOwner("ns", "spring"), []figure{
		{labels: []string{"ns", "spring", "Lead"}, value: 1},
		{labels: []string{"ns", "spring", "Member"}, value: 3},
		{labels: []string{"ns", "spring", "Member"}, value: 4},
	})
	set.replace(figureOwner("ns", "autumn"), []figure{{labels: []string{"ns", "autumn", "Member"}, value: 7}})
	want := `# HELP test_figures Figures of a test.
# TYPE test_figures gauge
test_figures{cohort="autumn",namespace="ns",role="Member"} 7
test_figures{cohort="spring",namespace="ns",role="Lead"} 1
test_figures{cohort="spring",namespace="ns",role="Member"} 4
`
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want), "test_figures"); err != nil {
		t.Error(err)
	}
	set.replace(figureOwner("ns", "spring"), nil)
	want = `# HELP test_figures Figures of a test.
# TYPE test_figures gauge
test_figures{cohort="autumn",namespace="ns",role="Member"} 7
`
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want), "test_figures"); err != nil {
		t.Error(err)
	}
}
