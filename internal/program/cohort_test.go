package program

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func TestCohortEndDate(t *testing.T) {
	cases := map[string]struct {
		start  string
		months int32
		want   learningv1alpha1.Date
	}{
		"January 31 plus one month ends on February 28": {start: "2026-01-31", months: 1, want: "2026-02-28"},
		"in a leap year on February 29":                 {start: "2028-01-31", months: 1, want: "2028-02-29"},
		"March 31 plus one month ends on April 30":      {start: "2026-03-31", months: 1, want: "2026-04-30"},
		"January 15 plus one month ends on February 14": {start: "2026-01-15", months: 1, want: "2026-02-14"},
		"January 1 plus twelve months ends on December": {start: "2026-01-01", months: 12, want: "2026-12-31"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Evaluate(Snapshot{
				Now: now, Community: community(role("Member", 0, 3)),
				Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", tc.start, tc.months)},
				Memberships: []*learningv1alpha1.Membership{
					member("ann", "alpha", "ann", "Member", day("2025-12-01")),
				},
			})
			if got := out.Cohorts["alpha"].EndDate; got != tc.want {
				t.Errorf("cohort status.endDate = %s, want %s", got, tc.want)
			}
			if got := out.Memberships["ann"].EndDate; got != tc.want {
				t.Errorf("membership status.endDate = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCohortStaffing(t *testing.T) {
	cases := map[string]struct {
		members []*learningv1alpha1.Membership
		want    verdict
	}{
		"a role below its minimum": {
			members: []*learningv1alpha1.Membership{member("ann", "alpha", "ann", "Member", day("2025-12-01"))},
			want:    verdict{metav1.ConditionFalse, learningv1alpha1.UnderstaffedReason, "Lead: 0 of minimum 1"},
		},
		"every role at its minimum": {
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", "ann", "Member", day("2025-12-01")),
				member("lee", "alpha", "lee", "Lead", day("2025-12-01")),
			},
			want: verdict{metav1.ConditionTrue, learningv1alpha1.StaffedReason, "every role has its minimum: Lead 1/2, Member 1/3"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Evaluate(Snapshot{
				Now: now, Community: community(role("Lead", 1, 2), role("Member", 0, 3)),
				Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)}, Memberships: tc.members,
			})
			if diff := cmp.Diff(tc.want, verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.StaffedCondition)); diff != "" {
				t.Errorf("Staffed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextBoundary(t *testing.T) {
	alpha := func(opts ...cohortOption) []*learningv1alpha1.Cohort {
		return []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12, opts...)}
	}
	cancelled := gathering("soon", "alpha", instant("2026-03-10T11:00:00Z"))
	cancelled.Spec.Cancelled = true
	cases := map[string]struct {
		now     time.Time // defaults to now
		cohorts []*learningv1alpha1.Cohort
		members []*learningv1alpha1.Membership
		events  []*learningv1alpha1.LearningEvent
		want    time.Time
	}{
		"an enrolling cohort starts": {
			now: day("2025-12-01"), cohorts: alpha(),
			want: day("2026-01-01"),
		},
		"an active cohort ends": {
			cohorts: alpha(),
			want:    day("2027-01-01"),
		},
		"a membership's term starts": {
			cohorts: alpha(),
			members: []*learningv1alpha1.Membership{member("ann", "alpha", "ann", "Member", day("2025-12-01"), starting("2026-04-01"))},
			want:    day("2026-04-01"),
		},
		"an active membership's notice window opens": {
			cohorts: alpha(),
			members: []*learningv1alpha1.Membership{member("ann", "alpha", "ann", "Member", day("2025-12-01"))},
			want:    day("2026-12-02"),
		},
		"an expiring membership's term ends": {
			cohorts: alpha(),
			members: []*learningv1alpha1.Membership{member("ann", "alpha", "ann", "Member", day("2025-12-01"), until("2026-03-20"))},
			want:    day("2026-03-21"),
		},
		"an event starts": {
			cohorts: alpha(),
			events:  []*learningv1alpha1.LearningEvent{gathering("soon", "alpha", instant("2026-03-10T11:00:00Z"))},
			want:    instant("2026-03-10T11:00:00Z"),
		},
		"an event in progress ends": {
			cohorts: alpha(),
			events:  []*learningv1alpha1.LearningEvent{gathering("now", "alpha", instant("2026-03-10T09:30:00Z"))},
			want:    instant("2026-03-10T11:00:00Z"),
		},
		"a cancelled event is a boundary only when it leaves the calendar's window": {
			cohorts: alpha(),
			events:  []*learningv1alpha1.LearningEvent{cancelled},
			want:    instant("2026-06-08T12:30:00Z"), // its end plus 90 days
		},
		"the schedule's next occurrence starts": {
			cohorts: alpha(scheduled(weekly())),
			want:    instant("2026-03-10T12:00:00Z"),
		},
		"the earliest of several": {
			cohorts: alpha(),
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", "ann", "Member", day("2025-12-01"), until("2026-03-20")),
				member("bob", "alpha", "bob", "Member", day("2025-12-01"), starting("2026-03-15")),
			},
			events: []*learningv1alpha1.LearningEvent{gathering("later", "alpha", instant("2026-03-17T12:00:00Z"))},
			want:   day("2026-03-15"),
		},
		"a completed cohort with nothing left": {
			cohorts: []*learningv1alpha1.Cohort{cohort("past", "2025-01-01", 12)},
			members: []*learningv1alpha1.Membership{member("ann", "past", "ann", "Member", day("2024-12-01"), heldSince(day("2025-01-01")))},
			events:  []*learningv1alpha1.LearningEvent{gathering("done", "past", instant("2025-12-02T12:00:00Z"), present("ann"))},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := Snapshot{Now: tc.now, Community: community(role("Member", 0, 3)), Cohorts: tc.cohorts, Memberships: tc.members, Events: tc.events}
			if s.Now.IsZero() {
				s.Now = now
			}
			if diff := cmp.Diff(tc.want, Evaluate(s).Next); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEvaluateDoesNotModifyTheSnapshot: Evaluate is pure; the cache's objects are
// shared and must not change.
func TestEvaluateDoesNotModifyTheSnapshot(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(role("Member", 0, 1)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", "ann", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("bob", "alpha", "bob", "Member", day("2025-12-02"), waitingAt(3, day("2026-01-01"))),
		},
		Events: []*learningv1alpha1.LearningEvent{gathering("g", "alpha", instant("2026-03-03T12:00:00Z"), present("ann"))},
	}
	before := Snapshot{Now: s.Now, Community: s.Community.DeepCopy()}
	for _, c := range s.Cohorts {
		before.Cohorts = append(before.Cohorts, c.DeepCopy())
	}
	for _, m := range s.Memberships {
		before.Memberships = append(before.Memberships, m.DeepCopy())
	}
	for _, e := range s.Events {
		before.Events = append(before.Events, e.DeepCopy())
	}
	Evaluate(s)
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("the snapshot changed (-before +after):\n%s", diff)
	}
}
