package program

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// allocateSeats decides who holds a seat, across every cohort of the unit at once.
//
// Seats are sticky: a membership that held a seat keeps it while it stays eligible and
// claiming, even above a lowered maxMembers. A person holds at most one seat per unit at
// any moment (among memberships with overlapping terms in cohorts that have not
// completed): when held seats compete, the one held earliest wins, then the earlier
// created membership. Free seats then go to the waiting memberships in order of
// creation, then name; a person who holds a seat elsewhere is not eligible
// (AlreadySeated) rather than waiting, and a waiting claim never blocks anyone. Term
// limits count the terms the person served, this pass's new seats included; since a new
// seat can lengthen another membership's run, allocation repeats with the memberships
// that broke their limit excluded until nothing changes. A term limit is judged when a
// seat is given: a seat already held is kept even when terms recorded later (imported
// history) would have refused it, and reports so (SeatKept).
//
// Memberships of completed cohorts that no evaluation has placed (history imported
// after the fact) are seated first, as history: see seatHistory.
func (u *unit) allocateSeats() {
	byPerson := map[string][]*memberView{}
	for _, m := range u.members {
		byPerson[m.person()] = append(byPerson[m.person()], m)
	}
	excluded := map[*memberView]string{}
	for range 2*len(u.members) + 1 {
		u.allocateOnce(byPerson, excluded)
		if !u.reviseExclusions(byPerson, excluded) {
			break
		}
	}
	for _, cv := range u.cohorts {
		cv.roleSeats = countSeats(cv)
	}
	held := u.heldSeats()
	for _, m := range u.members {
		switch {
		case !m.evaluated():
		case m.seated && m.prevSeated:
			m.kept = termLimitBroken(m, byPerson[m.person()])
		case m.neverSeated():
			m.seatsTaken = held.during(m)
		}
	}
}

// reviseExclusions revises the memberships refused for their term limit after an
// allocation, and reports whether it changed any. A run of terms depends only on
// earlier terms, so the newly seated membership that breaks its limit with the earliest
// term certainly breaks it and is refused; a later one may break it only because of
// that one, and is judged again in the next round. A refused membership whose earlier
// terms no longer make a run that long (a term it counted was refused meanwhile) is
// reinstated. A seat held before this evaluation is never refused (it is kept).
func (u *unit) reviseExclusions(byPerson map[string][]*memberView, excluded map[*memberView]string) bool {
	for _, m := range u.members {
		if excluded[m] == "" {
			continue
		}
		if _, reached := termLimitReached(m, byPerson[m.person()]); !reached {
			delete(excluded, m)
			return true
		}
	}
	var first *memberView
	var message string
	for _, m := range u.members {
		if !m.seated || m.prevSeated || (first != nil && !m.term.Start.Before(first.term.Start)) {
			continue
		}
		if msg, reached := termLimitReached(m, byPerson[m.person()]); reached {
			first, message = m, msg
		}
	}
	if first == nil {
		return false
	}
	excluded[first] = message
	return true
}

// seatBook tracks the seats held during one allocation.
type seatBook struct {
	byPerson map[string][]*memberView
	count    map[*cohortView]map[string]int
}

func (b *seatBook) seat(m *memberView) {
	m.seated = true
	b.byPerson[m.person()] = append(b.byPerson[m.person()], m)
	if b.count[m.cohort] == nil {
		b.count[m.cohort] = map[string]int{}
	}
	b.count[m.cohort][m.role.Name]++
}

func (b *seatBook) free(m *memberView) bool {
	return b.count[m.cohort][m.role.Name] < m.role.Max
}

// conflict returns a seat the person holds in another membership whose term overlaps
// m's, in a cohort that has not completed.
func (b *seatBook) conflict(m *memberView) *memberView {
	var found *memberView
	for _, o := range b.byPerson[m.person()] {
		if o != m && o.cohort.phase != learningv1alpha1.CohortCompleted && overlaps(o, m) {
			// Of several, the first by cohort and name, not by the order the seats were
			// given in: that order follows seat history, which the message this names
			// goes into would then change from one evaluation to the next.
			if found == nil || cmp.Or(cmp.Compare(o.cohort.obj.Name, found.cohort.obj.Name), cmp.Compare(o.obj.Name, found.obj.Name)) < 0 {
				found = o
			}
		}
	}
	return found
}

// overlaps reports whether two memberships' terms share an instant; a frozen
// membership's term is unknown and overlaps everything.
func overlaps(a, b *memberView) bool {
	if a.frozen() || b.frozen() {
		return true
	}
	return a.term.Start.Before(b.term.End) && b.term.Start.Before(a.term.End)
}

// allocateOnce runs one allocation; excluded memberships broke their term limit in an
// earlier round and are not eligible.
func (u *unit) allocateOnce(byPerson map[string][]*memberView, excluded map[*memberView]string) {
	book := &seatBook{byPerson: map[string][]*memberView{}, count: map[*cohortView]map[string]int{}}
	var holders, waiting []*memberView
	for _, m := range u.members {
		m.seated, m.position = false, 0
		switch {
		case m.frozen():
			if m.prevSeated {
				m.seated = true
				book.byPerson[m.person()] = append(book.byPerson[m.person()], m)
			}
			continue
		case !m.evaluated():
			continue
		}
		m.seatedSince = m.history
		m.reason, m.message = basicEligibility(m)
		if msg := excluded[m]; msg != "" {
			m.reason, m.message = learningv1alpha1.TermLimitReachedReason, msg
		}
		// A completed cohort's seats are freed: its figures are the final ones.
		if m.reason != "" || !m.claiming() || m.cohort.phase == learningv1alpha1.CohortCompleted {
			continue
		}
		if m.prevSeated {
			holders = append(holders, m)
		} else {
			waiting = append(waiting, m)
		}
	}
	// History comes first: the terms it records count toward the limits of the seats
	// given below.
	u.seatHistory()
	slices.SortFunc(holders, func(a, b *memberView) int {
		return cmp.Or(a.seatedSince.Compare(b.seatedSince), compareCreation(a, b))
	})
	slices.SortFunc(waiting, compareCreation)
	for _, m := range holders {
		if u.mayHoldSeat(book, m, byPerson) {
			book.seat(m)
		}
	}
	var queued []*memberView
	for _, m := range waiting {
		switch {
		case !u.mayHoldSeat(book, m, byPerson):
		case book.free(m):
			book.seat(m)
			m.seatedSince = u.seatStart(m)
		default:
			queued = append(queued, m)
		}
	}
	// A person who ends up holding a seat is not eligible for another one
	// (AlreadySeated, which is judged before term limits, as the next evaluation would
	// judge it once the seat is held), and is no longer waiting. A claim refused as
	// AlreadySeated during the allocation is judged again against every seat given: the
	// seat it names must not depend on the order the seats were given in.
	for _, m := range u.members {
		competing := m.evaluated() && m.claiming() && m.cohort.phase != learningv1alpha1.CohortCompleted
		judged := m.reason == "" || m.reason == learningv1alpha1.TermLimitReachedReason || m.reason == learningv1alpha1.AlreadySeatedReason
		if competing && !m.seated && judged {
			if o := book.conflict(m); o != nil {
				m.reason, m.message = alreadySeated(o)
			} else if msg, reached := termLimitReached(m, byPerson[m.person()]); reached {
				// A term served by a seat given later in the pass counts too.
				m.reason, m.message = learningv1alpha1.TermLimitReachedReason, msg
			}
		}
	}
	positions := map[*cohortView]map[string]int{}
	for _, m := range queued {
		if m.reason != "" {
			continue
		}
		if positions[m.cohort] == nil {
			positions[m.cohort] = map[string]int{}
		}
		positions[m.cohort][m.role.Name]++
		m.position = positions[m.cohort][m.role.Name]
	}
}

// mayHoldSeat applies the rules across memberships: one seat per person at a time and
// term limits. It records the reason on m when it may not. A term limit is judged when
// a seat is given: a seat held before this evaluation is kept.
func (u *unit) mayHoldSeat(book *seatBook, m *memberView, byPerson map[string][]*memberView) bool {
	if o := book.conflict(m); o != nil {
		m.reason, m.message = alreadySeated(o)
		return false
	}
	if m.prevSeated {
		return true
	}
	if msg, reached := termLimitReached(m, byPerson[m.person()]); reached {
		m.reason, m.message = learningv1alpha1.TermLimitReachedReason, msg
		return false
	}
	return true
}

// alreadySeated is the verdict for a claim of a person who holds seat o.
func alreadySeated(o *memberView) (reason, message string) {
	return learningv1alpha1.AlreadySeatedReason,
		fmt.Sprintf("the person already holds a seat through membership %s in cohort %s for an overlapping term", o.obj.Name, o.obj.Spec.CohortRef.Name)
}

// termLimitReached counts the consecutive terms the person served in m's role before
// m's term, across the unit, against the role's maxConsecutiveTerms.
func termLimitReached(m *memberView, same []*memberView) (string, bool) {
	run, limit := servedRun(m, same)
	if limit == 0 || run < limit {
		return "", false
	}
	return fmt.Sprintf("role %s allows at most %d consecutive terms and this would be consecutive term %d", m.role.Name, limit, run+1), true
}

// termLimitBroken says which term limit the seat m holds breaks, "" when none.
func termLimitBroken(m *memberView, same []*memberView) string {
	run, limit := servedRun(m, same)
	if limit == 0 || run < limit {
		return ""
	}
	return fmt.Sprintf("role %s allows at most %d consecutive terms and this is consecutive term %d", m.role.Name, limit, run+1)
}

// servedRun returns the number of consecutive terms the person served in m's role up
// to m's term, across the unit, and the role's maxConsecutiveTerms (0 when unlimited).
func servedRun(m *memberView, same []*memberView) (run, limit int) {
	limit = m.role.MaxConsecutiveTerms
	if limit == 0 {
		return 0, 0
	}
	var served []rules.Term
	for _, o := range same {
		if o != m && o.evaluated() && o.role.Name == m.role.Name && !o.seatedSince.IsZero() {
			served = append(served, o.term)
		}
	}
	return rules.ConsecutiveRun(served, m.term), limit
}

// compareCreation orders memberships by creation time, then name, then cohort.
func compareCreation(a, b *memberView) int {
	return cmp.Or(
		a.obj.CreationTimestamp.Compare(b.obj.CreationTimestamp.Time),
		cmp.Compare(a.obj.Name, b.obj.Name),
		cmp.Compare(a.obj.Spec.CohortRef.Name, b.obj.Spec.CohortRef.Name),
	)
}

// countSeats counts the seated and waiting memberships of each role of a cohort.
func countSeats(cv *cohortView) []rules.RoleSeats {
	if !cv.valid() {
		return nil
	}
	seats := make([]rules.RoleSeats, len(cv.policy.Roles))
	index := map[string]int{}
	for i, r := range cv.policy.Roles {
		seats[i] = rules.RoleSeats{Role: r.Name, Min: r.Min, Max: r.Max}
		index[r.Name] = i
	}
	for _, m := range cv.members {
		i, ok := index[m.role.Name]
		switch {
		case !ok || !m.evaluated():
		case m.seated:
			seats[i].Seated++
		case m.position > 0:
			seats[i].Waitlisted++
		}
	}
	return seats
}

// seatHistory seats the memberships of completed cohorts that no evaluation has placed
// yet and that never held a seat: a completed cohort applied with its memberships, as
// when a program moves from spreadsheets. Like a membership first seen in a running
// cohort, each holds its seat from the start of its term (seatStart), in order of
// creation, then name, while its role has a seat free for that term. The seat is
// history, not a claim: it is not reported as held (the cohort has completed), the
// rules across memberships (one seat per person, term limits) neither refuse it nor
// are checked against it, but its term counts toward the person's later term limits
// and its attendance is judged. A membership for which no seat was free never held
// one (Seated=False/NeverSeated). Evaluated once, a membership is placed for good, so
// history found later never moves anyone.
func (u *unit) seatHistory() {
	var imported []*memberView
	for _, m := range u.members {
		if m.importedHistory() {
			imported = append(imported, m)
		}
	}
	if len(imported) == 0 {
		return
	}
	slices.SortFunc(imported, compareCreation)
	held := u.heldSeats()
	for _, m := range imported {
		if held.during(m) < m.role.Max {
			m.seatedSince = u.seatStart(m)
			held.add(m)
		}
	}
}

// importedHistory reports whether the membership is history to seat: in a completed
// cohort, never placed by an evaluation, never seated, not withdrawn and eligible by
// the rules of the membership alone.
func (m *memberView) importedHistory() bool {
	return m.evaluated() && m.cohort.phase == learningv1alpha1.CohortCompleted && m.neverEvaluated &&
		m.history.IsZero() && m.phase != learningv1alpha1.MembershipWithdrawn && m.reason == ""
}

// heldSeats are, per cohort and role, the memberships that hold or held a seat: those
// with a seatedSince, from then to the end of their term. Withdrawn memberships freed
// their seat at a time no record keeps, and are left out.
type heldSeats map[*cohortView]map[string][]*memberView

// heldSeats collects the seats the unit's evaluated memberships hold or held.
func (u *unit) heldSeats() heldSeats {
	h := heldSeats{}
	for _, m := range u.members {
		if m.evaluated() && m.phase != learningv1alpha1.MembershipWithdrawn && !m.seatedSince.IsZero() {
			h.add(m)
		}
	}
	return h
}

func (h heldSeats) add(m *memberView) {
	if h[m.cohort] == nil {
		h[m.cohort] = map[string][]*memberView{}
	}
	h[m.cohort][m.role.Name] = append(h[m.cohort][m.role.Name], m)
}

// during counts the other memberships of m's cohort and role that held a seat during
// m's term.
func (h heldSeats) during(m *memberView) int {
	n := 0
	for _, o := range h[m.cohort][m.role.Name] {
		if o != m && o.seatedSince.Before(m.term.End) && m.term.Start.Before(o.term.End) {
			n++
		}
	}
	return n
}

// seatStart is when a newly seated membership holds its seat from. One seated at its
// first evaluation holds it from the start of its term (or now, before the term
// starts), so that memberships declared for a program already under way (imported from
// a spreadsheet, restored from a backup) are accountable for the gatherings of their
// whole term. One that was evaluated before without a seat (waiting, not eligible, or
// seated once and freed) holds it from now.
func (u *unit) seatStart(m *memberView) time.Time {
	now := u.stamp().Time
	if !m.neverEvaluated || !m.history.IsZero() || !m.term.Start.Before(now) {
		return now
	}
	return m.term.Start
}
