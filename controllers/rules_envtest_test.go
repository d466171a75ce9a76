package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// hasEvent checks that a Kubernetes Event with reason was emitted about the named object.
func hasEvent(ns, name, reason string) error {
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			return nil
		}
	}
	return fmt.Errorf("no %s event for %s", reason, name)
}

func membership(ns, name string) *learningv1alpha1.Membership {
	return &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// seatOf reads a membership and describes its seat: "seated", "waitlisted N" or the
// Seated condition's reason.
func seatOf(ns, name string) (string, error) {
	m := membership(ns, name)
	if err := get(m); err != nil {
		return "", err
	}
	if m.Status.ObservedGeneration != m.Generation {
		return "unobserved", nil
	}
	switch reason := conditionReason(m.Status.Conditions, learningv1alpha1.SeatedCondition); {
	case reason == learningv1alpha1.SeatedReason:
		return "seated", nil
	case reason == learningv1alpha1.WaitlistedReason && m.Status.WaitlistPosition != nil:
		return fmt.Sprintf("waitlisted %d", *m.Status.WaitlistPosition), nil
	default:
		return reason, nil
	}
}

func TestWaitlistAndPromotion(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "allyship", testutil.Role("Member", 15, 20)),
		testutil.Cohort(ns, "allyship-2026", "allyship", "2026-01-01", 12),
	)
	for i := 1; i <= 22; i++ {
		create(t, testutil.Membership(ns, fmt.Sprintf("m-%02d", i), "allyship-2026", fmt.Sprintf("u-%02d", i), "Member"))
	}
	want := func(name, seat string) func() error {
		return func() error {
			got, err := seatOf(ns, name)
			if err == nil && got != seat {
				err = fmt.Errorf("%s is %s, want %s", name, got, seat)
			}
			return err
		}
	}
	for i := 1; i <= 20; i++ {
		eventually(t, "the first 20 are seated", want(fmt.Sprintf("m-%02d", i), "seated"))
	}
	eventually(t, "m-21 waits first", want("m-21", "waitlisted 1"))
	eventually(t, "m-22 waits second", want("m-22", "waitlisted 2"))
	eventually(t, "the cohort counts seats and waitlist", func() error {
		c := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allyship-2026"}}
		if err := get(c); err != nil {
			return err
		}
		if c.Status.Seats != "Member 20/20" || c.Status.Waitlisted != 2 {
			return fmt.Errorf("seats %q, waitlisted %d", c.Status.Seats, c.Status.Waitlisted)
		}
		return nil
	})

	update(t, membership(ns, "m-05"), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "m-21 is promoted", want("m-21", "seated"))
	eventually(t, "m-22 moves up", want("m-22", "waitlisted 1"))
	eventually(t, "m-05 frees its seat", want("m-05", learningv1alpha1.WithdrawnReason))
	eventually(t, "an Event announces the promotion", func() error { return hasEvent(ns, "m-21", "Promoted") })
	eventually(t, "an Event announced the waitlist", func() error { return hasEvent(ns, "m-22", "Waitlisted") })
	eventually(t, "the waitlist metric follows", func() error {
		if got, ok := waitlistMetric.value(ns, "allyship-2026", "Member"); got != 1 {
			return fmt.Errorf("cohort_waitlist_length is %v (a series: %v), want 1", got, ok)
		}
		return nil
	})
}

func TestCompositionNamesOffendingOrganizations(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.StandaloneCohort(ns, "equity-1", "2026-07-01", 6, learningv1alpha1.ProgramPolicy{
		Roles: []learningv1alpha1.RolePolicy{testutil.Role("Leader", 0, 30)},
		Composition: &learningv1alpha1.CompositionPolicy{
			MinOrganizations: testutil.Ptr[int32](6), MaxOrganizations: testutil.Ptr[int32](8),
			TeamSize: testutil.Ptr[int32](3), RequiredTeamRoles: []learningv1alpha1.RoleName{"ExecutiveDirector"},
		},
	})
	create(t, cohort)
	for _, org := range []string{"Arizona", "Colorado", "Iowa", "Pennsylvania", "Wisconsin"} {
		for i, teamRole := range []string{"ExecutiveDirector", "PolicyLead", "CommunicationsLead"} {
			if org == "Iowa" && teamRole == "ExecutiveDirector" {
				teamRole = "ProgramLead"
			}
			m := testutil.Membership(ns, fmt.Sprintf("%s-%d", strings.ToLower(org), i), "equity-1", fmt.Sprintf("u-%s-%d", org, i), "Leader")
			m.Spec.Organization = learningv1alpha1.OrganizationName(org + " Alliance")
			m.Spec.TeamRole = learningv1alpha1.RoleName(teamRole)
			create(t, m)
		}
	}
	eventually(t, "CompositionValid names the rule and the organization", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if err := hasCondition(cohort.Status.Conditions, learningv1alpha1.CompositionValidCondition, metav1.ConditionFalse, learningv1alpha1.CompositionInvalidReason); err != nil {
			return err
		}
		msg := conditionMessage(cohort.Status.Conditions, learningv1alpha1.CompositionValidCondition)
		for _, want := range []string{"5 organizations, policy requires 6-8", "Iowa Alliance: no ExecutiveDirector on the team"} {
			if !strings.Contains(msg, want) {
				return fmt.Errorf("message %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, "Arizona") {
			return fmt.Errorf("message %q blames a complete team", msg)
		}
		return nil
	})
}

func TestAttendanceJudgement(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "allyship", testutil.Role("Member", 0, 20)),
		testutil.Cohort(ns, "spring", "allyship", "2026-01-01", 6),
		testutil.Membership(ns, "steady", "spring", "u-1", "Member"),
		testutil.Membership(ns, "rarely", "spring", "u-2", "Member"),
	)
	present, absent := learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceAbsent
	statuses := map[string][]learningv1alpha1.AttendanceStatus{
		"steady": {present, present, present, absent},
		"rarely": {present, absent, absent, absent},
	}
	for i, month := range []time.Month{time.January, time.February, time.March, time.April} {
		create(t, testutil.Gathering(ns, fmt.Sprintf("g-%d", month), "spring", time.Date(2026, month, 13, 18, 0, 0, 0, time.UTC),
			testutil.Attended("steady", statuses["steady"][i]), testutil.Attended("rarely", statuses["rarely"][i])))
	}
	// One gathering is left in the term: perfect attendance there lifts steady to 80%
	// but cannot lift rarely above 40%.
	create(t, testutil.Gathering(ns, "g-june", "spring", time.Date(2026, 6, 9, 18, 0, 0, 0, time.UTC)))

	attendance := func(name string, status metav1.ConditionStatus, reason string, percent int32) func() error {
		return func() error {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			if err := hasCondition(m.Status.Conditions, learningv1alpha1.AttendanceMetCondition, status, reason); err != nil {
				return err
			}
			if a := m.Status.Attendance; a == nil || a.Percent == nil || *a.Percent != percent {
				return fmt.Errorf("attendance %+v, want %d%%", a, percent)
			}
			return nil
		}
	}
	eventually(t, "3 of 4 is below 80%", attendance("steady", metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason, 75))
	eventually(t, "1 of 4 cannot reach 80%", attendance("rarely", metav1.ConditionFalse, learningv1alpha1.CannotReachThresholdReason, 25))
	eventually(t, "an Event warns of low attendance", func() error { return hasEvent(ns, "steady", "AttendanceBelowThreshold") })

	update(t, testutil.Gathering(ns, "g-4", "spring", time.Time{}), func(e *learningv1alpha1.LearningEvent) {
		for i := range e.Spec.Attendance {
			if e.Spec.Attendance[i].Member == "steady" {
				e.Spec.Attendance[i].Status = learningv1alpha1.AttendanceExcused
			}
		}
	})
	eventually(t, "an excused absence leaves the denominator", attendance("steady", metav1.ConditionTrue, learningv1alpha1.AttendanceMetReason, 100))
}

func TestTermExpiryPromotesTheWaitlist(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	first := testutil.Membership(ns, "first", "solo", "u-1", "Lead")
	first.Spec.EndDate = testutil.Ptr[learningv1alpha1.Date]("2026-06-30")
	create(t,
		testutil.Community(ns, "club", testutil.Role("Lead", 1, 1)),
		testutil.Cohort(ns, "solo", "club", "2026-01-01", 12),
		first,
	)
	time.Sleep(1100 * time.Millisecond) // creation times order the waitlist
	create(t, testutil.Membership(ns, "second", "solo", "u-2", "Lead"))

	phase := func(name string, want learningv1alpha1.MembershipPhase, seat string) func() error {
		return func() error {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			got, err := seatOf(ns, name)
			if err != nil {
				return err
			}
			if m.Status.Phase != want || got != seat {
				return fmt.Errorf("%s is %s and %s, want %s and %s", name, m.Status.Phase, got, want, seat)
			}
			return nil
		}
	}
	eventually(t, "first is active and seated", phase("first", learningv1alpha1.MembershipActive, "seated"))
	eventually(t, "second waits", phase("second", learningv1alpha1.MembershipActive, "waitlisted 1"))

	fakeClock.SetTime(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	eventually(t, "first is expiring inside the notice window", phase("first", learningv1alpha1.MembershipExpiring, "seated"))

	fakeClock.SetTime(time.Date(2026, 7, 2, 12, 0, 0, 0, time.UTC))
	eventually(t, "first has expired and freed the seat", phase("first", learningv1alpha1.MembershipExpired, learningv1alpha1.TermExpiredReason))
	eventually(t, "second is promoted", phase("second", learningv1alpha1.MembershipActive, "seated"))
	eventually(t, "Events say so", func() error {
		if err := hasEvent(ns, "first", "Expired"); err != nil {
			return err
		}
		return hasEvent(ns, "second", "Promoted")
	})
}

func TestDeletingACohortKeepsItsRecords(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "gone", "club", "2026-01-01", 12)
	event := testutil.Gathering(ns, "kickoff", "gone", time.Date(2026, 1, 13, 18, 0, 0, 0, time.UTC), testutil.Attended("lead", learningv1alpha1.AttendancePresent))
	create(t, testutil.Community(ns, "club", testutil.Role("Lead", 1, 2)), cohort, testutil.Membership(ns, "lead", "gone", "u-1", "Lead"), event)
	eventually(t, "the membership is seated", func() error {
		s, err := seatOf(ns, "lead")
		if err == nil && s != "seated" {
			err = fmt.Errorf("lead is %s", s)
		}
		return err
	})
	if err := k8s.Delete(context.Background(), cohort); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the membership stays and reports CohortFound=False", func() error {
		m := membership(ns, "lead")
		if err := get(m); err != nil {
			return err
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.CohortFoundCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason)
	})
	eventually(t, "the event stays with its attendance and reports CohortFound=False", func() error {
		e := &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kickoff"}}
		if err := get(e); err != nil {
			return err
		}
		if len(e.Spec.Attendance) != 1 {
			return fmt.Errorf("attendance %v", e.Spec.Attendance)
		}
		return hasCondition(e.Status.Conditions, learningv1alpha1.CohortFoundCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason)
	})
}
