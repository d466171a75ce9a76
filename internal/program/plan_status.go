package program

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// planStatus computes an ActionPlan's status from the evaluated unit and its previous
// status.
func (u *unit) planStatus(p *planView) learningv1alpha1.ActionPlanStatus {
	obj := p.obj
	status := *obj.Status.DeepCopy()
	status.ObservedGeneration = obj.Generation
	conds := conditions{list: &status.Conditions, generation: obj.Generation, now: u.stamp()}
	unresolved := func(reason, msg string) learningv1alpha1.ActionPlanStatus {
		conds.set(learningv1alpha1.PlanCurrentCondition, metav1.ConditionUnknown, reason, "%s", msg)
		conds.remove(learningv1alpha1.StalledCondition)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, reason, "%s", msg)
		return status
	}
	switch spec := obj.Spec; {
	case spec.MembershipRef != nil && p.member == nil:
		return unresolved(learningv1alpha1.MembershipNotFoundReason, fmt.Sprintf("spec.membershipRef: membership %s not found", spec.MembershipRef.Name))
	case spec.MembershipRef != nil && p.cohort == nil:
		return unresolved(learningv1alpha1.CohortNotFoundReason, fmt.Sprintf("cohort %s of membership %s not found", p.member.obj.Spec.CohortRef.Name, spec.MembershipRef.Name))
	case spec.Team != nil && p.cohort == nil:
		return unresolved(learningv1alpha1.CohortNotFoundReason, fmt.Sprintf("spec.team.cohortRef: cohort %s not found", spec.Team.CohortRef.Name))
	case !p.cohort.valid():
		// Seats are frozen: the plan is judged again once its cohort resolves.
		msg := fmt.Sprintf("cohort %s cannot be evaluated: %v", p.cohort.obj.Name, p.cohort.err)
		conds.set(learningv1alpha1.PlanCurrentCondition, metav1.ConditionUnknown, p.cohort.reason(), "%s", msg)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, p.cohort.reason(), "%s", msg)
		return status
	}
	counts := p.counts
	status.Actions = &counts
	status.NextDue = nil
	if !p.nextDue.IsZero() {
		d := rules.FormatDate(p.nextDue, p.cohort.loc)
		status.NextDue = &d
	}
	status.LastCheckIn = nil
	if !p.lastCheckIn.IsZero() {
		t := metav1.NewTime(p.lastCheckIn).Rfc3339Copy()
		status.LastCheckIn = &t
	}
	if p.current == learningv1alpha1.PlanCurrentReason {
		conds.set(learningv1alpha1.PlanCurrentCondition, metav1.ConditionTrue, p.current, "%s", p.currentMessage)
	} else {
		conds.set(learningv1alpha1.PlanCurrentCondition, metav1.ConditionFalse, p.current, "%s", p.currentMessage)
	}
	conds.remove(learningv1alpha1.StalledCondition)
	if len(p.problems) > 0 {
		// The plan is the people's to fix; nothing the operator retries would help.
		msgs := make([]string, len(p.problems))
		for i, pr := range p.problems {
			msgs[i] = pr.message
		}
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, p.problems[0].reason, "%s", strings.Join(msgs, "; "))
		return status
	}
	// A personal plan's message does not name its membership (spec.membershipRef
	// does): the plans of a cohort then share their conditions in the manager's cache.
	holder := ""
	if p.member == nil {
		holder = " of " + p.team() + " in cohort " + p.cohort.obj.Name
	}
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s plan%s: %d/%d actions done, %d overdue",
		planKind(p), holder, counts.Done, counts.Total, counts.Overdue)
	return status
}

func planKind(p *planView) string {
	if p.member != nil {
		return "personal"
	}
	return "team"
}

// setActionPlan reports on a seated membership whether the personal plan its program
// requires exists, is not due yet, or is missing past its due day. Without the
// requirement, or without a seat, the condition is absent: nothing is expected.
func (u *unit) setActionPlan(conds conditions, m *memberView) {
	cv := m.cohort
	if cv.policy.ActionPlans.Required != learningv1alpha1.PersonalPlansRequired || !m.seated {
		conds.remove(learningv1alpha1.ActionPlanCondition)
		return
	}
	if len(m.plans) > 0 {
		conds.set(learningv1alpha1.ActionPlanCondition, metav1.ConditionTrue, learningv1alpha1.PlanPresentReason, "ActionPlan %s", planList(m.plans))
		return
	}
	due := u.planDue(cv, m)
	dueDay := rules.FormatDate(due.Add(-1), cv.loc)
	if u.now.Before(due) {
		u.observeBoundary(due)
		conds.set(learningv1alpha1.ActionPlanCondition, metav1.ConditionTrue, learningv1alpha1.PlanNotDueReason, "the program requires a personal ActionPlan by %s", dueDay)
		return
	}
	conds.set(learningv1alpha1.ActionPlanCondition, metav1.ConditionFalse, learningv1alpha1.PlanMissingReason,
		"the program requires a personal ActionPlan, due on %s, and there is none for membership %s: create one with spec.membershipRef.name %s", dueDay, m.obj.Name, m.obj.Name)
}

// planFigures sums up a cohort's plans; nil when none is required and none exists.
func planFigures(cv *cohortView) *learningv1alpha1.ActionPlanFigures {
	required := cv.policy.ActionPlans.Required
	if len(cv.plans) == 0 && required == learningv1alpha1.PlansNotRequired {
		return nil
	}
	f := &learningv1alpha1.ActionPlanFigures{}
	for _, p := range cv.plans {
		f.Plans++
		f.ActionsDone += p.counts.Done
		f.ActionsTotal += p.counts.Total
		switch p.current {
		case learningv1alpha1.PlanCurrentReason:
			f.Current++
		case learningv1alpha1.PlanOverdueReason:
			f.Overdue++
		case learningv1alpha1.PlanStaleReason:
			f.Stale++
		}
	}
	switch required {
	case learningv1alpha1.PersonalPlansRequired:
		for _, m := range cv.members {
			if m.seated {
				f.Required++
				if len(m.plans) > 0 {
					f.Present++
				}
			}
		}
	case learningv1alpha1.TeamPlansRequired:
		// The teams are the organizations with a seated member in a role that forms
		// teams (the composition policy's roles; every role without one).
		teams := map[string]bool{}
		for _, m := range cv.members {
			if m.seated && m.obj.Spec.Organization != "" && (cv.policy.Composition == nil || cv.policy.Composition.Counts(string(m.obj.Spec.Role))) {
				teams[string(m.obj.Spec.Organization)] = false
			}
		}
		for _, p := range cv.plans {
			if _, ok := teams[p.team()]; ok {
				teams[p.team()] = true
			}
		}
		for _, present := range teams {
			f.Required++
			if present {
				f.Present++
			}
		}
	}
	f.Summary = summarize(f)
	return f
}

// summarize is the figures in a line.
func summarize(f *learningv1alpha1.ActionPlanFigures) string {
	s := fmt.Sprintf("%d/%d plans current, %d/%d actions done", f.Current, f.Plans, f.ActionsDone, f.ActionsTotal)
	if f.Required > 0 {
		s = fmt.Sprintf("%d/%d required plans, ", f.Present, f.Required) + s
	}
	return s
}

// addFigures adds a cohort's figures to a community's.
func addFigures(total, f *learningv1alpha1.ActionPlanFigures) *learningv1alpha1.ActionPlanFigures {
	if f == nil {
		return total
	}
	if total == nil {
		total = &learningv1alpha1.ActionPlanFigures{}
	}
	total.Required += f.Required
	total.Present += f.Present
	total.Plans += f.Plans
	total.Current += f.Current
	total.Overdue += f.Overdue
	total.Stale += f.Stale
	total.ActionsDone += f.ActionsDone
	total.ActionsTotal += f.ActionsTotal
	total.Summary = summarize(total)
	return total
}
