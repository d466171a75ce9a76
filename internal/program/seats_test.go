package program

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// now is the clock of most tests: a Tuesday in the second quarter of the alpha cohort.
var now = instant("2026-03-10T10:00:00Z")

// Reasons as the tables read them.
const (
	seated      = learningv1alpha1.SeatedReason
	waitlisted  = learningv1alpha1.WaitlistedReason
	notEligible = learningv1alpha1.NotEligibleReason
	eligible    = learningv1alpha1.EligibleReason
)

// seatCase is one seat allocation: a unit at a clock and where every membership should
// stand.
type seatCase struct {
	now     time.Time // defaults to now
	roles   []learningv1alpha1.RolePolicy
	orgs    []learningv1alpha1.OrganizationName
	cohorts []*learningv1alpha1.Cohort // defaults to alpha, 2026-01-01 for 12 months
	members []*learningv1alpha1.Membership
	want    map[string]seat
}

func (tc seatCase) snapshot() Snapshot {
	s := Snapshot{Now: tc.now, Community: community(tc.roles...), Cohorts: tc.cohorts, Memberships: tc.members}
	if s.Now.IsZero() {
		s.Now = now
	}
	if s.Cohorts == nil {
		s.Cohorts = []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)}
	}
	s.Community.Spec.EligibleOrganizations = tc.orgs
	return s
}

func runSeatCases(t *testing.T, cases map[string]seatCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := seatsOf(Evaluate(tc.snapshot()))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("seats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeatsCapacityAndWaitlist(t *testing.T) {
	members := role("Member", 0, 2)
	runSeatCases(t, map[string]seatCase{
		"seats up to maxMembers, then a waitlist in creation order, then name": {
			roles: []learningv1alpha1.RolePolicy{members},
			members: []*learningv1alpha1.Membership{
				member("zoe", "alpha", "zoe", "Member", day("2025-12-04")),
				member("bea", "alpha", "bea", "Member", day("2025-12-03")),
				member("ann", "alpha", "ann", "Member", day("2025-12-03")),
				member("dan", "alpha", "dan", "Member", day("2025-12-02")),
				member("eve", "alpha", "eve", "Member", day("2025-12-01")),
			},
			want: map[string]seat{
				"eve": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"dan": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"ann": {Seated: waitlisted, Eligible: eligible, Position: 1},
				"bea": {Seated: waitlisted, Eligible: eligible, Position: 2},
				"zoe": {Seated: waitlisted, Eligible: eligible, Position: 3},
			},
		},
		"each role has its own seats and waitlist": {
			roles: []learningv1alpha1.RolePolicy{role("Lead", 1, 1), members},
			members: []*learningv1alpha1.Membership{
				member("lee", "alpha", "lee", "Lead", day("2025-12-01")),
				member("lou", "alpha", "lou", "Lead", day("2025-12-02")),
				member("mia", "alpha", "mia", "Member", day("2025-12-03")),
			},
			want: map[string]seat{
				"lee": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"lou": {Seated: waitlisted, Eligible: eligible, Position: 1},
				"mia": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
			},
		},
		"a membership seated at its first evaluation holds its seat from the start of its term": {
			roles: []learningv1alpha1.RolePolicy{members},
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", "ann", "Member", day("2026-03-01"), starting("2026-02-01")),
			},
			want: map[string]seat{"ann": {Seated: seated, Eligible: eligible, Since: "2026-02-01T00:00:00Z"}},
		},
		"a membership seated before its term starts holds its seat from now": {
			roles:   []learningv1alpha1.RolePolicy{members},
			now:     instant("2025-12-15T08:30:45.9Z"),
			members: []*learningv1alpha1.Membership{member("ann", "alpha", "ann", "Member", day("2025-12-01"))},
			want:    map[string]seat{"ann": {Seated: seated, Eligible: eligible, Since: "2025-12-15T08:30:45Z"}},
		},
	})
}

func TestSeatsAreSticky(t *testing.T) {
	one := []learningv1alpha1.RolePolicy{role("Member", 0, 1)}
	runSeatCases(t, map[string]seatCase{
		"an older membership that appears waits for the next free seat": {
			roles: one,
			members: []*learningv1alpha1.Membership{
				member("new", "alpha", "nia", "Member", day("2026-02-01"), heldSince(day("2026-02-01"))),
				member("old", "alpha", "ola", "Member", day("2025-12-01")),
			},
			want: map[string]seat{
				"new": {Seated: seated, Eligible: eligible, Since: "2026-02-01T00:00:00Z"},
				"old": {Seated: waitlisted, Eligible: eligible, Position: 1},
			},
		},
		"an older membership that becomes eligible waits for the next free seat": {
			roles: one,
			orgs:  []learningv1alpha1.OrganizationName{"Iowa Alliance"},
			members: []*learningv1alpha1.Membership{
				member("new", "alpha", "nia", "Member", day("2026-02-01"), from("Iowa Alliance"), heldSince(day("2026-02-01"))),
				member("old", "alpha", "ola", "Member", day("2025-12-01"), from("Iowa Alliance"),
					previously(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, notEligible, day("2025-12-01")),
					previously(learningv1alpha1.EligibleCondition, metav1.ConditionFalse, learningv1alpha1.OrganizationNotEligibleReason, day("2025-12-01"))),
			},
			want: map[string]seat{
				"new": {Seated: seated, Eligible: eligible, Since: "2026-02-01T00:00:00Z"},
				"old": {Seated: waitlisted, Eligible: eligible, Position: 1},
			},
		},
		"upgrade: seatedSince comes from the Seated condition and nobody is displaced": {
			roles: one,
			members: []*learningv1alpha1.Membership{
				member("new", "alpha", "nia", "Member", day("2026-02-01"), seatedBeforeUpgrade(instant("2026-02-01T08:15:00Z"))),
				member("old", "alpha", "ola", "Member", day("2025-12-01")),
			},
			want: map[string]seat{
				"new": {Seated: seated, Eligible: eligible, Since: "2026-02-01T08:15:00Z"},
				"old": {Seated: waitlisted, Eligible: eligible, Position: 1},
			},
		},
		"status.seatedSince wins over the Seated condition's transition time": {
			roles: one,
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", "ann", "Member", day("2025-12-01"),
					seatedBeforeUpgrade(instant("2026-03-01T00:00:00Z")),
					func(m *learningv1alpha1.Membership) {
						m.Status.SeatedSince = &metav1.Time{Time: instant("2026-01-05T00:00:00Z")}
					}),
			},
			want: map[string]seat{"ann": {Seated: seated, Eligible: eligible, Since: "2026-01-05T00:00:00Z"}},
		},
	})
}

func TestSeatsLoweredMaximum(t *testing.T) {
	holders := func(opts ...[]memberOption) []*learningv1alpha1.Membership {
		names := []string{"ann", "bea", "cal"}
		ms := make([]*learningv1alpha1.Membership, 0, len(names)+1)
		for i, n := range names {
			o := append([]memberOption{heldSince(day("2026-01-01"))}, opts[i]...)
			ms = append(ms, member(n, "alpha", n, "Member", day("2025-12-01").Add(time.Duration(i)*time.Hour), o...))
		}
		return append(ms, member("wes", "alpha", "wes", "Member", day("2025-12-02"), waitingAt(1, day("2026-01-01"))))
	}
	two := []learningv1alpha1.RolePolicy{role("Member", 0, 2)}
	held := seat{Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"}
	gone := seat{Seated: learningv1alpha1.WithdrawnReason, Eligible: eligible, Since: "2026-01-01T00:00:00Z"}
	runSeatCases(t, map[string]seatCase{
		"three seated above a maximum of two keep their seats; nobody is promoted": {
			roles:   two,
			members: holders(nil, nil, nil),
			want: map[string]seat{
				"ann": held, "bea": held, "cal": held,
				"wes": {Seated: waitlisted, Eligible: eligible, Position: 1},
			},
		},
		"one leaves: two seated at a maximum of two, still nobody promoted": {
			roles:   two,
			members: holders(nil, []memberOption{withdrawn()}, nil),
			want: map[string]seat{
				"ann": held, "bea": gone, "cal": held,
				"wes": {Seated: waitlisted, Eligible: eligible, Position: 1},
			},
		},
		"two leave: one seated below the maximum, the head of the waitlist is promoted": {
			roles:   two,
			members: holders([]memberOption{withdrawn()}, []memberOption{withdrawn()}, nil),
			want: map[string]seat{
				"ann": gone, "bea": gone, "cal": held,
				"wes": {Seated: seated, Eligible: eligible, Since: "2026-03-10T10:00:00Z"},
			},
		},
	})
}

func TestLoweredMaximumIsReported(t *testing.T) {
	var ms []*learningv1alpha1.Membership
	for _, n := range []string{"ann", "bea", "cal"} {
		ms = append(ms, member(n, "alpha", n, "Member", day("2025-12-01"), heldSince(day("2026-01-01"))))
	}
	ms = append(ms, member("wes", "alpha", "wes", "Member", day("2025-12-02"), waitingAt(1, day("2026-01-01"))))
	out := Evaluate(Snapshot{
		Now: now, Community: community(role("Member", 0, 2)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)}, Memberships: ms,
	})
	status := out.Cohorts["alpha"]
	excess := "Member: 3 seated, 1 over the maximum of 2; no one is promoted until a seat is free"
	want := map[string]verdict{
		learningv1alpha1.StaffedCondition: {metav1.ConditionTrue, learningv1alpha1.StaffedReason, "every role has its minimum: Member 3/2; " + excess},
		learningv1alpha1.ReadyCondition:   {metav1.ConditionTrue, learningv1alpha1.SucceededReason, "Active cohort: Member 3/2; " + excess},
	}
	got := map[string]verdict{}
	for typ := range want {
		got[typ] = verdictOf(status.Conditions, typ)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cohort conditions (-want +got):\n%s", diff)
	}
	wantRoles := []learningv1alpha1.RoleSeats{{Name: "Member", MaxMembers: 2, Seated: 3, Waitlisted: 1}}
	if diff := cmp.Diff(wantRoles, status.Roles); diff != "" {
		t.Errorf("status.roles (-want +got):\n%s", diff)
	}
}

func TestFreedSeatPromotesTheHeadOfTheWaitlist(t *testing.T) {
	one := []learningv1alpha1.RolePolicy{role("Member", 0, 1)}
	// The clock has a fraction of a second: seatedSince is stored to the second.
	clock := instant("2026-03-10T10:00:00.75Z")
	waiting := func() []*learningv1alpha1.Membership {
		return []*learningv1alpha1.Membership{
			member("wes", "alpha", "wes", "Member", day("2025-12-02"), waitingAt(1, day("2026-01-01"))),
			member("wil", "alpha", "wil", "Member", day("2025-12-03"), waitingAt(2, day("2026-01-01"))),
		}
	}
	promoted := map[string]seat{
		"wes": {Seated: seated, Eligible: eligible, Since: "2026-03-10T10:00:00Z"},
		"wil": {Seated: waitlisted, Eligible: eligible, Position: 1},
	}
	with := func(extra seat) map[string]seat {
		want := map[string]seat{"ann": extra}
		for k, v := range promoted {
			want[k] = v
		}
		return want
	}
	runSeatCases(t, map[string]seatCase{
		"withdrawn": {
			now: clock, roles: one,
			members: append(waiting(), member("ann", "alpha", "ann", "Member", day("2025-12-01"), withdrawn(), heldSince(day("2026-01-01")))),
			want:    with(seat{Seated: learningv1alpha1.WithdrawnReason, Eligible: eligible, Since: "2026-01-01T00:00:00Z"}),
		},
		"expired": {
			now: clock, roles: one,
			members: append(waiting(), member("ann", "alpha", "ann", "Member", day("2025-12-01"), until("2026-02-28"), heldSince(day("2026-01-01")))),
			want:    with(seat{Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2026-01-01T00:00:00Z"}),
		},
		"no longer eligible": {
			now: clock, roles: one,
			members: append(waiting(), member("ann", "alpha", "ann", "Organizer", day("2025-12-01"), heldSince(day("2026-01-01")))),
			want:    with(seat{Seated: notEligible, Eligible: learningv1alpha1.UnknownRoleReason, Since: "2026-01-01T00:00:00Z"}),
		},
		"deleted": {
			now: clock, roles: one,
			members: waiting(),
			want:    promoted,
		},
	})
}

func TestOneSeatPerPerson(t *testing.T) {
	roles := []learningv1alpha1.RolePolicy{role("Member", 0, 1)}
	alpha := cohort("alpha", "2026-01-01", 12)
	beta := cohort("beta", "2026-02-01", 6)
	already := seat{Seated: notEligible, Eligible: learningv1alpha1.AlreadySeatedReason}
	runSeatCases(t, map[string]seatCase{
		"a person seated in one cohort is not eligible in another with an overlapping term": {
			roles: roles, cohorts: []*learningv1alpha1.Cohort{alpha, beta},
			members: []*learningv1alpha1.Membership{
				member("pat-alpha", "alpha", "pat", "Member", day("2026-01-05"), heldSince(day("2026-01-05"))),
				member("pat-beta", "beta", "pat", "Member", day("2025-12-01")),
			},
			want: map[string]seat{
				"pat-alpha": {Seated: seated, Eligible: eligible, Since: "2026-01-05T00:00:00Z"},
				"pat-beta":  already,
			},
		},
		"two claims in one cohort: the earlier-created one wins": {
			roles: []learningv1alpha1.RolePolicy{role("Lead", 0, 1), role("Member", 0, 1)},
			members: []*learningv1alpha1.Membership{
				member("pat-member", "alpha", "pat", "Member", day("2025-12-02")),
				member("pat-lead", "alpha", "pat", "Lead", day("2025-12-01")),
			},
			want: map[string]seat{
				"pat-lead":   {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"pat-member": already,
			},
		},
		"two held seats compete: the one held earliest wins": {
			roles: roles, cohorts: []*learningv1alpha1.Cohort{alpha, beta},
			members: []*learningv1alpha1.Membership{
				member("pat-alpha", "alpha", "pat", "Member", day("2025-11-01"), heldSince(day("2026-02-01"))),
				member("pat-beta", "beta", "pat", "Member", day("2025-12-01"), heldSince(day("2026-01-20"))),
			},
			want: map[string]seat{
				"pat-alpha": {Seated: notEligible, Eligible: learningv1alpha1.AlreadySeatedReason, Since: "2026-02-01T00:00:00Z"},
				"pat-beta":  {Seated: seated, Eligible: eligible, Since: "2026-01-20T00:00:00Z"},
			},
		},
		"a waitlisted claim never blocks a free seat elsewhere": {
			roles: roles, cohorts: []*learningv1alpha1.Cohort{alpha, beta},
			members: []*learningv1alpha1.Membership{
				member("ann-alpha", "alpha", "ann", "Member", day("2025-11-01"), heldSince(day("2026-01-01"))),
				member("pat-alpha", "alpha", "pat", "Member", day("2025-11-02"), waitingAt(1, day("2026-01-01"))),
				member("ray-alpha", "alpha", "ray", "Member", day("2025-11-03"), waitingAt(2, day("2026-01-01"))),
				member("pat-beta", "beta", "pat", "Member", day("2025-12-01")),
			},
			want: map[string]seat{
				"ann-alpha": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"pat-alpha": already,
				"ray-alpha": {Seated: waitlisted, Eligible: eligible, Position: 1},
				"pat-beta":  {Seated: seated, Eligible: eligible, Since: "2026-02-01T00:00:00Z"},
			},
		},
		"terms that do not overlap do not conflict": {
			roles: roles,
			cohorts: []*learningv1alpha1.Cohort{
				cohort("alpha", "2026-01-01", 0, ending("2026-06-30")),
				cohort("gamma", "2026-07-01", 6),
			},
			members: []*learningv1alpha1.Membership{
				member("pat-alpha", "alpha", "pat", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
				member("pat-gamma", "gamma", "pat", "Member", day("2026-03-01")),
			},
			want: map[string]seat{
				"pat-alpha": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"pat-gamma": {Seated: seated, Eligible: eligible, Since: "2026-03-10T10:00:00Z"},
			},
		},
	})
}

// TestCompletedCohortSeatDoesNotBlock: a seat held in a cohort that has completed does
// not make the person ineligible elsewhere. Such a seat exists only while the
// membership's own end date runs past its cohort's end.
func TestCompletedCohortSeatDoesNotBlock(t *testing.T) {
	out := Evaluate(Snapshot{
		Now: now, Community: community(role("Member", 0, 1)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("past", "2025-01-01", 12), cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("pat-past", "past", "pat", "Member", day("2024-12-01"), until("2026-06-30"), heldSince(day("2025-01-01"))),
			member("pat-alpha", "alpha", "pat", "Member", day("2025-12-01")),
		},
	})
	want := seat{Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"}
	if diff := cmp.Diff(want, seatsOf(out)["pat-alpha"]); diff != "" {
		t.Errorf("pat-alpha (-want +got):\n%s", diff)
	}
}

func TestFrozenSeats(t *testing.T) {
	// The cohort's community is gone and its own policy does not say how many seats
	// each role has: the policy cannot be resolved.
	orphan := cohort("orphan", "2026-01-01", 12, overriding(learningv1alpha1.RolePolicy{Name: "Member"}))
	heldAt, waitedAt := day("2026-01-01"), day("2026-01-02")
	members := []*learningv1alpha1.Membership{
		member("ann", "orphan", "ann", "Member", day("2025-12-01"), heldSince(heldAt),
			func(m *learningv1alpha1.Membership) { m.Status.Phase = learningv1alpha1.MembershipActive }),
		member("wes", "orphan", "wes", "Member", day("2025-12-02"), waitingAt(2, waitedAt)),
	}
	out := Evaluate(Snapshot{Now: now, Cohorts: []*learningv1alpha1.Cohort{orphan}, Memberships: members})

	stalled := verdictOf(out.Cohorts["orphan"].Conditions, learningv1alpha1.StalledCondition)
	if stalled.Status != metav1.ConditionTrue || stalled.Reason != learningv1alpha1.InvalidPolicyReason {
		t.Errorf("cohort Stalled = %+v, want True/InvalidPolicy", stalled)
	}
	if got := verdictOf(out.Cohorts["orphan"].Conditions, learningv1alpha1.CommunityFoundCondition); got.Status != metav1.ConditionFalse {
		t.Errorf("cohort CommunityFound = %+v, want False", got)
	}
	for _, m := range members {
		got := out.Memberships[m.Name]
		if diff := cmp.Diff(m.Status.Conditions[0], *findCondition(got.Conditions, learningv1alpha1.SeatedCondition)); diff != "" {
			t.Errorf("%s: Seated changed (-before +after):\n%s", m.Name, diff)
		}
		if diff := cmp.Diff(m.Status.SeatedSince, got.SeatedSince); diff != "" {
			t.Errorf("%s: seatedSince changed (-before +after):\n%s", m.Name, diff)
		}
		if diff := cmp.Diff(m.Status.WaitlistPosition, got.WaitlistPosition); diff != "" {
			t.Errorf("%s: waitlistPosition changed (-before +after):\n%s", m.Name, diff)
		}
		if diff := cmp.Diff(m.Status.Phase, got.Phase); diff != "" {
			t.Errorf("%s: phase changed (-before +after):\n%s", m.Name, diff)
		}
		for typ, want := range map[string]string{
			learningv1alpha1.StalledCondition:  learningv1alpha1.InvalidPolicyReason,
			learningv1alpha1.ReadyCondition:    learningv1alpha1.InvalidPolicyReason,
			learningv1alpha1.EligibleCondition: learningv1alpha1.SeatsFrozenReason,
		} {
			if got := condReason(got.Conditions, typ); got != want {
				t.Errorf("%s: %s reason = %q, want %q", m.Name, typ, got, want)
			}
		}
	}
}

// TestFrozenSeatBlocksOtherCohorts: a person whose seat is frozen in a cohort that
// cannot be evaluated still holds it, so a claim elsewhere is not eligible.
func TestFrozenSeatBlocksOtherCohorts(t *testing.T) {
	broken := cohort("broken", "2026-01-01", 12, func(c *learningv1alpha1.Cohort) { c.Spec.TimeZone = "Mars/Olympus" })
	out := Evaluate(Snapshot{
		Now: now, Community: community(role("Member", 0, 5)),
		Cohorts: []*learningv1alpha1.Cohort{broken, cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("pat-broken", "broken", "pat", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("pat-alpha", "alpha", "pat", "Member", day("2025-12-02")),
		},
	})
	if got := condReason(out.Memberships["pat-alpha"].Conditions, learningv1alpha1.EligibleCondition); got != learningv1alpha1.AlreadySeatedReason {
		t.Errorf("pat-alpha Eligible reason = %q, want %q", got, learningv1alpha1.AlreadySeatedReason)
	}
	if got := verdictOf(out.Memberships["pat-broken"].Conditions, learningv1alpha1.SeatedCondition).Status; got != metav1.ConditionTrue {
		t.Errorf("pat-broken Seated = %s, want True (frozen)", got)
	}
}

// findCondition returns the condition of type typ, or a zero condition of that type.
func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return &metav1.Condition{Type: typ}
}

// TestSeatConditions builds the conditions of a promoted and of a kept seat precisely:
// a condition that changes takes the evaluation's clock, to the second; one that keeps
// its status keeps its transition time; every condition carries the generation.
func TestSeatConditions(t *testing.T) {
	clock := instant("2026-03-10T10:00:00.75Z")
	stamp := metav1.NewTime(instant("2026-03-10T10:00:00Z"))
	held := day("2026-01-01")
	secondGeneration := func(m *learningv1alpha1.Membership) { m.Generation = 2 }
	out := Evaluate(Snapshot{
		Now: clock, Community: community(role("Member", 0, 1)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", "ann", "Member", day("2025-12-01"), withdrawn(), heldSince(held), secondGeneration),
			member("wes", "alpha", "wes", "Member", day("2025-12-02"), waitingAt(1, held), secondGeneration),
		},
	})
	condition := func(typ string, status metav1.ConditionStatus, reason, message string, at metav1.Time) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: 2, LastTransitionTime: at}
	}
	want := map[string][]metav1.Condition{
		"wes": {
			condition(learningv1alpha1.SeatedCondition, metav1.ConditionTrue, seated, "holds one of 1 Member seats", stamp),
			condition(learningv1alpha1.CohortFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason, "cohort alpha", stamp),
			condition(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, eligible, "eligible for a Member seat", stamp),
			condition(learningv1alpha1.TermActiveCondition, metav1.ConditionTrue, learningv1alpha1.TermActiveReason, "the term runs until 2026-12-31", stamp),
			condition(learningv1alpha1.AttendanceMetCondition, metav1.ConditionUnknown, learningv1alpha1.NotEnoughEventsReason, "0 of 3 events needed before attendance is judged", stamp),
			condition(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "seated as Member", stamp),
		},
		"ann": {
			// The seat is freed: Seated turns False at the clock.
			condition(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn; the seat is freed", stamp),
			condition(learningv1alpha1.CohortFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason, "cohort alpha", stamp),
			condition(learningv1alpha1.EligibleCondition, metav1.ConditionTrue, eligible, "eligible for a Member seat", stamp),
			condition(learningv1alpha1.TermActiveCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn", stamp),
			condition(learningv1alpha1.AttendanceMetCondition, metav1.ConditionUnknown, learningv1alpha1.NotSeatedReason, "attendance is judged for seated members only", stamp),
			condition(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "the membership is Withdrawn", stamp),
		},
	}
	got := map[string][]metav1.Condition{"wes": out.Memberships["wes"].Conditions, "ann": out.Memberships["ann"].Conditions}
	byType := cmpopts.SortSlices(func(a, b metav1.Condition) bool { return a.Type < b.Type })
	if diff := cmp.Diff(want, got, byType); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}

	// Evaluated again later with nothing changed, every condition keeps its time.
	next := withStatuses(Snapshot{
		Now: clock.Add(time.Hour), Community: community(role("Member", 0, 1)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", "ann", "Member", day("2025-12-01"), withdrawn(), secondGeneration),
			member("wes", "alpha", "wes", "Member", day("2025-12-02"), secondGeneration),
		},
	}, out)
	later := Evaluate(next)
	got = map[string][]metav1.Condition{"wes": later.Memberships["wes"].Conditions, "ann": later.Memberships["ann"].Conditions}
	if diff := cmp.Diff(want, got, byType); diff != "" {
		t.Errorf("conditions an hour later (-want +got):\n%s", diff)
	}
}

// TestSeatStart: a membership seated at its first evaluation holds its seat from the
// start of its term; one that an earlier evaluation left without a seat holds it from
// the evaluation that seats it.
func TestSeatStart(t *testing.T) {
	runSeatCases(t, map[string]seatCase{
		"first evaluation of a term under way": {
			roles:   []learningv1alpha1.RolePolicy{role("Member", 0, 5)},
			members: []*learningv1alpha1.Membership{member("new", "alpha", "pat", "Member", day("2026-02-01"))},
			want:    map[string]seat{"new": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"}},
		},
		"seated after being not eligible": {
			roles: []learningv1alpha1.RolePolicy{role("Member", 0, 5)},
			members: []*learningv1alpha1.Membership{member("late", "alpha", "pat", "Member", day("2026-02-01"),
				previously(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NotEligibleReason, day("2026-02-01")))},
			want: map[string]seat{"late": {Seated: seated, Eligible: eligible, Since: rfc(&metav1.Time{Time: now})}},
		},
	})
}
