// Package program evaluates a program unit: a CommunityOfPractice with all its cohorts,
// or a standalone Cohort. Every rule of the product (seats, eligibility across cohorts,
// terms, attendance, composition, approvals) is decided here for the whole unit at once,
// from one snapshot, so that the statuses of its objects never contradict each other and
// one change costs one evaluation of its unit.
//
// Evaluate is a pure function: the snapshot carries the objects as the cache holds them,
// with their previous statuses (seat history is an input), and the clock. It returns the
// status every object should have and the next instant at which the outcome changes by
// the clock alone. Controllers write the statuses that differ and requeue at that
// instant.
package program

import (
	"cmp"
	"slices"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Snapshot is one consistent read of a program unit.
type Snapshot struct {
	// Now is the instant the rules are evaluated at.
	Now time.Time

	// Community is the unit's community; nil for a standalone cohort, or when the
	// community the cohorts refer to does not exist.
	Community *learningv1alpha1.CommunityOfPractice

	// Cohorts are the unit's cohorts: every cohort of the community, or the standalone
	// cohort. Empty when the unit is a cohort that does not exist (its memberships and
	// events still get a status saying so).
	Cohorts []*learningv1alpha1.Cohort

	// Memberships are the memberships of the unit's cohorts, and of the missing cohort
	// the unit is named after, if any.
	Memberships []*learningv1alpha1.Membership

	// Events are the LearningEvents of the unit's cohorts (declared and generated) and
	// of its community.
	Events []*learningv1alpha1.LearningEvent

	// Plans are the ActionPlans of the unit's memberships and teams, and of the missing
	// membership or cohort the unit is named after, if any.
	Plans []*learningv1alpha1.ActionPlan

	// ApprovalPolicyMissing, when not empty, says why the admission policy that
	// verifies approvers cannot be relied on (it or its binding is not installed).
	// Approvals are then not trusted: no External event is Approved (fail closed).
	ApprovalPolicyMissing string

	// Neighbours are the other communities of the community's namespace, by name.
	Neighbours []string

	// Schedules are the cohorts' schedules expanded for this pass (ExpandSchedules), by
	// cohort name, so that each is expanded once however many steps read it. Evaluate
	// expands a scheduled cohort missing here itself.
	Schedules map[string]*Schedule

	// Gatherings are what the gatherings step recorded for each cohort, by cohort
	// name; the evaluation reports the occurrences it skipped. The step itself writes
	// status.gatherings, which the evaluation carries over unchanged.
	Gatherings map[string]GatheringRecord

	// Failures are the steps before the evaluation that failed for a cohort, by cohort
	// name; the evaluation reports them on that cohort.
	Failures map[string][]*StepFailure
}

// Outcome is the evaluated state of a unit: the status every object should have, keyed
// by object name, and when to evaluate again.
type Outcome struct {
	// Community is the community's status; nil when the snapshot has no community.
	Community   *learningv1alpha1.CommunityOfPracticeStatus
	Cohorts     map[string]learningv1alpha1.CohortStatus
	Memberships map[string]learningv1alpha1.MembershipStatus
	Events      map[string]learningv1alpha1.LearningEventStatus
	Plans       map[string]learningv1alpha1.ActionPlanStatus

	// Publications are what each cohort grants and publishes, keyed by cohort name.
	Publications map[string]Publication

	// Next is the earliest future instant at which the outcome changes by the clock
	// alone (a term or phase boundary, an event starting or ending); zero when none.
	Next time.Time

	// Failures are the failed steps the cohort statuses report, the snapshot's
	// included, by cohort name, in the order the steps ran.
	Failures []*StepFailure
}

// Evaluate decides every rule of the unit at s.Now. It does not modify the snapshot.
func Evaluate(s Snapshot) Outcome {
	u := newUnit(s)
	u.resolveCohorts()
	u.resolveMembers()
	u.allocateSeats()
	u.judgeAttendance()
	u.judgePlans()
	return u.outcome()
}

// unit is the working state of one evaluation.
type unit struct {
	now       time.Time
	community *learningv1alpha1.CommunityOfPractice
	cohorts   []*cohortView          // by name
	cohortOf  map[string]*cohortView // by name
	members   []*memberView          // by cohort, then name
	events    []*eventView           // by name
	plans     []*planView            // by name
	next      time.Time
	// policyMissing is Snapshot.ApprovalPolicyMissing.
	policyMissing string
	// neighbours is Snapshot.Neighbours.
	neighbours []string
}

func newUnit(s Snapshot) *unit {
	u := &unit{now: s.Now, community: s.Community, cohortOf: map[string]*cohortView{}, policyMissing: s.ApprovalPolicyMissing, neighbours: slices.Sorted(slices.Values(s.Neighbours))}
	for _, c := range s.Cohorts {
		cv := &cohortView{obj: c, schedule: s.Schedules[c.Name], failures: slices.Clone(s.Failures[c.Name])}
		if record, ok := s.Gatherings[c.Name]; ok {
			cv.gatherings = &record
		}
		u.cohorts = append(u.cohorts, cv)
		u.cohortOf[c.Name] = cv
	}
	slices.SortFunc(u.cohorts, func(a, b *cohortView) int { return cmp.Compare(a.obj.Name, b.obj.Name) })
	for _, m := range s.Memberships {
		u.members = append(u.members, &memberView{obj: m, cohort: u.cohortOf[string(m.Spec.CohortRef.Name)]})
	}
	slices.SortFunc(u.members, func(a, b *memberView) int {
		return cmp.Or(cmp.Compare(a.obj.Spec.CohortRef.Name, b.obj.Spec.CohortRef.Name), cmp.Compare(a.obj.Name, b.obj.Name))
	})
	for _, m := range u.members {
		if m.cohort != nil {
			m.cohort.members = append(m.cohort.members, m)
		}
	}
	for _, e := range s.Events {
		u.events = append(u.events, newEventView(e))
	}
	slices.SortFunc(u.events, func(a, b *eventView) int { return cmp.Compare(a.obj.Name, b.obj.Name) })
	for _, e := range u.events {
		e.cohorts = u.eventCohorts(e)
		for _, cv := range e.cohorts {
			cv.events = append(cv.events, e)
		}
	}
	u.resolvePlans(s.Plans)
	return u
}

// eventCohorts are the cohorts an event counts for: its own, or every cohort of its
// community.
func (u *unit) eventCohorts(e *eventView) []*cohortView {
	switch {
	case e.obj.Spec.CohortRef != nil:
		if cv := u.cohortOf[string(e.obj.Spec.CohortRef.Name)]; cv != nil {
			return []*cohortView{cv}
		}
	case e.obj.Spec.CommunityRef != nil && u.community != nil && string(e.obj.Spec.CommunityRef.Name) == u.community.Name:
		return u.cohorts
	}
	return nil
}

// observeBoundary keeps the earliest future instant at which the outcome changes.
func (u *unit) observeBoundary(t time.Time) {
	if t.IsZero() || !t.After(u.now) {
		return
	}
	if u.next.IsZero() || t.Before(u.next) {
		u.next = t
	}
}

// outcome builds every status from the evaluated unit.
func (u *unit) outcome() Outcome {
	out := Outcome{
		Cohorts:     make(map[string]learningv1alpha1.CohortStatus, len(u.cohorts)),
		Memberships: make(map[string]learningv1alpha1.MembershipStatus, len(u.members)),
		Events:      make(map[string]learningv1alpha1.LearningEventStatus, len(u.events)),
		Plans:       make(map[string]learningv1alpha1.ActionPlanStatus, len(u.plans)),
	}
	for _, m := range u.members {
		out.Memberships[m.obj.Name] = u.membershipStatus(m)
	}
	for _, e := range u.events {
		out.Events[e.obj.Name] = u.eventStatus(e)
	}
	for _, p := range u.plans {
		out.Plans[p.obj.Name] = u.planStatus(p)
	}
	for _, cv := range u.cohorts {
		out.Cohorts[cv.obj.Name] = u.guardedCohortStatus(cv)
	}
	if u.community != nil {
		status := u.communityStatus()
		out.Community = &status
	}
	out.Publications = u.publications(&out)
	for _, cv := range u.cohorts {
		if len(cv.failures) > 0 {
			status := out.Cohorts[cv.obj.Name]
			u.reportFailures(&status, cv)
			out.Cohorts[cv.obj.Name] = status
			out.Failures = append(out.Failures, cv.failures...)
		}
	}
	out.Next = u.next
	return out
}
