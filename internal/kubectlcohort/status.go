package kubectlcohort

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// ConditionReport is one status condition explained in words.
type ConditionReport struct {
	Type    string                 `json:"type"`
	Status  metav1.ConditionStatus `json:"status"`
	Reason  string                 `json:"reason"`
	Message string                 `json:"message,omitempty"`
	// Healthy is true when the condition is as it is when nothing needs doing:
	// Stalled and Reconciling False, every other condition True.
	Healthy bool `json:"healthy"`
	// Explanation says what the condition means for the cohort.
	Explanation string `json:"explanation"`
	// Next says what to do about it; empty when nothing needs doing.
	Next string `json:"next,omitempty"`
}

// StatusReport is a cohort's status explained: its figures and its conditions.
type StatusReport struct {
	Cohort            string                         `json:"cohort"`
	Namespace         string                         `json:"namespace"`
	DisplayName       string                         `json:"displayName,omitempty"`
	Community         string                         `json:"community,omitempty"`
	Suspended         bool                           `json:"suspended"`
	Phase             string                         `json:"phase,omitempty"`
	StartDate         string                         `json:"startDate,omitempty"`
	EndDate           string                         `json:"endDate,omitempty"`
	Seats             string                         `json:"seats,omitempty"`
	Roles             []learningv1alpha1.RoleSeats   `json:"roles,omitempty"`
	Waitlisted        int32                          `json:"waitlisted"`
	Organizations     int32                          `json:"organizations"`
	Members           *learningv1alpha1.MemberCounts `json:"members,omitempty"`
	AttendancePercent *int32                         `json:"attendancePercent,omitempty"`
	NextEvent         *metav1.Time                   `json:"nextEvent,omitempty"`
	// Generation is the cohort's metadata.generation; ObservedGeneration the one its
	// status describes.
	Generation         int64 `json:"generation"`
	ObservedGeneration int64 `json:"observedGeneration"`
	// Notice says why the status may not describe the cohort as declared now; empty
	// when it does.
	Notice     string            `json:"notice,omitempty"`
	Conditions []ConditionReport `json:"conditions"`

	timeZone string
}

// conditionOrder is the order conditions are reported in; others follow by type.
var conditionOrder = []string{
	learningv1alpha1.ReadyCondition, learningv1alpha1.StalledCondition, learningv1alpha1.ReconcilingCondition,
	learningv1alpha1.CommunityFoundCondition, learningv1alpha1.StaffedCondition, learningv1alpha1.CompositionValidCondition,
	learningv1alpha1.ProvisionedCondition, learningv1alpha1.PortalAvailableCondition,
}

// BuildStatus explains a cohort's status.
func BuildStatus(cohort *learningv1alpha1.Cohort) StatusReport {
	st := cohort.Status
	r := StatusReport{
		Cohort: cohort.Name, Namespace: cohort.Namespace, DisplayName: cohort.Spec.DisplayName,
		Suspended: cohort.Spec.Suspend, Phase: string(st.Phase), StartDate: string(st.StartDate), EndDate: string(st.EndDate),
		Seats: st.Seats, Roles: st.Roles, Waitlisted: st.Waitlisted, Organizations: st.Organizations, Members: st.Members,
		AttendancePercent: st.AttendancePercent, NextEvent: st.NextEvent,
		Generation: cohort.Generation, ObservedGeneration: st.ObservedGeneration,
		Conditions: []ConditionReport{}, timeZone: cohortLocation(cohort).String(),
	}
	if ref := cohort.Spec.CommunityRef; ref != nil {
		r.Community = string(ref.Name)
	}
	switch {
	case len(st.Conditions) == 0:
		r.Notice = "the operator has not reported on this cohort yet; if this persists, check that it is running"
	case st.ObservedGeneration < cohort.Generation:
		r.Notice = fmt.Sprintf("the status describes generation %d of the cohort, which is at generation %d: the operator has not caught up with the last change yet; if this persists, check that it is running",
			st.ObservedGeneration, cohort.Generation)
	}
	conds := slices.Clone(st.Conditions)
	rank := func(t string) int {
		if i := slices.Index(conditionOrder, t); i >= 0 {
			return i
		}
		return len(conditionOrder)
	}
	slices.SortStableFunc(conds, func(a, b metav1.Condition) int {
		return cmp.Or(cmp.Compare(rank(a.Type), rank(b.Type)), cmp.Compare(a.Type, b.Type))
	})
	for _, c := range conds {
		r.Conditions = append(r.Conditions, ExplainCondition(cohort, c))
	}
	return r
}

// WriteText writes the report for people: the figures, then each condition with its
// explanation and what to do next. An explanation or next step already given for an
// earlier condition (Ready, Stalled and the condition that failed often share one) is
// not repeated.
func (r StatusReport) WriteText(w io.Writer) error {
	t := newTable(w)
	name := r.Cohort
	if r.DisplayName != "" {
		name += " (" + r.DisplayName + ")"
	}
	field := func(k, v string) { t.row(k+":", v) }
	field("Cohort", name)
	field("Namespace", r.Namespace)
	if r.Community != "" {
		field("Community", r.Community)
	}
	phase := cmp.Or(r.Phase, "<unknown>")
	if r.StartDate != "" {
		phase += ", " + term(r.StartDate, r.EndDate)
	}
	if r.Suspended {
		phase += " (suspended)"
	}
	field("Phase", phase)
	field("Seats", orNone(r.Seats))
	field("Waitlist", fmt.Sprint(r.Waitlisted))
	if m := r.Members; m != nil {
		field("Members", fmt.Sprintf("%d pending, %d active, %d expiring, %d expired, %d withdrawn", m.Pending, m.Active, m.Expiring, m.Expired, m.Withdrawn))
	}
	field("Organizations", fmt.Sprint(r.Organizations))
	attendance := "n/a (no ended events judged yet)"
	if r.AttendancePercent != nil {
		attendance = fmt.Sprintf("%d%% over ended events", *r.AttendancePercent)
	}
	field("Attendance", attendance)
	next := "<none>"
	if r.NextEvent != nil {
		loc := cohortLocation(&learningv1alpha1.Cohort{Spec: learningv1alpha1.CohortSpec{TimeZone: learningv1alpha1.TimeZone(r.timeZone)}})
		next = r.NextEvent.In(loc).Format("2006-01-02 15:04 MST") + " (" + loc.String() + ")"
	}
	field("Next event", next)
	if err := t.flush(); err != nil {
		return err
	}
	p := &printer{w: w}
	if r.Notice != "" {
		p.printf("\nNote: %s.\n", r.Notice)
	}
	if len(r.Conditions) == 0 {
		return p.err
	}
	p.printf("\nConditions:\n")
	explained := map[string]string{} // explanation -> the condition that gave it
	said := map[string]bool{}
	for _, c := range r.Conditions {
		p.printf("  %s=%s (%s)\n", c.Type, c.Status, c.Reason)
		if first, ok := explained[c.Explanation]; ok {
			p.printf("    Same cause as %s.\n", first)
		} else {
			explained[c.Explanation] = c.Type
			p.printf("    %s\n", c.Explanation)
		}
		if c.Next != "" && !said[c.Next] {
			said[c.Next] = true
			p.printf("    Next: %s\n", c.Next)
		}
	}
	return p.err
}
