package kubectlcohort

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// SeatState is where a membership stands for a seat, as the roster shows it.
type SeatState string

// Seat states, in the order the roster lists them within a role.
const (
	// SeatSeated holds a seat.
	SeatSeated SeatState = "Seated"
	// SeatWaitlisted waits for a seat, at Seat.Position.
	SeatWaitlisted SeatState = "Waitlisted"
	// SeatNotEligible may not hold a seat, for Seat.Reason (a reason of the Eligible
	// condition).
	SeatNotEligible SeatState = "NotEligible"
	// SeatUnknown is not evaluated: the operator has not placed it yet, its cohort's
	// seats are frozen, or its status says something this plugin does not know.
	SeatUnknown SeatState = "Unknown"
	// SeatCompleted held, waited for or never got a seat in a cohort that has completed.
	SeatCompleted SeatState = "Completed"
	// SeatExpired is past the end of its term.
	SeatExpired SeatState = "Expired"
	// SeatWithdrawn was withdrawn by its person.
	SeatWithdrawn SeatState = "Withdrawn"
)

// seatOrder ranks seat states as the roster lists them.
var seatOrder = []SeatState{SeatSeated, SeatWaitlisted, SeatNotEligible, SeatUnknown, SeatCompleted, SeatExpired, SeatWithdrawn}

// Seat is a membership's seat as its status reports it.
type Seat struct {
	State SeatState `json:"state"`
	// Position is the place on the role's waitlist, from 1, when Waitlisted.
	Position *int32 `json:"position,omitempty"`
	// Reason and Message are the condition that decided the state: Eligible's when
	// NotEligible, Seated's otherwise.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// String is the seat as the roster table shows it, such as "Waitlisted #2" or
// "Not eligible (TermLimitReached)".
func (s Seat) String() string {
	switch s.State {
	case SeatWaitlisted:
		if s.Position != nil {
			return fmt.Sprintf("Waitlisted #%d", *s.Position)
		}
		return "Waitlisted"
	case SeatNotEligible:
		return fmt.Sprintf("Not eligible (%s)", s.Reason)
	case SeatUnknown:
		if s.Reason != "" {
			return fmt.Sprintf("Unknown (%s)", s.Reason)
		}
		return "Unknown (not evaluated yet)"
	}
	return string(s.State)
}

// SeatOf reads a membership's seat from its status: its phase first (Withdrawn and
// Expired free the seat whatever else the status says), then the Seated condition,
// the waitlist position and the Eligible condition.
func SeatOf(m *learningv1alpha1.Membership) Seat {
	st := m.Status
	seated := apimeta.FindStatusCondition(st.Conditions, learningv1alpha1.SeatedCondition)
	eligible := apimeta.FindStatusCondition(st.Conditions, learningv1alpha1.EligibleCondition)
	from := func(state SeatState, c *metav1.Condition) Seat {
		s := Seat{State: state}
		if c != nil {
			s.Reason, s.Message = c.Reason, c.Message
		}
		return s
	}
	switch {
	case st.Phase == learningv1alpha1.MembershipWithdrawn || m.Spec.Withdrawn:
		return from(SeatWithdrawn, seated)
	case st.Phase == learningv1alpha1.MembershipExpired:
		return from(SeatExpired, seated)
	case seated == nil:
		return Seat{State: SeatUnknown}
	case seated.Status == metav1.ConditionTrue:
		return from(SeatSeated, seated)
	case st.WaitlistPosition != nil:
		s := from(SeatWaitlisted, seated)
		s.Position = st.WaitlistPosition
		return s
	case eligible != nil && eligible.Status == metav1.ConditionFalse:
		return from(SeatNotEligible, eligible)
	case seated.Reason == learningv1alpha1.CompletedReason || seated.Reason == learningv1alpha1.NeverSeatedReason:
		return from(SeatCompleted, seated)
	}
	return from(SeatUnknown, seated)
}

// RosterEntry is one membership of the roster.
type RosterEntry struct {
	Membership  string `json:"membership"`
	DisplayName string `json:"displayName,omitempty"`
	// Member is spec.member, the person's user name; empty with --hide-users.
	Member       string `json:"member,omitempty"`
	Organization string `json:"organization,omitempty"`
	Role         string `json:"role"`
	TeamRole     string `json:"teamRole,omitempty"`
	Seat         Seat   `json:"seat"`
	Phase        string `json:"phase,omitempty"`
	// StartDate and EndDate are the effective term from status, or spec's dates while
	// the operator has not reported one.
	StartDate string `json:"startDate,omitempty"`
	EndDate   string `json:"endDate,omitempty"`
}

// Name is how a person is named in tables: the display name, else the Membership's
// name.
func (e RosterEntry) Name() string { return cmp.Or(e.DisplayName, e.Membership) }

// Roster is the members of one cohort, grouped by organization and role.
type Roster struct {
	Cohort      string `json:"cohort"`
	Namespace   string `json:"namespace"`
	DisplayName string `json:"displayName,omitempty"`
	Phase       string `json:"phase,omitempty"`
	// Seats and Waitlisted are the cohort's status.seats and status.waitlisted.
	Seats      string        `json:"seats,omitempty"`
	Waitlisted int32         `json:"waitlisted"`
	Members    []RosterEntry `json:"members"`

	// hideUsers leaves the MEMBER column out of the table.
	hideUsers bool
}

// BuildRoster lists the memberships of cohort among memberships (those whose
// spec.cohortRef names it), sorted by organization (none last), then role in the
// order of the cohort's status.roles (roles it does not list last, by name), then
// seat (seated, waitlisted by position, not eligible, unknown, completed, expired,
// withdrawn), then name. With hideUsers, spec.member is left out.
func BuildRoster(cohort *learningv1alpha1.Cohort, memberships []learningv1alpha1.Membership, hideUsers bool) Roster {
	r := Roster{
		Cohort:      cohort.Name,
		Namespace:   cohort.Namespace,
		DisplayName: cohort.Spec.DisplayName,
		Phase:       string(cohort.Status.Phase),
		Seats:       cohort.Status.Seats,
		Waitlisted:  cohort.Status.Waitlisted,
		Members:     []RosterEntry{},
		hideUsers:   hideUsers,
	}
	for i := range memberships {
		m := &memberships[i]
		if string(m.Spec.CohortRef.Name) != cohort.Name {
			continue
		}
		e := RosterEntry{
			Membership:   m.Name,
			DisplayName:  m.Spec.DisplayName,
			Organization: string(m.Spec.Organization),
			Role:         string(m.Spec.Role),
			TeamRole:     string(m.Spec.TeamRole),
			Seat:         SeatOf(m),
			Phase:        string(m.Status.Phase),
			StartDate:    string(m.Status.StartDate),
			EndDate:      string(m.Status.EndDate),
		}
		if !hideUsers {
			e.Member = m.Spec.Member
		}
		if e.StartDate == "" && m.Spec.StartDate != nil {
			e.StartDate = string(*m.Spec.StartDate)
		}
		if e.EndDate == "" && m.Spec.EndDate != nil {
			e.EndDate = string(*m.Spec.EndDate)
		}
		r.Members = append(r.Members, e)
	}
	roleRank := roleOrder(cohort)
	slices.SortStableFunc(r.Members, func(a, b RosterEntry) int {
		return cmp.Or(
			cmp.Compare(noOrganization(a), noOrganization(b)),
			cmp.Compare(a.Organization, b.Organization),
			roleRank(a.Role, b.Role),
			cmp.Compare(slices.Index(seatOrder, a.Seat.State), slices.Index(seatOrder, b.Seat.State)),
			cmp.Compare(position(a.Seat), position(b.Seat)),
			cmp.Compare(a.Name(), b.Name()),
			cmp.Compare(a.Membership, b.Membership),
		)
	})
	return r
}

// roleOrder compares role names by their place in the cohort's status.roles (the
// effective policy's order); roles it does not list come last, by name.
func roleOrder(cohort *learningv1alpha1.Cohort) func(a, b string) int {
	rank := func(role string) int {
		i := slices.IndexFunc(cohort.Status.Roles, func(r learningv1alpha1.RoleSeats) bool { return string(r.Name) == role })
		if i < 0 {
			return len(cohort.Status.Roles)
		}
		return i
	}
	return func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) }
}

// noOrganization ranks entries without an organization after the others.
func noOrganization(e RosterEntry) int {
	if e.Organization == "" {
		return 1
	}
	return 0
}

func position(s Seat) int32 {
	if s.Position == nil {
		return 0
	}
	return *s.Position
}

// term formats a term as "START to END", with <unknown> for a missing date.
func term(start, end string) string {
	if start == "" && end == "" {
		return "<unknown>"
	}
	return cmp.Or(start, "<unknown>") + " to " + cmp.Or(end, "<unknown>")
}

// WriteTable writes the roster as a table, one row per membership, followed by the
// cohort's seat summary. TEAM ROLE appears when a membership has one; MEMBER unless
// users are hidden.
func (r Roster) WriteTable(w io.Writer) error {
	teamRoles := slices.ContainsFunc(r.Members, func(e RosterEntry) bool { return e.TeamRole != "" })
	t := newTable(w)
	header := []string{"ORGANIZATION", "ROLE"}
	if teamRoles {
		header = append(header, "TEAM ROLE")
	}
	header = append(header, "NAME")
	if !r.hideUsers {
		header = append(header, "MEMBER")
	}
	t.row(append(header, "SEAT", "PHASE", "TERM")...)
	for _, e := range r.Members {
		cells := []string{orNone(e.Organization), e.Role}
		if teamRoles {
			cells = append(cells, orNone(e.TeamRole))
		}
		cells = append(cells, e.Name())
		if !r.hideUsers {
			cells = append(cells, e.Member)
		}
		t.row(append(cells, e.Seat.String(), cmp.Or(e.Phase, "<unknown>"), term(e.StartDate, e.EndDate))...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	p := &printer{w: w}
	if r.Seats != "" {
		p.printf("\nSeats: %s; %d waitlisted.\n", r.Seats, r.Waitlisted)
	}
	return p.err
}
