package publish

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
)

// Report is a program's report for one period as it is published: aggregates only, so
// it names no member and holds no one's attendance.
type Report struct {
	// Unit is the program: "CommunityOfPractice allyship" or "Cohort oe-2026".
	Unit string `json:"unit"`
	// Title is the program's display name.
	Title string `json:"title"`
	// Period is the period's name (2026-11, 2026-q4); From and Until its first and
	// last local days.
	Period string `json:"period"`
	From   string `json:"from"`
	Until  string `json:"until"`
	// Phase is Open or Frozen.
	Phase string `json:"phase"`
	// ApprovedBy is who approved it; empty while it is not approved.
	ApprovedBy string `json:"approvedBy,omitempty"`
	// KPIs are the program's figures in the order its policy lists them.
	KPIs []ReportKPI `json:"kpis"`
	// Narrative is what the program's leads wrote.
	Narrative ReportNarrative `json:"narrative"`
}

// ReportKPI is one figure of a report, judged against its target.
type ReportKPI struct {
	// Name is the KPI, Qualifier its role or event type ("" for the whole program).
	Name      string `json:"name"`
	Qualifier string `json:"qualifier,omitempty"`
	// Direction is AtLeast or AtMost; Target the figure to meet.
	Direction string `json:"direction"`
	Target    int64  `json:"target"`
	// Unit is "%", "hours" or "" (a count).
	Unit string `json:"unit,omitempty"`
	// Verdict is Met, Below, NoData or Suppressed; Value is set for Met and Below.
	Verdict string `json:"verdict"`
	Value   *int64 `json:"value,omitempty"`
	// Change is the change from the previous period, when both were reported.
	Change *int64 `json:"change,omitempty"`
}

// ReportNarrative is the leads' account of the period.
type ReportNarrative struct {
	Successes     string `json:"successes,omitempty"`
	Challenges    string `json:"challenges,omitempty"`
	BestPractices string `json:"bestPractices,omitempty"`
	NextSteps     string `json:"nextSteps,omitempty"`
}

// Label is the KPI as a reader names it: "SeatsFilled (Co-lead)".
func (k ReportKPI) Label() string {
	if k.Qualifier == "" {
		return k.Name
	}
	return k.Name + " (" + k.Qualifier + ")"
}

// amount formats a figure in the KPI's unit.
func (k ReportKPI) amount(v int64) string {
	switch k.Unit {
	case "%":
		return strconv.FormatInt(v, 10) + "%"
	case "":
		return strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10) + " " + k.Unit
}

// TargetText says what meets the KPI: "at least 80%".
func (k ReportKPI) TargetText() string {
	if k.Direction == "AtMost" {
		return "at most " + k.amount(k.Target)
	}
	return "at least " + k.amount(k.Target)
}

// Figure is the figure as a reader sees it: with its unit, "suppressed (fewer than 5
// people)" or "no data".
func (k ReportKPI) Figure() string {
	switch {
	case k.Value != nil:
		return k.amount(*k.Value)
	case k.Verdict == "Suppressed":
		return "suppressed (fewer than 5 people)"
	}
	return "no data"
}

// ChangeText is the change from the previous period with its sign, or "".
func (k ReportKPI) ChangeText() string {
	if k.Change == nil {
		return ""
	}
	sign := "+"
	if *k.Change < 0 {
		sign = "-"
	}
	v := *k.Change
	if v < 0 {
		v = -v
	}
	return sign + k.amount(v)
}

// markdownText escapes text that a person wrote so that a Markdown renderer shows it
// as text: no HTML, no table breaks, no headings of its own.
func markdownText(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|", "\r", "")
	lines := strings.Split(r.Replace(s), "\n")
	for i, line := range lines {
		if trimmed := strings.TrimLeft(line, " "); strings.HasPrefix(trimmed, "#") {
			lines[i] = strings.Replace(line, "#", "\\#", 1)
		}
	}
	return strings.Join(lines, "\n")
}

// RenderReportMarkdown renders the report for people: a heading, the KPIs as a table
// and the narrative.
func RenderReportMarkdown(r Report) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s: report for %s\n\n", markdownText(r.Title), r.Period)
	fmt.Fprintf(&b, "%s, %s to %s. ", r.Unit, r.From, r.Until)
	switch {
	case r.ApprovedBy != "":
		fmt.Fprintf(&b, "Approved by %s.\n\n", markdownText(r.ApprovedBy))
	case r.Phase == "Frozen":
		b.WriteString("Final figures, awaiting approval.\n\n")
	default:
		b.WriteString("The period is open: the figures follow the records until it is frozen.\n\n")
	}
	met, below := 0, 0
	for _, k := range r.KPIs {
		switch k.Verdict {
		case "Met":
			met++
		case "Below":
			below++
		}
	}
	fmt.Fprintf(&b, "## Key figures\n\n%d met, %d below target, %d without a figure.\n\n", met, below, len(r.KPIs)-met-below)
	if len(r.KPIs) > 0 {
		b.WriteString("| KPI | Target | Figure | Verdict | Change |\n| --- | --- | --- | --- | --- |\n")
		for _, k := range r.KPIs {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", markdownText(k.Label()), k.TargetText(), k.Figure(), k.Verdict, k.ChangeText())
		}
		b.WriteString("\n")
	}
	for _, section := range []struct{ title, text string }{
		{"Successes", r.Narrative.Successes},
		{"Challenges", r.Narrative.Challenges},
		{"Best practices", r.Narrative.BestPractices},
		{"Next steps", r.Narrative.NextSteps},
	} {
		if strings.TrimSpace(section.text) == "" {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", section.title, strings.TrimSpace(markdownText(section.text)))
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// ReportCSVHeader is the first row of a report's CSV.
var ReportCSVHeader = []string{"period", "kpi", "qualifier", "direction", "target", "unit", "verdict", "value", "change"}

// RenderReportCSV renders the report's KPIs for spreadsheets, one row each after
// ReportCSVHeader; a figure not reported is an empty cell. Text that a spreadsheet
// would run as a formula is prefixed with a quote.
func RenderReportCSV(r Report) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(ReportCSVHeader); err != nil {
		return nil, err
	}
	optional := func(v *int64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	for _, k := range r.KPIs {
		row := []string{r.Period, k.Name, cell(k.Qualifier), k.Direction, strconv.FormatInt(k.Target, 10), k.Unit, k.Verdict, optional(k.Value), optional(k.Change)}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// cell keeps a spreadsheet from reading text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
