package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// recordedGatherings waits until the cohort's status.gatherings lists exactly want, each
// with the UID of the event of that name.
func recordedGatherings(t *testing.T, ns, cohort string, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, fmt.Sprintf("cohort %s records %v", cohort, want), func() error {
		c := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: cohort}}
		if err := get(c); err != nil {
			return err
		}
		var got []string
		for _, g := range c.Status.Gatherings {
			e := learningEvent(ns, g.Name)
			if err := get(e); err != nil {
				return err
			}
			if string(e.UID) != g.UID {
				return fmt.Errorf("%s recorded with UID %s, the event's is %s", g.Name, g.UID, e.UID)
			}
			got = append(got, g.Name)
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("status.gatherings %v", got)
		}
		return nil
	})
}

// TestForgedGatheringSurvives: the facilitator of a cohort, who may patch its events,
// gives an approved External event the schedule's label and a generated-spec annotation
// that matches its spec, so that by label and annotation it reads as an untouched
// generated gathering. The operator deletes only the gatherings it recorded: the event
// survives a change of the schedule and the deletion of the cohort, still approved.
func TestForgedGatheringSurvives(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	if err := f.matrix.Approve("launch", testutil.ApproverUser)(ctx, f.matrix.Clients[testutil.ApprovalApprover]); err != nil {
		t.Fatalf("approving launch: %v", err)
	}
	approved := f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
	forge := fmt.Sprintf(`{"metadata":{"labels":{%q:%q},"annotations":{%q:%q}}}`,
		program.ScheduleLabel, names.CohortLabel("spring"), program.GeneratedAnnotation, program.GeneratedHash(&approved.Spec))
	if err := f.matrix.Clients[testutil.ApprovalFacilitator].Patch(ctx, approved.DeepCopy(), client.RawPatch("application/merge-patch+json", []byte(forge))); err != nil {
		t.Fatalf("the facilitator forges the label and annotation: %v", err)
	}

	spring := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "spring"}}
	update(t, spring, func(c *learningv1alpha1.Cohort) { c.Spec.Schedule = gathWeekly("WE", 2) })
	gathExactly(t, "the Wednesdays are generated", f.ns, "spring", "spring-20261125-1800", "spring-20261202-1800", "launch")
	recordedGatherings(t, f.ns, "spring", "spring-20261125-1800", "spring-20261202-1800")

	update(t, spring, func(c *learningv1alpha1.Cohort) { c.Spec.Schedule.RRule = "FREQ=WEEKLY;BYDAY=FR" })
	gathExactly(t, "the Fridays replace the Wednesdays; the forged event stays", f.ns, "spring", "spring-20261127-1800", "spring-20261204-1800", "launch")
	recordedGatherings(t, f.ns, "spring", "spring-20261127-1800", "spring-20261204-1800")

	if err := k8s.Delete(ctx, spring); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cohort is gone", func() error { return gathGone(spring) })
	gathExactly(t, "the generated gatherings are deleted with the cohort; the forged event stays", f.ns, "spring", "launch")
	launch := learningEvent(f.ns, "launch")
	if err := get(launch); err != nil {
		t.Fatalf("the forged event is gone: %v", err)
	}
	if launch.UID != approved.UID || launch.Spec.Approval == nil || launch.Spec.Title != approved.Spec.Title {
		t.Errorf("the forged event changed: UID %s (was %s), approval %+v, title %q", launch.UID, approved.UID, launch.Spec.Approval, launch.Spec.Title)
	}
}

// hostileSchedule creates a cohort whose stored schedule cannot be expanded to its end:
// dated from the year 0 (the recurrence library indexed out of range on it) when
// admission still accepts that, or else with a rule that never occurs.
func hostileSchedule(t *testing.T, ns string) *learningv1alpha1.Cohort {
	t.Helper()
	ancient := testutil.Cohort(ns, "ancient", "club", "0000-01-01", 0)
	ancient.Spec.DurationMonths, ancient.Spec.EndDate = nil, testutil.Ptr[learningv1alpha1.Date]("2027-12-31")
	ancient.Spec.Schedule = gathWeekly("TU", 3)
	switch err := k8s.Create(context.Background(), ancient); {
	case err == nil:
		return ancient
	case !apierrors.IsInvalid(err):
		t.Fatal(err)
	}
	t.Logf("admission refuses the year 0; a rule that never occurs stands in for it")
	never := testutil.Cohort(ns, "ancient", "club", "2026-01-01", 12)
	never.Spec.Schedule = gathWeekly("TU", 3)
	never.Spec.Schedule.RRule = "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=5MO;UNTIL=21991231T000000Z"
	create(t, never)
	return never
}

// TestHostileScheduleStaysInItsCohort: one cohort of a community has a schedule that
// cannot be expanded; it reports Stalled/InvalidSchedule, while in its sibling a
// withdrawal promotes the next member and removes the withdrawn member from the
// sibling's RoleBinding.
func TestHostileScheduleStaysInItsCohort(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 1)))
	hostile := hostileSchedule(t, ns)
	sibling := testutil.Cohort(ns, "sibling", "club", "2026-01-01", 12)
	sibling.Spec.Schedule = gathWeekly("WE", 2)
	ann := testutil.Membership(ns, "ann", "sibling", "u-ann", "Member")
	create(t, sibling, ann)
	eventually(t, "ann is seated", func() error { return seatIs(ns, "ann", "seated") })
	time.Sleep(1100 * time.Millisecond) // wes is created a second later: the waitlist follows creation
	create(t, testutil.Membership(ns, "wes", "sibling", "u-wes", "Member"))
	eventually(t, "wes waits", func() error { return seatIs(ns, "wes", "waitlisted 1") })

	eventually(t, "the hostile cohort is Stalled/InvalidSchedule", func() error {
		if err := get(hostile); err != nil {
			return err
		}
		return hasCondition(hostile.Status.Conditions, learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidScheduleReason)
	})
	gathExactly(t, "the sibling's gatherings are generated", ns, "sibling", "sibling-20261125-1800", "sibling-20261202-1800")

	update(t, ann, func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "the withdrawal promotes wes", func() error { return seatIs(ns, "wes", "seated") })
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: namesOf(sibling).Read}}
	eventually(t, "the sibling's RoleBinding binds wes, not ann", func() error {
		if err := get(binding); err != nil {
			return err
		}
		var got []string
		for _, s := range binding.Subjects {
			got = append(got, s.Name)
		}
		if !slices.Equal(got, []string{"u-wes"}) {
			return fmt.Errorf("subjects %v", got)
		}
		return nil
	})
}

// seatIs checks a membership's seat as seatOf describes it.
func seatIs(ns, name, want string) error {
	got, err := seatOf(ns, name)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s is %s, want %s", name, got, want)
	}
	return nil
}
