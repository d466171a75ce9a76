package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

func actionPlan(ns, name string) *learningv1alpha1.ActionPlan {
	return &learningv1alpha1.ActionPlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// planCurrent checks a plan's PlanCurrent and Ready conditions, computed for its
// generation.
func planCurrent(ns, name, current string, ready metav1.ConditionStatus, readyReason string) func() error {
	return func() error {
		p := actionPlan(ns, name)
		if err := get(p); err != nil {
			return err
		}
		if p.Status.ObservedGeneration != p.Generation {
			return fmt.Errorf("%s: status is for generation %d, not %d", name, p.Status.ObservedGeneration, p.Generation)
		}
		if err := hasCondition(p.Status.Conditions, learningv1alpha1.ReadyCondition, ready, readyReason); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if current == "" {
			return nil
		}
		status := metav1.ConditionFalse
		if current == learningv1alpha1.PlanCurrentReason {
			status = metav1.ConditionTrue
		}
		if err := hasCondition(p.Status.Conditions, learningv1alpha1.PlanCurrentCondition, status, current); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// countEvents counts the Events with reason about the named object, a series as
// many as it counts.
func countEvents(t *testing.T, ns, name, reason string) int {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			n++
			if e.Series != nil {
				n += int(e.Series.Count) - 1
			}
		}
	}
	return n
}

// TestActionPlans runs a community that requires personal plans, due ten days after a
// seat's start and stale after two gatherings without a check-in, through the
// operator against the real API server: an overdue action, a missing plan, a plan
// whose owner waits for a seat, one whose owner is not its member, one whose
// membership does not exist, and a stale plan that a check-in makes current again;
// with the cohort's and the community's figures and one Event per transition.
func TestActionPlans(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 2))
	community.Spec.Policy.ActionPlans = &learningv1alpha1.ActionPlanPolicy{
		Required: learningv1alpha1.PersonalPlansRequired, DueDays: testutil.Ptr[int32](10), StaleAfter: testutil.Ptr[int32](2),
	}
	create(t, community, testutil.Cohort(ns, "spring", "cop", "2026-01-01", 12))
	create(t, testutil.Membership(ns, "ann", "spring", "u-ann", "Member"), testutil.Membership(ns, "bea", "spring", "u-bea", "Member"))
	eventually(t, "ann and bea are seated", func() error {
		for _, name := range []string{"ann", "bea"} {
			s, err := seatOf(ns, name)
			if err != nil {
				return err
			}
			if s != "seated" {
				return fmt.Errorf("%s is %q", name, s)
			}
		}
		return nil
	})
	time.Sleep(1100 * time.Millisecond) // cal is created later: the waitlist orders by creation
	create(t, testutil.Membership(ns, "cal", "spring", "u-cal", "Member"))
	for i, day := range []int{2, 9, 16} {
		create(t, testutil.Gathering(ns, fmt.Sprintf("g%d", i), "spring", time.Date(2026, 3, day, 17, 0, 0, 0, time.UTC)))
	}

	create(t,
		testutil.PersonalPlan(ns, "ann-plan", "ann", "u-ann",
			testutil.Action("listen", "2026-02-01", learningv1alpha1.ActionPlanned),
			testutil.Action("mentor", "2026-04-30", learningv1alpha1.ActionInProgress),
			testutil.Action("read", "2026-01-15", learningv1alpha1.ActionDone)),
		testutil.PersonalPlan(ns, "cal-plan", "cal", "u-cal", testutil.Action("listen", "2026-02-01", learningv1alpha1.ActionPlanned)),
		testutil.PersonalPlan(ns, "not-mine", "cal", "u-mallory"),
		testutil.PersonalPlan(ns, "ghost-plan", "ghost", "u-ghost"),
	)
	eventually(t, "ann's plan is overdue, naming the action", planCurrent(ns, "ann-plan", learningv1alpha1.PlanOverdueReason, metav1.ConditionTrue, learningv1alpha1.SucceededReason))
	eventually(t, "cal waits for a seat", planCurrent(ns, "cal-plan", learningv1alpha1.OwnerNotSeatedReason, metav1.ConditionTrue, learningv1alpha1.SucceededReason))
	eventually(t, "a plan owned by someone else than its member", planCurrent(ns, "not-mine", "", metav1.ConditionFalse, learningv1alpha1.OwnerNotMemberReason))
	eventually(t, "a plan of a membership that does not exist", planCurrent(ns, "ghost-plan", "", metav1.ConditionFalse, learningv1alpha1.MembershipNotFoundReason))

	p := actionPlan(ns, "ann-plan")
	if err := get(p); err != nil {
		t.Fatal(err)
	}
	want := learningv1alpha1.ActionCounts{Total: 3, Done: 1, Overdue: 1}
	if p.Status.Actions == nil || *p.Status.Actions != want || p.Status.NextDue == nil || *p.Status.NextDue != "2026-02-01" {
		t.Errorf("ann-plan counts %+v, next due %v; want %+v and 2026-02-01", p.Status.Actions, p.Status.NextDue, want)
	}
	if c := p.Status.Conditions; hasCondition(c, learningv1alpha1.PlanCurrentCondition, metav1.ConditionFalse, learningv1alpha1.PlanOverdueReason) == nil {
		if msg := findMessage(c, learningv1alpha1.PlanCurrentCondition); msg != "1 overdue: listen (due 2026-02-01)" {
			t.Errorf("ann-plan's PlanCurrent message is %q", msg)
		}
	}

	eventually(t, "bea's plan is missing past its due day", func() error {
		m := membership(ns, "bea")
		if err := get(m); err != nil {
			return err
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.ActionPlanCondition, metav1.ConditionFalse, learningv1alpha1.PlanMissingReason)
	})
	eventually(t, "ann's plan is present", func() error {
		m := membership(ns, "ann")
		if err := get(m); err != nil {
			return err
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.ActionPlanCondition, metav1.ConditionTrue, learningv1alpha1.PlanPresentReason)
	})
	eventually(t, "the cohort and the community count the plans", func() error {
		c := &learningv1alpha1.Cohort{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spring"}, c); err != nil {
			return err
		}
		want := learningv1alpha1.ActionPlanFigures{Required: 2, Present: 1, Plans: 3, Current: 0, Overdue: 1, ActionsDone: 1, ActionsTotal: 4,
			Summary: "1/2 required plans, 0/3 plans current, 1/4 actions done"}
		if c.Status.ActionPlans == nil || *c.Status.ActionPlans != want {
			return fmt.Errorf("cohort figures %+v, want %+v", c.Status.ActionPlans, want)
		}
		cop := &learningv1alpha1.CommunityOfPractice{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cop"}, cop); err != nil {
			return err
		}
		if cop.Status.ActionPlans == nil || *cop.Status.ActionPlans != want {
			return fmt.Errorf("community figures %+v, want %+v", cop.Status.ActionPlans, want)
		}
		return nil
	})

	// bea files a plan with a check-in before the last two gatherings: it is stale.
	bea := testutil.PersonalPlan(ns, "bea-plan", "bea", "u-bea", testutil.Action("host", "", learningv1alpha1.ActionInProgress))
	bea.Spec.CheckIns = []learningv1alpha1.CheckIn{{ID: "first", At: metav1.NewTime(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)), Author: "u-bea", EventRef: &learningv1alpha1.LocalObjectReference{Name: "g0"}}}
	create(t, bea)
	eventually(t, "bea's plan is stale after two gatherings without a check-in", planCurrent(ns, "bea-plan", learningv1alpha1.PlanStaleReason, metav1.ConditionTrue, learningv1alpha1.SucceededReason))
	eventually(t, "bea's plan is present", func() error {
		m := membership(ns, "bea")
		if err := get(m); err != nil {
			return err
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.ActionPlanCondition, metav1.ConditionTrue, learningv1alpha1.PlanPresentReason)
	})
	update(t, actionPlan(ns, "bea-plan"), func(p *learningv1alpha1.ActionPlan) {
		p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{ID: "second", At: metav1.NewTime(time.Date(2026, 3, 17, 9, 0, 0, 0, time.UTC)), Author: "u-bea",
			EventRef: &learningv1alpha1.LocalObjectReference{Name: "g2"}, Learned: "Listening first works.", Shared: true})
	})
	eventually(t, "a check-in makes bea's plan current", planCurrent(ns, "bea-plan", learningv1alpha1.PlanCurrentReason, metav1.ConditionTrue, learningv1alpha1.SucceededReason))

	// A check-in at an event of another cohort is reported on the plan.
	create(t, testutil.Cohort(ns, "autumn", "cop", "2026-09-01", 6), testutil.Gathering(ns, "autumn-g", "autumn", time.Date(2026, 9, 3, 17, 0, 0, 0, time.UTC)))
	update(t, actionPlan(ns, "bea-plan"), func(p *learningv1alpha1.ActionPlan) {
		p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{ID: "third", At: metav1.NewTime(time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC)), Author: "u-bea",
			EventRef: &learningv1alpha1.LocalObjectReference{Name: "autumn-g"}})
	})
	eventually(t, "a check-in at another cohort's event", planCurrent(ns, "bea-plan", learningv1alpha1.PlanCurrentReason, metav1.ConditionFalse, learningv1alpha1.EventNotInCohortReason))

	// Deleting a membership reports its plan; the transitions were recorded once.
	if err := k8s.Delete(context.Background(), membership(ns, "cal")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the plan of a deleted membership", planCurrent(ns, "cal-plan", "", metav1.ConditionFalse, learningv1alpha1.MembershipNotFoundReason))
	// Events are posted asynchronously: wait for each, then require exactly one.
	for _, e := range []struct{ object, reason string }{{"ann-plan", "PlanOverdue"}, {"bea-plan", "PlanStale"}, {"bea", "ActionPlanMissing"}} {
		eventually(t, e.reason+" Event for "+e.object, func() error {
			if n := countEvents(t, ns, e.object, e.reason); n == 0 {
				return fmt.Errorf("no %s Event for %s yet", e.reason, e.object)
			}
			return nil
		})
		if n := countEvents(t, ns, e.object, e.reason); n != 1 {
			t.Errorf("%d %s Events for %s, want 1", n, e.reason, e.object)
		}
	}
}

func findMessage(conditions []metav1.Condition, typ string) string {
	for _, c := range conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}
