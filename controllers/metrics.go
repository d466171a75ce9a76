package controllers

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// Metrics served on the manager's metrics endpoint, refreshed on every evaluation of a
// unit. Labels never hold a person's name.
var (
	membersMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_members",
		Help: "Memberships of a cohort by role and phase; waiting memberships have phase Waitlisted and ineligible ones NotEligible.",
	}, []string{"namespace", "cohort", "role", "phase"})
	waitlistMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_waitlist_length",
		Help: "Memberships waiting for a seat, by cohort and role.",
	}, []string{"namespace", "cohort", "role"})
	attendanceMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_attendance_percent",
		Help: "Attendance of a cohort's seated members over ended events, in percent.",
	}, []string{"namespace", "cohort"})
	belowAttendanceMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_members_below_attendance",
		Help: "Seated memberships inside their term (Active or Expiring) whose attendance is below their policy's requiredPercent (AttendanceMet=False), by cohort. A completed cohort has none.",
	}, []string{"namespace", "cohort"})
	evaluationsMetric = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cohort_program_evaluations_total",
		Help: "Evaluations of program units (a community with its cohorts, or a standalone cohort), by namespace.",
	}, []string{"namespace"})
	approvalsPendingMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_approvals_pending",
		Help: "External events of a program (a community, or a standalone cohort) that have not ended and are not approved for their current content.",
	}, []string{"namespace", "program"})
	// A timestamp rather than a duration: the gauge is set when its unit is evaluated,
	// which may be hours apart, and time() - timestamp stays current between them.
	approvalWaitMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_approval_oldest_pending_timestamp_seconds",
		Help: "When the oldest pending approval of a program started waiting (its event's content last changed), in seconds since the Unix epoch; no series while none is pending.",
	}, []string{"namespace", "program"})
	plansMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_action_plans",
		Help: "ActionPlans of a cohort by state: Current, Overdue, Stale, or NotJudged (the owner holds no seat, or the plan names what is not of its cohort). Only cohorts with plans, or requiring them, have series.",
	}, []string{"namespace", "cohort", "state"})
	plansMissingMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_action_plans_missing",
		Help: "Plans a cohort's policy requires (policy.actionPlans.required) that do not exist, whether due yet or not.",
	}, []string{"namespace", "cohort"})
	actionsOverdueMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_actions_overdue",
		Help: "Actions of a cohort's ActionPlans that are neither Done nor Dropped after their due day.",
	}, []string{"namespace", "cohort"})
	reportKPIMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_report_kpi_value",
		Help: "A KPI's figure in its program's newest frozen ProgramReport (a percentage, a count or hours); no series when that report has none (NoData, Suppressed).",
	}, []string{"namespace", "program_kind", "program", "kpi", "qualifier"})
	reportBelowMetric = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cohort_report_kpi_below_periods",
		Help: "How many periods in a row, up to the newest frozen ProgramReport of its program, a KPI was Below its target; 0 when the newest met it or had no figure.",
	}, []string{"namespace", "program_kind", "program", "kpi", "qualifier"})
	childWritesMetric = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cohort_provisioned_object_writes_total",
		Help: "Objects provisioned for cohorts that were applied (created, or repaired after drift) or removed, by kind and operation.",
	}, []string{"kind", "operation"})
)

func init() {
	metrics.Registry.MustRegister(eventsMetric, membersMetric, waitlistMetric, attendanceMetric, belowAttendanceMetric, evaluationsMetric, childWritesMetric, approvalsPendingMetric, approvalWaitMetric,
		plansMetric, plansMissingMetric, actionsOverdueMetric, reportKPIMetric, reportBelowMetric)
}

// recordMetrics replaces the series of the unit's cohorts with the evaluated outcome.
func recordMetrics(snap program.Snapshot, out program.Outcome) {
	counts := map[string]map[[2]string]float64{}
	below := map[string]float64{}
	for _, m := range snap.Memberships {
		status, ok := out.Memberships[m.Name]
		cohort := string(m.Spec.CohortRef.Name)
		if !ok || status.Phase == "" {
			continue
		}
		phase := string(status.Phase)
		switch {
		case status.WaitlistPosition != nil:
			phase = "Waitlisted"
		case apimeta.IsStatusConditionPresentAndEqual(status.Conditions, learningv1alpha1.EligibleCondition, metav1.ConditionFalse) &&
			status.Phase != learningv1alpha1.MembershipWithdrawn && status.Phase != learningv1alpha1.MembershipExpired:
			phase = "NotEligible"
		}
		if counts[cohort] == nil {
			counts[cohort] = map[[2]string]float64{}
		}
		counts[cohort][[2]string{string(m.Spec.Role), phase}]++
		if (status.Phase == learningv1alpha1.MembershipActive || status.Phase == learningv1alpha1.MembershipExpiring) &&
			apimeta.IsStatusConditionFalse(status.Conditions, learningv1alpha1.AttendanceMetCondition) {
			below[cohort]++
		}
	}
	overdue := overdueActions(snap, out)
	for _, c := range snap.Cohorts {
		ns, name := c.Namespace, c.Name
		forgetCohortMetrics(ns, name)
		if c.DeletionTimestamp != nil {
			continue
		}
		for k, v := range counts[name] {
			membersMetric.WithLabelValues(ns, name, k[0], k[1]).Set(v)
		}
		status := out.Cohorts[name]
		for _, rs := range status.Roles {
			waitlistMetric.WithLabelValues(ns, name, string(rs.Name)).Set(float64(rs.Waitlisted))
		}
		if status.AttendancePercent != nil {
			attendanceMetric.WithLabelValues(ns, name).Set(float64(*status.AttendancePercent))
		}
		belowAttendanceMetric.WithLabelValues(ns, name).Set(below[name])
		if f := status.ActionPlans; f != nil {
			plansMetric.WithLabelValues(ns, name, learningv1alpha1.PlanCurrentReason).Set(float64(f.Current))
			plansMetric.WithLabelValues(ns, name, learningv1alpha1.PlanOverdueReason).Set(float64(f.Overdue))
			plansMetric.WithLabelValues(ns, name, learningv1alpha1.PlanStaleReason).Set(float64(f.Stale))
			plansMetric.WithLabelValues(ns, name, "NotJudged").Set(float64(f.Plans - f.Current - f.Overdue - f.Stale))
			plansMissingMetric.WithLabelValues(ns, name).Set(float64(f.Required - f.Present))
			actionsOverdueMetric.WithLabelValues(ns, name).Set(float64(overdue[name]))
		}
	}
}

// overdueActions sums the overdue actions of the unit's plans by cohort: a personal
// plan's membership's, a team workplan's own.
func overdueActions(snap program.Snapshot, out program.Outcome) map[string]int32 {
	cohortOf := make(map[string]string, len(snap.Memberships))
	for _, m := range snap.Memberships {
		cohortOf[m.Name] = string(m.Spec.CohortRef.Name)
	}
	sums := map[string]int32{}
	for _, p := range snap.Plans {
		status, ok := out.Plans[p.Name]
		if !ok || status.Actions == nil {
			continue
		}
		switch {
		case p.Spec.MembershipRef != nil:
			if c, ok := cohortOf[string(p.Spec.MembershipRef.Name)]; ok {
				sums[c] += status.Actions.Overdue
			}
		case p.Spec.Team != nil:
			sums[string(p.Spec.Team.CohortRef.Name)] += status.Actions.Overdue
		}
	}
	return sums
}

// forgetCohortMetrics drops every series of a cohort, for example once it is deleted.
func forgetCohortMetrics(namespace, cohort string) {
	labels := prometheus.Labels{"namespace": namespace, "cohort": cohort}
	membersMetric.DeletePartialMatch(labels)
	waitlistMetric.DeletePartialMatch(labels)
	attendanceMetric.DeletePartialMatch(labels)
	belowAttendanceMetric.DeletePartialMatch(labels)
	plansMetric.DeletePartialMatch(labels)
	plansMissingMetric.DeletePartialMatch(labels)
	actionsOverdueMetric.DeletePartialMatch(labels)
}

// recordApprovalMetrics counts the unit's External events awaiting an approval that
// still matters (the event has not ended), and records since when the oldest has
// waited; it drops that series while none waits.
func recordApprovalMetrics(key unitKey, snap program.Snapshot, out program.Outcome) {
	name := key.Community
	if name == "" {
		name = key.Cohort
	}
	pending, oldest := 0, time.Time{}
	for _, e := range snap.Events {
		status, ok := out.Events[e.Name]
		if !ok || e.Spec.Audience != learningv1alpha1.ExternalAudience || e.Spec.Cancelled ||
			status.Phase == learningv1alpha1.EventEnded || apimeta.IsStatusConditionTrue(status.Conditions, learningv1alpha1.ApprovedCondition) {
			continue
		}
		pending++
		if c := status.ContentChanged; c != nil && (oldest.IsZero() || c.Before(&metav1.Time{Time: oldest})) {
			oldest = c.Time
		}
	}
	approvalsPendingMetric.WithLabelValues(key.Namespace, name).Set(float64(pending))
	if oldest.IsZero() {
		approvalWaitMetric.DeleteLabelValues(key.Namespace, name)
		return
	}
	approvalWaitMetric.WithLabelValues(key.Namespace, name).Set(float64(oldest.UnixNano()) / 1e9)
}

// recordReportMetrics replaces the KPI series of the unit's programs with their frozen
// periodic reports: the newest one's figures, and how many periods in a row each KPI
// has been Below its target.
func recordReportMetrics(namespace string, snap program.Snapshot) {
	frozen := map[learningv1alpha1.ProgramReference][]*learningv1alpha1.ProgramReport{}
	for _, r := range snap.Reports {
		if r.Spec.Figures != nil && r.Spec.Period != learningv1alpha1.RunPeriod {
			frozen[r.Spec.Program] = append(frozen[r.Spec.Program], r)
		}
	}
	programs := []learningv1alpha1.ProgramReference{}
	if c := snap.Community; c != nil {
		programs = append(programs, learningv1alpha1.ProgramReference{Kind: learningv1alpha1.CommunityProgram, Name: learningv1alpha1.ObjectName(c.Name)})
	}
	for _, c := range snap.Cohorts {
		programs = append(programs, learningv1alpha1.ProgramReference{Kind: learningv1alpha1.CohortProgram, Name: learningv1alpha1.ObjectName(c.Name)})
	}
	for _, p := range programs {
		labels := prometheus.Labels{"namespace": namespace, "program_kind": string(p.Kind), "program": string(p.Name)}
		reportKPIMetric.DeletePartialMatch(labels)
		reportBelowMetric.DeletePartialMatch(labels)
		reports := frozen[p]
		if len(reports) == 0 {
			continue
		}
		slices.SortFunc(reports, func(a, b *learningv1alpha1.ProgramReport) int { return strings.Compare(b.Spec.Period, a.Spec.Period) })
		for _, k := range reports[0].Spec.Figures.KPIs {
			series := []string{namespace, string(p.Kind), string(p.Name), string(k.Name), k.Qualifier}
			if k.Value != nil {
				reportKPIMetric.WithLabelValues(series...).Set(float64(*k.Value))
			}
			below := 0
			for _, r := range reports {
				i := slices.IndexFunc(r.Spec.Figures.KPIs, func(o learningv1alpha1.KPIResult) bool { return o.Name == k.Name && o.Qualifier == k.Qualifier })
				if i < 0 || r.Spec.Figures.KPIs[i].Verdict != learningv1alpha1.KPIVerdict(rules.Below) {
					break
				}
				below++
			}
			reportBelowMetric.WithLabelValues(series...).Set(float64(below))
		}
	}
}
