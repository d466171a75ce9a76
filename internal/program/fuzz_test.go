package program

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/fuzzbytes"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// fuzzUnit is a decoded unit and the facts the generator knows about it, so that the
// invariants do not trust the evaluator's own reading of the policy.
type fuzzUnit struct {
	snap Snapshot
	// frozen are the cohorts whose policy cannot be resolved.
	frozen map[string]bool
	// maxOf is the effective maxMembers of each role of each cohort that is not frozen.
	maxOf map[string]map[string]int
}

// fuzzRoles are the roles memberships claim; Ghost is in no policy.
var fuzzRoles = []string{"Lead", "Lead", "Lead", "Member", "Member", "Member", "Member", "Ghost"}

// decodeUnit turns fuzz input into a community with one to three cohorts of varied
// dates and policies, up to 30 memberships of up to 8 people with previous statuses
// (prior seats included), and a few events with attendance.
func decodeUnit(data []byte) fuzzUnit {
	r := fuzzbytes.New(data)
	base := day("2025-01-01")
	u := fuzzUnit{frozen: map[string]bool{}, maxOf: map[string]map[string]int{}}

	now := base.AddDate(0, 0, 4*r.N(200)).Add(time.Duration(r.N(24)) * time.Hour)
	if r.N(4) == 0 {
		now = now.Add(time.Duration(r.N(60))*time.Second + 250*time.Millisecond)
	}
	u.snap.Now = now

	cop := community(decodeRole(r, "Lead"), decodeRole(r, "Member"))
	if r.N(4) == 0 {
		cop.Spec.EligibleOrganizations = []learningv1alpha1.OrganizationName{"Iowa Alliance"}
	}
	u.snap.Community = cop

	for i := range 1 + r.N(3) {
		c, frozen, memberMax := decodeCohort(r, fmt.Sprintf("c%d", i), base)
		u.snap.Cohorts = append(u.snap.Cohorts, c)
		if frozen {
			u.frozen[c.Name] = true
			continue
		}
		u.maxOf[c.Name] = map[string]int{
			"Lead":   int(*cop.Spec.Policy.Roles[0].MaxMembers),
			"Member": int(*cop.Spec.Policy.Roles[1].MaxMembers),
		}
		if memberMax > 0 {
			u.maxOf[c.Name]["Member"] = memberMax
		}
	}

	for i := range r.N(31) {
		u.snap.Memberships = append(u.snap.Memberships, decodeMembership(r, i, u.snap.Cohorts, now))
	}
	for i := range r.N(6) {
		u.snap.Events = append(u.snap.Events, decodeEvent(r, i, u.snap.Cohorts, base))
	}
	// Plans come last, so that inputs written before plans existed decode the same
	// units as before.
	cop.Spec.Policy.ActionPlans = &learningv1alpha1.ActionPlanPolicy{
		Required:   []learningv1alpha1.PlanRequirement{"", learningv1alpha1.PlansNotRequired, learningv1alpha1.PersonalPlansRequired, learningv1alpha1.TeamPlansRequired}[r.N(4)],
		DueDays:    testutil.Ptr(int32(1 + r.N(60))),
		StaleAfter: testutil.Ptr(int32(1 + r.N(3))),
	}
	for i := range r.N(7) {
		u.snap.Plans = append(u.snap.Plans, decodePlan(r, i, u.snap.Cohorts, base))
	}
	return u
}

// decodePlan decodes a personal plan of a membership (perhaps one that does not
// exist) or a team plan of a cohort, owned by one of the people, with up to five
// actions of varied due days and statuses and up to three check-ins, some at events
// of no cohort of the plan.
func decodePlan(r *fuzzbytes.Reader, i int, cohorts []*learningv1alpha1.Cohort, base time.Time) *learningv1alpha1.ActionPlan {
	p := testutil.PersonalPlan(ns, fmt.Sprintf("plan%d", i), fmt.Sprintf("m%02d", r.N(34)), fmt.Sprintf("p%d", r.N(8)))
	p.Generation = 1
	p.CreationTimestamp = metav1.NewTime(base.AddDate(0, 0, 3*r.N(200)))
	if pick := r.N(len(cohorts) + 3); pick < len(cohorts)+1 {
		cohort := "gone"
		if pick < len(cohorts) {
			cohort = cohorts[pick].Name
		}
		p.Spec.MembershipRef = nil
		p.Spec.Team = &learningv1alpha1.PlanTeam{CohortRef: learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort)},
			Organization: []learningv1alpha1.OrganizationName{"Iowa Alliance", "Ohio Coalition"}[r.N(2)]}
	}
	if r.N(3) == 0 {
		p.Spec.PartnerRef = &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(fmt.Sprintf("m%02d", r.N(34)))}
	}
	statuses := []learningv1alpha1.ActionStatus{learningv1alpha1.ActionPlanned, learningv1alpha1.ActionInProgress, learningv1alpha1.ActionDone, learningv1alpha1.ActionDropped}
	for a := range r.N(6) {
		due := learningv1alpha1.Date("")
		if r.N(4) != 0 {
			due = learningv1alpha1.Date(base.AddDate(0, 0, 3*r.N(256)).Format(time.DateOnly))
		}
		p.Spec.Actions = append(p.Spec.Actions, testutil.Action(fmt.Sprintf("a%d", a), due, statuses[r.N(len(statuses))]))
	}
	for c := range r.N(4) {
		checkIn := learningv1alpha1.CheckIn{ID: fmt.Sprintf("c%d", c), At: metav1.NewTime(base.AddDate(0, 0, 3*r.N(256)).Add(9 * time.Hour)), Author: p.Spec.Owner}
		if r.N(2) == 0 {
			checkIn.EventRef = &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(fmt.Sprintf("e%d", r.N(8)))}
		}
		p.Spec.CheckIns = append(p.Spec.CheckIns, checkIn)
	}
	return p
}

// decodeRole decodes a role with one to three seats, an optional term length and an
// optional term limit.
func decodeRole(r *fuzzbytes.Reader, name string) learningv1alpha1.RolePolicy {
	maxMembers := int32(1 + r.N(3))
	rp := role(name, int32(r.N(int(maxMembers)+1)), maxMembers)
	if months := []int32{0, 3, 6, 12}[r.N(4)]; months > 0 {
		termMonths(months)(&rp)
	}
	if r.N(2) == 0 {
		termLimit(int32(1 + r.N(3)))(&rp)
	}
	return rp
}

// decodeCohort decodes a cohort starting between mid-2024 and mid-2026. It reports
// whether its policy cannot be resolved, and the Member seats it overrides (0 when
// none).
func decodeCohort(r *fuzzbytes.Reader, name string, base time.Time) (c *learningv1alpha1.Cohort, frozen bool, memberMax int) {
	start := base.AddDate(0, r.N(24)-6, r.N(28))
	c = cohort(name, start.Format(time.DateOnly), int32(1+r.N(18)))
	if r.N(4) == 0 {
		ending(start.AddDate(0, 0, 30+r.N(400)).Format(time.DateOnly))(c)
	}
	switch r.N(16) {
	case 0:
		c.Spec.TimeZone = "Mars/Olympus"
		frozen = true
	case 1, 2:
		overriding(role("Member", 0, 1))(c)
		memberMax = 1
	case 3:
		enrollmentCloses(start.AddDate(0, 0, r.N(60)).Format(time.DateOnly))(c)
	case 4:
		scheduled(weekly())(c)
	}
	return c, frozen, memberMax
}

// decodeMembership decodes one membership and its previous status.
func decodeMembership(r *fuzzbytes.Reader, i int, cohorts []*learningv1alpha1.Cohort, now time.Time) *learningv1alpha1.Membership {
	cohortName, cohortStart := "gone", day("2025-01-01")
	if pick := r.N(len(cohorts)*8 + 1); pick < len(cohorts)*8 {
		c := cohorts[pick%len(cohorts)]
		cohortName, cohortStart = c.Name, day(string(c.Spec.StartDate))
	}
	person := fmt.Sprintf("p%d", r.N(8))
	created := day("2024-06-01").AddDate(0, 0, 5*r.N(160))
	m := member(fmt.Sprintf("m%02d", i), cohortName, person, fuzzRoles[r.N(len(fuzzRoles))], created)

	flags := int(r.Byte())
	if flags%8 == 0 {
		withdrawn()(m)
	}
	if org := []string{"", "Iowa Alliance", "Ohio Coalition"}[(flags>>3)%3]; org != "" {
		from(org)(m)
	}
	// A quarter of the memberships have their own start, end or both; a start can fall
	// after the cohort's end, which the membership reports as a problem of its dates.
	start, dates := cohortStart, r.N(12)
	if dates == 0 || dates == 2 {
		start = cohortStart.AddDate(0, r.N(9), 0)
		starting(start.Format(time.DateOnly))(m)
	}
	if dates == 1 || dates == 2 {
		until(start.AddDate(0, 0, r.N(500)).Format(time.DateOnly))(m)
	}

	// Previous statuses happened before now, to the second as the API server stores
	// them.
	at := now.AddDate(0, 0, -r.N(400)).Add(-time.Duration(r.N(24)) * time.Hour).Truncate(time.Second)
	history := func(m *learningv1alpha1.Membership) { m.Status.SeatedSince = &metav1.Time{Time: at} }
	switch r.N(8) {
	case 2:
		heldSince(at)(m)
	case 3:
		seatedBeforeUpgrade(at)(m)
	case 4:
		waitingAt(int32(1+r.N(5)), at)(m)
		if r.N(2) == 0 {
			history(m)
		}
	case 5:
		previously(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NotEligibleReason, at)(m)
		previously(learningv1alpha1.EligibleCondition, metav1.ConditionFalse, learningv1alpha1.AlreadySeatedReason, at)(m)
	case 6:
		previously(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.TermExpiredReason, at)(m)
		history(m)
	case 7:
		previously(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, at)(m)
		previously(learningv1alpha1.AttendanceMetCondition, metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, at)(m)
		history(m)
	}
	return m
}

// decodeEvent decodes one event of a cohort or of the community, with attendance
// naming memberships that may or may not exist.
func decodeEvent(r *fuzzbytes.Reader, i int, cohorts []*learningv1alpha1.Cohort, base time.Time) *learningv1alpha1.LearningEvent {
	start := base.AddDate(0, 0, 3*r.N(256)).Add(12 * time.Hour)
	var e *learningv1alpha1.LearningEvent
	switch pick := r.N(len(cohorts) + 2); {
	case pick < len(cohorts):
		e = gathering(fmt.Sprintf("e%d", i), cohorts[pick].Name, start)
	case pick == len(cohorts):
		e = communityGathering(fmt.Sprintf("e%d", i), start)
	default:
		e = gathering(fmt.Sprintf("e%d", i), "gone", start)
	}
	statuses := []learningv1alpha1.AttendanceStatus{
		learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceLate,
		learningv1alpha1.AttendanceExcused, learningv1alpha1.AttendanceAbsent,
	}
	seen := map[string]bool{}
	for range r.N(6) {
		name := fmt.Sprintf("m%02d", r.N(34))
		status := statuses[r.N(len(statuses))]
		if !seen[name] {
			seen[name] = true
			e.Spec.Attendance = append(e.Spec.Attendance, learningv1alpha1.AttendanceRecord{Member: learningv1alpha1.ObjectName(name), Status: status})
		}
	}
	e.Spec.Cancelled = r.N(8) == 0
	return e
}

// fuzzSeeds are a few units worth starting from: inputs of a fixed pseudo-random
// generator, long enough to decode busy units of three cohorts sharing people.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 2026))
		data := make([]byte, 200+80*int(seed))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzEvaluateInvariants checks the seat rules on random units: no role over its
// capacity unless its seats were already held above a lowered maximum (and then no new
// seat until below it), no person seated twice at once in cohorts that have not
// completed, waitlist positions 1..n per cohort and role, and the cohort's counts agree
// with its memberships; the plans' counts and figures agree with their actions and
// with each other; and the status contract: Ready on every object, a seat only
// while eligible and with seatedSince, and Next in the future.
func FuzzEvaluateInvariants(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := decodeUnit(data)
		out := Evaluate(u.snap)
		checkCapacity(t, u, out)
		checkOneSeatPerPerson(t, u, out)
		checkWaitlists(t, u, out)
		checkContract(t, u, out)
		checkPlans(t, u, out)
	})
}

// FuzzEvaluateIdempotent checks that an outcome is a fixed point: written back as the
// previous statuses and evaluated at the same clock, it comes out unchanged.
func FuzzEvaluateIdempotent(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := decodeUnit(data)
		first := Evaluate(u.snap)
		second := Evaluate(withStatuses(u.snap, first))
		if !sameOutcome(first, second) {
			t.Fatalf("evaluating the outcome again changes it (-first +second):\n%s", cmp.Diff(first, second))
		}
	})
}

// FuzzEvaluateOrderIndependent checks that the order in which the cache lists objects
// does not matter.
func FuzzEvaluateOrderIndependent(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := decodeUnit(data)
		want := Evaluate(u.snap)
		h := fnv.New64a()
		_, _ = h.Write(data)
		rng := rand.New(rand.NewPCG(h.Sum64(), 1))
		s := u.snap
		s.Cohorts, s.Memberships, s.Events, s.Plans = slices.Clone(s.Cohorts), slices.Clone(s.Memberships), slices.Clone(s.Events), slices.Clone(s.Plans)
		rng.Shuffle(len(s.Cohorts), func(i, j int) { s.Cohorts[i], s.Cohorts[j] = s.Cohorts[j], s.Cohorts[i] })
		rng.Shuffle(len(s.Memberships), func(i, j int) { s.Memberships[i], s.Memberships[j] = s.Memberships[j], s.Memberships[i] })
		rng.Shuffle(len(s.Events), func(i, j int) { s.Events[i], s.Events[j] = s.Events[j], s.Events[i] })
		rng.Shuffle(len(s.Plans), func(i, j int) { s.Plans[i], s.Plans[j] = s.Plans[j], s.Plans[i] })
		if got := Evaluate(s); !sameOutcome(want, got) {
			t.Fatalf("the outcome depends on the order of the input (-sorted +shuffled):\n%s", cmp.Diff(want, got))
		}
	})
}

// sameOutcome is a fast equality of outcomes, times compared as instants; cmp.Diff
// explains a difference.
func sameOutcome(a, b Outcome) bool {
	return a.Next.Equal(b.Next) &&
		equality.Semantic.DeepEqual(a.Community, b.Community) &&
		equality.Semantic.DeepEqual(a.Cohorts, b.Cohorts) &&
		equality.Semantic.DeepEqual(a.Memberships, b.Memberships) &&
		equality.Semantic.DeepEqual(a.Events, b.Events) &&
		equality.Semantic.DeepEqual(a.Plans, b.Plans)
}

// withStatuses returns copies of the snapshot's objects carrying the outcome's
// statuses, as the cache holds them after the controller wrote the outcome.
func withStatuses(s Snapshot, out Outcome) Snapshot {
	next := Snapshot{Now: s.Now}
	if s.Community != nil {
		next.Community = s.Community.DeepCopy()
		if out.Community != nil {
			next.Community.Status = *out.Community.DeepCopy()
		}
	}
	for _, c := range s.Cohorts {
		c = c.DeepCopy()
		status := out.Cohorts[c.Name]
		c.Status = *status.DeepCopy()
		next.Cohorts = append(next.Cohorts, c)
	}
	for _, m := range s.Memberships {
		m = m.DeepCopy()
		status := out.Memberships[m.Name]
		m.Status = *status.DeepCopy()
		next.Memberships = append(next.Memberships, m)
	}
	for _, e := range s.Events {
		e = e.DeepCopy()
		status := out.Events[e.Name]
		e.Status = *status.DeepCopy()
		next.Events = append(next.Events, e)
	}
	for _, p := range s.Plans {
		p = p.DeepCopy()
		status := out.Plans[p.Name]
		p.Status = *status.DeepCopy()
		next.Plans = append(next.Plans, p)
	}
	return next
}

// isSeated reports whether a status says the membership holds a seat.
func isSeated(s learningv1alpha1.MembershipStatus) bool {
	return verdictOf(s.Conditions, learningv1alpha1.SeatedCondition).Status == metav1.ConditionTrue
}

// checkCapacity: per cohort and role, the seats held are at most maxMembers, unless
// they were already held above it; a new seat is given only while the count stays
// within the maximum.
func checkCapacity(t *testing.T, u fuzzUnit, out Outcome) {
	t.Helper()
	type key struct{ cohort, role string }
	kept, added := map[key]int{}, map[key][]string{}
	for _, m := range u.snap.Memberships {
		k := key{string(m.Spec.CohortRef.Name), string(m.Spec.Role)}
		if u.maxOf[k.cohort] == nil || !isSeated(out.Memberships[m.Name]) {
			continue
		}
		if isSeated(m.Status) {
			kept[k]++
		} else {
			added[k] = append(added[k], m.Name)
		}
	}
	for k, names := range added {
		maxMembers, known := u.maxOf[k.cohort][k.role]
		if !known {
			t.Fatalf("%v are seated in role %s, which cohort %s does not have", names, k.role, k.cohort)
		}
		if kept[k]+len(names) > maxMembers {
			t.Fatalf("cohort %s role %s: %d seats kept and %v newly seated, over the maximum of %d", k.cohort, k.role, kept[k], names, maxMembers)
		}
	}
}

// checkOneSeatPerPerson: nobody holds two seats with overlapping terms in cohorts that
// have not completed. A frozen seat's term is unknown: it overlaps every other.
func checkOneSeatPerPerson(t *testing.T, u fuzzUnit, out Outcome) {
	t.Helper()
	byPerson := map[string][]*learningv1alpha1.Membership{}
	for _, m := range u.snap.Memberships {
		if isSeated(out.Memberships[m.Name]) {
			byPerson[m.Spec.Member] = append(byPerson[m.Spec.Member], m)
		}
	}
	completed := func(m *learningv1alpha1.Membership) bool {
		c := string(m.Spec.CohortRef.Name)
		return !u.frozen[c] && out.Cohorts[c].Phase == learningv1alpha1.CohortCompleted
	}
	for person, seats := range byPerson {
		for i, a := range seats {
			for _, b := range seats[i+1:] {
				fa, fb := u.frozen[string(a.Spec.CohortRef.Name)], u.frozen[string(b.Spec.CohortRef.Name)]
				if (fa && fb) || completed(a) || completed(b) {
					continue
				}
				sa, sb := out.Memberships[a.Name], out.Memberships[b.Name]
				if fa || fb || (sa.StartDate <= sb.EndDate && sb.StartDate <= sa.EndDate) {
					t.Fatalf("%s holds two seats at once: %s in %s (%s to %s) and %s in %s (%s to %s)", person,
						a.Name, a.Spec.CohortRef.Name, sa.StartDate, sa.EndDate, b.Name, b.Spec.CohortRef.Name, sb.StartDate, sb.EndDate)
				}
			}
		}
	}
}

// checkWaitlists: per evaluated cohort and role, the waitlist positions are 1..n, held
// exactly by the memberships reported as Waitlisted, and the cohort's figures agree.
func checkWaitlists(t *testing.T, u fuzzUnit, out Outcome) {
	t.Helper()
	type key struct{ cohort, role string }
	positions, seatedCount := map[key][]int{}, map[key]int{}
	for _, m := range u.snap.Memberships {
		k := key{string(m.Spec.CohortRef.Name), string(m.Spec.Role)}
		if u.maxOf[k.cohort] == nil {
			continue // frozen or missing: the record stays as it was
		}
		s := out.Memberships[m.Name]
		waiting := condReason(s.Conditions, learningv1alpha1.SeatedCondition) == learningv1alpha1.WaitlistedReason
		if waiting != (s.WaitlistPosition != nil) {
			t.Fatalf("%s: Seated reason %q with waitlistPosition %v", m.Name, condReason(s.Conditions, learningv1alpha1.SeatedCondition), s.WaitlistPosition)
		}
		if s.WaitlistPosition != nil {
			positions[k] = append(positions[k], int(*s.WaitlistPosition))
		}
		if isSeated(s) {
			seatedCount[k]++
		}
	}
	for k, got := range positions {
		slices.Sort(got)
		want := make([]int, len(got))
		for i := range want {
			want[i] = i + 1
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cohort %s role %s waitlist positions (-want +got):\n%s", k.cohort, k.role, diff)
		}
	}
	for _, c := range u.snap.Cohorts {
		status := out.Cohorts[c.Name]
		if u.frozen[c.Name] || status.Phase == learningv1alpha1.CohortCompleted {
			continue // a completed cohort reports who held a seat to the end
		}
		for _, rs := range status.Roles {
			k := key{c.Name, string(rs.Name)}
			if int(rs.Seated) != seatedCount[k] || int(rs.Waitlisted) != len(positions[k]) {
				t.Fatalf("cohort %s role %s reports %d seated and %d waiting; the memberships say %d and %d",
					c.Name, rs.Name, rs.Seated, rs.Waitlisted, seatedCount[k], len(positions[k]))
			}
		}
	}
}

// checkContract: every object has Ready; an evaluated membership holds a seat only
// while Eligible, and then has a seatedSince no later than the clock; Next is zero or
// after the clock.
func checkContract(t *testing.T, u fuzzUnit, out Outcome) {
	t.Helper()
	ready := func(kind, name string, conds []metav1.Condition) {
		if verdictOf(conds, learningv1alpha1.ReadyCondition).Status == "" {
			t.Fatalf("%s %s has no Ready condition", kind, name)
		}
	}
	for name, s := range out.Cohorts {
		ready("cohort", name, s.Conditions)
	}
	for name, s := range out.Events {
		ready("event", name, s.Conditions)
	}
	if out.Community != nil {
		ready("community", communityName, out.Community.Conditions)
	}
	for _, m := range u.snap.Memberships {
		s := out.Memberships[m.Name]
		ready("membership", m.Name, s.Conditions)
		if u.maxOf[string(m.Spec.CohortRef.Name)] == nil || !isSeated(s) {
			continue
		}
		if got := verdictOf(s.Conditions, learningv1alpha1.EligibleCondition).Status; got != metav1.ConditionTrue {
			t.Fatalf("%s is seated with Eligible=%s", m.Name, got)
		}
		if s.SeatedSince == nil || s.SeatedSince.After(u.snap.Now) {
			t.Fatalf("%s is seated with seatedSince %v at %v", m.Name, s.SeatedSince, u.snap.Now)
		}
	}
	if !out.Next.IsZero() && !out.Next.After(u.snap.Now) {
		t.Fatalf("Next %v is not after now %v", out.Next, u.snap.Now)
	}
}

// checkPlans checks every plan's status against its actions, and the cohorts' and the
// community's figures against the plans' statuses: a current plan has nothing overdue
// and a seated owner, counts add up, and only seated memberships of a program that
// requires personal plans report on them.
func checkPlans(t *testing.T, u fuzzUnit, out Outcome) {
	t.Helper()
	current := map[string]int{}
	for _, p := range u.snap.Plans {
		s, ok := out.Plans[p.Name]
		if !ok {
			t.Fatalf("plan %s has no status", p.Name)
		}
		if verdictOf(s.Conditions, learningv1alpha1.ReadyCondition).Status == "" {
			t.Fatalf("plan %s has no Ready condition", p.Name)
		}
		if s.Actions == nil {
			continue // not judged: its membership or cohort is missing, or seats are frozen
		}
		a := s.Actions
		if int(a.Total) != len(p.Spec.Actions) || a.Done+a.Dropped+a.Overdue > a.Total {
			t.Fatalf("plan %s counts %+v for %d actions", p.Name, *a, len(p.Spec.Actions))
		}
		v := verdictOf(s.Conditions, learningv1alpha1.PlanCurrentCondition)
		if v.Reason == learningv1alpha1.PlanCurrentReason && (a.Overdue > 0 || v.Status != metav1.ConditionTrue) {
			t.Fatalf("plan %s is %s/%s with %d overdue", p.Name, v.Status, v.Reason, a.Overdue)
		}
		if v.Reason == learningv1alpha1.PlanCurrentReason {
			current[planCohort(u, p)]++
		}
	}
	for name, s := range out.Cohorts {
		f := s.ActionPlans
		if f == nil || u.frozen[name] {
			continue
		}
		if f.Present > f.Required || f.Current > f.Plans || f.ActionsDone > f.ActionsTotal || int(f.Current) != current[name] {
			t.Fatalf("cohort %s figures %+v, %d current plans", name, *f, current[name])
		}
	}
	for _, m := range u.snap.Memberships {
		s := out.Memberships[m.Name]
		if verdictOf(s.Conditions, learningv1alpha1.ActionPlanCondition).Status != "" && !isSeated(s) {
			t.Fatalf("%s reports on its plan without a seat", m.Name)
		}
	}
}

// planCohort is the name of the plan's cohort, "" when it has none in the unit.
func planCohort(u fuzzUnit, p *learningv1alpha1.ActionPlan) string {
	if p.Spec.Team != nil {
		return string(p.Spec.Team.CohortRef.Name)
	}
	for _, m := range u.snap.Memberships {
		if m.Name == string(p.Spec.MembershipRef.Name) {
			return string(m.Spec.CohortRef.Name)
		}
	}
	return ""
}
