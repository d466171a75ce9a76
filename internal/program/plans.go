package program

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// planView is one ActionPlan as the evaluation sees it.
type planView struct {
	obj *learningv1alpha1.ActionPlan
	// member is a personal plan's membership; nil for a team plan, or when the
	// membership is not in the unit (it does not exist).
	member *memberView
	// cohort is the plan's cohort: its membership's, or its team's; nil when that
	// cohort does not exist.
	cohort *cohortView

	// problems say what CEL cannot check within the plan and the evaluation found:
	// reason and message each, the first reason reported on Ready.
	problems []planProblem

	// counts, nextDue and lastCheckIn are what status reports of the actions and
	// check-ins.
	counts      learningv1alpha1.ActionCounts
	overdue     []string
	nextDue     time.Time
	lastCheckIn time.Time

	// seated is whether its owner holds a seat: the membership, or for a team plan
	// a member of the team.
	seated bool
	// current is the PlanCurrent reason and message once judged.
	current, currentMessage string
}

type planProblem struct{ reason, message string }

// team returns the organization of a team plan, "" for a personal plan.
func (p *planView) team() string {
	if t := p.obj.Spec.Team; t != nil {
		return string(t.Organization)
	}
	return ""
}

// resolvePlans links every plan to its membership and cohort.
func (u *unit) resolvePlans(plans []*learningv1alpha1.ActionPlan) {
	byName := make(map[string]*memberView, len(u.members))
	for _, m := range u.members {
		byName[m.obj.Name] = m
	}
	// By name, so that every list of plans (a membership's, a cohort's) is in one
	// order whatever the order the plans were read in.
	plans = slices.Clone(plans)
	slices.SortFunc(plans, func(a, b *learningv1alpha1.ActionPlan) int { return cmp.Compare(a.Name, b.Name) })
	for _, obj := range plans {
		p := &planView{obj: obj}
		switch spec := obj.Spec; {
		case spec.MembershipRef != nil:
			if m := byName[string(spec.MembershipRef.Name)]; m != nil {
				p.member, p.cohort = m, m.cohort
				m.plans = append(m.plans, p)
			}
		case spec.Team != nil:
			p.cohort = u.cohortOf[string(spec.Team.CohortRef.Name)]
		}
		if p.cohort != nil {
			p.cohort.plans = append(p.cohort.plans, p)
		}
		u.plans = append(u.plans, p)
	}
}

// judgePlans judges every plan whose cohort can be evaluated, after seats and
// attendance: who it belongs to, its actions and its check-ins.
func (u *unit) judgePlans() {
	for _, p := range u.plans {
		if p.cohort == nil || !p.cohort.valid() {
			continue
		}
		u.checkPlanReferences(p)
		u.countActions(p)
		p.current, p.currentMessage = u.planCurrent(p)
	}
}

// checkPlanReferences finds what CEL cannot see across objects: an owner who is not
// the membership's member (or not a member of the team), a partner outside the
// cohort, a check-in at another cohort's event.
func (u *unit) checkPlanReferences(p *planView) {
	spec := p.obj.Spec
	cv := p.cohort
	owner := spec.Owner
	if p.member != nil {
		p.seated = p.member.seated
		if owner != p.member.person() {
			p.problems = append(p.problems, planProblem{learningv1alpha1.OwnerNotMemberReason,
				fmt.Sprintf("spec.owner %s is not the member of membership %s", owner, p.member.obj.Name)})
		}
	} else {
		ownerInTeam := false
		for _, m := range cv.members {
			if string(m.obj.Spec.Organization) != p.team() {
				continue
			}
			p.seated = p.seated || m.seated
			ownerInTeam = ownerInTeam || m.person() == owner
		}
		if !ownerInTeam {
			p.problems = append(p.problems, planProblem{learningv1alpha1.OwnerNotMemberReason,
				fmt.Sprintf("spec.owner %s has no membership of organization %s in cohort %s", owner, p.team(), cv.obj.Name)})
		}
	}
	if ref := spec.PartnerRef; ref != nil && !slices.ContainsFunc(cv.members, func(m *memberView) bool { return m.obj.Name == string(ref.Name) }) {
		p.problems = append(p.problems, planProblem{learningv1alpha1.PartnerNotInCohortReason,
			fmt.Sprintf("spec.partnerRef: membership %s is not a membership of cohort %s", ref.Name, cv.obj.Name)})
	}
	var foreign []string
	for _, c := range spec.CheckIns {
		if ref := c.EventRef; ref != nil && !slices.ContainsFunc(cv.events, func(e *eventView) bool { return e.obj.Name == string(ref.Name) }) {
			foreign = append(foreign, fmt.Sprintf("%s (check-in %s)", ref.Name, c.ID))
		}
	}
	if len(foreign) > 0 {
		p.problems = append(p.problems, planProblem{learningv1alpha1.EventNotInCohortReason,
			fmt.Sprintf("spec.checkIns[].eventRef: %s not an event of cohort %s or its community", abbreviate(foreign, ", ", 5), cv.obj.Name)})
	}
}

// countActions counts the actions by status and finds the overdue ones: neither Done
// nor Dropped after their due day, in the cohort's time zone.
func (u *unit) countActions(p *planView) {
	loc := p.cohort.loc
	for _, a := range p.obj.Spec.Actions {
		p.counts.Total++
		switch a.Status {
		case learningv1alpha1.ActionDone:
			p.counts.Done++
			continue
		case learningv1alpha1.ActionDropped:
			p.counts.Dropped++
			continue
		}
		if a.Due == nil {
			continue
		}
		day, err := rules.ParseDate(*a.Due, loc)
		if err != nil {
			continue // CEL admits only valid days; an old object is judged without it
		}
		if p.nextDue.IsZero() || day.Before(p.nextDue) {
			p.nextDue = day
		}
		end := day.AddDate(0, 0, 1)
		if !u.now.Before(end) {
			p.counts.Overdue++
			p.overdue = append(p.overdue, fmt.Sprintf("%s (due %s)", a.ID, *a.Due))
			continue
		}
		u.observeBoundary(end)
	}
	for _, c := range p.obj.Spec.CheckIns {
		if c.At.After(p.lastCheckIn) {
			p.lastCheckIn = c.At.Time
		}
	}
}

// planCurrent judges whether the plan is current: its owner holds a seat, no action
// is overdue, and fewer than staleAfter counting events ended since its last check-in
// (or since it was due, or created, when it has none).
func (u *unit) planCurrent(p *planView) (reason, message string) {
	cv := p.cohort
	switch {
	case !p.seated && p.member != nil:
		return learningv1alpha1.OwnerNotSeatedReason, fmt.Sprintf("membership %s holds no seat; nothing is expected of the plan until it does", p.member.obj.Name)
	case !p.seated:
		return learningv1alpha1.OwnerNotSeatedReason, fmt.Sprintf("no member of %s holds a seat in cohort %s; nothing is expected of the plan until one does", p.team(), cv.obj.Name)
	case len(p.overdue) > 0:
		return learningv1alpha1.PlanOverdueReason, fmt.Sprintf("%d overdue: %s", len(p.overdue), abbreviate(p.overdue, ", ", 10))
	}
	since, what := p.lastCheckIn, "the last check-in on "+rules.FormatDate(p.lastCheckIn, cv.loc)
	if since.IsZero() {
		since, what = p.obj.CreationTimestamp.Time, "the plan was created on "+rules.FormatDate(p.obj.CreationTimestamp.Time, cv.loc)
		if due := u.planDue(cv, p.member); !due.IsZero() && due.After(since) {
			since, what = due, "the plan was due on "+rules.FormatDate(due.Add(-time.Nanosecond), cv.loc)
		}
	}
	limit := cv.policy.ActionPlans.StaleAfter
	ended := u.countingEventsEnded(cv, since, limit)
	if len(ended) >= limit {
		return learningv1alpha1.PlanStaleReason, fmt.Sprintf("%d gatherings ended since %s without a check-in (%s); the program expects one at least every %d",
			len(ended), what, abbreviate(ended, ", ", 5), limit)
	}
	return learningv1alpha1.PlanCurrentReason, fmt.Sprintf("%d of %d actions done; last check-in %s", p.counts.Done, p.counts.Total, orDefault(formatOptional(p.lastCheckIn, cv.loc), "none yet"))
}

// countingEventsEnded lists the events of the cohort that count toward attendance,
// are not cancelled and ended after since, up to now; it observes the end of the
// limit-th such event when it lies ahead, at which the plan goes stale.
func (u *unit) countingEventsEnded(cv *cohortView, since time.Time, limit int) []string {
	var ended []string
	var ahead []time.Time
	for _, e := range cv.events {
		r := e.record
		if !r.Counts || r.Cancelled || !r.End.After(since) {
			continue
		}
		if r.End.After(u.now) {
			ahead = append(ahead, r.End)
			continue
		}
		ended = append(ended, e.obj.Name)
	}
	if missing := limit - len(ended); missing > 0 && len(ahead) >= missing {
		slices.SortFunc(ahead, func(a, b time.Time) int { return a.Compare(b) })
		u.observeBoundary(ahead[missing-1])
	}
	return ended
}

// planDue is the instant a required plan is missing from: dueDays days after the later
// of the seat's start (for a team, the cohort's start) and the end of the cohort's
// first Intensive, at the end of that day in the cohort's time zone. Zero when the
// membership never held a seat.
func (u *unit) planDue(cv *cohortView, m *memberView) time.Time {
	from := cv.term.Start
	if m != nil {
		if m.seatedSince.IsZero() {
			return time.Time{}
		}
		from = m.seatedSince
	}
	if intensive := firstIntensiveEnd(cv); intensive.After(from) {
		from = intensive
	}
	day, _ := rules.ParseDate(rules.FormatDate(from, cv.loc), cv.loc)
	return day.AddDate(0, 0, cv.policy.ActionPlans.DueDays+1)
}

// firstIntensiveEnd is the end of the cohort's first Intensive that is not cancelled,
// zero when it has none.
func firstIntensiveEnd(cv *cohortView) time.Time {
	var first *eventView
	for _, e := range cv.events {
		if e.obj.Spec.Type != learningv1alpha1.IntensiveEvent || e.record.Cancelled {
			continue
		}
		if first == nil || e.record.Start.Before(first.record.Start) {
			first = e
		}
	}
	if first == nil {
		return time.Time{}
	}
	return first.record.End
}

func formatOptional(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return string(rules.FormatDate(t, loc))
}

// planList names plans for a message.
func planList(plans []*planView) string {
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.obj.Name
	}
	return strings.Join(names, ", ")
}
