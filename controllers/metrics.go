package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics served on the manager's metrics endpoint, refreshed on every Cohort reconcile.
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
)

func init() {
	metrics.Registry.MustRegister(membersMetric, waitlistMetric, attendanceMetric)
}

// recordCohortMetrics replaces the cohort's series with what p observed and the
// attendance the cohort's status reports.
func recordCohortMetrics(p *program, attendancePercent *int32) {
	ns, name := p.cohort.Namespace, p.cohort.Name
	forgetCohortMetrics(ns, name)
	if !p.valid() {
		return
	}
	counts := map[[2]string]float64{}
	for _, m := range p.members {
		phase := string(m.phase)
		switch {
		case m.competing && !m.seat.Seated:
			phase = "Waitlisted"
		case claiming(m.phase) && !m.eligibility.Eligible:
			phase = "NotEligible"
		}
		counts[[2]string{string(m.obj.Spec.Role), phase}]++
	}
	for k, v := range counts {
		membersMetric.WithLabelValues(ns, name, k[0], k[1]).Set(v)
	}
	for _, rs := range p.roleSeats {
		waitlistMetric.WithLabelValues(ns, name, rs.Role).Set(float64(rs.Waitlisted))
	}
	if attendancePercent != nil {
		attendanceMetric.WithLabelValues(ns, name).Set(float64(*attendancePercent))
	}
}

// forgetCohortMetrics drops every series of a cohort, for example once it is deleted.
func forgetCohortMetrics(namespace, cohort string) {
	labels := prometheus.Labels{"namespace": namespace, "cohort": cohort}
	membersMetric.DeletePartialMatch(labels)
	waitlistMetric.DeletePartialMatch(labels)
	attendanceMetric.DeletePartialMatch(labels)
}
