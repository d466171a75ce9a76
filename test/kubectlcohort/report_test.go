package kubectlcohort

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// communityReport is a report of the allyship community, labelled as the operator
// labels it.
func communityReport(namespace, period string, latest bool) *learningv1alpha1.ProgramReport {
	r := &learningv1alpha1.ProgramReport{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: program.ReportName(learningv1alpha1.CommunityProgram, "allyship", period),
			Labels: map[string]string{program.ReportProgramKindLabel: "CommunityOfPractice", program.ReportProgramLabel: "allyship", program.ReportPeriodLabel: period}},
		Spec: learningv1alpha1.ProgramReportSpec{Program: learningv1alpha1.ProgramReference{Kind: learningv1alpha1.CommunityProgram, Name: "allyship"}, Period: period},
	}
	if latest {
		r.Labels[program.LatestReportLabel] = "true"
	}
	return r
}

// TestReport prints the newest report (open) as Markdown, October's (frozen) as CSV
// and JSON, and refuses a period without a report, a program without reports and a
// format report does not write.
func TestReport(t *testing.T) {
	ns := testutil.Namespace(t, admin)
	createProgram(t, ns)
	v := func(n int64) *int64 { return &n }
	october := communityReport(ns, "2026-10", false)
	october.Spec.Figures = &learningv1alpha1.FrozenFigures{FrozenAt: metav1.NewTime(now), KPIs: []learningv1alpha1.KPIResult{
		{Name: "AttendanceRate", Target: 80, Direction: "AtLeast", Verdict: "Met", Value: v(86)},
		{Name: "SeatsFilled", Qualifier: "Member", Target: 15, Direction: "AtLeast", Verdict: "Below", Value: v(12)},
		{Name: "ApprovalHours", Target: 72, Direction: "AtMost", Verdict: "NoData"},
	}}
	october.Spec.Narrative = &learningv1alpha1.ReportNarrative{Successes: "=HYPERLINK(\"x\") was typed by a lead.", NextSteps: "Recruit a co-lead.\n# not a heading"}
	october.Status = learningv1alpha1.ProgramReportStatus{Phase: learningv1alpha1.ReportFrozen, From: "2026-10-01", Until: "2026-10-31"}
	november := communityReport(ns, "2026-11", true)
	november.Status = learningv1alpha1.ProgramReportStatus{Phase: learningv1alpha1.ReportOpen, From: "2026-11-01", Until: "2026-11-30",
		KPIs: []learningv1alpha1.KPIResult{
			{Name: "AttendanceRate", Target: 80, Direction: "AtLeast", Verdict: "Below", Value: v(78), Change: v(-8)},
			{Name: "SeatsFilled", Qualifier: "Member", Target: 15, Direction: "AtLeast", Verdict: "Below", Value: v(13), Change: v(1)},
			{Name: "ApprovalHours", Target: 72, Direction: "AtMost", Verdict: "Met", Value: v(30)},
		}}
	create(t, october)
	create(t, november)
	kubeconfig := kubeconfigIn(t, adminKubeconfig, ns)

	golden(t, "report", ns, plugin(t, kubeconfig, "report", "allyship").succeed(t).stdout)
	golden(t, "report-csv", ns, plugin(t, kubeconfig, "report", "allyship", "--period", "2026-10", "-o", "csv").succeed(t).stdout)

	var got publish.Report
	if err := json.Unmarshal([]byte(plugin(t, kubeconfig, "report", "allyship", "--period", "2026-10", "-o", "json").succeed(t).stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Phase != "Frozen" || got.Title != "allyship" || len(got.KPIs) != 3 || got.KPIs[1].Value == nil || *got.KPIs[1].Value != 12 || got.Narrative.NextSteps == "" {
		t.Errorf("report -o json: %+v", got)
	}

	plugin(t, kubeconfig, "report", "allyship", "--period", "2026-09").fail(t, "allyship has no report for period 2026-09 in namespace "+ns)
	plugin(t, kubeconfig, "report", "nobody").fail(t, "nobody has no reports in namespace "+ns+": set spec.reporting")
	plugin(t, kubeconfig, "report", "allyship", "-o", "wide").fail(t, `unable to match a printer suitable for the output format "wide"`)
	plugin(t, kubeconfig, "roster", "allyship-2026", "-o", "csv").fail(t, `unable to match a printer suitable for the output format "csv"`)
}
