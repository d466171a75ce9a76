package publish

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func figure(v int64) *int64 { return &v }

// allyshipNovember is the allyship community's November report, approved.
func allyshipNovember() Report {
	return Report{
		Unit: "CommunityOfPractice allyship", Title: "Allyship Community of Practice", Period: "2026-11", From: "2026-11-01", Until: "2026-11-30",
		Phase: "Frozen", ApprovedBy: "allyship-pillar-lead",
		KPIs: []ReportKPI{
			{Name: "AttendanceRate", Direction: "AtLeast", Target: 80, Unit: "%", Verdict: "Met", Value: figure(86), Change: figure(4)},
			{Name: "SeatsFilled", Qualifier: "Member", Direction: "AtLeast", Target: 15, Verdict: "Below", Value: figure(12), Change: figure(-3)},
			{Name: "ApprovalHours", Direction: "AtMost", Target: 72, Unit: "hours", Verdict: "NoData"},
			{Name: "PlansCurrent", Direction: "AtLeast", Target: 75, Unit: "%", Verdict: "Suppressed"},
		},
		Narrative: ReportNarrative{
			Successes:  "Two speaker series sessions.\n# not a heading\nA <script>alert(1)</script> | pipe",
			NextSteps:  "Recruit three members.",
			Challenges: "  ",
		},
	}
}

func TestRenderReportMarkdown(t *testing.T) {
	want := `# Allyship Community of Practice: report for 2026-11

CommunityOfPractice allyship, 2026-11-01 to 2026-11-30. Approved by allyship-pillar-lead.

## Key figures

1 met, 1 below target, 2 without a figure.

| KPI | Target | Figure | Verdict | Change |
| --- | --- | --- | --- | --- |
| AttendanceRate | at least 80% | 86% | Met | +4% |
| SeatsFilled (Member) | at least 15 | 12 | Below | -3 |
| ApprovalHours | at most 72 hours | no data | NoData |  |
| PlansCurrent | at least 75% | suppressed (fewer than 5 people) | Suppressed |  |

## Successes

Two speaker series sessions.
\# not a heading
A &lt;script&gt;alert(1)&lt;/script&gt; \| pipe

## Next steps

Recruit three members.`
	if diff := cmp.Diff(want, string(RenderReportMarkdown(allyshipNovember()))); diff != "" {
		t.Errorf("Markdown (-want +got):\n%s", diff)
	}

	open := allyshipNovember()
	open.Phase, open.ApprovedBy = "Open", ""
	if got := string(RenderReportMarkdown(open)); !strings.Contains(got, "The period is open") {
		t.Errorf("an open report does not say so:\n%s", got)
	}
	open.Phase = "Frozen"
	if got := string(RenderReportMarkdown(open)); !strings.Contains(got, "Final figures, awaiting approval.") {
		t.Errorf("a frozen report awaiting approval does not say so:\n%s", got)
	}
}

func TestRenderReportCSV(t *testing.T) {
	r := allyshipNovember()
	r.KPIs = append(r.KPIs, ReportKPI{Name: "GatheringsHeld", Qualifier: "=HYPERLINK(\"x\")", Direction: "AtLeast", Target: 1, Verdict: "Met", Value: figure(2)})
	data, err := RenderReportCSV(r)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, data)
	}
	want := [][]string{
		ReportCSVHeader,
		{"2026-11", "AttendanceRate", "", "AtLeast", "80", "%", "Met", "86", "4"},
		{"2026-11", "SeatsFilled", "Member", "AtLeast", "15", "", "Below", "12", "-3"},
		{"2026-11", "ApprovalHours", "", "AtMost", "72", "hours", "NoData", "", ""},
		{"2026-11", "PlansCurrent", "", "AtLeast", "75", "%", "Suppressed", "", ""},
		{"2026-11", "GatheringsHeld", "'=HYPERLINK(\"x\")", "AtLeast", "1", "", "Met", "2", ""},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("CSV rows (-want +got):\n%s", diff)
	}
}
