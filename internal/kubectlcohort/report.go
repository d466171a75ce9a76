package kubectlcohort

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// Output formats of report besides json and yaml.
const (
	outputMarkdown = "md"
	outputCSV      = "csv"
)

// runReport prints a program's report for a period: its newest period's unless
// --period names one.
func runReport(ctx context.Context, s *session, name string) error {
	list := &learningv1alpha1.ProgramReportList{}
	if err := s.client.List(ctx, list, client.InNamespace(s.namespace),
		client.MatchingLabels{program.ReportProgramLabel: names.CohortLabel(name)}); err != nil {
		return fmt.Errorf("listing the reports of %s: %w", name, err)
	}
	var found []*learningv1alpha1.ProgramReport
	for i := range list.Items {
		r := &list.Items[i]
		if string(r.Spec.Program.Name) != name || (s.opts.programKind != "" && !strings.EqualFold(string(r.Spec.Program.Kind), s.opts.programKind)) {
			continue
		}
		if s.opts.period == "" && r.Labels[program.LatestReportLabel] == "true" || s.opts.period != "" && r.Spec.Period == s.opts.period {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 0 && s.opts.period != "":
		return fmt.Errorf("%s has no report for period %s in namespace %s (periods are named 2026-11, 2026-q4, or run)", name, s.opts.period, s.namespace)
	case len(found) == 0:
		return fmt.Errorf("%s has no reports in namespace %s: set spec.reporting on the community or standalone cohort", name, s.namespace)
	case len(found) > 1:
		kinds := make([]string, 0, len(found))
		for _, r := range found {
			kinds = append(kinds, string(r.Spec.Program.Kind))
		}
		slices.Sort(kinds)
		return usageError{fmt.Errorf("%s names a %s: choose one with --kind", name, strings.Join(kinds, " and a "))}
	}
	r := found[0]
	published := program.PublishedReport(r, displayName(ctx, s, r.Spec.Program))
	switch s.opts.output {
	case outputCSV:
		data, err := publish.RenderReportCSV(published)
		if err != nil {
			return err
		}
		_, err = s.out.Write(data)
		return err
	case outputJSON, outputYAML:
		return writeData(s.out, s.opts.output, published)
	}
	p := &printer{w: s.out}
	p.raw(escapeDocument(string(publish.RenderReportMarkdown(published))) + "\n")
	return p.err
}

// escapeDocument is escape for a document whose line breaks and tabs are its own
// (Markdown): every other rune that could control the terminal is escaped.
func escapeDocument(doc string) string {
	var b strings.Builder
	for _, r := range doc {
		if r != '\n' && r != '\t' && unsafeRune(r) {
			b.WriteString(escape(string(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// displayName is the program's display name, or "" when it cannot be read (it was
// deleted: its reports stay).
func displayName(ctx context.Context, s *session, ref learningv1alpha1.ProgramReference) string {
	key := client.ObjectKey{Namespace: s.namespace, Name: string(ref.Name)}
	if ref.Kind == learningv1alpha1.CommunityProgram {
		c := &learningv1alpha1.CommunityOfPractice{}
		if s.client.Get(ctx, key, c) == nil {
			return c.Spec.DisplayName
		}
		return ""
	}
	c := &learningv1alpha1.Cohort{}
	if s.client.Get(ctx, key, c) == nil {
		return c.Spec.DisplayName
	}
	return ""
}
