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
	membersMetric = newFigureSet("cohort_members",
		"Memberships of a cohort by role and phase; waiting memberships have phase Waitlisted and ineligible ones NotEligible.",
		"namespace", "cohort", "role", "phase")
	waitlistMetric = newFigureSet("cohort_waitlist_length",
		"Memberships waiting for a seat, by cohort and role.",
		"namespace", "cohort", "role")
	attendanceMetric = newFigureSet("cohort_attendance_percent",
		"Attendance of a cohort's seated members over ended events, in percent.",
		"namespace", "cohort")
	belowAttendanceMetric = newFigureSet("cohort_members_below_attendance",
		"Seated memberships inside their term (Active or Expiring) whose attendance is below their policy's requiredPercent (AttendanceMet=False), by cohort. A completed cohort has none.",
		"namespace", "cohort")
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
	plansMetric = newFigureSet("cohort_action_plans",
		"ActionPlans of a cohort by state: Current, Overdue, Stale, or NotJudged (the owner holds no seat, or the plan names what is not of its cohort). Only cohorts with plans, or requiring them, have series.",
		"namespace", "cohort", "state")
	plansMissingMetric = newFigureSet("cohort_action_plans_missing",
		"Plans a cohort's policy requires (policy.actionPlans.required) that do not exist, whether due yet or not.",
		"namespace", "cohort")
	actionsOverdueMetric = newFigureSet("cohort_actions_overdue",
		"Actions of a cohort's ActionPlans that are neither Done nor Dropped after their due day.",
		"namespace", "cohort")
	reportKPIMetric = newFigureSet("cohort_report_kpi_value",
		"A KPI's figure in its program's newest frozen ProgramReport (a percentage, a count or hours); no series when that report has none (NoData, Suppressed).",
		"namespace", "program_kind", "program", "kpi", "qualifier")
	reportBelowMetric = newFigureSet("cohort_report_kpi_below_periods",
		"How many periods in a row, up to the newest frozen ProgramReport of its program, a KPI was Below its target; 0 when the newest met it or had no figure.",
		"namespace", "program_kind", "program", "kpi", "qualifier")
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
		owner := figureOwner(c.Namespace, c.Name)
		if c.DeletionTimestamp != nil {
			forgetCohortMetrics(c.Namespace, c.Name)
			continue
		}
		ns, name := c.Namespace, c.Name
		var members, waitlist []figure
		for k, v := range counts[name] {
			members = append(members, figure{labels: []string{ns, name, k[0], k[1]}, value: v})
		}
		membersMetric.replace(owner, members)
		status := out.Cohorts[name]
		for _, rs := range status.Roles {
			waitlist = append(waitlist, figure{labels: []string{ns, name, string(rs.Name)}, value: float64(rs.Waitlisted)})
		}
		waitlistMetric.replace(owner, waitlist)
		var attendance []figure
		if status.AttendancePercent != nil {
			attendance = []figure{{labels: []string{ns, name}, value: float64(*status.AttendancePercent)}}
		}
		attendanceMetric.replace(owner, attendance)
		belowAttendanceMetric.replace(owner, []figure{{labels: []string{ns, name}, value: below[name]}})
		var plans, missing, overdueFigures []figure
		if f := status.ActionPlans; f != nil {
			for _, st := range []struct {
				state string
				n     int32
			}{
				{learningv1alpha1.PlanCurrentReason, f.Current},
				{learningv1alpha1.PlanOverdueReason, f.Overdue},
				{learningv1alpha1.PlanStaleReason, f.Stale},
				{"NotJudged", f.Plans - f.Current - f.Overdue - f.Stale},
			} {
				plans = append(plans, figure{labels: []string{ns, name, st.state}, value: float64(st.n)})
			}
			missing = []figure{{labels: []string{ns, name}, value: float64(f.Required - f.Present)}}
			overdueFigures = []figure{{labels: []string{ns, name}, value: float64(overdue[name])}}
		}
		plansMetric.replace(owner, plans)
		plansMissingMetric.replace(owner, missing)
		actionsOverdueMetric.replace(owner, overdueFigures)
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
	owner := figureOwner(namespace, cohort)
	for _, set := range []*figureSet{membersMetric, waitlistMetric, attendanceMetric, belowAttendanceMetric, plansMetric, plansMissingMetric, actionsOverdueMetric} {
		set.replace(owner, nil)
	}
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
		owner := figureOwner(namespace, string(p.Kind), string(p.Name))
		reports := frozen[p]
		if len(reports) == 0 {
			reportKPIMetric.replace(owner, nil)
			reportBelowMetric.replace(owner, nil)
			continue
		}
		slices.SortFunc(reports, func(a, b *learningv1alpha1.ProgramReport) int { return strings.Compare(b.Spec.Period, a.Spec.Period) })
		var values, belows []figure
		for _, k := range reports[0].Spec.Figures.KPIs {
			series := []string{namespace, string(p.Kind), string(p.Name), string(k.Name), k.Qualifier}
			if k.Value != nil {
				values = append(values, figure{labels: series, value: float64(*k.Value)})
			}
			below := 0
			for _, r := range reports {
				i := slices.IndexFunc(r.Spec.Figures.KPIs, func(o learningv1alpha1.KPIResult) bool { return o.Name == k.Name && o.Qualifier == k.Qualifier })
				if i < 0 || r.Spec.Figures.KPIs[i].Verdict != learningv1alpha1.KPIVerdict(rules.Below) {
					break
				}
				below++
			}
			belows = append(belows, figure{labels: series, value: float64(below)})
		}
		reportKPIMetric.replace(owner, values)
		reportBelowMetric.replace(owner, belows)
	}
}
