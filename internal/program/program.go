// Package program evaluates a program unit: a CommunityOfPractice with all its cohorts,
// or a standalone Cohort. Every rule of the product (seats, eligibility across cohorts,
// terms, attendance, composition, approvals, action plans) is decided here for the
// whole unit at once, from one snapshot, so that the statuses of its objects never
// contradict each other and one change costs one evaluation of its unit.
//
// A pass calls into the package once to decide and once to report, as a controller's
// scope feeds its condition setters:
//
//	decision := Decide(snapshot)       // every rule, before anything is written
//	...the controller writes decision.Gatherings and applies decision.Publications...
//	outcome := decision.Outcome(facts) // every status, from the decision and what the writes found
//
// Both are pure: the snapshot carries the objects as the cache holds them, with their
// previous statuses (seat history is an input), and the clock; the facts carry what
// the controller's writes found. The outcome holds the status every object should
// have, the Events its changes record, and the next instant at which it changes by the
// clock alone. Controllers write the statuses that differ and requeue at that instant.
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

	// Reports are the ProgramReports of the unit's community and cohorts.
	Reports []*learningv1alpha1.ProgramReport

	// ApprovalPolicyMissing, when not empty, says why the admission policy that
	// verifies approvers cannot be relied on (it or its binding is not installed).
	// Approvals are then not trusted: no External event is Approved (fail closed).
	ApprovalPolicyMissing string

	// Neighbours are the other communities of the community's namespace, by name.
	Neighbours []string

	// Schedules are the cohorts' schedules expanded for this pass (ExpandSchedules), by
	// cohort name, so that each is expanded once however many steps read it. Decide
	// expands a scheduled cohort missing here itself.
	Schedules map[string]*Schedule

	// Taken are the names, among those the cohorts' schedules generate
	// (ScheduledNames), that an event outside the unit holds: the schedule skips them,
	// as it skips a name a person's event of the unit holds.
	Taken map[string]bool
}

// Decision is what a pass decides before it writes anything: the writes it asks of the
// controller, and every status as the unit stands once they are made.
type Decision struct {
	// Gatherings are the writes of each cohort's generated gatherings, by cohort name.
	// A cohort that is missing here (its schedule is invalid, or planning it failed)
	// writes none and keeps its record. A suspended cohort's plan writes nothing.
	Gatherings map[string]GatheringPlan

	// Publications are what each cohort grants and publishes, keyed by cohort name.
	Publications map[string]Publication

	// Reports are the ProgramReports to create, label or freeze.
	Reports []ReportWrite

	// u is the decided unit; out its statuses before the facts complete them.
	u   *unit
	out Outcome
}

// Facts are what the controller's writes of a decision found.
type Facts struct {
	// Gatherings are the cohorts' records of generated gatherings (status.gatherings)
	// as the gatherings step wrote them, by cohort name; a cohort missing here keeps
	// its record.
	Gatherings map[string][]learningv1alpha1.GeneratedGathering

	// Failures are the writes that failed for a cohort, by cohort name, in the order
	// they ran; the cohort reports them and the unit is retried.
	Failures map[string][]*StepFailure

	// Provisioned is how applying each cohort's services went, by cohort name; a
	// cohort missing here was not provisioned in this pass (it is frozen, suspended
	// without changes, or being deleted) and keeps its Provisioned condition.
	Provisioned map[string]Provisioning

	// CommunityProvisioned is how binding the community's approvers went; nil when it
	// was not done.
	CommunityProvisioned *Provisioning

	// ReportFailures are the report writes that failed, by report name: the report
	// keeps its status (a report whose figures could not be frozen stays Open), and
	// the unit is retried.
	ReportFailures map[string]error
}

// Outcome is the evaluated state of a unit: the status every object should have, keyed
// by object name, the Events their changes record, and when to evaluate again.
type Outcome struct {
	// Community is the community's status; nil when the snapshot has no community.
	Community   *learningv1alpha1.CommunityOfPracticeStatus
	Cohorts     map[string]learningv1alpha1.CohortStatus
	Memberships map[string]learningv1alpha1.MembershipStatus
	Events      map[string]learningv1alpha1.LearningEventStatus
	Plans       map[string]learningv1alpha1.ActionPlanStatus
	Reports     map[string]learningv1alpha1.ProgramReportStatus

	// Publications are what each cohort grants and publishes, keyed by cohort name.
	Publications map[string]Publication

	// Next is the earliest future instant at which the outcome changes by the clock
	// alone (a term or phase boundary, an event starting or ending); zero when none.
	Next time.Time

	// Failures are the failed steps the cohort statuses report, the facts' included,
	// in the order the steps ran.
	Failures []*StepFailure

	// Transitions are the Events each object's change of status records, emitted once
	// after the status write that records it.
	Transitions map[ObjectKey][]Transition
}

// ObjectKey names an object of the unit by kind (Membership, LearningEvent,
// ActionPlan) and name.
type ObjectKey struct {
	Kind, Name string
}

// Decide decides every rule of the unit at s.Now: the gatherings each cohort's
// schedule wants (the unit is then judged with them in place, as the writes will leave
// it), seats, terms, attendance, composition, approvals, plans, and what each cohort
// grants and publishes. It does not modify the snapshot.
func Decide(s Snapshot) *Decision {
	schedules := make(map[string]*Schedule, len(s.Cohorts))
	for _, c := range s.Cohorts {
		if sched, ok := s.Schedules[c.Name]; ok {
			schedules[c.Name] = sched
		} else if c.Spec.Schedule != nil {
			schedules[c.Name] = ExpandSchedule(c, s.Now)
		}
	}
	s.Schedules = schedules
	plans, events, failures := planGatherings(s)
	s.Events = events
	u := newUnit(s)
	for _, cv := range u.cohorts {
		cv.failures = append(cv.failures, failures[cv.obj.Name]...)
		if plan, ok := plans[cv.obj.Name]; ok {
			cv.skipped = plan.Skipped
		}
	}
	u.resolveCohorts()
	u.resolveMembers()
	u.allocateSeats()
	u.judgeAttendance()
	u.judgePlans()
	d := &Decision{Gatherings: plans, u: u, out: u.outcome()}
	d.decideReports(s.Reports)
	// The cohorts' documents carry the reports as approved in this pass.
	d.out.Publications = u.publications(&d.out)
	d.Publications = d.out.Publications
	d.out.Next = u.next
	return d
}

// Evaluate decides the unit and reports it as if every write of the decision
// succeeded and no cohort was provisioned: Decide(s).Outcome(Facts{}).
func Evaluate(s Snapshot) Outcome {
	return Decide(s).Outcome(Facts{})
}

// Outcome reports the decision: every status, completed with what the writes found
// (the gatherings records, the failed writes, the Provisioned conditions), and the
// Events of the changes. It is called once per decision.
func (d *Decision) Outcome(f Facts) Outcome {
	u, out := d.u, d.out
	for _, cv := range u.cohorts {
		name := cv.obj.Name
		status, ok := out.Cohorts[name]
		if !ok {
			continue
		}
		if record, ok := f.Gatherings[name]; ok {
			status.Gatherings = record
		}
		cv.failures = append(cv.failures, f.Failures[name]...)
		if len(cv.failures) > 0 {
			u.reportFailures(&status, cv)
			out.Failures = append(out.Failures, cv.failures...)
		}
		if p, ok := f.Provisioned[name]; ok {
			SetProvisioned(&status.Conditions, cv.obj.Status.Conditions, cv.obj.Generation, u.now, p)
		}
		out.Cohorts[name] = status
	}
	// A report whose write failed keeps the status it has: its figures are not
	// frozen (nor its labels moved) until a pass writes them.
	for name := range f.ReportFailures {
		delete(out.Reports, name)
	}
	if c, p := u.community, f.CommunityProvisioned; c != nil && out.Community != nil && p != nil {
		SetProvisioned(&out.Community.Conditions, c.Status.Conditions, c.Generation, u.now, *p)
	}
	out.Transitions = u.transitions(out)
	return out
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
	// reports is Snapshot.Reports; keptReports the names of the reports each
	// program's policy keeps, as decideReports found them.
	reports     []*learningv1alpha1.ProgramReport
	keptReports map[learningv1alpha1.ProgramReference][]string
}

func newUnit(s Snapshot) *unit {
	u := &unit{now: s.Now, community: s.Community, cohortOf: map[string]*cohortView{}, policyMissing: s.ApprovalPolicyMissing, neighbours: slices.Sorted(slices.Values(s.Neighbours)), reports: s.Reports}
	for _, c := range s.Cohorts {
		cv := &cohortView{obj: c, schedule: s.Schedules[c.Name]}
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
	out.Next = u.next
	return out
}

// transitions lists the Events of the status changes of out, against the statuses the
// snapshot held.
func (u *unit) transitions(out Outcome) map[ObjectKey][]Transition {
	all := map[ObjectKey][]Transition{}
	add := func(kind, name string, t []Transition) {
		if len(t) > 0 {
			all[ObjectKey{Kind: kind, Name: name}] = t
		}
	}
	for _, m := range u.members {
		if status, ok := out.Memberships[m.obj.Name]; ok {
			add("Membership", m.obj.Name, MembershipTransitions(&m.obj.Status, &status))
		}
	}
	for _, e := range u.events {
		if status, ok := out.Events[e.obj.Name]; ok {
			add("LearningEvent", e.obj.Name, EventTransitions(e.obj, &e.obj.Status, &status))
		}
	}
	for _, p := range u.plans {
		if status, ok := out.Plans[p.obj.Name]; ok {
			add("ActionPlan", p.obj.Name, PlanTransitions(&p.obj.Status, &status))
		}
	}
	return all
}
