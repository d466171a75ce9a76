package program

import (
	"slices"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// PeriodFigures are the unit's figures for one reporting period, as decided: what
// happened in the period (up to the decision's clock) and the unit as it stands. Only
// aggregates: no figure names a person, and rules.JudgeKPI suppresses those over fewer
// than rules.MinPopulation people.
func (d *Decision) PeriodFigures(p rules.Period) map[rules.FigureKey]rules.Measure {
	return d.figures(p, nil)
}

// figures are PeriodFigures over the whole unit, or over one cohort when only is not
// nil (a report on the cohort's run).
func (d *Decision) figures(p rules.Period, only *cohortView) map[rules.FigureKey]rules.Measure {
	u, out := d.u, d.out
	inScope := func(cohorts ...*cohortView) bool {
		return only == nil || slices.Contains(cohorts, only)
	}
	figures := map[rules.FigureKey]rules.Measure{}
	count := func(kpi rules.KPI, qualifier string, n int) {
		key := rules.FigureKey{KPI: kpi, Qualifier: qualifier}
		m := figures[key]
		m.Value += int64(n)
		m.Known = true
		figures[key] = m
	}

	// State: seats, waitlist and organizations.
	count(rules.SeatsFilled, "", 0)
	count(rules.WaitlistLength, "", 0)
	count(rules.Withdrawals, "", 0)
	organizations := map[string]bool{}
	for _, m := range u.members {
		if m.cohort == nil || !inScope(m.cohort) {
			continue
		}
		if seated := apimeta.FindStatusCondition(out.Memberships[m.obj.Name].Conditions, learningv1alpha1.SeatedCondition); m.obj.Spec.Withdrawn && !m.seatedSince.IsZero() &&
			seated != nil && seated.Reason == learningv1alpha1.WithdrawnReason && p.Contains(seated.LastTransitionTime.Time) {
			count(rules.Withdrawals, "", 1) // left a seat in the period
		}
		switch {
		case m.seated:
			count(rules.SeatsFilled, "", 1)
			count(rules.SeatsFilled, string(m.obj.Spec.Role), 1)
			if org := string(m.obj.Spec.Organization); org != "" {
				organizations[org] = true
			}
		case m.position > 0:
			count(rules.WaitlistLength, "", 1)
		}
	}
	count(rules.Organizations, "", len(organizations))

	// Flow: gatherings held and attendance at them.
	members := make(map[string]*memberView, len(u.members))
	for _, m := range u.members {
		members[m.obj.Name] = m
	}
	count(rules.GatheringsHeld, "", 0)
	var expected, attended float64
	present := map[string]bool{}
	for _, e := range u.events {
		end := e.record.End
		if e.record.Cancelled || !p.Contains(end) || end.After(u.now) || !inScope(e.cohorts...) {
			continue
		}
		count(rules.GatheringsHeld, "", 1)
		count(rules.GatheringsHeld, string(e.obj.Spec.Type), 1)
		if !e.record.Counts {
			continue
		}
		for name, status := range e.record.Status {
			m := members[name]
			if m == nil || m.cohort == nil || !slices.Contains(e.cohorts, m.cohort) || !inScope(m.cohort) {
				continue // reported on the event; not a member of the cohorts it counts for
			}
			switch status {
			case learningv1alpha1.AttendancePresent:
				attended++
			case learningv1alpha1.AttendanceLate:
				attended += float64(m.cohort.policy.Attendance.LateWeightPercent) / 100
			case learningv1alpha1.AttendanceAbsent:
			default:
				continue // Excused
			}
			expected++
			present[name] = true
		}
	}
	if expected > 0 {
		figures[rules.FigureKey{KPI: rules.AttendanceRate}] = rules.Measure{Value: int64(attended * 100 / expected), Population: len(present), Known: true}
	}

	// Flow: external events approved in the period, and how long approval took.
	count(rules.ExternalEventsApproved, "", 0)
	var hours []int64
	for _, e := range u.events {
		if e.obj.Spec.Audience != learningv1alpha1.ExternalAudience || !inScope(e.cohorts...) {
			continue
		}
		approved := apimeta.FindStatusCondition(out.Events[e.obj.Name].Conditions, learningv1alpha1.ApprovedCondition)
		if approved == nil || approved.Status != metav1.ConditionTrue || !p.Contains(approved.LastTransitionTime.Time) {
			continue
		}
		count(rules.ExternalEventsApproved, "", 1)
		hours = append(hours, int64(approved.LastTransitionTime.Sub(e.obj.CreationTimestamp.Time)/time.Hour))
	}
	if len(hours) > 0 {
		slices.Sort(hours)
		figures[rules.FigureKey{KPI: rules.ApprovalHours}] = rules.Measure{Value: hours[(len(hours)-1)/2], Known: true}
	}

	// State: plans current and actions done.
	var plans, current, actions, done int
	for _, pv := range u.plans {
		if pv.cohort == nil || !inScope(pv.cohort) {
			continue
		}
		plans++
		if pv.current == learningv1alpha1.PlanCurrentReason {
			current++
		}
		actions += int(pv.counts.Total)
		done += int(pv.counts.Done)
	}
	if plans > 0 {
		figures[rules.FigureKey{KPI: rules.PlansCurrent}] = rules.Measure{Value: int64(current * 100 / plans), Population: plans, Known: true}
	}
	if actions > 0 {
		figures[rules.FigureKey{KPI: rules.ActionsDone}] = rules.Measure{Value: int64(done * 100 / actions), Population: plans, Known: true}
	}
	return figures
}
