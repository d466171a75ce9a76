package program

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// Labels of a ProgramReport, so that reports can be selected across namespaces.
const (
	// ReportProgramKindLabel is the kind of the report's program.
	ReportProgramKindLabel = "learning.cohort.dev/program-kind"
	// ReportProgramLabel is the program's name, shortened by the naming rule when
	// longer than a label value may be (names.CohortLabel).
	ReportProgramLabel = "learning.cohort.dev/program"
	// ReportPeriodLabel is the report's period (2026-11, 2026-q4, run).
	ReportPeriodLabel = "learning.cohort.dev/period"
	// LatestReportLabel is "true" on the report of a program's newest period.
	LatestReportLabel = "learning.cohort.dev/latest"
)

// reportHistory is how many periods before the current one a program's reports
// reach back when they are first created (for a program whose cohorts began before
// it reported): a year of months, three years of quarters.
const reportHistory = 12

// ReportName is the name of a program's report for a period:
// "community-allyship-2026-11", "cohort-oe-2026-2026-q4", "cohort-oe-2026-run".
func ReportName(kind learningv1alpha1.ProgramKind, program, period string) string {
	prefix := "community-"
	if kind == learningv1alpha1.CohortProgram {
		prefix = "cohort-"
	}
	return names.Derive(prefix+program, period, names.ObjectLimit)
}

// ReportWrite is a ProgramReport the decision creates or changes.
type ReportWrite struct {
	// Report is the report as it should be: its name, labels, spec.program and
	// spec.period, and spec.figures when it freezes in this pass.
	Report *learningv1alpha1.ProgramReport
	// Existing is the report the snapshot holds; nil when it is to be created.
	Existing *learningv1alpha1.ProgramReport
}

// reporter is one program that reports: a community, a standalone cohort, or a
// cohort's run.
type reporter struct {
	kind   learningv1alpha1.ProgramKind
	name   string
	policy *learningv1alpha1.ReportingPolicy
	loc    *time.Location
	// since is the earliest instant the program's reports reach back to.
	since time.Time
	// run is the cohort of a run report; nil for periodic reports.
	run *cohortView
}

// wantedReport is one report a reporter keeps.
type wantedReport struct {
	reporter *reporter
	period   rules.Period
	name     string
	// periodName is the period as spec.period holds it.
	periodName string
	latest     bool
}

// reporters are the programs of the unit that report.
func (u *unit) reporters() []*reporter {
	var out []*reporter
	earliest := func(created time.Time, cohorts []*cohortView) time.Time {
		since := cmp.Or(created, u.now)
		for _, cv := range cohorts {
			if !cv.term.Start.IsZero() && cv.term.Start.Before(since) {
				since = cv.term.Start
			}
		}
		return since
	}
	var runPolicy *learningv1alpha1.ReportingPolicy
	runLoc := time.UTC
	if c := u.community; c != nil && c.Spec.Reporting != nil {
		loc, err := reportLocation(c.Spec.Reporting, time.UTC)
		if err == nil {
			out = append(out, &reporter{kind: learningv1alpha1.CommunityProgram, name: c.Name, policy: c.Spec.Reporting, loc: loc,
				since: earliest(c.CreationTimestamp.Time, u.cohorts)})
			runPolicy, runLoc = c.Spec.Reporting, loc
		}
	}
	for _, cv := range u.cohorts {
		policy, loc := runPolicy, runLoc
		if cv.obj.Spec.CommunityRef == nil && cv.obj.Spec.Reporting != nil {
			var err error
			if loc, err = reportLocation(cv.obj.Spec.Reporting, cv.loc); err != nil {
				continue
			}
			policy = cv.obj.Spec.Reporting
			out = append(out, &reporter{kind: learningv1alpha1.CohortProgram, name: cv.obj.Name, policy: policy, loc: loc,
				since: earliest(cv.obj.CreationTimestamp.Time, []*cohortView{cv})})
		}
		// A cohort's run is reported once it has begun: its state figures follow it
		// until it ends.
		if policy != nil && !cv.term.Start.IsZero() && !u.now.Before(cv.term.Start) {
			out = append(out, &reporter{kind: learningv1alpha1.CohortProgram, name: cv.obj.Name, policy: policy, loc: loc, run: cv})
		}
	}
	return out
}

// reportLocation is the time zone of a reporting policy; fallback when it names none.
func reportLocation(p *learningv1alpha1.ReportingPolicy, fallback *time.Location) (*time.Location, error) {
	if p.TimeZone == "" {
		if fallback == nil {
			return time.UTC, nil
		}
		return fallback, nil
	}
	return calendar.LoadLocation(string(p.TimeZone))
}

// wanted are the reports a reporter keeps: one per period from the one its program
// began in (at most reportHistory back) to the current one, or its run's.
func (r *reporter) wanted(now time.Time) []wantedReport {
	if r.run != nil {
		p := rules.Period{Start: r.run.term.Start, End: r.run.term.End}
		return []wantedReport{{reporter: r, period: p, periodName: learningv1alpha1.RunPeriod,
			name: ReportName(r.kind, r.name, learningv1alpha1.RunPeriod)}}
	}
	current, err := rules.PeriodAt(rules.Cadence(cmp.Or(r.policy.Cadence, learningv1alpha1.MonthlyReports)), now, r.loc)
	if err != nil {
		return nil
	}
	first := current
	for range reportHistory {
		if !first.Start.After(r.since) {
			break
		}
		first = first.Previous()
	}
	var out []wantedReport
	for p := first; !p.Start.After(current.Start); p = p.Next() {
		out = append(out, wantedReport{reporter: r, period: p, periodName: p.Name(), name: ReportName(r.kind, r.name, p.Name())})
	}
	out[len(out)-1].latest = true
	return out
}

// decideReports decides every report of the unit: the ones to create, label or freeze
// (d.Reports) and the status of each the snapshot holds (d.out.Reports).
func (d *Decision) decideReports(existing []*learningv1alpha1.ProgramReport) {
	u := d.u
	byName := make(map[string]*learningv1alpha1.ProgramReport, len(existing))
	for _, r := range existing {
		byName[r.Name] = r
	}
	d.out.Reports = map[string]learningv1alpha1.ProgramReportStatus{}
	u.keptReports = map[learningv1alpha1.ProgramReference][]string{}
	for _, r := range u.reporters() {
		ref := learningv1alpha1.ProgramReference{Kind: r.kind, Name: learningv1alpha1.ObjectName(r.name)}
		// previous are the KPIs of the period before, as reported: frozen, so far, or
		// decided in this pass for a report created with it.
		var previous []learningv1alpha1.KPIResult
		decided := map[string]bool{}
		for _, w := range r.wanted(u.now) {
			have := byName[w.name]
			decided[w.name] = true
			if have != nil && (have.Spec.Program != ref || have.Spec.Period != w.periodName) {
				previous = nil
				continue // the name holds another report: not the operator's to change
			}
			u.keptReports[ref] = append(u.keptReports[ref], w.name)
			previous = d.decideReport(w, have, previous)
		}
		if r.run != nil {
			continue
		}
		// The program's other periodic reports (of another cadence, before the policy
		// changed, or older than the history created) still freeze on time and lose
		// the latest label.
		for _, have := range existing {
			if have.Spec.Program != ref || have.Spec.Period == learningv1alpha1.RunPeriod || decided[have.Name] {
				continue
			}
			p, err := rules.ParsePeriod(have.Spec.Period, r.loc)
			if err != nil || have.Name != ReportName(r.kind, r.name, have.Spec.Period) {
				continue
			}
			d.decideReport(wantedReport{reporter: r, period: p, name: have.Name, periodName: have.Spec.Period}, have, nil)
		}
	}
	d.out.Next = u.next
}

// decideReport decides one report: its figures so far, or its frozen ones and what
// the records would now give differently. It returns the KPIs it reports.
func (d *Decision) decideReport(w wantedReport, have *learningv1alpha1.ProgramReport, previous []learningv1alpha1.KPIResult) []learningv1alpha1.KPIResult {
	u, r, p := d.u, w.reporter, w.period
	freezesAt := p.FreezesAt(int(r.policy.GraceDays))
	status := learningv1alpha1.ProgramReportStatus{
		Phase:     learningv1alpha1.ReportOpen,
		From:      learningv1alpha1.Date(p.Start.In(r.loc).Format(time.DateOnly)),
		Until:     learningv1alpha1.Date(p.End.In(r.loc).AddDate(0, 0, -1).Format(time.DateOnly)),
		FreezesAt: &metav1.Time{Time: freezesAt},
	}
	if have != nil {
		status.ObservedGeneration = have.Generation
		status.Conditions = slices.Clone(have.Status.Conditions)
	}
	live := d.figures(p, r.run)
	want := &learningv1alpha1.ProgramReport{
		ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: d.namespace(), Labels: reportLabels(w, have)},
		Spec: learningv1alpha1.ProgramReportSpec{
			Program: learningv1alpha1.ProgramReference{Kind: r.kind, Name: learningv1alpha1.ObjectName(r.name)},
			Period:  w.periodName,
		},
	}
	freezing := false
	switch {
	case have != nil && have.Spec.Figures != nil:
		status.Phase = learningv1alpha1.ReportFrozen
		status.KPIs = have.Spec.Figures.KPIs
		status.Amendments = amendments(have.Spec.Figures.KPIs, live)
	default:
		status.KPIs = judgeReport(r.policy.KPIs, live, have, previous, !u.now.Before(p.End))
		if u.now.Before(freezesAt) {
			u.observeBoundary(p.End)
			u.observeBoundary(freezesAt)
			break
		}
		freezing = true
		status.Phase = learningv1alpha1.ReportFrozen
		want.Spec.Figures = &learningv1alpha1.FrozenFigures{FrozenAt: metav1.Time{Time: u.now}, KPIs: status.KPIs}
	}
	if status.Phase == learningv1alpha1.ReportFrozen {
		figures := want.Spec.Figures
		if figures == nil {
			figures = have.Spec.Figures
		}
		var narrative *learningv1alpha1.ReportNarrative
		if have != nil {
			narrative = have.Spec.Narrative
		}
		status.ContentHash = ReportContentHash(figures, narrative)
	}
	if have != nil {
		conds := conditions{list: &status.Conditions, generation: have.Generation, now: u.stamp()}
		if status.Phase == learningv1alpha1.ReportFrozen {
			conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "frozen: the figures are in spec.figures")
		} else {
			conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason,
				"open: the figures follow the records until %s", freezesAt.UTC().Format(time.RFC3339))
		}
		setReportApproved(conds, have, &status, u.policyMissing)
	}
	for _, k := range status.KPIs {
		switch k.Verdict {
		case learningv1alpha1.KPIVerdict(rules.Met):
			status.Met++
		case learningv1alpha1.KPIVerdict(rules.Below):
			status.Below++
		}
	}
	if have == nil || freezing || !maps.Equal(have.Labels, want.Labels) {
		if have != nil {
			want.Spec.Narrative = have.Spec.Narrative
		}
		d.Reports = append(d.Reports, ReportWrite{Report: want, Existing: have})
	}
	if have != nil {
		d.out.Reports[w.name] = status
	}
	return status.KPIs
}

// namespace is the unit's namespace.
func (d *Decision) namespace() string {
	if c := d.u.community; c != nil {
		return c.Namespace
	}
	for _, cv := range d.u.cohorts {
		return cv.obj.Namespace
	}
	return ""
}

// reportLabels are the labels a report should carry: its own, with the operator's
// set (and latest removed from all but the newest period's).
func reportLabels(w wantedReport, have *learningv1alpha1.ProgramReport) map[string]string {
	labels := map[string]string{}
	if have != nil {
		maps.Copy(labels, have.Labels)
	}
	labels[ReportProgramKindLabel] = string(w.reporter.kind)
	labels[ReportProgramLabel] = names.CohortLabel(w.reporter.name)
	labels[ReportPeriodLabel] = w.periodName
	if w.latest {
		labels[LatestReportLabel] = "true"
	} else {
		delete(labels, LatestReportLabel)
	}
	return labels
}

// judgeReport judges the policy's KPIs for a period. Flow figures come from the
// records; state figures too while the period is open, and after it closes from the
// report's last status (what they were before the close), or NoData when the report
// never had them: the records cannot tell what a past period's seats were.
func judgeReport(targets []learningv1alpha1.KPITarget, live map[rules.FigureKey]rules.Measure, have *learningv1alpha1.ProgramReport, previous []learningv1alpha1.KPIResult, closed bool) []learningv1alpha1.KPIResult {
	before := reportedValues(previous)
	out := make([]learningv1alpha1.KPIResult, 0, len(targets))
	for _, t := range targets {
		key := rules.FigureKey{KPI: rules.KPI(t.Name), Qualifier: t.Qualifier}
		m, ok := live[key]
		if !ok && key.Qualifier != "" {
			m = rules.Measure{Known: true} // no seat of that role, no event of that type
		}
		if closed && key.KPI.State() {
			m = rules.Measure{}
			if have != nil {
				if i := slices.IndexFunc(have.Status.KPIs, func(k learningv1alpha1.KPIResult) bool { return k.Name == t.Name && k.Qualifier == t.Qualifier }); i >= 0 {
					m = measureOf(have.Status.KPIs[i])
				}
			}
		}
		var prev *rules.Measure
		if v, ok := before[key]; ok {
			prev = &rules.Measure{Value: v, Known: true}
		}
		j := rules.JudgeKPI(m, t.Target, rules.Direction(t.Direction), prev)
		out = append(out, learningv1alpha1.KPIResult{Name: t.Name, Qualifier: t.Qualifier, Target: t.Target, Direction: t.Direction,
			Verdict: learningv1alpha1.KPIVerdict(j.Verdict), Value: j.Value, Change: j.Change})
	}
	return out
}

// measureOf is a reported result as a measure, so that it is judged again (its
// target may have changed) with its verdict kept when it had no figure.
func measureOf(k learningv1alpha1.KPIResult) rules.Measure {
	switch {
	case k.Value != nil:
		return rules.Measure{Value: *k.Value, Known: true}
	case k.Verdict == learningv1alpha1.KPIVerdict(rules.Suppressed):
		return rules.Measure{Known: true, Population: 1}
	}
	return rules.Measure{}
}

// reportedValues are the figures of reported KPIs, by KPI and qualifier.
func reportedValues(kpis []learningv1alpha1.KPIResult) map[rules.FigureKey]int64 {
	out := map[rules.FigureKey]int64{}
	for _, k := range kpis {
		if k.Value != nil {
			out[rules.FigureKey{KPI: rules.KPI(k.Name), Qualifier: k.Qualifier}] = *k.Value
		}
	}
	return out
}

// amendments are the frozen flow figures the records now give differently.
func amendments(frozen []learningv1alpha1.KPIResult, live map[rules.FigureKey]rules.Measure) []learningv1alpha1.KPIAmendment {
	var out []learningv1alpha1.KPIAmendment
	for _, k := range frozen {
		key := rules.FigureKey{KPI: rules.KPI(k.Name), Qualifier: k.Qualifier}
		if key.KPI.State() {
			continue
		}
		m, ok := live[key]
		if !ok && key.Qualifier != "" {
			m = rules.Measure{Known: true}
		}
		now := rules.JudgeKPI(m, k.Target, rules.Direction(k.Direction), nil).Value
		if (now == nil) != (k.Value == nil) || (now != nil && *now != *k.Value) {
			out = append(out, learningv1alpha1.KPIAmendment{Name: k.Name, Qualifier: k.Qualifier, Frozen: k.Value, Current: now})
		}
	}
	return out
}

// ReportContentHash is the hash an approver of a report signs off: its frozen figures
// and its narrative.
//
// Canonical form v1: the JSON object {"frozenAt","kpis","narrative"} as Go's
// encoding/json writes the API's types (frozenAt in RFC 3339, each KPI's fields in
// their declared order, empty ones left out; the narrative's four sections, empty ones
// left out, or null), its SHA-256 in lower-case hex, written "v1:sha256:<hex>".
func ReportContentHash(figures *learningv1alpha1.FrozenFigures, narrative *learningv1alpha1.ReportNarrative) string {
	content := struct {
		FrozenAt  string                            `json:"frozenAt"`
		KPIs      []learningv1alpha1.KPIResult      `json:"kpis"`
		Narrative *learningv1alpha1.ReportNarrative `json:"narrative"`
	}{Narrative: narrative}
	if figures != nil {
		content.FrozenAt = figures.FrozenAt.UTC().Format(time.RFC3339)
		content.KPIs = figures.KPIs
	}
	data, _ := json.Marshal(content) //nolint:errchkjson // the API's types always marshal
	sum := sha256.Sum256(data)
	return ContentHashVersion + ":sha256:" + hex.EncodeToString(sum[:])
}

// setReportApproved: a report is approved once frozen, while spec.approval carries the
// hash of its current figures and narrative and approvals are trusted.
func setReportApproved(conds conditions, r *learningv1alpha1.ProgramReport, status *learningv1alpha1.ProgramReportStatus, policyMissing string) {
	a := r.Spec.Approval
	switch {
	case status.Phase != learningv1alpha1.ReportFrozen:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.NotFrozenReason,
			"the report is open until %s; approvers approve its frozen figures", status.FreezesAt.UTC().Format(time.RFC3339))
	case a == nil:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason,
			"an approver must set spec.approval with contentHash %s", status.ContentHash)
	case a.ContentHash != status.ContentHash:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.ContentChangedReason,
			"approved by %s for other content; the current contentHash is %s", a.Approver, status.ContentHash)
	case policyMissing != "":
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.PolicyMissingReason,
			"approved by %s, but approvals are not trusted: %s", a.Approver, policyMissing)
	default:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionTrue, learningv1alpha1.ApprovedReason, "approved by %s", a.Approver)
	}
}

// PublishedReport is a ProgramReport as it is published (publish.RenderReportMarkdown,
// RenderReportCSV): its frozen figures once Frozen, its figures so far before, and
// who approved it while it is Approved. title is its program's display name.
func PublishedReport(r *learningv1alpha1.ProgramReport, title string) publish.Report {
	out := publish.Report{
		Unit:   string(r.Spec.Program.Kind) + " " + string(r.Spec.Program.Name),
		Title:  cmp.Or(title, string(r.Spec.Program.Name)),
		Period: r.Spec.Period,
		From:   string(r.Status.From),
		Until:  string(r.Status.Until),
		Phase:  string(cmp.Or(r.Status.Phase, learningv1alpha1.ReportOpen)),
		KPIs:   []publish.ReportKPI{},
	}
	kpis := r.Status.KPIs
	if r.Spec.Figures != nil {
		kpis = r.Spec.Figures.KPIs
		out.Phase = string(learningv1alpha1.ReportFrozen)
	}
	if c := apimeta.FindStatusCondition(r.Status.Conditions, learningv1alpha1.ApprovedCondition); c != nil && c.Status == metav1.ConditionTrue &&
		c.ObservedGeneration == r.Generation && r.Spec.Approval != nil {
		out.ApprovedBy = r.Spec.Approval.Approver
	}
	for _, k := range kpis {
		out.KPIs = append(out.KPIs, publish.ReportKPI{Name: string(k.Name), Qualifier: k.Qualifier, Direction: string(k.Direction), Target: k.Target,
			Unit: rules.KPI(k.Name).Unit(), Verdict: string(k.Verdict), Value: k.Value, Change: k.Change})
	}
	if n := r.Spec.Narrative; n != nil {
		out.Narrative = publish.ReportNarrative{Successes: n.Successes, Challenges: n.Challenges, BestPractices: n.BestPractices, NextSteps: n.NextSteps}
	}
	return out
}

// cohortPrograms are the programs whose reports concern a cohort: its community (or,
// standalone, itself) and its run.
func (u *unit) cohortPrograms(cv *cohortView) []learningv1alpha1.ProgramReference {
	var programs []learningv1alpha1.ProgramReference
	if c := u.community; c != nil && cv.obj.Spec.CommunityRef != nil {
		programs = append(programs, learningv1alpha1.ProgramReference{Kind: learningv1alpha1.CommunityProgram, Name: learningv1alpha1.ObjectName(c.Name)})
	}
	return append(programs, learningv1alpha1.ProgramReference{Kind: learningv1alpha1.CohortProgram, Name: learningv1alpha1.ObjectName(cv.obj.Name)})
}

// reportNames are the names of the reports the policies of the cohort's programs
// keep (Decision.decideReports), whether or not they exist yet: what its leads may
// write the narrative of. They follow from the specs alone, so a cohort's Edit Role
// does not depend on the reports history left behind.
func (u *unit) reportNames(cv *cohortView) []string {
	var out []string
	for _, p := range u.cohortPrograms(cv) {
		out = append(out, u.keptReports[p]...)
	}
	slices.Sort(out)
	return out
}

// approvedReports are the reports a cohort's documents publish: the approved reports
// of its community (or, standalone, its own) and of its run, as approved in this
// pass, newest period first (a run after the periods it spans), at most
// publish.ReportLimit.
func (u *unit) approvedReports(cv *cohortView, out *Outcome) []publish.Report {
	programs := u.cohortPrograms(cv)
	var approved []*learningv1alpha1.ProgramReport
	for _, r := range u.reports {
		status, ok := out.Reports[r.Name]
		if !ok || !slices.Contains(programs, r.Spec.Program) || !apimeta.IsStatusConditionTrue(status.Conditions, learningv1alpha1.ApprovedCondition) {
			continue
		}
		decided := *r
		decided.Status = status
		approved = append(approved, &decided)
	}
	slices.SortFunc(approved, func(a, b *learningv1alpha1.ProgramReport) int {
		return cmp.Or(cmp.Compare(b.Status.Until, a.Status.Until), cmp.Compare(a.Spec.Period, b.Spec.Period))
	})
	title := cmp.Or(cv.obj.Spec.DisplayName, cv.obj.Name)
	if c := u.community; c != nil && cv.obj.Spec.CommunityRef != nil {
		title = cmp.Or(c.Spec.DisplayName, c.Name)
	}
	var published []publish.Report
	for _, r := range approved[:min(len(approved), publish.ReportLimit)] {
		t := title
		if r.Spec.Period == learningv1alpha1.RunPeriod {
			t = cmp.Or(cv.obj.Spec.DisplayName, cv.obj.Name)
		}
		published = append(published, PublishedReport(r, t))
	}
	return published
}
