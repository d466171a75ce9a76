package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestSeatsStickyWhenOlderBecomesEligible proves that seats are sticky: a membership
// created earlier, but ineligible because of its organization, becomes eligible when
// the community admits that organization, and then waits at position 1 instead of
// taking the seat from the newer membership that holds it (whose seatedSince does not
// move). Ordering by creation time alone would hand the seat to the older one.
func TestSeatsStickyWhenOlderBecomesEligible(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 1))
	community.Spec.EligibleOrganizations = []learningv1alpha1.OrganizationName{"Alpha"}
	older := testutil.Membership(ns, "older", "c", "u-older", "Member")
	older.Spec.Organization = "Beta"
	create(t, community, testutil.Cohort(ns, "c", "cop", "2026-01-01", 12), older)
	time.Sleep(1100 * time.Millisecond) // creation times order the claims
	newer := testutil.Membership(ns, "newer", "c", "u-newer", "Member")
	newer.Spec.Organization = "Alpha"
	create(t, newer)

	eventually(t, "the older membership is not eligible", seatsXEligible(ns, "older", metav1.ConditionFalse, learningv1alpha1.OrganizationNotEligibleReason))
	eventually(t, "the newer membership takes the seat", seatsXSeat(ns, "newer", "seated"))
	since := seatsXSeatedSince(t, ns, "newer")

	update(t, community, func(c *learningv1alpha1.CommunityOfPractice) {
		c.Spec.EligibleOrganizations = append(c.Spec.EligibleOrganizations, "Beta")
	})
	eventually(t, "the older membership becomes eligible", seatsXEligible(ns, "older", metav1.ConditionTrue, learningv1alpha1.EligibleReason))
	eventually(t, "the older membership waits first in line", seatsXSeat(ns, "older", "waitlisted 1"))
	seatsXConsistently(t, "the seat stays with the newer membership", 2*time.Second, func() error {
		if err := seatsXSeat(ns, "newer", "seated")(); err != nil {
			return err
		}
		if err := seatsXSeat(ns, "older", "waitlisted 1")(); err != nil {
			return err
		}
		if got := seatsXSeatedSince(t, ns, "newer"); !got.Equal(since) {
			return fmt.Errorf("newer's seatedSince moved from %s to %s", since, got)
		}
		return nil
	})
}

// TestSeatsLoweredMaximumUnseatsNobody proves that lowering maxMembers below the seated
// count unseats nobody and promotes nobody: the cohort reports the excess (5 seated of a
// maximum of 3, "over the maximum" in Ready and Staffed), the waiting membership stays
// waiting while 4 and then 3 remain seated, and is promoted only once the count falls
// below the new maximum.
func TestSeatsLoweredMaximumUnseatsNobody(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 5))
	create(t, community, testutil.Cohort(ns, "c", "cop", "2026-01-01", 12))
	for i := 1; i <= 5; i++ {
		create(t, testutil.Membership(ns, fmt.Sprintf("m-%d", i), "c", fmt.Sprintf("u-%d", i), "Member"))
	}
	for i := 1; i <= 5; i++ {
		eventually(t, "the first five are seated", seatsXSeat(ns, fmt.Sprintf("m-%d", i), "seated"))
	}
	create(t, testutil.Membership(ns, "m-6", "c", "u-6", "Member"))
	eventually(t, "the sixth waits", seatsXSeat(ns, "m-6", "waitlisted 1"))

	update(t, community, func(c *learningv1alpha1.CommunityOfPractice) {
		c.Spec.Policy.Roles[0].MaxMembers = testutil.Ptr[int32](3)
	})
	eventually(t, "the cohort reports 5 seated of a maximum of 3", func() error {
		c, err := seatsXCohort(ns, "c")
		if err != nil {
			return err
		}
		if err := seatsXRoleSeats(c, "Member", 5, 3); err != nil {
			return err
		}
		for _, typ := range []string{learningv1alpha1.ReadyCondition, learningv1alpha1.StaffedCondition} {
			if msg := conditionMessage(c.Status.Conditions, typ); !strings.Contains(msg, "over the maximum") {
				return fmt.Errorf("%s message %q does not report the excess", typ, msg)
			}
		}
		return nil
	})
	seatsXConsistently(t, "nobody is unseated and nobody promoted", time.Second, func() error {
		for i := 1; i <= 5; i++ {
			if err := seatsXSeat(ns, fmt.Sprintf("m-%d", i), "seated")(); err != nil {
				return err
			}
		}
		return seatsXSeat(ns, "m-6", "waitlisted 1")()
	})

	for _, step := range []struct {
		withdraw string
		seated   int32
	}{{"m-1", 4}, {"m-2", 3}} {
		update(t, membership(ns, step.withdraw), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
		eventually(t, step.withdraw+" frees its seat", seatsXSeat(ns, step.withdraw, learningv1alpha1.WithdrawnReason))
		eventually(t, fmt.Sprintf("the cohort counts %d seated", step.seated), func() error {
			c, err := seatsXCohort(ns, "c")
			if err != nil {
				return err
			}
			return seatsXRoleSeats(c, "Member", step.seated, 3)
		})
		seatsXConsistently(t, fmt.Sprintf("with %d seated of 3 nobody is promoted", step.seated), 1500*time.Millisecond, seatsXSeat(ns, "m-6", "waitlisted 1"))
	}

	update(t, membership(ns, "m-3"), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "with 2 seated of 3 the waiting member is promoted", seatsXSeat(ns, "m-6", "seated"))
	eventually(t, "the cohort is back within its maximum", func() error {
		c, err := seatsXCohort(ns, "c")
		if err != nil {
			return err
		}
		if err := seatsXRoleSeats(c, "Member", 3, 3); err != nil {
			return err
		}
		if msg := conditionMessage(c.Status.Conditions, learningv1alpha1.ReadyCondition); strings.Contains(msg, "over the maximum") {
			return fmt.Errorf("Ready still reports an excess: %q", msg)
		}
		return nil
	})
}

// TestSeatsWaitlistedClaimNeverBlocksAnotherCohort proves that only a held seat counts
// as "already seated": a person waiting in a full cohort takes a free seat in a sibling
// cohort of the same community, and their waiting membership then becomes
// Eligible=False/AlreadySeated and leaves the waitlist.
func TestSeatsWaitlistedClaimNeverBlocksAnotherCohort(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "cop", testutil.Role("Member", 0, 1)),
		testutil.Cohort(ns, "a", "cop", "2026-01-01", 12),
		testutil.Cohort(ns, "b", "cop", "2026-01-01", 12),
		testutil.Membership(ns, "x-a", "a", "u-x", "Member"),
	)
	eventually(t, "x takes the only seat in a", seatsXSeat(ns, "x-a", "seated"))
	time.Sleep(1100 * time.Millisecond) // p's claim in a is older than its claim in b
	create(t, testutil.Membership(ns, "p-a", "a", "u-p", "Member"))
	eventually(t, "p waits in a", seatsXSeat(ns, "p-a", "waitlisted 1"))

	time.Sleep(1100 * time.Millisecond)
	create(t, testutil.Membership(ns, "p-b", "b", "u-p", "Member"))
	eventually(t, "p's waiting claim in a does not make p ineligible in b", seatsXEligible(ns, "p-b", metav1.ConditionTrue, learningv1alpha1.EligibleReason))
	eventually(t, "p takes the free seat in b", seatsXSeat(ns, "p-b", "seated"))
	eventually(t, "p's membership in a is now AlreadySeated", seatsXEligible(ns, "p-a", metav1.ConditionFalse, learningv1alpha1.AlreadySeatedReason))
	eventually(t, "p's membership in a left the waitlist", func() error {
		m := membership(ns, "p-a")
		if err := get(m); err != nil {
			return err
		}
		if m.Status.WaitlistPosition != nil {
			return fmt.Errorf("p-a still has waitlist position %d", *m.Status.WaitlistPosition)
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NotEligibleReason)
	})
	eventually(t, "x keeps the seat in a", seatsXSeat(ns, "x-a", "seated"))
}

// TestSeatsTermLimitsCountServedTerms proves that term limits count terms actually
// served: with Lead limited to one consecutive term, the person who held a Lead seat in
// the 2025 cohort is TermLimitReached in the 2026 cohort, while the person who only
// waited in 2025 is eligible and seated in 2026; a second, overlapping membership of
// that person in the same cohort is AlreadySeated (not waitlisted).
func TestSeatsTermLimitsCountServedTerms(t *testing.T) {
	fakeClock.SetTime(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	lead := testutil.Role("Lead", 0, 1)
	lead.MaxConsecutiveTerms = testutil.Ptr[int32](1)
	create(t,
		testutil.Community(ns, "cop", lead),
		testutil.Cohort(ns, "c2025", "cop", "2025-01-01", 12),
		testutil.Cohort(ns, "c2026", "cop", "2026-01-01", 12),
		testutil.Membership(ns, "lead-2025", "c2025", "u-lead", "Lead"),
	)
	eventually(t, "the 2025 lead holds the seat", seatsXSeat(ns, "lead-2025", "seated"))
	time.Sleep(1100 * time.Millisecond)
	create(t, testutil.Membership(ns, "wait-2025", "c2025", "u-wait", "Lead"))
	eventually(t, "the other person only waits in 2025", seatsXSeat(ns, "wait-2025", "waitlisted 1"))

	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	eventually(t, "the 2025 terms have ended; the lead's seat is on record", func() error {
		for _, name := range []string{"lead-2025", "wait-2025"} {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			if m.Status.Phase != learningv1alpha1.MembershipExpired {
				return fmt.Errorf("%s is %s, want Expired", name, m.Status.Phase)
			}
			if served := m.Status.SeatedSince != nil; served != (name == "lead-2025") {
				return fmt.Errorf("%s has seatedSince %v", name, m.Status.SeatedSince)
			}
		}
		return nil
	})

	create(t,
		testutil.Membership(ns, "lead-2026", "c2026", "u-lead", "Lead"),
		testutil.Membership(ns, "wait-2026", "c2026", "u-wait", "Lead"),
	)
	eventually(t, "a served term counts toward the limit", seatsXEligible(ns, "lead-2026", metav1.ConditionFalse, learningv1alpha1.TermLimitReachedReason))
	eventually(t, "a waitlisted term does not count", seatsXEligible(ns, "wait-2026", metav1.ConditionTrue, learningv1alpha1.EligibleReason))
	eventually(t, "the person who only waited in 2025 is seated in 2026", seatsXSeat(ns, "wait-2026", "seated"))

	time.Sleep(1100 * time.Millisecond)
	create(t, testutil.Membership(ns, "wait-2026-again", "c2026", "u-wait", "Lead"))
	eventually(t, "a second overlapping membership of a seated person is AlreadySeated", seatsXEligible(ns, "wait-2026-again", metav1.ConditionFalse, learningv1alpha1.AlreadySeatedReason))
	eventually(t, "the first membership keeps the seat", seatsXSeat(ns, "wait-2026", "seated"))
}

// TestSeatsTermLimitsCountOverlappingTermsInOneCohort: within one cohort, a term the
// person served (then withdrew from) and a new term that overlaps it are consecutive, so
// a limit of one term refuses the new one; a new term starting more than 31 days after
// the served one ended is a new run and is seated.
func TestSeatsTermLimitsCountOverlappingTermsInOneCohort(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	lead := testutil.Role("Lead", 0, 2)
	lead.MaxConsecutiveTerms = testutil.Ptr[int32](1)
	served := testutil.Membership(ns, "served", "long", "u-pat", "Lead")
	served.Spec.EndDate = testutil.Ptr[learningv1alpha1.Date]("2026-06-30")
	create(t, testutil.Community(ns, "cop", lead), testutil.Cohort(ns, "long", "cop", "2026-01-01", 24), served)
	eventually(t, "the first term holds a seat", seatsXSeat(ns, "served", "seated"))
	update(t, membership(ns, "served"), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "the withdrawn term stays on record", seatsXSeat(ns, "served", learningv1alpha1.WithdrawnReason))

	overlapping := testutil.Membership(ns, "overlapping", "long", "u-pat", "Lead")
	overlapping.Spec.StartDate = testutil.Ptr[learningv1alpha1.Date]("2026-06-01")
	overlapping.Spec.EndDate = testutil.Ptr[learningv1alpha1.Date]("2026-07-31")
	later := testutil.Membership(ns, "later", "long", "u-pat", "Lead")
	later.Spec.StartDate = testutil.Ptr[learningv1alpha1.Date]("2026-08-02")
	create(t, overlapping, later)
	eventually(t, "an overlapping term continues the run", seatsXEligible(ns, "overlapping", metav1.ConditionFalse, learningv1alpha1.TermLimitReachedReason))
	eventually(t, "a term 32 days after the served one ended starts a new run", seatsXSeat(ns, "later", "seated"))
}

// TestSeatsEnrollmentWindow proves the enrollment rule: a membership whose explicit
// spec.startDate falls after enrollment.closes is Eligible=False/EnrollmentClosed, one
// starting on the closing day is inside the window, and one without startDate starts
// with the cohort and is eligible although it is created long after the window closed
// (creation time never counts).
func TestSeatsEnrollmentWindow(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "c", "cop", "2026-01-01", 12)
	cohort.Spec.Enrollment = &learningv1alpha1.EnrollmentWindow{Closes: testutil.Ptr[learningv1alpha1.Date]("2026-01-31")}
	late := testutil.Membership(ns, "late", "c", "u-late", "Member")
	late.Spec.StartDate = testutil.Ptr[learningv1alpha1.Date]("2026-03-01")
	onTime := testutil.Membership(ns, "on-closing-day", "c", "u-on-time", "Member")
	onTime.Spec.StartDate = testutil.Ptr[learningv1alpha1.Date]("2026-01-31")
	create(t,
		testutil.Community(ns, "cop", testutil.Role("Member", 0, 5)),
		cohort, late, onTime,
		testutil.Membership(ns, "plain", "c", "u-plain", "Member"),
	)
	eventually(t, "a start after enrollment closed is EnrollmentClosed", seatsXEligible(ns, "late", metav1.ConditionFalse, learningv1alpha1.EnrollmentClosedReason))
	eventually(t, "the late membership gets no seat", seatsXSeat(ns, "late", learningv1alpha1.NotEligibleReason))
	eventually(t, "a membership without startDate is eligible", seatsXEligible(ns, "plain", metav1.ConditionTrue, learningv1alpha1.EligibleReason))
	eventually(t, "and seated", seatsXSeat(ns, "plain", "seated"))
	eventually(t, "a start on the closing day is inside the window", seatsXEligible(ns, "on-closing-day", metav1.ConditionTrue, learningv1alpha1.EligibleReason))
}

// TestSeatsAdmissionWithdrawnAndRole proves the CEL rules at admission through a plain
// Update: withdrawn may go from false to true, but not back to false nor be removed
// (the message names spec.withdrawn), role cannot change (the message names spec.role),
// and other fields of a withdrawn membership stay editable.
func TestSeatsAdmissionWithdrawnAndRole(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "cop", testutil.Role("Member", 0, 5), testutil.Role("Lead", 0, 1)),
		testutil.Cohort(ns, "c", "cop", "2026-01-01", 12),
		testutil.Membership(ns, "m", "c", "u-1", "Member"),
	)
	m := membership(ns, "m")
	update(t, m, func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })

	// An explicit false: the typed client would omit it, so write it unstructured.
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(learningv1alpha1.GroupVersion.WithKind("Membership"))
	u.SetNamespace(ns)
	u.SetName("m")
	err := seatsXTryUpdate(u, func() {
		if err := unstructured.SetNestedField(u.Object, false, "spec", "withdrawn"); err != nil {
			t.Fatal(err)
		}
	})
	seatsXWantInvalid(t, "setting spec.withdrawn back to false", err, "spec.withdrawn")

	err = seatsXTryUpdate(u, func() { unstructured.RemoveNestedField(u.Object, "spec", "withdrawn") })
	seatsXWantInvalid(t, "removing spec.withdrawn", err, "spec.withdrawn")

	err = seatsXTryUpdate(m, func() { m.Spec.Role = "Lead" })
	seatsXWantInvalid(t, "changing spec.role", err, "spec.role")

	// The one-way rule is not a blanket immutability.
	update(t, m, func(m *learningv1alpha1.Membership) { m.Spec.DisplayName = "Still withdrawn" })
	if err := get(m); err != nil {
		t.Fatal(err)
	}
	if !m.Spec.Withdrawn || m.Spec.Role != "Member" || m.Spec.DisplayName != "Still withdrawn" {
		t.Fatalf("the stored spec is %+v", m.Spec)
	}
}

// TestSeatsSeatedSinceBackfilled proves the upgrade path of status.seatedSince: a
// membership seated before the field existed (Seated=True, no seatedSince) keeps its
// seat against an older-created waiting membership, and gets seatedSince filled from
// the Seated condition's lastTransitionTime, not from the clock or its term.
func TestSeatsSeatedSinceBackfilled(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 1))
	community.Spec.EligibleOrganizations = []learningv1alpha1.OrganizationName{"Alpha"}
	cohort := testutil.Cohort(ns, "c", "cop", "2026-01-01", 12)
	older := testutil.Membership(ns, "older", "c", "u-older", "Member")
	older.Spec.Organization = "Beta"
	create(t, community, cohort, older)
	time.Sleep(1100 * time.Millisecond)
	holder := testutil.Membership(ns, "holder", "c", "u-holder", "Member")
	holder.Spec.Organization = "Alpha"
	create(t, holder)
	eventually(t, "the holder is seated", seatsXSeat(ns, "holder", "seated"))
	update(t, community, func(c *learningv1alpha1.CommunityOfPractice) {
		c.Spec.EligibleOrganizations = append(c.Spec.EligibleOrganizations, "Beta")
	})
	eventually(t, "the older membership waits", seatsXSeat(ns, "older", "waitlisted 1"))

	// A time neither the term's start nor the clock: only the condition can give it.
	seatedAt := metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	eventually(t, "making the holder look seated before seatedSince existed", func() error {
		m := membership(ns, "holder")
		if err := get(m); err != nil {
			return err
		}
		c := apimeta.FindStatusCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition)
		if c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("holder is not Seated: %v", m.Status.Conditions)
		}
		c.LastTransitionTime = seatedAt
		m.Status.SeatedSince = nil
		return k8s.Status().Update(context.Background(), m)
	})
	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.DisplayName = "Re-evaluate" })

	eventually(t, "seatedSince is filled from the Seated condition", func() error {
		m := membership(ns, "holder")
		if err := get(m); err != nil {
			return err
		}
		c := apimeta.FindStatusCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition)
		switch {
		case c == nil || c.Status != metav1.ConditionTrue:
			return fmt.Errorf("holder lost its seat: %v", m.Status.Conditions)
		case !c.LastTransitionTime.Equal(&seatedAt):
			return fmt.Errorf("the Seated condition moved to %s", c.LastTransitionTime)
		case m.Status.SeatedSince == nil:
			return errors.New("seatedSince is not filled yet")
		case !m.Status.SeatedSince.Equal(&seatedAt):
			return fmt.Errorf("seatedSince is %s, want %s", m.Status.SeatedSince, seatedAt)
		}
		return nil
	})
	seatsXConsistently(t, "nobody is displaced", 1500*time.Millisecond, func() error {
		if err := seatsXSeat(ns, "holder", "seated")(); err != nil {
			return err
		}
		return seatsXSeat(ns, "older", "waitlisted 1")()
	})
}

// TestSeatsFrozenWhileStalled proves that seats freeze, not release, while a unit's
// policy cannot be resolved: with its community deleted, a cohort whose own roles lack
// maxMembers is Stalled=True/InvalidPolicy, its seated memberships keep Seated=True and
// their seatedSince, and a withdrawal meanwhile promotes nobody. Recreating the
// community unfreezes the unit and promotes the head of the waitlist.
func TestSeatsFrozenWhileStalled(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "c", "cop", "2026-01-01", 12)
	cohort.Spec.Policy = &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{{Name: "Member", TermMonths: testutil.Ptr[int32](12)}}}
	create(t,
		testutil.Community(ns, "cop", testutil.Role("Member", 0, 2)),
		cohort,
		testutil.Membership(ns, "a", "c", "u-a", "Member"),
		testutil.Membership(ns, "b", "c", "u-b", "Member"),
	)
	eventually(t, "a is seated", seatsXSeat(ns, "a", "seated"))
	eventually(t, "b is seated", seatsXSeat(ns, "b", "seated"))
	time.Sleep(1100 * time.Millisecond)
	create(t, testutil.Membership(ns, "w", "c", "u-w", "Member"))
	eventually(t, "w waits", seatsXSeat(ns, "w", "waitlisted 1"))
	sinceA, sinceB := seatsXSeatedSince(t, ns, "a"), seatsXSeatedSince(t, ns, "b")

	if err := k8s.Delete(context.Background(), testutil.Community(ns, "cop")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cohort is Stalled", func() error {
		c, err := seatsXCohort(ns, "c")
		if err != nil {
			return err
		}
		return hasCondition(c.Status.Conditions, learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason)
	})
	frozen := func(name string, since time.Time) func() error {
		return func() error {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			if err := hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason); err != nil {
				return err
			}
			if m.Status.SeatedSince == nil || !m.Status.SeatedSince.Time.Equal(since) {
				return fmt.Errorf("%s's seatedSince is %v, want %s", name, m.Status.SeatedSince, since)
			}
			return nil
		}
	}
	notPromoted := func() error {
		m := membership(ns, "w")
		if err := get(m); err != nil {
			return err
		}
		if c := apimeta.FindStatusCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition); c != nil && c.Status == metav1.ConditionTrue {
			return errors.New("w was promoted while the seats are frozen")
		}
		return nil
	}
	eventually(t, "the memberships report the freeze", func() error {
		m := membership(ns, "a")
		if err := get(m); err != nil {
			return err
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason)
	})
	seatsXConsistently(t, "the seats are frozen, not released", time.Second, func() error {
		for _, check := range []func() error{frozen("a", sinceA), frozen("b", sinceB), notPromoted} {
			if err := check(); err != nil {
				return err
			}
		}
		return nil
	})

	update(t, membership(ns, "a"), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "the withdrawal is observed while frozen", func() error {
		m := membership(ns, "a")
		if err := get(m); err != nil {
			return err
		}
		if m.Status.ObservedGeneration != m.Generation {
			return fmt.Errorf("observed generation %d of %d", m.Status.ObservedGeneration, m.Generation)
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason)
	})
	seatsXConsistently(t, "a withdrawal while frozen promotes nobody", 1500*time.Millisecond, func() error {
		if err := frozen("b", sinceB)(); err != nil {
			return err
		}
		return notPromoted()
	})

	create(t, testutil.Community(ns, "cop", testutil.Role("Member", 0, 2)))
	eventually(t, "the cohort resolves again", func() error {
		c, err := seatsXCohort(ns, "c")
		if err != nil {
			return err
		}
		if apimeta.IsStatusConditionTrue(c.Status.Conditions, learningv1alpha1.StalledCondition) {
			return errors.New("the cohort is still Stalled")
		}
		return hasCondition(c.Status.Conditions, learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason)
	})
	eventually(t, "a's seat is freed", seatsXSeat(ns, "a", learningv1alpha1.WithdrawnReason))
	eventually(t, "w is promoted", seatsXSeat(ns, "w", "seated"))
	eventually(t, "b kept its seat throughout", frozen("b", sinceB))
}

// TestSeatsCrossCohortChangesArePrompt proves that a change to one cohort reaches the
// memberships of the community's other cohorts through the watches, within seconds
// (the old bug: up to 12 hours, the requeue cap). Person P is seated in cohort a, so P's
// membership in cohort b is AlreadySeated; then cohort a is moved to 2024 (no longer
// overlapping) or deleted, and P's b membership must be seated within 5 seconds.
//
// The suite's manager requeues every unit at least every 300ms, which would hide a
// missing watch, so each case also runs a second copy of the program controller
// restricted to the test's namespace that never polls (MaxRequeueAfter of an hour) and
// writes nothing: it must stay idle while nothing changes, and evaluate the community's
// unit with the changed cohort within 5 seconds of the change.
func TestSeatsCrossCohortChangesArePrompt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, a *learningv1alpha1.Cohort)
		// seen reports whether an evaluation read the change.
		seen func(startDates map[string]learningv1alpha1.Date) bool
	}{{
		name: "redated",
		change: func(t *testing.T, a *learningv1alpha1.Cohort) {
			update(t, a, func(c *learningv1alpha1.Cohort) { c.Spec.StartDate = "2024-01-01" })
		},
		seen: func(startDates map[string]learningv1alpha1.Date) bool { return startDates["a"] == "2024-01-01" },
	}, {
		name: "deleted",
		change: func(t *testing.T, a *learningv1alpha1.Cohort) {
			if err := k8s.Delete(context.Background(), a); err != nil {
				t.Fatal(err)
			}
		},
		seen: func(startDates map[string]learningv1alpha1.Date) bool { _, ok := startDates["a"]; return !ok },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			fakeClock.SetTime(sampleDay)
			ns := testutil.Namespace(t, k8s)
			a := testutil.Cohort(ns, "a", "cop", "2026-01-01", 12)
			create(t,
				testutil.Community(ns, "cop", testutil.Role("Member", 0, 5)),
				a,
				testutil.Cohort(ns, "b", "cop", "2026-01-01", 12),
				testutil.Membership(ns, "p-a", "a", "u-p", "Member"),
			)
			eventually(t, "p is seated in a", seatsXSeat(ns, "p-a", "seated"))
			time.Sleep(1100 * time.Millisecond)
			create(t, testutil.Membership(ns, "p-b", "b", "u-p", "Member"))
			eventually(t, "p is AlreadySeated in b", seatsXEligible(ns, "p-b", metav1.ConditionFalse, learningv1alpha1.AlreadySeatedReason))

			observer := seatsXStartObserver(t, ns)
			eventually(t, "the non-polling controller has evaluated the unit", func() error {
				if observer.count() == 0 {
					return errors.New("no evaluation yet")
				}
				return nil
			})
			// Let the start-up evaluations drain, then check nothing wakes it up.
			time.Sleep(time.Second)
			idle := observer.count()
			time.Sleep(2 * time.Second)
			if n := observer.count(); n != idle {
				t.Fatalf("the non-polling controller evaluated the unit %d times with nothing changing; this test cannot tell a watch from polling", n-idle)
			}
			seatsXConsistently(t, "nothing has changed p's verdict in b", 500*time.Millisecond,
				seatsXEligible(ns, "p-b", metav1.ConditionFalse, learningv1alpha1.AlreadySeatedReason))

			start := time.Now()
			tc.change(t, a)
			seatsXWithin(t, "the non-polling controller evaluates the unit with the change", start, 5*time.Second, func() error {
				if !observer.sawAfter(start, tc.seen) {
					return errors.New("no evaluation has read the change")
				}
				return nil
			})
			seatsXWithin(t, "p's membership in b becomes eligible and seated", start, 5*time.Second, func() error {
				if err := seatsXEligible(ns, "p-b", metav1.ConditionTrue, learningv1alpha1.EligibleReason)(); err != nil {
					return err
				}
				return seatsXSeat(ns, "p-b", "seated")()
			})
		})
	}
}

// TestSeatsEventsOncePerTransition proves that a transition's Event is emitted once:
// after a promotion there is exactly one Promoted Event for the promoted membership,
// without a series, and re-evaluations that change nothing (three edits of the cohort's
// displayName) add no Event object and no series count.
func TestSeatsEventsOncePerTransition(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "c", "cop", "2026-01-01", 12)
	create(t,
		testutil.Community(ns, "cop", testutil.Role("Member", 0, 1)),
		cohort,
		testutil.Membership(ns, "first", "c", "u-1", "Member"),
	)
	eventually(t, "first is seated", seatsXSeat(ns, "first", "seated"))
	time.Sleep(1100 * time.Millisecond)
	create(t, testutil.Membership(ns, "second", "c", "u-2", "Member"))
	eventually(t, "second waits", seatsXSeat(ns, "second", "waitlisted 1"))
	update(t, membership(ns, "first"), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "second is promoted", seatsXSeat(ns, "second", "seated"))
	eventually(t, "the promotion is announced", func() error { return hasEvent(ns, "second", "Promoted") })

	once := func(name, reason string) error {
		list, err := seatsXEvents(ns, name, reason)
		if err != nil {
			return err
		}
		if len(list) != 1 {
			return fmt.Errorf("%d %s Events for %s, want 1: %v", len(list), reason, name, seatsXDescribe(list))
		}
		if s := list[0].Series; s != nil {
			return fmt.Errorf("the %s Event for %s has a series of %d", reason, name, s.Count)
		}
		if c := list[0].DeprecatedCount; c > 1 {
			return fmt.Errorf("the %s Event for %s has count %d", reason, name, c)
		}
		return nil
	}
	transitions := func() error {
		for _, e := range []struct{ name, reason string }{{"second", "Promoted"}, {"second", "Waitlisted"}, {"first", "Seated"}} {
			if err := once(e.name, e.reason); err != nil {
				return err
			}
		}
		return nil
	}
	// The broadcaster writes asynchronously: give a duplicate time to show.
	time.Sleep(2 * time.Second)
	if err := transitions(); err != nil {
		t.Fatal(err)
	}

	for i := 1; i <= 3; i++ {
		update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.DisplayName = fmt.Sprintf("Edit %d", i) })
		eventually(t, "the edit is evaluated", func() error {
			c, err := seatsXCohort(ns, "c")
			if err != nil {
				return err
			}
			if c.Status.ObservedGeneration != c.Generation {
				return fmt.Errorf("observed generation %d of %d", c.Status.ObservedGeneration, c.Generation)
			}
			return nil
		})
	}
	time.Sleep(2 * time.Second)
	if err := transitions(); err != nil {
		t.Fatalf("after re-evaluations: %v", err)
	}
}

// TestSeatsMonthEndClamping proves the month arithmetic through the API: a one-month
// cohort starting on January 31 ends on February 28 (not March 2 or 3), and one
// starting on March 31 ends on April 30; memberships inherit those ends.
func TestSeatsMonthEndClamping(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "cop", testutil.Role("Member", 0, 5)),
		testutil.Cohort(ns, "jan31", "cop", "2026-01-31", 1),
		testutil.Cohort(ns, "mar31", "cop", "2026-03-31", 1),
		testutil.Membership(ns, "m", "jan31", "u-1", "Member"),
	)
	for name, want := range map[string]learningv1alpha1.Date{"jan31": "2026-02-28", "mar31": "2026-04-30"} {
		eventually(t, name+" ends on the last day of the shorter month", func() error {
			c, err := seatsXCohort(ns, name)
			if err != nil {
				return err
			}
			if c.Status.EndDate != want {
				return fmt.Errorf("%s ends %q, want %s", name, c.Status.EndDate, want)
			}
			return nil
		})
	}
	eventually(t, "the membership's term ends with the cohort", func() error {
		m := membership(ns, "m")
		if err := get(m); err != nil {
			return err
		}
		if m.Status.EndDate != "2026-02-28" || m.Status.Phase != learningv1alpha1.MembershipExpiring {
			return fmt.Errorf("membership ends %q in phase %s, want 2026-02-28 and Expiring", m.Status.EndDate, m.Status.Phase)
		}
		return nil
	})
}

// seatsXSeat returns a check that a membership's seat, as seatOf describes it, is want.
func seatsXSeat(ns, name, want string) func() error {
	return func() error {
		got, err := seatOf(ns, name)
		if err == nil && got != want {
			err = fmt.Errorf("%s is %s, want %s", name, got, want)
		}
		return err
	}
}

// seatsXEligible returns a check of a membership's Eligible condition, for the
// membership's current generation.
func seatsXEligible(ns, name string, status metav1.ConditionStatus, reason string) func() error {
	return func() error {
		m := membership(ns, name)
		if err := get(m); err != nil {
			return err
		}
		if m.Status.ObservedGeneration != m.Generation {
			return fmt.Errorf("%s: observed generation %d of %d", name, m.Status.ObservedGeneration, m.Generation)
		}
		if err := hasCondition(m.Status.Conditions, learningv1alpha1.EligibleCondition, status, reason); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// seatsXSeatedSince reads a membership's status.seatedSince, failing when unset.
func seatsXSeatedSince(t *testing.T, ns, name string) time.Time {
	t.Helper()
	m := membership(ns, name)
	if err := get(m); err != nil {
		t.Fatal(err)
	}
	if m.Status.SeatedSince == nil {
		t.Fatalf("%s has no seatedSince: %+v", name, m.Status)
	}
	return m.Status.SeatedSince.Time
}

// seatsXCohort reads a cohort fresh from the API server.
func seatsXCohort(ns, name string) (*learningv1alpha1.Cohort, error) {
	c := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	return c, get(c)
}

// seatsXRoleSeats checks a cohort's seat count and maximum for one role.
func seatsXRoleSeats(c *learningv1alpha1.Cohort, role string, seated, maxMembers int32) error {
	if c.Status.ObservedGeneration != c.Generation {
		return fmt.Errorf("observed generation %d of %d", c.Status.ObservedGeneration, c.Generation)
	}
	for _, r := range c.Status.Roles {
		if string(r.Name) == role {
			if r.Seated != seated || r.MaxMembers != maxMembers {
				return fmt.Errorf("%s: %d seated of %d, want %d of %d", role, r.Seated, r.MaxMembers, seated, maxMembers)
			}
			return nil
		}
	}
	return fmt.Errorf("no %s role in %+v", role, c.Status.Roles)
}

// seatsXConsistently fails unless check holds at every poll for d.
func seatsXConsistently(t *testing.T, what string, d time.Duration, check func() error) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if err := check(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

// seatsXWithin polls check until it passes and fails unless that happens within limit
// of start. It waits up to 30 seconds to report how late it was.
func seatsXWithin(t *testing.T, what string, start time.Time, limit time.Duration, check func() error) {
	t.Helper()
	eventually(t, what, check)
	if took := time.Since(start); took > limit {
		t.Fatalf("%s took %s, want at most %s", what, took.Round(10*time.Millisecond), limit)
	} else {
		t.Logf("%s after %s", what, took.Round(10*time.Millisecond))
	}
}

// seatsXTryUpdate reads obj, applies change and writes it once, retrying only on
// conflicts, and returns the API server's answer.
func seatsXTryUpdate(obj client.Object, change func()) error {
	for {
		if err := get(obj); err != nil {
			return err
		}
		change()
		if err := k8s.Update(context.Background(), obj); !apierrors.IsConflict(err) {
			return err
		}
	}
}

// seatsXWantInvalid checks that an update was rejected as Invalid with a message that
// names field.
func seatsXWantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("%s was admitted", what)
	case !apierrors.IsInvalid(err):
		t.Fatalf("%s: got %v, want an Invalid error", what, err)
	case !strings.Contains(err.Error(), field):
		t.Fatalf("%s: the message %q does not name %s", what, err, field)
	}
}

// seatsXEvents lists the events.k8s.io Events with reason about the named Membership.
func seatsXEvents(ns, name, reason string) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "Membership" && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out, nil
}

func seatsXDescribe(list []eventsv1.Event) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, fmt.Sprintf("%s %q at %s", e.Name, e.Note, e.EventTime.Format(time.RFC3339Nano)))
	}
	return out
}

// seatsXObserver is a second copy of the program controller that never polls and never
// writes; it records each evaluation of a community unit (the only evaluations that
// list cohorts) with the start dates of the cohorts it read.
type seatsXObserver struct {
	mu    sync.Mutex
	evals []seatsXEvaluation
}

type seatsXEvaluation struct {
	at         time.Time
	startDates map[string]learningv1alpha1.Date
}

func (o *seatsXObserver) record(cohorts *learningv1alpha1.CohortList) {
	dates := make(map[string]learningv1alpha1.Date, len(cohorts.Items))
	for _, c := range cohorts.Items {
		dates[c.Name] = c.Spec.StartDate
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evals = append(o.evals, seatsXEvaluation{at: time.Now(), startDates: dates})
}

func (o *seatsXObserver) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.evals)
}

// sawAfter reports whether an evaluation that began after start read what seen wants.
func (o *seatsXObserver) sawAfter(start time.Time, seen func(map[string]learningv1alpha1.Date) bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.evals {
		if e.at.After(start) && seen(e.startDates) {
			return true
		}
	}
	return false
}

// seatsXStartObserver runs the program controller's own watches and reconciler in a
// second manager whose cache holds only ns, with a requeue cap of an hour, a client
// whose writes do nothing (the suite's manager does the writing) and a recorder that
// drops Events. It stops when the test ends.
func seatsXStartObserver(t *testing.T, ns string) *seatsXObserver {
	t.Helper()
	o := &seatsXObserver{}
	mgr, err := ctrl.NewManager(cluster.Config, ctrl.Options{
		Scheme:     testutil.Scheme(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller: config.Controller{SkipNameValidation: testutil.Ptr(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := setupIndexes(ctx, mgr); err != nil {
		cancel()
		t.Fatal(err)
	}
	ignore := func() error { return nil }
	c := interceptor.NewClient(seatsXNoWatch{mgr.GetClient()}, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := c.List(ctx, list, opts...); err != nil {
				return err
			}
			if cohorts, ok := list.(*learningv1alpha1.CohortList); ok {
				o.record(cohorts)
			}
			return nil
		},
		Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error { return ignore() },
		Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error { return ignore() },
		Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error { return ignore() },
		Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return ignore()
		},
		Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
			return ignore()
		},
		SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch, ...client.SubResourcePatchOption) error {
			return ignore()
		},
		SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			return ignore()
		},
	})
	r := testReconciler(c, mgr.GetAPIReader(), &events.FakeRecorder{})
	if err := r.SetupWithManager(mgr); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the observing manager stopped: %v", err)
		}
	})
	return o
}

// seatsXNoWatch lets the manager's client, which has no Watch, be intercepted.
type seatsXNoWatch struct{ client.Client }

func (seatsXNoWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("watch is not supported")
}
