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
	p := &program{cohort: cohort, now: now, loc: time.UTC}
	if err := p.observeCommunity(ctx, c); err != nil {
		return nil, err
	}
	p.resolvePolicyAndTerm()
	if err := p.observeMembers(ctx, c); err != nil {
		return nil, err
	}
	if err := p.observeEvents(ctx, c); err != nil {
		return nil, err
	}
	p.judgeAttendance()
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
	if err := c.List(ctx, list, client.InNamespace(p.cohort.Namespace),
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
	})
	return nil
}

func (p *program) observeEvents(ctx context.Context, c client.Reader) error {
	var events []learningv1alpha1.LearningEvent
	list := &learningv1alpha1.LearningEventList{}
	if err := c.List(ctx, list, client.InNamespace(p.cohort.Namespace),
		client.MatchingFields{eventCohortIndex: p.cohort.Name}); err != nil {
		return fmt.Errorf("listing events of cohort %s: %w", p.cohort.Name, err)
	}
	events = append(events, list.Items...)
	if p.community != nil {
		list := &learningv1alpha1.LearningEventList{}
		if err := c.List(ctx, list, client.InNamespace(p.cohort.Namespace),
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

// claimFinder finds the other memberships of a person in the community's other cohorts.
// It remembers the cohorts it has resolved during one pass.
type claimFinder struct {
	c       client.Reader
	p       *program
	cohorts map[string]*cohortTerms
}

// cohortTerms is what a claim needs to know of another cohort.
type cohortTerms struct {
	term   rules.Term
	active bool
	policy rules.Policy
	ok     bool
}

func newClaimFinder(c client.Reader, p *program) *claimFinder {
	return &claimFinder{c: c, p: p, cohorts: map[string]*cohortTerms{}}
}

// of returns the claims of m's person in other cohorts of the same community.
func (f *claimFinder) of(ctx context.Context, m *learningv1alpha1.Membership) ([]rules.Claim, error) {
	if f.p.community == nil {
		return nil, nil
	}
	list := &learningv1alpha1.MembershipList{}
	if err := f.c.List(ctx, list, client.InNamespace(m.Namespace),
		client.MatchingFields{membershipMemberIndex: m.Spec.Member}); err != nil {
		return nil, fmt.Errorf("listing memberships of %s: %w", m.Spec.Member, err)
	}
	var claims []rules.Claim
	for i := range list.Items {
		other := &list.Items[i]
		if other.Spec.CohortRef.Name == m.Spec.CohortRef.Name {
			continue
		}
		ct, err := f.cohort(ctx, string(other.Spec.CohortRef.Name))
		if err != nil {
			return nil, err
		}
		if !ct.ok {
			continue
		}
		role, known := ct.policy.Role(string(other.Spec.Role))
		if !known {
			role = rules.RolePolicy{Name: string(other.Spec.Role), TermMonths: rules.DefaultTermMonths}
		}
		term, err := rules.MembershipTerm(ct.term, role, other.Spec.StartDate, other.Spec.EndDate, f.p.loc)
		if err != nil {
			continue
		}
		claims = append(claims, rules.Claim{
			Name:         other.Name,
			Cohort:       string(other.Spec.CohortRef.Name),
			Role:         string(other.Spec.Role),
			Created:      other.CreationTimestamp.Time,
			Term:         term,
			Withdrawn:    other.Spec.Withdrawn,
			CohortActive: ct.active,
		})
	}
	return claims, nil
}

// cohort resolves another cohort of the same community; ok is false when it does not
// exist, belongs elsewhere or cannot be resolved.
func (f *claimFinder) cohort(ctx context.Context, name string) (*cohortTerms, error) {
	if ct, seen := f.cohorts[name]; seen {
		return ct, nil
	}
	ct := &cohortTerms{}
	f.cohorts[name] = ct
	other := &learningv1alpha1.Cohort{}
	err := f.c.Get(ctx, client.ObjectKey{Namespace: f.p.cohort.Namespace, Name: name}, other)
	if apierrors.IsNotFound(err) {
		return ct, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading cohort %s: %w", name, err)
	}
	if other.Spec.CommunityRef == nil || other.Spec.CommunityRef.Name != f.p.cohort.Spec.CommunityRef.Name {
		return ct, nil
	}
	loc := time.UTC
	if other.Spec.TimeZone != "" {
		if loc, err = time.LoadLocation(string(other.Spec.TimeZone)); err != nil {
			return ct, nil //nolint:nilerr // an unresolvable cohort holds no claims
		}
	}
	policy, err := rules.EffectivePolicy(&f.p.community.Spec.Policy, f.p.community.Spec.EligibleOrganizations, other.Spec.Policy)
	if err != nil {
		return ct, nil //nolint:nilerr // an unresolvable cohort holds no claims
	}
	term, _, err := rules.CohortTerm(other.Spec.StartDate, other.Spec.EndDate, other.Spec.DurationMonths, loc)
	if err != nil {
		return ct, nil //nolint:nilerr // an unresolvable cohort holds no claims
	}
	phase, _ := rules.CohortPhase(term, f.p.now)
	*ct = cohortTerms{term: term, policy: policy, active: phase != learningv1alpha1.CohortCompleted, ok: true}
	return ct, nil
}
