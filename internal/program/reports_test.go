package program

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// staleReportHash is a well-formed content hash of no report.
const staleReportHash = "v1:sha256:0000000000000000000000000000000000000000000000000000000000000000"

// reporting is a policy reporting attendance and Member seats, monthly in UTC with
// seven days of grace.
func reporting() *learningv1alpha1.ReportingPolicy {
	return &learningv1alpha1.ReportingPolicy{Cadence: learningv1alpha1.MonthlyReports, GraceDays: 7, KPIs: []learningv1alpha1.KPITarget{
		{Name: "AttendanceRate", Target: 80, Direction: "AtLeast"},
		{Name: "SeatsFilled", Qualifier: "Member", Target: 5, Direction: "AtLeast"},
	}}
}

// writes lists a decision's report writes as "name[+figures][ latest]", created ones
// marked with a leading "+".
func writes(d *Decision) []string {
	var out []string
	for _, w := range d.Reports {
		s := w.Report.Name
		if w.Existing == nil {
			s = "+" + s
		}
		if w.Report.Spec.Figures != nil {
			s += " frozen"
		}
		if w.Report.Labels[LatestReportLabel] == "true" {
			s += " latest"
		}
		out = append(out, s)
	}
	return out
}

// reportOf is the report a write creates, as the API server would hold it, with a
// status.
func reportOf(t *testing.T, d *Decision, name string, status learningv1alpha1.ProgramReportStatus) *learningv1alpha1.ProgramReport {
	t.Helper()
	for _, w := range d.Reports {
		if w.Report.Name == name {
			r := w.Report.DeepCopy()
			r.Generation = 1
			r.Status = status
			return r
		}
	}
	t.Fatalf("no write of %s in %v", name, writes(d))
	return nil
}

// TestReportsOpenFreezeAndMove follows a community's reports from November 22 into
// December: the first pass creates October's report frozen (the community's cohort
// began on October 1), November's open and latest, and the cohort's run report; on
// December 8 November freezes with the seats it had before it closed, not the
// seats of December, and December opens and takes the latest label.
func TestReportsOpenFreezeAndMove(t *testing.T) {
	c := community(role("Member", 0, 10))
	c.Spec.Reporting = reporting()
	alpha := cohort("alpha", "2026-10-01", 12)
	var members []*learningv1alpha1.Membership
	var oct, nov []learningv1alpha1.AttendanceRecord
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("m%d", i)
		members = append(members, member(name, "alpha", "p"+name, "Member", day("2026-09-01")))
		oct = append(oct, present(name))
		if i < 6 {
			nov = append(nov, present(name))
		} else {
			nov = append(nov, absent(name))
		}
	}
	events := []*learningv1alpha1.LearningEvent{
		gathering("oct", "alpha", instant("2026-10-13T17:00:00Z"), oct...),
		gathering("nov", "alpha", instant("2026-11-10T17:00:00Z"), nov...),
	}
	snap := Snapshot{Now: instant("2026-11-22T12:00:00Z"), Community: c, Cohorts: []*learningv1alpha1.Cohort{alpha}, Memberships: members, Events: events}
	first := Decide(snap)
	want := []string{"+community-equity-2026-10 frozen", "+community-equity-2026-11 latest", "+cohort-alpha-run"}
	if got := writes(first); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("first pass writes %q, want %q", got, want)
	}
	october := first.Reports[0].Report.Spec.Figures.KPIs
	if october[0].Value == nil || *october[0].Value != 100 || october[1].Verdict != "NoData" {
		t.Errorf("October froze %+v; want attendance 100 and seats unknown (the report came after the month)", october)
	}
	if got := first.Outcome(Facts{}).Next; !got.Equal(instant("2026-12-01T00:00:00Z")) {
		t.Errorf("next evaluation at %v, want November's close", got)
	}

	// The second pass sees the created reports and gives them their statuses.
	snap.Reports = []*learningv1alpha1.ProgramReport{
		reportOf(t, first, "community-equity-2026-10", learningv1alpha1.ProgramReportStatus{}),
		reportOf(t, first, "community-equity-2026-11", learningv1alpha1.ProgramReportStatus{}),
	}
	second := Decide(snap)
	if got := writes(second); strings.Join(got, ",") != "+cohort-alpha-run" {
		t.Errorf("second pass writes %q, want only the run report still missing", got)
	}
	out := second.Outcome(Facts{})
	novStatus := out.Reports["community-equity-2026-11"]
	if novStatus.Phase != learningv1alpha1.ReportOpen || novStatus.Met != 2 || novStatus.Until != "2026-11-30" {
		t.Errorf("November is %+v", novStatus)
	}
	if k := novStatus.KPIs[0]; k.Value == nil || *k.Value != 83 || k.Change == nil || *k.Change != -17 {
		t.Errorf("November's attendance %+v, want 83, 17 below October", k)
	}
	if out.Reports["community-equity-2026-10"].Phase != learningv1alpha1.ReportFrozen {
		t.Errorf("October is %s", out.Reports["community-equity-2026-10"].Phase)
	}

	if got := second.Publications["alpha"].Overview.Reports; len(got) != 0 {
		t.Errorf("the cohort publishes %d reports before any is approved", len(got))
	}
	// October approved for its content: the cohort's documents publish it.
	snap.Reports[0].Spec.Approval = &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: out.Reports["community-equity-2026-10"].ContentHash}
	snap.Reports[0].Status = out.Reports["community-equity-2026-10"]
	published := Decide(snap).Publications["alpha"].Overview.Reports
	if len(published) != 1 || published[0].Period != "2026-10" || published[0].ApprovedBy != "pillar-lead" || published[0].Phase != "Frozen" || len(published[0].KPIs) != 2 {
		t.Errorf("published reports %+v, want October approved by pillar-lead", published)
	}
	snap.Reports[0].Spec.Approval.ContentHash = staleReportHash
	if got := Decide(snap).Publications["alpha"].Overview.Reports; len(got) != 0 {
		t.Errorf("a report approved for other content is published: %+v", got)
	}
	snap.Reports[0].Spec.Approval = nil

	// December 8: two members left their seats in December; November keeps the six
	// seats it had when it closed.
	snap.Reports[1].Status = novStatus
	snap.Now = instant("2026-12-08T00:00:00Z")
	for _, m := range members[:2] {
		m.Spec.Withdrawn = true
	}
	third := Decide(snap)
	want = []string{"community-equity-2026-11 frozen", "+community-equity-2026-12 latest", "+cohort-alpha-run"}
	if got := writes(third); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("December 8 writes %q, want %q", got, want)
	}
	frozen := third.Reports[0].Report.Spec.Figures.KPIs
	if frozen[1].Value == nil || *frozen[1].Value != 6 {
		t.Errorf("November froze seats %+v, want the 6 it had", frozen[1])
	}
	if got := third.Outcome(Facts{}).Reports["community-equity-2026-11"].Phase; got != learningv1alpha1.ReportFrozen {
		t.Errorf("November is %s after freezing", got)
	}
	// Reporting turned on only on December 8: October and November are created frozen
	// in one pass, November's change from October's figures decided in the same pass.
	late := snap
	late.Reports = nil
	lateWrites := Decide(late).Reports
	if len(lateWrites) < 2 || lateWrites[1].Report.Spec.Figures == nil {
		t.Fatalf("late start writes %v", lateWrites)
	}
	if k := lateWrites[1].Report.Spec.Figures.KPIs[0]; k.Change == nil || *k.Change != -17 {
		t.Errorf("November created with October gives attendance %+v, want a change of -17", k)
	}
	failed := third.Outcome(Facts{ReportFailures: map[string]error{"community-equity-2026-11": fmt.Errorf("conflict")}})
	if got, ok := failed.Reports["community-equity-2026-11"]; ok {
		t.Errorf("November's status is rewritten (%s) when its figures could not be written; it keeps its Open status", got.Phase)
	}
}

// TestReportsQuarterlyInTheProgramsZone: a standalone cohort reporting quarterly in
// Chicago. On December 31 at 23:00 in Chicago (January 1 in UTC) the report is
// still the fourth quarter's, from October 1 to December 31 in local days.
func TestReportsQuarterlyInTheProgramsZone(t *testing.T) {
	policy := learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{role("Member", 0, 5)}}
	c := testutil.StandaloneCohort(ns, "solo", "2026-10-01", 6, policy)
	c.Spec.TimeZone = "America/Chicago"
	c.Spec.Reporting = reporting()
	c.Spec.Reporting.Cadence = learningv1alpha1.QuarterlyReports
	c.CreationTimestamp = metav1.NewTime(instant("2026-12-01T00:00:00Z"))
	d := Decide(Snapshot{Now: instant("2027-01-01T05:00:00Z"), Cohorts: []*learningv1alpha1.Cohort{c}})
	want := []string{"+cohort-solo-2026-q4 latest", "+cohort-solo-run"}
	if got := writes(d); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("writes %q, want %q", got, want)
	}
	snap := Snapshot{Now: instant("2027-01-01T05:00:00Z"), Cohorts: []*learningv1alpha1.Cohort{c},
		Reports: []*learningv1alpha1.ProgramReport{reportOf(t, d, "cohort-solo-2026-q4", learningv1alpha1.ProgramReportStatus{})}}
	status := Decide(snap).Outcome(Facts{}).Reports["cohort-solo-2026-q4"]
	if status.From != "2026-10-01" || status.Until != "2026-12-31" || !status.FreezesAt.Time.Equal(instant("2027-01-08T06:00:00Z")) {
		t.Errorf("Q4 is %s to %s, freezing at %v", status.From, status.Until, status.FreezesAt)
	}
}

// TestReportsOfAnotherCadence: the community switched from monthly to quarterly
// reports on November 22. October's monthly report, open and labelled latest, loses the
// label to the fourth quarter's and still freezes on time.
func TestReportsOfAnotherCadence(t *testing.T) {
	c := community(role("Member", 0, 10))
	c.Spec.Reporting = reporting()
	c.Spec.Reporting.Cadence = learningv1alpha1.QuarterlyReports
	c.CreationTimestamp = metav1.NewTime(instant("2026-10-02T00:00:00Z"))
	october := &learningv1alpha1.ProgramReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "community-equity-2026-10", Generation: 1,
		Labels: map[string]string{LatestReportLabel: "true"}},
		Spec: learningv1alpha1.ProgramReportSpec{Program: learningv1alpha1.ProgramReference{Kind: "CommunityOfPractice", Name: "equity"}, Period: "2026-10"}}
	d := Decide(Snapshot{Now: instant("2026-11-22T12:00:00Z"), Community: c, Reports: []*learningv1alpha1.ProgramReport{october}})
	want := []string{"+community-equity-2026-q4 latest", "community-equity-2026-10 frozen"}
	if got := writes(d); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("writes %q, want %q", got, want)
	}
	if got := d.Outcome(Facts{}).Reports["community-equity-2026-10"]; got.Phase != learningv1alpha1.ReportFrozen || got.Until != "2026-10-31" {
		t.Errorf("October is %s until %s", got.Phase, got.Until)
	}
}

// TestReportNameHeldByAnotherProgram: a report the operator would create is already
// held by an object about another program; the operator leaves it alone.
func TestReportNameHeldByAnotherProgram(t *testing.T) {
	c := community(role("Member", 0, 10))
	c.Spec.Reporting = reporting()
	c.CreationTimestamp = metav1.NewTime(instant("2026-11-02T00:00:00Z"))
	squatter := &learningv1alpha1.ProgramReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "community-equity-2026-11", Generation: 1},
		Spec: learningv1alpha1.ProgramReportSpec{Program: learningv1alpha1.ProgramReference{Kind: "CommunityOfPractice", Name: "other"}, Period: "2026-11"}}
	d := Decide(Snapshot{Now: instant("2026-11-22T12:00:00Z"), Community: c, Reports: []*learningv1alpha1.ProgramReport{squatter}})
	if got := writes(d); len(got) != 0 {
		t.Errorf("writes %q over another program's report", got)
	}
	if _, ok := d.Outcome(Facts{}).Reports[squatter.Name]; ok {
		t.Error("the other program's report got a status")
	}
}

// TestReportSizeIsBounded: the largest report the API admits (24 KPIs, each with
// an amendment, four narrative sections of 4,000 four-byte characters) stays far
// below the API server's object size limit (1.5 MiB), whatever the size of its
// cohorts: a report holds aggregates only.
func TestReportSizeIsBounded(t *testing.T) {
	v := int64(100000)
	r := &learningv1alpha1.ProgramReport{
		ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("r", 253), Namespace: strings.Repeat("n", 63)},
		Spec: learningv1alpha1.ProgramReportSpec{
			Program: learningv1alpha1.ProgramReference{Kind: "CommunityOfPractice", Name: learningv1alpha1.ObjectName(strings.Repeat("c", 253))},
			Period:  "2026-11",
			Figures: &learningv1alpha1.FrozenFigures{FrozenAt: metav1.Now()},
			Narrative: &learningv1alpha1.ReportNarrative{Successes: strings.Repeat("𝄞", 4000), Challenges: strings.Repeat("𝄞", 4000),
				BestPractices: strings.Repeat("𝄞", 4000), NextSteps: strings.Repeat("𝄞", 4000)},
		},
	}
	for i := range 24 {
		k := learningv1alpha1.KPIResult{Name: "GatheringsHeld", Qualifier: fmt.Sprintf("%063d", i), Target: v, Direction: "AtLeast", Verdict: "Below", Value: &v, Change: &v}
		r.Spec.Figures.KPIs = append(r.Spec.Figures.KPIs, k)
		r.Status.KPIs = append(r.Status.KPIs, k)
		r.Status.Amendments = append(r.Status.Amendments, learningv1alpha1.KPIAmendment{Name: k.Name, Qualifier: k.Qualifier, Frozen: &v, Current: &v})
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 100<<10 {
		t.Errorf("the largest report is %d bytes, want at most 100 KiB", len(data))
	}
	t.Logf("the largest report is %d bytes", len(data))
}
