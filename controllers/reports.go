package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/program"
)

// writeReports creates the ProgramReports the decision opens, moves the latest label,
// and writes the figures of the reports that freeze, once, into spec.figures. An
// existing report is patched with the resourceVersion it was decided from, so figures
// are never frozen from a stale read, and takes the place of the cached copy in snap,
// so that its status is written over the version just written. A failed write is
// reported in the facts: the report keeps its status (Open) and the unit is retried.
func (r *ProgramReconciler) writeReports(ctx context.Context, key unitKey, snap *program.Snapshot, decision *program.Decision, facts *program.Facts) error {
	var errs []error
	for _, w := range decision.Reports {
		var err error
		if w.Existing == nil {
			if err = r.Client.Create(ctx, w.Report); err == nil {
				r.lag.wrote(key, w.Report, "")
			}
		} else {
			next := w.Existing.DeepCopy()
			next.Labels = w.Report.Labels
			if w.Report.Spec.Figures != nil {
				next.Spec.Figures = w.Report.Spec.Figures
			}
			if err = r.Client.Patch(ctx, next, client.MergeFromWithOptions(w.Existing, client.MergeFromWithOptimisticLock{})); err == nil {
				r.lag.wrote(key, next, w.Existing.GetResourceVersion())
				if i := slices.Index(snap.Reports, w.Existing); i >= 0 {
					next.Status = w.Existing.Status
					snap.Reports[i] = next
				}
			}
		}
		if err != nil {
			err = fmt.Errorf("writing ProgramReport %s/%s: %w", w.Report.Namespace, w.Report.Name, err)
			if facts.ReportFailures == nil {
				facts.ReportFailures = map[string]error{}
			}
			facts.ReportFailures[w.Report.Name] = err
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
