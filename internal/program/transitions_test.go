package program

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// membershipAt builds a membership status with a phase, a Seated reason and an
// AttendanceMet reason ("" leaves the condition out).
func membershipAt(phase learningv1alpha1.MembershipPhase, seatedReason, attendanceReason string) *learningv1alpha1.MembershipStatus {
	s := &learningv1alpha1.MembershipStatus{Phase: phase, EndDate: "2026-12-31"}
	add := func(typ, reason string, status metav1.ConditionStatus) {
		if reason != "" {
			s.Conditions = append(s.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: typ + " " + reason})
		}
	}
	seatedStatus := metav1.ConditionFalse
	if seatedReason == learningv1alpha1.SeatedReason {
		seatedStatus = metav1.ConditionTrue
	}
	add(learningv1alpha1.SeatedCondition, seatedReason, seatedStatus)
	attendanceStatus := metav1.ConditionFalse
	switch attendanceReason {
	case learningv1alpha1.AttendanceMetReason:
		attendanceStatus = metav1.ConditionTrue
	case learningv1alpha1.NotEnoughEventsReason:
		attendanceStatus = metav1.ConditionUnknown
	}
	add(learningv1alpha1.AttendanceMetCondition, attendanceReason, attendanceStatus)
	return s
}

func TestMembershipTransitions(t *testing.T) {
	const (
		active  = learningv1alpha1.MembershipActive
		expired = learningv1alpha1.MembershipExpired
		below   = learningv1alpha1.BelowThresholdReason
		cannot  = learningv1alpha1.CannotReachThresholdReason
		met     = learningv1alpha1.AttendanceMetReason
		few     = learningv1alpha1.NotEnoughEventsReason
	)
	promoted := Transition{corev1.EventTypeNormal, "Promoted", "Promote", "promoted from the waitlist: Seated Seated"}
	seatedEvent := Transition{corev1.EventTypeNormal, "Seated", "Seat", "Seated Seated"}
	waitlistedEvent := Transition{corev1.EventTypeNormal, "Waitlisted", "Waitlist", "Seated Waitlisted"}
	expiredEvent := Transition{corev1.EventTypeNormal, "Expired", "Expire", "the term ended on 2026-12-31; the seat is freed"}
	belowEvent := func(reason string) Transition {
		return Transition{corev1.EventTypeWarning, "AttendanceBelowThreshold", "JudgeAttendance", "AttendanceMet " + reason}
	}
	cases := map[string]struct {
		before, after *learningv1alpha1.MembershipStatus
		want          []Transition
	}{
		"first seat": {
			before: &learningv1alpha1.MembershipStatus{},
			after:  membershipAt(active, seated, ""),
			want:   []Transition{seatedEvent},
		},
		"seated after being ineligible": {
			before: membershipAt(active, notEligible, ""),
			after:  membershipAt(active, seated, ""),
			want:   []Transition{seatedEvent},
		},
		"promoted from the waitlist": {
			before: membershipAt(active, waitlisted, ""),
			after:  membershipAt(active, seated, ""),
			want:   []Transition{promoted},
		},
		"waitlisted": {
			before: &learningv1alpha1.MembershipStatus{},
			after:  membershipAt(active, waitlisted, ""),
			want:   []Transition{waitlistedEvent},
		},
		"expired": {
			before: membershipAt(active, seated, met),
			after:  membershipAt(expired, learningv1alpha1.TermExpiredReason, met),
			want:   []Transition{expiredEvent},
		},
		"imported history, first evaluated after its term: no Events": {
			before: &learningv1alpha1.MembershipStatus{},
			after:  membershipAt(expired, learningv1alpha1.NeverSeatedReason, below),
		},
		"falls below the threshold": {
			before: membershipAt(active, seated, met),
			after:  membershipAt(active, seated, below),
			want:   []Transition{belowEvent(below)},
		},
		"cannot reach the threshold any more": {
			before: membershipAt(active, seated, few),
			after:  membershipAt(active, seated, cannot),
			want:   []Transition{belowEvent(cannot)},
		},
		"from below to cannot reach: still below, no new warning": {
			before: membershipAt(active, seated, below),
			after:  membershipAt(active, seated, cannot),
		},
		"expires below the threshold": {
			before: membershipAt(active, seated, met),
			after:  membershipAt(expired, learningv1alpha1.TermExpiredReason, below),
			want:   []Transition{expiredEvent, belowEvent(below)},
		},
		"unchanged seat": {
			before: membershipAt(active, seated, met),
			after:  membershipAt(active, seated, met),
		},
		"unchanged waitlist": {
			before: membershipAt(active, waitlisted, ""),
			after:  membershipAt(active, waitlisted, ""),
		},
		"unchanged expiry": {
			before: membershipAt(expired, learningv1alpha1.TermExpiredReason, below),
			after:  membershipAt(expired, learningv1alpha1.TermExpiredReason, below),
		},
		"unchanged below the threshold": {
			before: membershipAt(active, seated, cannot),
			after:  membershipAt(active, seated, cannot),
		},
		"losing a seat is no Seated event": {
			before: membershipAt(active, seated, ""),
			after:  membershipAt(active, notEligible, ""),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, MembershipTransitions(tc.before, tc.after)); diff != "" {
				t.Errorf("MembershipTransitions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventTransitions(t *testing.T) {
	approvedBy := func(approver string) *learningv1alpha1.LearningEvent {
		e := gathering("g", "alpha", now)
		e.Spec.Audience = learningv1alpha1.ExternalAudience
		e.Spec.Approval = &learningv1alpha1.Approval{Approver: approver, ContentHash: "sha256:x"}
		return e
	}
	status := func(reason string) *learningv1alpha1.LearningEventStatus {
		s := &learningv1alpha1.LearningEventStatus{}
		if reason != "" {
			s.Conditions = []metav1.Condition{{Type: learningv1alpha1.ApprovedCondition, Reason: reason}}
		}
		return s
	}
	cases := map[string]struct {
		before, after *learningv1alpha1.LearningEventStatus
		want          []Transition
	}{
		"approved": {
			before: status(learningv1alpha1.AwaitingApprovalReason), after: status(learningv1alpha1.ApprovedReason),
			want: []Transition{{corev1.EventTypeNormal, "Approved", "Approve", "approved by pillar-lead"}},
		},
		"approval voided": {
			before: status(learningv1alpha1.ApprovedReason), after: status(learningv1alpha1.ContentChangedReason),
			want: []Transition{{corev1.EventTypeWarning, "ApprovalVoided", "VoidApproval", "the content changed after approval; it needs a new approval"}},
		},
		"still approved":        {before: status(learningv1alpha1.ApprovedReason), after: status(learningv1alpha1.ApprovedReason)},
		"still changed":         {before: status(learningv1alpha1.ContentChangedReason), after: status(learningv1alpha1.ContentChangedReason)},
		"internal, no approval": {before: status(""), after: status(learningv1alpha1.NotRequiredReason)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, EventTransitions(approvedBy("pillar-lead"), tc.before, tc.after)); diff != "" {
				t.Errorf("EventTransitions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTransitionsOfAnEvaluation: the transitions an outcome lists (Outcome.Transitions)
// between two evaluations of a unit are the ones a person expects, and evaluating an
// unchanged unit again gives none.
func TestTransitionsOfAnEvaluation(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(role("Member", 0, 1)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", "ann", "Member", day("2025-12-01")),
			member("bob", "alpha", "bob", "Member", day("2025-12-02")),
		},
	}
	reasons := func(before []*learningv1alpha1.Membership, out Outcome) map[string][]string {
		got := map[string][]string{}
		for key, transitions := range out.Transitions {
			if key.Kind != "Membership" || !slices.ContainsFunc(before, func(m *learningv1alpha1.Membership) bool { return m.Name == key.Name }) {
				t.Errorf("transitions of %v, which is not a membership of the unit", key)
			}
			for _, tr := range transitions {
				got[key.Name] = append(got[key.Name], tr.Reason)
			}
		}
		return got
	}
	feed := func(out Outcome) {
		for _, m := range s.Memberships {
			m.Status = out.Memberships[m.Name]
		}
	}

	first := Evaluate(s)
	if diff := cmp.Diff(map[string][]string{"ann": {"Seated"}, "bob": {"Waitlisted"}}, reasons(s.Memberships, first)); diff != "" {
		t.Errorf("first evaluation (-want +got):\n%s", diff)
	}
	feed(first)
	if diff := cmp.Diff(map[string][]string{}, reasons(s.Memberships, Evaluate(s))); diff != "" {
		t.Errorf("unchanged unit (-want +got):\n%s", diff)
	}

	s.Memberships[0] = s.Memberships[0].DeepCopy()
	s.Memberships[0].Spec.Withdrawn = true
	second := Evaluate(s)
	if diff := cmp.Diff(map[string][]string{"bob": {"Promoted"}}, reasons(s.Memberships, second)); diff != "" {
		t.Errorf("after ann withdrew (-want +got):\n%s", diff)
	}
	feed(second)

	s.Now = day("2027-01-02")
	third := Evaluate(s)
	if diff := cmp.Diff(map[string][]string{"bob": {"Expired"}}, reasons(s.Memberships, third)); diff != "" {
		t.Errorf("after the term ended (-want +got):\n%s", diff)
	}
}
