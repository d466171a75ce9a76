package program

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// History imported after the fact: a completed cohort applied with its memberships and
// recorded attendance, as when a program moves from spreadsheets. The clock of these
// tests is now (2026-03-10): y2024 and y2025 have completed, y2026 runs, y2027 is
// enrolling.

// historyCohorts are yearly cohorts of the tests' community.
func historyCohorts() []*learningv1alpha1.Cohort {
	return []*learningv1alpha1.Cohort{
		cohort("y2024", "2024-01-01", 12), cohort("y2025", "2025-01-01", 12),
		cohort("y2026", "2026-01-01", 12), cohort("y2027", "2027-01-01", 12),
	}
}

// lead is a Lead role of yearly terms with a term limit.
func lead(maxMembers, limit int32) learningv1alpha1.RolePolicy {
	return role("Lead", 0, maxMembers, termLimit(limit), termMonths(12))
}

// evaluateTwice evaluates a snapshot, then its outcome written back at the same clock,
// and fails unless the second outcome equals the first: history is placed once.
func evaluateTwice(t *testing.T, s Snapshot) Outcome {
	t.Helper()
	first := Evaluate(s)
	if second := Evaluate(withStatuses(s, first)); !sameOutcome(first, second) {
		t.Fatalf("evaluating the outcome again changes it (-first +second):\n%s", cmp.Diff(first, second))
	}
	return first
}

func TestHistoryCompletedCohortIsSeatedInOrder(t *testing.T) {
	// Four gatherings of 2025, attendance recorded for all three imported memberships.
	events := weeklyGatherings("g", "y2025", instant("2025-02-04T12:00:00Z"), 4, func(i int) []learningv1alpha1.AttendanceRecord {
		bea := present("bea")
		if i%2 == 1 {
			bea = absent("bea")
		}
		return []learningv1alpha1.AttendanceRecord{present("ann"), bea, present("cal")}
	})
	s := Snapshot{
		Now:       now,
		Community: community(lead(2, 0)),
		Cohorts:   historyCohorts()[1:2],
		Memberships: []*learningv1alpha1.Membership{
			// Listed out of order: creation time, then name, decides.
			member("cal", "y2025", "cal", "Lead", day("2024-12-03")),
			member("bea", "y2025", "bea", "Lead", day("2024-12-02")),
			member("ann", "y2025", "ann", "Lead", day("2024-12-02")),
			// A withdrawn membership takes no seat.
			member("dan", "y2025", "dan", "Lead", day("2024-12-01"), withdrawn()),
		},
		Events: events,
	}
	out := evaluateTwice(t, s)

	wantSeats := map[string]seat{
		"ann": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
		"bea": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
		"cal": {Seated: learningv1alpha1.NeverSeatedReason, Eligible: eligible},
		"dan": {Seated: learningv1alpha1.WithdrawnReason, Eligible: eligible},
	}
	if diff := cmp.Diff(wantSeats, seatsOf(out)); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}

	wantCal := verdict{metav1.ConditionFalse, learningv1alpha1.NeverSeatedReason,
		"the cohort completed on 2025-12-31 without a seat for this membership: all 2 Lead seats were held by other memberships for its term; the term does not count toward term limits and its attendance is not judged"}
	if diff := cmp.Diff(wantCal, verdictOf(out.Memberships["cal"].Conditions, learningv1alpha1.SeatedCondition)); diff != "" {
		t.Errorf("cal's Seated (-want +got):\n%s", diff)
	}
	if got := verdictOf(out.Memberships["cal"].Conditions, learningv1alpha1.ReadyCondition).Message; got != "the membership is Expired; it never held a seat" {
		t.Errorf("cal's Ready message = %q", got)
	}

	type final struct {
		Phase      learningv1alpha1.MembershipPhase
		Attendance *learningv1alpha1.AttendanceSummary
		Met        string
	}
	wantFinal := map[string]final{
		"ann": {learningv1alpha1.MembershipExpired, &learningv1alpha1.AttendanceSummary{EligibleEvents: 4, Present: 4, Percent: testutil.Ptr[int32](100)}, learningv1alpha1.AttendanceMetReason},
		"bea": {learningv1alpha1.MembershipExpired, &learningv1alpha1.AttendanceSummary{EligibleEvents: 4, Present: 2, Absent: 2, Percent: testutil.Ptr[int32](50)}, learningv1alpha1.CannotReachThresholdReason},
		"cal": {learningv1alpha1.MembershipExpired, nil, learningv1alpha1.NotSeatedReason},
	}
	for name, want := range wantFinal {
		s := out.Memberships[name]
		got := final{s.Phase, s.Attendance, condReason(s.Conditions, learningv1alpha1.AttendanceMetCondition)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s's final outcome (-want +got):\n%s", name, diff)
		}
	}

	c := out.Cohorts["y2025"]
	if c.Phase != learningv1alpha1.CohortCompleted || c.Seats != "Lead 2/2" {
		t.Errorf("cohort: phase %s, seats %q; want Completed, \"Lead 2/2\"", c.Phase, c.Seats)
	}
	if c.AttendancePercent == nil || *c.AttendancePercent != 75 {
		t.Errorf("cohort attendancePercent = %v, want 75", c.AttendancePercent)
	}
}

func TestHistoryCountsTowardTermLimits(t *testing.T) {
	imported := func() []*learningv1alpha1.Membership {
		return []*learningv1alpha1.Membership{
			member("pat-2024", "y2024", "pat", "Lead", day("2023-12-01")),
			member("pat-2025", "y2025", "pat", "Lead", day("2024-12-01")),
		}
	}
	history := seat{Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible}
	since := func(s seat, t string) seat { s.Since = t; return s }
	cases := map[string]struct {
		members []*learningv1alpha1.Membership
		want    map[string]seat
		// verdicts are the Eligible conditions to check, by membership.
		verdicts map[string]verdict
		ready    map[string]string
	}{
		"history reaching the limit refuses the next term": {
			members: append(imported(), member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01"))),
			want: map[string]seat{
				"pat-2024": since(history, "2024-01-01T00:00:00Z"),
				"pat-2025": since(history, "2025-01-01T00:00:00Z"),
				"pat-2026": {Seated: notEligible, Eligible: learningv1alpha1.TermLimitReachedReason},
			},
			verdicts: map[string]verdict{"pat-2026": {metav1.ConditionFalse, learningv1alpha1.TermLimitReachedReason,
				"role Lead allows at most 2 consecutive terms and this would be consecutive term 3"}},
		},
		"history found later never unseats: the seat held is kept and the next term refused": {
			members: append(imported(),
				member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01"), heldSince(day("2026-01-01"))),
				member("pat-2027", "y2027", "pat", "Lead", day("2026-02-01"))),
			want: map[string]seat{
				"pat-2024": since(history, "2024-01-01T00:00:00Z"),
				"pat-2025": since(history, "2025-01-01T00:00:00Z"),
				"pat-2026": {Seated: seated, Eligible: learningv1alpha1.SeatKeptReason, Since: "2026-01-01T00:00:00Z"},
				"pat-2027": {Seated: notEligible, Eligible: learningv1alpha1.TermLimitReachedReason},
			},
			verdicts: map[string]verdict{
				"pat-2026": {metav1.ConditionTrue, learningv1alpha1.SeatKeptReason,
					"keeps the Lead seat it holds since 2026-01-01, although role Lead allows at most 2 consecutive terms and this is consecutive term 3: a term limit is judged when a seat is given, and terms recorded later never take it back"},
				"pat-2027": {metav1.ConditionFalse, learningv1alpha1.TermLimitReachedReason,
					"role Lead allows at most 2 consecutive terms and this would be consecutive term 4"},
			},
			ready: map[string]string{"pat-2026": "seated as Lead; the seat is kept although role Lead allows at most 2 consecutive terms and this is consecutive term 3"},
		},
		"history below the limit leaves the next term eligible": {
			members: []*learningv1alpha1.Membership{
				member("pat-2025", "y2025", "pat", "Lead", day("2024-12-01")),
				member("pat-2026", "y2026", "pat", "Lead", day("2025-12-01")),
			},
			want: map[string]seat{
				"pat-2025": since(history, "2025-01-01T00:00:00Z"),
				"pat-2026": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
			},
		},
		"a historical seat neither blocks nor is blocked by a seat with an overlapping term": {
			// pat-2025's term runs past its cohort's end into 2026, overlapping the
			// seats pat and ann hold or get in y2026.
			members: []*learningv1alpha1.Membership{
				member("pat-2025", "y2025", "pat", "Member", day("2024-12-01"), until("2026-06-30")),
				member("pat-2026", "y2026", "pat", "Member", day("2025-12-01")),
				member("ann-2025", "y2025", "ann", "Member", day("2024-12-02"), until("2026-06-30")),
				member("ann-2026", "y2026", "ann", "Member", day("2025-12-02"), heldSince(day("2026-01-01"))),
			},
			want: map[string]seat{
				"pat-2025": {Seated: learningv1alpha1.CompletedReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"pat-2026": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
				"ann-2025": {Seated: learningv1alpha1.CompletedReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
				"ann-2026": {Seated: seated, Eligible: eligible, Since: "2026-01-01T00:00:00Z"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := Snapshot{
				Now:         now,
				Community:   community(lead(2, 2), role("Member", 0, 5)),
				Cohorts:     historyCohorts(),
				Memberships: tc.members,
			}
			out := evaluateTwice(t, s)
			if diff := cmp.Diff(tc.want, seatsOf(out)); diff != "" {
				t.Errorf("seats (-want +got):\n%s", diff)
			}
			for name, want := range tc.verdicts {
				if diff := cmp.Diff(want, verdictOf(out.Memberships[name].Conditions, learningv1alpha1.EligibleCondition)); diff != "" {
					t.Errorf("%s's Eligible (-want +got):\n%s", name, diff)
				}
			}
			for name, want := range tc.ready {
				if got := verdictOf(out.Memberships[name].Conditions, learningv1alpha1.ReadyCondition).Message; got != want {
					t.Errorf("%s's Ready message = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestHistoryFoundLaterMovesNoSeat imports a completed cohort in two passes, the
// earliest-created membership last: the seats placed in the first pass stay, and the
// membership found later never held one.
func TestHistoryFoundLaterMovesNoSeat(t *testing.T) {
	ann := member("ann", "y2025", "ann", "Lead", day("2024-12-01"))
	bea := member("bea", "y2025", "bea", "Lead", day("2024-12-02"))
	cal := member("cal", "y2025", "cal", "Lead", day("2024-12-03"))
	s := Snapshot{Now: now, Community: community(lead(2, 0)), Cohorts: historyCohorts()[1:2], Memberships: []*learningv1alpha1.Membership{bea, cal}}
	first := evaluateTwice(t, s)

	later := withStatuses(s, first)
	later.Now = now.AddDate(0, 0, 1)
	later.Memberships = append(later.Memberships, ann)
	out := evaluateTwice(t, later)
	want := map[string]seat{
		"ann": {Seated: learningv1alpha1.NeverSeatedReason, Eligible: eligible},
		"bea": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
		"cal": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
	}
	if diff := cmp.Diff(want, seatsOf(out)); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}
}

// TestHistoryWaitedAndNeverSeated: a membership that waited while its cohort ran and
// never got a seat is not seated when the cohort completes: only memberships no
// evaluation has placed are history to seat.
func TestHistoryWaitedAndNeverSeated(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(lead(1, 0)), Cohorts: historyCohorts()[1:2],
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "y2025", "ann", "Lead", day("2024-12-01"), heldSince(day("2025-01-01"))),
			member("bea", "y2025", "bea", "Lead", day("2024-12-02"), waitingAt(1, day("2025-01-01"))),
		},
	}
	out := evaluateTwice(t, s)
	want := map[string]seat{
		"ann": {Seated: learningv1alpha1.TermExpiredReason, Eligible: eligible, Since: "2025-01-01T00:00:00Z"},
		"bea": {Seated: learningv1alpha1.NeverSeatedReason, Eligible: eligible},
	}
	if diff := cmp.Diff(want, seatsOf(out)); diff != "" {
		t.Errorf("seats (-want +got):\n%s", diff)
	}
}
