package program

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// firstTuesday is the first gathering of a weekly schedule in the alpha cohort.
var firstTuesday = instant("2026-01-06T12:00:00Z")

// attendedHalf records ann present at the first half of the gatherings and absent at
// the rest.
func attendedHalf(n int) func(int) []learningv1alpha1.AttendanceRecord {
	return func(i int) []learningv1alpha1.AttendanceRecord {
		if i < n/2 {
			return []learningv1alpha1.AttendanceRecord{present("ann")}
		}
		return []learningv1alpha1.AttendanceRecord{absent("ann")}
	}
}

func TestAttendanceProjection(t *testing.T) {
	half := &learningv1alpha1.AttendanceSummary{EligibleEvents: 4, Present: 2, Absent: 2, Percent: testutil.Ptr(int32(50))}
	february := instant("2026-02-01T00:00:00Z")
	inProgress := instant("2026-02-03T12:00:00Z")
	cases := map[string]struct {
		now    time.Time // defaults to February 1
		cohort *learningv1alpha1.Cohort
		events []*learningv1alpha1.LearningEvent
		want   verdict
	}{
		"occurrences of the schedule not generated yet count as remaining": {
			cohort: cohort("alpha", "2026-01-01", 12, scheduled(weekly())),
			want:   verdict{metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, "50% of 4 events, requires 80%"},
		},
		"without a schedule nothing remains": {
			cohort: cohort("alpha", "2026-01-01", 12),
			want:   verdict{metav1.ConditionFalse, learningv1alpha1.CannotReachThresholdReason, "at most 50% reachable with 0 events left, requires 80%"},
		},
		"declared future events count as remaining": {
			cohort: cohort("alpha", "2026-01-01", 12),
			events: weeklyGatherings("later", "alpha", instant("2026-02-03T12:00:00Z"), 20, func(int) []learningv1alpha1.AttendanceRecord { return nil }),
			want:   verdict{metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, "50% of 4 events, requires 80%"},
		},
		"a generated occurrence is counted once": {
			// Four Tuesdays are left in February; three exist as generated gatherings.
			cohort: cohort("alpha", "2026-01-01", 0, ending("2026-02-28"), scheduled(weekly())),
			events: []*learningv1alpha1.LearningEvent{
				gathering(calendar.EventName("alpha", instant("2026-02-03T12:00:00Z"), time.UTC), "alpha", instant("2026-02-03T12:00:00Z")),
				gathering(calendar.EventName("alpha", instant("2026-02-10T12:00:00Z"), time.UTC), "alpha", instant("2026-02-10T12:00:00Z")),
				gathering(calendar.EventName("alpha", instant("2026-02-17T12:00:00Z"), time.UTC), "alpha", instant("2026-02-17T12:00:00Z")),
			},
			want: verdict{metav1.ConditionFalse, learningv1alpha1.CannotReachThresholdReason, "at most 75% reachable with 4 events left, requires 80%"},
		},
		"a generated gathering in progress is still remaining": {
			// The cohort's last gathering is under way: 2 of 4 plus 1 is 60%.
			now:    inProgress.Add(30 * time.Minute),
			cohort: cohort("alpha", "2026-01-01", 0, ending("2026-02-03"), scheduled(weekly())),
			events: []*learningv1alpha1.LearningEvent{
				gathering(calendar.EventName("alpha", inProgress, time.UTC), "alpha", inProgress),
			},
			want: verdict{metav1.ConditionFalse, learningv1alpha1.CannotReachThresholdReason, "at most 60% reachable with 1 event left, requires 80%"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			clock := tc.now
			if clock.IsZero() {
				clock = february
			}
			events := append(weeklyGatherings("jan", "alpha", firstTuesday, 4, attendedHalf(4)), tc.events...)
			out := Evaluate(Snapshot{
				Now: clock, Community: community(role("Member", 0, 5)),
				Cohorts:     []*learningv1alpha1.Cohort{tc.cohort},
				Memberships: []*learningv1alpha1.Membership{member("ann", "alpha", "ann", "Member", day("2025-12-01"), heldSince(day("2026-01-01")))},
				Events:      events,
			})
			status := out.Memberships["ann"]
			if diff := cmp.Diff(tc.want, verdictOf(status.Conditions, learningv1alpha1.AttendanceMetCondition)); diff != "" {
				t.Errorf("AttendanceMet (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(half, status.Attendance); diff != "" {
				t.Errorf("attendance (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttendanceOutcomesAreKept(t *testing.T) {
	t.Run("after the term expires", func(t *testing.T) {
		out := Evaluate(Snapshot{
			Now: now, Community: community(role("Member", 0, 5)),
			Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
			Memberships: []*learningv1alpha1.Membership{
				member("ann", "alpha", "ann", "Member", day("2025-12-01"), until("2026-02-28"), heldSince(day("2026-01-01"))),
			},
			Events: weeklyGatherings("w", "alpha", firstTuesday, 10, func(i int) []learningv1alpha1.AttendanceRecord {
				return []learningv1alpha1.AttendanceRecord{present("ann")}
			}),
		})
		status := out.Memberships["ann"]
		if status.Phase != learningv1alpha1.MembershipExpired {
			t.Fatalf("phase = %s, want Expired", status.Phase)
		}
		// Eight of the ten gatherings fall inside the term, which ended on February 28.
		wantMet := verdict{metav1.ConditionTrue, learningv1alpha1.AttendanceMetReason, "100% of 8 events, requires 80%"}
		if diff := cmp.Diff(wantMet, verdictOf(status.Conditions, learningv1alpha1.AttendanceMetCondition)); diff != "" {
			t.Errorf("AttendanceMet (-want +got):\n%s", diff)
		}
		wantSummary := &learningv1alpha1.AttendanceSummary{EligibleEvents: 8, Present: 8, Percent: testutil.Ptr(int32(100))}
		if diff := cmp.Diff(wantSummary, status.Attendance); diff != "" {
			t.Errorf("attendance (-want +got):\n%s", diff)
		}
	})

	t.Run("after the cohort completes", func(t *testing.T) {
		bobBefore := &learningv1alpha1.AttendanceSummary{EligibleEvents: 4, Absent: 4, Percent: testutil.Ptr(int32(0))}
		out := Evaluate(Snapshot{
			Now: now, Community: community(role("Member", 2, 3)),
			Cohorts: []*learningv1alpha1.Cohort{cohort("past", "2025-01-01", 12)},
			Memberships: []*learningv1alpha1.Membership{
				// ann held her seat to the end; cat's own term ended in June; bob withdrew.
				member("ann", "past", "ann", "Member", day("2024-12-01"), heldSince(day("2025-01-01"))),
				member("cat", "past", "cat", "Member", day("2024-12-01"), until("2025-06-30"), heldSince(day("2025-01-01"))),
				member("bob", "past", "bob", "Member", day("2024-12-01"), withdrawn(), heldSince(day("2025-01-01")),
					previously(learningv1alpha1.AttendanceMetCondition, metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, day("2025-06-01")),
					func(m *learningv1alpha1.Membership) { m.Status.Attendance = bobBefore.DeepCopy() }),
			},
			Events: weeklyGatherings("dec", "past", instant("2025-12-02T12:00:00Z"), 4, func(int) []learningv1alpha1.AttendanceRecord {
				return []learningv1alpha1.AttendanceRecord{present("ann"), absent("bob")}
			}),
		})
		status := out.Cohorts["past"]
		if status.Phase != learningv1alpha1.CohortCompleted {
			t.Fatalf("phase = %s, want Completed", status.Phase)
		}
		wantRoles := []learningv1alpha1.RoleSeats{{Name: "Member", MinMembers: 2, MaxMembers: 3, Seated: 1}}
		if diff := cmp.Diff(wantRoles, status.Roles); diff != "" {
			t.Errorf("status.roles (-want +got):\n%s", diff)
		}
		wantStaffed := verdict{metav1.ConditionTrue, learningv1alpha1.CompletedReason, "the cohort completed on 2025-12-31 with Member 1/3"}
		if diff := cmp.Diff(wantStaffed, verdictOf(status.Conditions, learningv1alpha1.StaffedCondition)); diff != "" {
			t.Errorf("Staffed (-want +got):\n%s", diff)
		}
		wantReady := verdict{metav1.ConditionTrue, learningv1alpha1.SucceededReason, "Completed cohort: Member 1/3"}
		if diff := cmp.Diff(wantReady, verdictOf(status.Conditions, learningv1alpha1.ReadyCondition)); diff != "" {
			t.Errorf("Ready (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(testutil.Ptr(int32(100)), status.AttendancePercent); diff != "" {
			t.Errorf("attendancePercent (-want +got):\n%s", diff)
		}
		wantCounts := &learningv1alpha1.MemberCounts{Expired: 2, Withdrawn: 1}
		if diff := cmp.Diff(wantCounts, status.Members); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}

		// The withdrawn member keeps the last judgement, not one over the later events.
		bob := out.Memberships["bob"]
		wantBob := verdict{metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, "previously"}
		if diff := cmp.Diff(wantBob, verdictOf(bob.Conditions, learningv1alpha1.AttendanceMetCondition)); diff != "" {
			t.Errorf("bob AttendanceMet (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(bobBefore, bob.Attendance); diff != "" {
			t.Errorf("bob attendance (-want +got):\n%s", diff)
		}
	})
}

func TestWithdrawnWithoutJudgement(t *testing.T) {
	out := Evaluate(Snapshot{
		Now: now, Community: community(role("Member", 0, 5)),
		Cohorts:     []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{member("bob", "alpha", "bob", "Member", day("2025-12-01"), withdrawn())},
	})
	bob := out.Memberships["bob"]
	want := verdict{metav1.ConditionUnknown, learningv1alpha1.NotSeatedReason, "attendance is judged for seated members only"}
	if diff := cmp.Diff(want, verdictOf(bob.Conditions, learningv1alpha1.AttendanceMetCondition)); diff != "" {
		t.Errorf("AttendanceMet (-want +got):\n%s", diff)
	}
	if bob.Attendance != nil {
		t.Errorf("attendance = %+v, want none", bob.Attendance)
	}
}

func TestEventAttendanceRecorded(t *testing.T) {
	ended, later := instant("2026-03-03T12:00:00Z"), instant("2026-03-17T12:00:00Z")
	members := []*learningv1alpha1.Membership{
		member("a1", "alpha", "ann", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
		member("a2", "alpha", "abe", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
		// Seated after the gathering ended: not expected at it.
		member("a3", "alpha", "amy", "Member", day("2026-03-04"), heldSince(day("2026-03-05"))),
		// Waiting for a seat: not expected.
		member("a4", "alpha", "art", "Member", day("2026-03-04"), waitingAt(1, day("2026-03-05"))),
		member("b1", "beta", "bea", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
	}
	cases := map[string]struct {
		event *learningv1alpha1.LearningEvent
		want  verdict
		// wantAttendance is the event's attendance summary; not checked when nil.
		wantAttendance *learningv1alpha1.EventAttendance
	}{
		"every seated member recorded": {
			event:          gathering("g", "alpha", ended, present("a1"), absent("a2")),
			want:           verdict{metav1.ConditionTrue, learningv1alpha1.RecordedReason, "attendance recorded for all 2 seated members"},
			wantAttendance: &learningv1alpha1.EventAttendance{Expected: 2, Present: 1, Absent: 1},
		},
		"a seated member missing": {
			event:          gathering("g", "alpha", ended, present("a1")),
			want:           verdict{metav1.ConditionFalse, learningv1alpha1.NotRecordedReason, "1 of 2 seated members have no attendance recorded: a2"},
			wantAttendance: &learningv1alpha1.EventAttendance{Expected: 2, Present: 1, Unrecorded: 1},
		},
		"entries that name no membership of the cohort": {
			event: gathering("g", "alpha", ended, present("a1"), present("a2"), present("b1"), present("ghost")),
			want: verdict{metav1.ConditionFalse, learningv1alpha1.UnknownMembersReason,
				"spec.attendance names 2 memberships that are not in the event's cohort or community, and they are not counted: b1, ghost"},
			wantAttendance: &learningv1alpha1.EventAttendance{Expected: 2, Present: 2, Unknown: 2},
		},
		"a community event knows every cohort's members": {
			event:          communityGathering("g", ended, present("a1"), present("a2"), present("b1")),
			want:           verdict{metav1.ConditionTrue, learningv1alpha1.RecordedReason, "attendance recorded for all 3 seated members"},
			wantAttendance: &learningv1alpha1.EventAttendance{Expected: 3, Present: 3},
		},
		"a community event expects every cohort's members": {
			event:          communityGathering("g", ended, present("a1"), present("a2")),
			want:           verdict{metav1.ConditionFalse, learningv1alpha1.NotRecordedReason, "1 of 3 seated members have no attendance recorded: b1"},
			wantAttendance: &learningv1alpha1.EventAttendance{Expected: 3, Present: 2, Unrecorded: 1},
		},
		"not ended": {
			event: gathering("g", "alpha", later),
			want:  verdict{metav1.ConditionUnknown, learningv1alpha1.NotEndedReason, "attendance is due when the event ends"},
		},
		"cancelled": {
			event: func() *learningv1alpha1.LearningEvent {
				e := gathering("g", "alpha", ended)
				e.Spec.Cancelled = true
				return e
			}(),
			want: verdict{metav1.ConditionTrue, learningv1alpha1.CancelledReason, "the event was cancelled"},
		},
		"an event that does not count": {
			event: func() *learningv1alpha1.LearningEvent {
				e := gathering("g", "alpha", ended)
				e.Spec.Type = learningv1alpha1.SpeakerSeriesEvent
				return e
			}(),
			want: verdict{metav1.ConditionTrue, learningv1alpha1.NotRequiredReason, "the event does not count toward attendance"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Evaluate(Snapshot{
				Now: now, Community: community(role("Member", 0, 3)),
				Cohorts:     []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12), cohort("beta", "2026-01-01", 12)},
				Memberships: members, Events: []*learningv1alpha1.LearningEvent{tc.event},
			})
			status := out.Events["g"]
			if diff := cmp.Diff(tc.want, verdictOf(status.Conditions, learningv1alpha1.AttendanceRecordedCondition)); diff != "" {
				t.Errorf("AttendanceRecorded (-want +got):\n%s", diff)
			}
			if tc.wantAttendance == nil {
				return
			}
			if diff := cmp.Diff(tc.wantAttendance, status.Attendance); diff != "" {
				t.Errorf("attendance (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCommunityEventsCountForEveryCohort: a community gathering is one of the eligible
// events of the members of each cohort.
func TestCommunityEventsCountForEveryCohort(t *testing.T) {
	events := []*learningv1alpha1.LearningEvent{
		communityGathering("all-1", instant("2026-02-03T12:00:00Z"), present("a1"), present("b1")),
		communityGathering("all-2", instant("2026-02-10T12:00:00Z"), present("a1"), absent("b1")),
		gathering("alpha-1", "alpha", instant("2026-02-17T12:00:00Z"), present("a1")),
	}
	out := Evaluate(Snapshot{
		Now: now, Community: community(role("Member", 0, 3)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12), cohort("beta", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("a1", "alpha", "ann", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("b1", "beta", "bea", "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
		},
		Events: events,
	})
	want := map[string]*learningv1alpha1.AttendanceSummary{
		"a1": {EligibleEvents: 3, Present: 3, Percent: testutil.Ptr(int32(100))},
		"b1": {EligibleEvents: 2, Present: 1, Absent: 1},
	}
	got := map[string]*learningv1alpha1.AttendanceSummary{"a1": out.Memberships["a1"].Attendance, "b1": out.Memberships["b1"].Attendance}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attendance (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testutil.Ptr(int32(100)), out.Cohorts["alpha"].AttendancePercent); diff != "" {
		t.Errorf("alpha attendancePercent (-want +got):\n%s", diff)
	}
}

func TestMissingCohort(t *testing.T) {
	out := Evaluate(Snapshot{
		Now: now, Community: community(role("Member", 0, 3)),
		Cohorts:     []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{member("lost", "gone", "ann", "Member", day("2025-12-01"), heldSince(day("2026-01-01")))},
		Events: []*learningv1alpha1.LearningEvent{
			gathering("lost-event", "gone", instant("2026-02-03T12:00:00Z"), present("lost")),
			func() *learningv1alpha1.LearningEvent {
				e := communityGathering("other-event", instant("2026-02-03T12:00:00Z"))
				e.Spec.CommunityRef.Name = "other"
				return e
			}(),
		},
	})
	type found struct{ Found, Ready verdict }
	want := map[string]found{
		"lost": {
			Found: verdict{metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "cohort gone not found"},
			Ready: verdict{metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "cohort gone not found"},
		},
		"lost-event": {
			Found: verdict{metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "cohort gone not found"},
			Ready: verdict{metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason, "cohort gone not found"},
		},
		"other-event": {
			Found: verdict{metav1.ConditionFalse, learningv1alpha1.CommunityNotFoundReason, "community other not found"},
			Ready: verdict{metav1.ConditionFalse, learningv1alpha1.CommunityNotFoundReason, "community other not found"},
		},
	}
	got := map[string]found{
		"lost": {
			Found: verdictOf(out.Memberships["lost"].Conditions, learningv1alpha1.CohortFoundCondition),
			Ready: verdictOf(out.Memberships["lost"].Conditions, learningv1alpha1.ReadyCondition),
		},
		"lost-event": {
			Found: verdictOf(out.Events["lost-event"].Conditions, learningv1alpha1.CohortFoundCondition),
			Ready: verdictOf(out.Events["lost-event"].Conditions, learningv1alpha1.ReadyCondition),
		},
		"other-event": {
			Found: verdictOf(out.Events["other-event"].Conditions, learningv1alpha1.CommunityFoundCondition),
			Ready: verdictOf(out.Events["other-event"].Conditions, learningv1alpha1.ReadyCondition),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	// The record stays as last observed: the seat history is not erased.
	if got := rfc(out.Memberships["lost"].SeatedSince); got != "2026-01-01T00:00:00Z" {
		t.Errorf("lost seatedSince = %q, want it kept", got)
	}
	if got := condReason(out.Memberships["lost"].Conditions, learningv1alpha1.SeatedCondition); got != learningv1alpha1.CohortNotFoundReason {
		t.Errorf("lost Seated reason = %q, want %q", got, learningv1alpha1.CohortNotFoundReason)
	}
}

// TestUnitOfAMissingCohort: a unit named after a cohort that does not exist still
// reports on its memberships.
func TestUnitOfAMissingCohort(t *testing.T) {
	out := Evaluate(Snapshot{
		Now:         now,
		Memberships: []*learningv1alpha1.Membership{member("lost", "gone", "ann", "Member", day("2025-12-01"))},
	})
	if got := verdictOf(out.Memberships["lost"].Conditions, learningv1alpha1.ReadyCondition); got.Status != metav1.ConditionFalse || got.Reason != learningv1alpha1.CohortNotFoundReason {
		t.Errorf("Ready = %+v, want False/CohortNotFound", got)
	}
	if out.Community != nil || len(out.Cohorts) != 0 {
		t.Errorf("outcome has a community %v or cohorts %v", out.Community, out.Cohorts)
	}
}

func TestEventApproval(t *testing.T) {
	external := func(edit func(e *learningv1alpha1.LearningEvent)) *learningv1alpha1.LearningEvent {
		e := gathering("g", "alpha", instant("2026-03-17T12:00:00Z"))
		e.Spec.Audience = learningv1alpha1.ExternalAudience
		edit(e)
		return e
	}
	approve := func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Approval = &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: ContentHash(&e.Spec)}
	}
	cases := map[string]struct {
		event *learningv1alpha1.LearningEvent
		want  verdict
	}{
		"internal": {
			event: gathering("g", "alpha", instant("2026-03-17T12:00:00Z")),
			want:  verdict{metav1.ConditionTrue, learningv1alpha1.NotRequiredReason, "internal events need no approval"},
		},
		"external, approved for its content": {
			event: external(approve),
			want:  verdict{metav1.ConditionTrue, learningv1alpha1.ApprovedReason, "approved by pillar-lead"},
		},
		"external, attendance recorded after approval": {
			event: external(func(e *learningv1alpha1.LearningEvent) {
				approve(e)
				e.Spec.Attendance = []learningv1alpha1.AttendanceRecord{present("ann")}
				e.Spec.Cancelled = true
			}),
			want: verdict{metav1.ConditionTrue, learningv1alpha1.ApprovedReason, "approved by pillar-lead"},
		},
		"external, retitled after approval": {
			event: external(func(e *learningv1alpha1.LearningEvent) {
				approve(e)
				e.Spec.Title = "A different talk"
			}),
			want: verdict{metav1.ConditionFalse, learningv1alpha1.ContentChangedReason, ""},
		},
		"external, not approved": {
			event: external(func(*learningv1alpha1.LearningEvent) {}),
			want:  verdict{metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason, ""},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Evaluate(Snapshot{
				Now: now, Community: community(role("Member", 0, 3)),
				Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
				Events:  []*learningv1alpha1.LearningEvent{tc.event},
			})
			status := out.Events["g"]
			got := verdictOf(status.Conditions, learningv1alpha1.ApprovedCondition)
			if tc.want.Message == "" {
				got.Message = "" // names the current hash
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Approved (-want +got):\n%s", diff)
			}
			if want := ContentHash(&tc.event.Spec); status.ContentHash != want {
				t.Errorf("status.contentHash = %s, want %s", status.ContentHash, want)
			}
		})
	}
}
