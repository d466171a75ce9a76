package controllers

import (
	"context"
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// program is everything observed about one Cohort in one pass: its community, the
// effective policy, its memberships with their terms, eligibility and seats, and the
// events that count toward attendance. The Cohort, Membership and LearningEvent
// reconcilers all derive their status from it, so they always agree.
type program struct {
	cohort    *learningv1alpha1.Cohort
	community *learningv1alpha1.CommunityOfPractice
	// communityMissing is true when spec.communityRef names a community that does not
	// exist.
	communityMissing bool
	loc              *time.Location
	now              time.Time

	policy    rules.Policy
	policyErr error
	term      rules.Term
	lastDay   learningv1alpha1.Date
	termErr   error
	phase     learningv1alpha1.CohortPhase

	members   []*member // ordered by name
	roleSeats []rules.RoleSeats
	events    []rules.EventRecord
	// next is the earliest future instant at which anything observed here changes by
	// the clock alone: a phase boundary or the end of an event.
	next time.Time
}

// member is one Membership as the program sees it.
type member struct {
	obj         *learningv1alpha1.Membership
	term        rules.Term
	termErr     error
	phase       learningv1alpha1.MembershipPhase
	eligibility rules.Eligibility
	seat        rules.Seat
	competing   bool // eligible and claiming: it holds a seat or a waitlist position
	attendance  *rules.AttendanceResult
}

// valid reports whether seats can be allocated: the policy and dates resolve.
func (p *program) valid() bool { return p.policyErr == nil && p.termErr == nil }

// member returns the program's view of the named Membership.
func (p *program) member(name string) *member {
	i := sort.Search(len(p.members), func(i int) bool { return p.members[i].obj.Name >= name })
	if i < len(p.members) && p.members[i].obj.Name == name {
		return p.members[i]
	}
	return nil
}

// observeProgram reads the cohort's community, memberships and events from the cache
// and evaluates the program rules at now. It returns an error only for failed reads.
func observeProgram(ctx context.Context, c client.Reader, cohort *learningv1alpha1.Cohort, now time.Time) (*program, error) {
	p, err := observeSeats(ctx, c, cohort, now)
	if err != nil {
		return nil, err
	}
	if err := p.observeEvents(ctx, c); err != nil {
		return nil, err
	}
	p.judgeAttendance()
	return p, nil
}

// observeSeats evaluates the program up to the seats, without reading events or judging
// attendance: enough for a LearningEvent, which only needs who is seated.
func observeSeats(ctx context.Context, c client.Reader, cohort *learningv1alpha1.Cohort, now time.Time) (*program, error) {
	p := &program{cohort: cohort, now: now, loc: time.UTC}
	if err := p.observeCommunity(ctx, c); err != nil {
		return nil, err
	}
	p.resolvePolicyAndTerm()
	if err := p.observeMembers(ctx, c); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *program) observeCommunity(ctx context.Context, c client.Reader) error {
	ref := p.cohort.Spec.CommunityRef
	if ref == nil {
		return nil
	}
	community := &learningv1alpha1.CommunityOfPractice{}
	err := c.Get(ctx, client.ObjectKey{Namespace: p.cohort.Namespace, Name: string(ref.Name)}, community)
	switch {
	case apierrors.IsNotFound(err):
		p.communityMissing = true
		return nil
	case err != nil:
		return fmt.Errorf("reading community %s: %w", ref.Name, err)
	}
	p.community = community
	return nil
}

func (p *program) resolvePolicyAndTerm() {
	if tz := p.cohort.Spec.TimeZone; tz != "" {
		loc, err := time.LoadLocation(string(tz))
		if err != nil {
			p.termErr = fmt.Errorf("spec.timeZone: unknown time zone %q", tz)
			p.policyErr = p.termErr
			return
		}
		p.loc = loc
	}
	var communityPolicy *learningv1alpha1.ProgramPolicy
	var eligible []learningv1alpha1.OrganizationName
	if p.community != nil {
		communityPolicy = &p.community.Spec.Policy
		eligible = p.community.Spec.EligibleOrganizations
	}
	p.policy, p.policyErr = rules.EffectivePolicy(communityPolicy, eligible, p.cohort.Spec.Policy)
	if p.policyErr != nil && p.communityMissing {
		p.policyErr = fmt.Errorf("community %s not found and %w", p.cohort.Spec.CommunityRef.Name, p.policyErr)
	}
	spec := p.cohort.Spec
	p.term, p.lastDay, p.termErr = rules.CohortTerm(spec.StartDate, spec.EndDate, spec.DurationMonths, p.loc)
	if p.termErr != nil {
		return
	}
	var next time.Time
	p.phase, next = rules.CohortPhase(p.term, p.now)
	p.observeBoundary(next)
}

// observeBoundary keeps the earliest future boundary.
func (p *program) observeBoundary(t time.Time) {
	if t.IsZero() || !t.After(p.now) {
		return
	}
	if p.next.IsZero() || t.Before(p.next) {
		p.next = t
	}
}

func (p *program) observeMembers(ctx context.Context, c client.Reader) error {
	list := &learningv1alpha1.MembershipList{}
	if err := c.List(ctx, list, client.InNamespace(p.cohort.Namespace), readOnly,
		client.MatchingFields{membershipCohortIndex: p.cohort.Name}); err != nil {
		return fmt.Errorf("listing memberships of cohort %s: %w", p.cohort.Name, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	p.members = make([]*member, 0, len(list.Items))
	for i := range list.Items {
		p.members = append(p.members, &member{obj: &list.Items[i]})
	}
	if !p.valid() {
		return nil
	}
	claims := newClaimFinder(c, p)
	candidates := make([]rules.Candidate, 0, len(p.members))
	for _, m := range p.members {
		if err := p.observeMember(ctx, claims, m); err != nil {
			return err
		}
		candidates = append(candidates, rules.Candidate{
			Name:     m.obj.Name,
			Created:  m.obj.CreationTimestamp.Time,
			Role:     string(m.obj.Spec.Role),
			Eligible: m.eligibility.Eligible,
			Claiming: claiming(m.phase),
		})
	}
	var seats map[string]rules.Seat
	seats, p.roleSeats = rules.AllocateSeats(p.policy.Roles, candidates)
	for _, m := range p.members {
		m.seat, m.competing = seats[m.obj.Name]
	}
	return nil
}

// claiming reports whether a membership in this phase may hold a seat.
func claiming(phase learningv1alpha1.MembershipPhase) bool {
	switch phase {
	case learningv1alpha1.MembershipPending, learningv1alpha1.MembershipActive, learningv1alpha1.MembershipExpiring:
		return true
	}
	return false
}

func (p *program) observeMember(ctx context.Context, claims *claimFinder, m *member) error {
	spec := m.obj.Spec
	role, known := p.policy.Role(string(spec.Role))
	if !known {
		role = rules.RolePolicy{Name: string(spec.Role), TermMonths: rules.DefaultTermMonths}
	}
	m.term, m.termErr = rules.MembershipTerm(p.term, role, spec.StartDate, spec.EndDate, p.loc)
	if m.termErr != nil {
		m.eligibility = rules.Eligibility{Reason: learningv1alpha1.InvalidPolicyReason, Message: m.termErr.Error()}
		return nil
	}
	var next time.Time
	m.phase, next = rules.MembershipPhase(m.term, spec.Withdrawn, p.policy.TermNoticeDays, p.now)
	p.observeBoundary(next)
	others, err := claims.of(ctx, m.obj)
	if err != nil {
		return err
	}
	m.eligibility = rules.CheckEligibility(rules.EligibilityInput{
		Name:         m.obj.Name,
		Cohort:       p.cohort.Name,
		Role:         string(spec.Role),
		Organization: string(spec.Organization),
		Created:      m.obj.CreationTimestamp.Time,
		Term:         m.term,
		Policy:       p.policy,
		Others:       others,
		Now:          p.now,
	})
	return nil
}

func (p *program) observeEvents(ctx context.Context, c client.Reader) error {
	var events []learningv1alpha1.LearningEvent
	list := &learningv1alpha1.LearningEventList{}
	if err := c.List(ctx, list, client.InNamespace(p.cohort.Namespace), readOnly,
		client.MatchingFields{eventCohortIndex: p.cohort.Name}); err != nil {
		return fmt.Errorf("listing events of cohort %s: %w", p.cohort.Name, err)
	}
	events = append(events, list.Items...)
	if p.community != nil {
		list := &learningv1alpha1.LearningEventList{}
		if err := c.List(ctx, list, client.InNamespace(p.cohort.Namespace), readOnly,
			client.MatchingFields{eventCommunityIndex: p.community.Name}); err != nil {
			return fmt.Errorf("listing events of community %s: %w", p.community.Name, err)
		}
		events = append(events, list.Items...)
	}
	p.events = make([]rules.EventRecord, 0, len(events))
	for i := range events {
		record := eventRecord(&events[i])
		p.events = append(p.events, record)
		if !record.Cancelled {
			p.observeBoundary(record.Start)
			p.observeBoundary(record.End)
		}
	}
	return nil
}

// eventRecord converts a LearningEvent into the attendance rules' input.
func eventRecord(e *learningv1alpha1.LearningEvent) rules.EventRecord {
	status := make(map[string]learningv1alpha1.AttendanceStatus, len(e.Spec.Attendance))
	for _, a := range e.Spec.Attendance {
		status[string(a.Member)] = a.Status
	}
	start := e.Spec.Start.Time
	return rules.EventRecord{
		Name:      e.Name,
		Start:     start,
		End:       start.Add(e.Spec.Duration.Duration),
		Counts:    countsTowardAttendance(e),
		Cancelled: e.Spec.Cancelled,
		Status:    status,
	}
}

// countsTowardAttendance resolves spec.countsTowardAttendance: when unset, gatherings,
// check-ins and intensives count and other events do not.
func countsTowardAttendance(e *learningv1alpha1.LearningEvent) bool {
	if e.Spec.CountsTowardAttendance != nil {
		return *e.Spec.CountsTowardAttendance
	}
	switch e.Spec.Type {
	case learningv1alpha1.GatheringEvent, learningv1alpha1.CheckInEvent, learningv1alpha1.IntensiveEvent:
		return true
	}
	return false
}

func (p *program) judgeAttendance() {
	if !p.valid() {
		return
	}
	for _, m := range p.members {
		if !m.competing || !m.seat.Seated {
			continue
		}
		result := rules.MemberAttendance(p.policy.Attendance, m.obj.Name, m.term, p.events, p.now)
		m.attendance = &result
	}
}

// claimFinder finds the other memberships of a person in the community's other
// cohorts. On first use it reads the community's other cohorts and their memberships
// once, through the field indexes, so a pass costs one read per cohort of the
// community rather than one per membership.
type claimFinder struct {
	c      client.Reader
	p      *program
	loaded bool
	claims map[string][]rules.Claim // by person
}

func newClaimFinder(c client.Reader, p *program) *claimFinder {
	return &claimFinder{c: c, p: p}
}

// of returns the claims of m's person in other cohorts of the same community.
func (f *claimFinder) of(ctx context.Context, m *learningv1alpha1.Membership) ([]rules.Claim, error) {
	if f.p.community == nil {
		return nil, nil
	}
	if !f.loaded {
		if err := f.load(ctx); err != nil {
			return nil, err
		}
		f.loaded = true
	}
	return f.claims[m.Spec.Member], nil
}

func (f *claimFinder) load(ctx context.Context) error {
	ns := f.p.cohort.Namespace
	cohorts := &learningv1alpha1.CohortList{}
	if err := f.c.List(ctx, cohorts, client.InNamespace(ns), readOnly,
		client.MatchingFields{cohortCommunityIndex: f.p.community.Name}); err != nil {
		return fmt.Errorf("listing cohorts of community %s: %w", f.p.community.Name, err)
	}
	f.claims = map[string][]rules.Claim{}
	for i := range cohorts.Items {
		other := &cohorts.Items[i]
		if other.Name == f.p.cohort.Name {
			continue
		}
		ct, ok := f.resolve(other)
		if !ok {
			continue
		}
		members := &learningv1alpha1.MembershipList{}
		if err := f.c.List(ctx, members, client.InNamespace(ns), readOnly,
			client.MatchingFields{membershipCohortIndex: other.Name}); err != nil {
			return fmt.Errorf("listing memberships of cohort %s: %w", other.Name, err)
		}
		for j := range members.Items {
			if claim, ok := ct.claim(&members.Items[j]); ok {
				f.p.observeBoundary(claim.Term.End) // the claim stops blocking then
				person := members.Items[j].Spec.Member
				f.claims[person] = append(f.claims[person], claim)
			}
		}
	}
	return nil
}

// cohortTerms is what a claim needs to know of another cohort.
type cohortTerms struct {
	name   string
	loc    *time.Location
	term   rules.Term
	active bool
	policy rules.Policy
}

// claim turns a membership of the other cohort into a claim; ok is false for a role
// the other cohort does not have. Its dates are days in its own cohort's time zone.
func (ct cohortTerms) claim(m *learningv1alpha1.Membership) (rules.Claim, bool) {
	role, known := ct.policy.Role(string(m.Spec.Role))
	if !known {
		return rules.Claim{}, false
	}
	term, err := rules.MembershipTerm(ct.term, role, m.Spec.StartDate, m.Spec.EndDate, ct.loc)
	if err != nil {
		return rules.Claim{}, false
	}
	return rules.Claim{
		Name:         m.Name,
		Cohort:       ct.name,
		Role:         string(m.Spec.Role),
		Created:      m.CreationTimestamp.Time,
		Term:         term,
		Withdrawn:    m.Spec.Withdrawn,
		CohortActive: ct.active,
	}, true
}

// resolve evaluates another cohort of the same community; ok is false when its
// policy or dates cannot be resolved, in which case it holds no claims.
func (f *claimFinder) resolve(other *learningv1alpha1.Cohort) (cohortTerms, bool) {
	loc := time.UTC
	if other.Spec.TimeZone != "" {
		l, err := time.LoadLocation(string(other.Spec.TimeZone))
		if err != nil {
			return cohortTerms{}, false
		}
		loc = l
	}
	policy, err := rules.EffectivePolicy(&f.p.community.Spec.Policy, f.p.community.Spec.EligibleOrganizations, other.Spec.Policy)
	if err != nil {
		return cohortTerms{}, false
	}
	term, _, err := rules.CohortTerm(other.Spec.StartDate, other.Spec.EndDate, other.Spec.DurationMonths, loc)
	if err != nil {
		return cohortTerms{}, false
	}
	phase, next := rules.CohortPhase(term, f.p.now)
	// The claim lapses when the other cohort completes.
	f.p.observeBoundary(next)
	return cohortTerms{name: other.Name, loc: loc, term: term, policy: policy, active: phase != learningv1alpha1.CohortCompleted}, true
}
