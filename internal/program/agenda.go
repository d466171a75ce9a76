package program

import (
	"cmp"
	"slices"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// planProgress is what the cohort's published documents show of its plans: the
// figures of its status, counts only.
func planProgress(f *learningv1alpha1.ActionPlanFigures) *publish.PlanProgress {
	if f == nil {
		return nil
	}
	return &publish.PlanProgress{
		Required: f.Required, Present: f.Present,
		Plans: f.Plans, Current: f.Current, Overdue: f.Overdue, Stale: f.Stale,
		ActionsDone: f.ActionsDone, ActionsTotal: f.ActionsTotal,
	}
}

// agenda gathers the reflections shared since the last gathering ended, for the next
// one: the check-ins marked shared, of plans whose owner holds a seat and that name
// nothing outside the cohort, made after the latest ended event that counts toward
// attendance (or the cohort's start) and not after now. A check-in that is not shared
// stays between the plan's owner and partner. Nil when the cohort has no plan.
func (u *unit) agenda(cv *cohortView, out *Outcome) *publish.Agenda {
	if len(cv.plans) == 0 {
		return nil
	}
	a := &publish.Agenda{Since: cv.term.Start.UTC(), Reflections: []publish.Reflection{}}
	for _, e := range cv.events {
		r := e.record
		if r.Counts && !r.Cancelled && !r.End.After(u.now) && r.End.After(a.Since) {
			a.Since = r.End.UTC()
		}
	}
	for _, e := range publishedEvents(cv, out) {
		r := e.record
		if r.Counts && !r.Cancelled && r.End.After(u.now) && feedHolds(r.Start, r.End) {
			a.Next = &publish.Event{
				Title: e.obj.Spec.Title, Type: string(e.obj.Spec.Type),
				Start: r.Start.UTC(), End: r.End.UTC(),
				TimeZone: string(e.obj.Spec.TimeZone), Location: e.obj.Spec.Location,
			}
			break
		}
	}
	for _, p := range cv.plans {
		if !p.seated || len(p.problems) > 0 {
			continue
		}
		for _, c := range p.obj.Spec.CheckIns {
			if !c.Shared || !c.At.After(a.Since) || c.At.After(u.now) {
				continue
			}
			by, ok := reflectionAuthor(p, c.Author)
			if !ok {
				continue
			}
			a.Reflections = append(a.Reflections, publish.Reflection{
				By: by, Team: p.team(), At: c.At.UTC(),
				Learned: c.Learned, Adjust: c.Adjust,
				ActionsDone: p.counts.Done, Actions: p.counts.Total,
			})
		}
	}
	slices.SortStableFunc(a.Reflections, func(x, y publish.Reflection) int {
		return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.Team, y.Team), cmp.Compare(x.By, y.By))
	})
	if n := len(a.Reflections); n > publish.AgendaLimit {
		a.More = n - publish.AgendaLimit
		a.Reflections = a.Reflections[a.More:]
	}
	return a
}

// reflectionAuthor is the display name under which a check-in is shared: its plan's
// member's, or for a team workplan the team member's who wrote it. A check-in whose
// author is neither (written by an administrator in another's name) is not shared:
// the documents name only members of the cohort.
func reflectionAuthor(p *planView, author string) (string, bool) {
	if p.member != nil {
		if author != p.member.person() {
			return "", false
		}
		return displayName(p.member), true
	}
	for _, m := range p.cohort.members {
		if m.person() == author && string(m.obj.Spec.Organization) == p.team() {
			return displayName(m), true
		}
	}
	return "", false
}

func displayName(m *memberView) string { return cmp.Or(m.obj.Spec.DisplayName, m.obj.Name) }
