package controllers

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestOnePersonOneSeatPerCommunity: a person's seat in another active cohort of the
// community blocks a second seat; withdrawing it makes the person eligible again in the
// other cohort, where they wait: seats are sticky, so the member who took the seat
// meanwhile keeps it, although pat's membership is older.
func TestOnePersonOneSeatPerCommunity(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "allyship", testutil.Role("Member", 0, 1)),
		testutil.Cohort(ns, "north", "allyship", "2026-01-01", 12),
		testutil.Cohort(ns, "south", "allyship", "2026-01-01", 12),
		testutil.Membership(ns, "pat-north", "north", "u-pat", "Member"),
	)
	time.Sleep(1100 * time.Millisecond) // creation times decide precedence
	create(t, testutil.Membership(ns, "pat-south", "south", "u-pat", "Member"))
	time.Sleep(1100 * time.Millisecond)
	create(t, testutil.Membership(ns, "sam-south", "south", "u-sam", "Member"))

	eligible := func(name string, status metav1.ConditionStatus, reason string) func() error {
		return func() error {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			return hasCondition(m.Status.Conditions, learningv1alpha1.EligibleCondition, status, reason)
		}
	}
	seat := func(name, want string) func() error {
		return func() error {
			got, err := seatOf(ns, name)
			if err == nil && got != want {
				err = fmt.Errorf("%s is %s, want %s", name, got, want)
			}
			return err
		}
	}
	eventually(t, "pat is already seated in north", eligible("pat-south", metav1.ConditionFalse, "AlreadySeated"))
	eventually(t, "sam takes the south seat", seat("sam-south", "seated"))

	update(t, membership(ns, "pat-north"), func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "pat becomes eligible in south", eligible("pat-south", metav1.ConditionTrue, "Eligible"))
	eventually(t, "pat waits for the south seat", seat("pat-south", "waitlisted 1"))
	eventually(t, "sam keeps the south seat", seat("sam-south", "seated"))
}

// TestUnusableDatesStall: a membership whose term cannot be resolved is Stalled, so
// GitOps health checks fail fast instead of waiting.
func TestUnusableDatesStall(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	late := testutil.Membership(ns, "late", "c", "u-1", "Member")
	late.Spec.StartDate = testutil.Ptr[learningv1alpha1.Date]("2027-06-01")
	create(t, testutil.Community(ns, "cop", testutil.Role("Member", 0, 5)), testutil.Cohort(ns, "c", "cop", "2026-01-01", 12), late)
	eventually(t, "the membership is Stalled", func() error {
		if err := get(late); err != nil {
			return err
		}
		return hasCondition(late.Status.Conditions, learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason)
	})
}

// TestSuspendedCohortChangesNoGatherings: a suspended cohort neither generates nor
// deletes gatherings, even when its schedule changes; resuming it applies the change.
func TestSuspendedCohortChangesNoGatherings(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "weekly", "club", "2026-01-01", 6)
	cohort.Spec.Schedule = &learningv1alpha1.Schedule{
		RRule: "FREQ=WEEKLY;BYDAY=WE", StartTime: "09:00", Duration: metav1.Duration{Duration: time.Hour},
		TimeZone: "Europe/Berlin", Lookahead: 2, Type: learningv1alpha1.CheckInEvent,
	}
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 20)), cohort)
	first := learningEvent(ns, "weekly-20260204-0900")
	eventually(t, "the first check-in is generated", func() error { return get(first) })
	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.Suspend = true })
	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.Schedule.RRule = "FREQ=WEEKLY;BYDAY=TH" })
	time.Sleep(2 * time.Second)
	if err := get(first); err != nil {
		t.Fatalf("the suspended cohort deleted a gathering: %v", err)
	}
	if err := get(learningEvent(ns, "weekly-20260205-0900")); err == nil {
		t.Fatal("the suspended cohort generated a gathering")
	}
	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.Suspend = false })
	eventually(t, "resuming applies the new schedule", func() error {
		if err := get(first); err == nil {
			return fmt.Errorf("%s still exists", first.Name)
		}
		return get(learningEvent(ns, "weekly-20260205-0900"))
	})
}
