package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// planPolicyLabel marks the namespaces in which the action-plan policy of this suite
// applies: elsewhere the suite's tests write plans as the administrator.
const planPolicyLabel = "learning.cohort.dev/test-action-plan-policy"

// TestPlanAccessFollowsTheSeat checks, with the real authorizer and certificate
// identities, and with the action-plan policy installed as shipped, who may do what
// with ActionPlans: a seated member creates a plan as its owner and not in another's
// name, then gets and updates it by name and checks in; the partner gets it but may
// not change it; every seated member of a team updates its workplan, and a shared
// check-in, and no private one, reaches the cohort's overview; the lead with
// Edit access, a waitlisted member and an outsider neither create nor read plans, and
// nobody lists them; a member who withdraws loses access to their plan, and the plan
// stays, also while the cohort is suspended.
func TestPlanAccessFollowsTheSeat(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	update(t, namespace, func(n *corev1.Namespace) { n.Labels = map[string]string{planPolicyLabel: "true"} })
	if err := testutil.InstallActionPlanPolicy(ctx, k8s, "test-action-plans", map[string]string{planPolicyLabel: "true"}); err != nil {
		t.Fatal(err)
	}

	lead := testutil.Role("Lead", 0, 1)
	lead.Access = learningv1alpha1.AccessEdit
	create(t, testutil.Community(ns, "cop", lead, testutil.Role("Member", 0, 2)), testutil.Cohort(ns, "spring", "cop", "2026-01-01", 12))
	member := func(name, person, role, org string) *learningv1alpha1.Membership {
		m := testutil.Membership(ns, name, "spring", person, role)
		m.Spec.Organization = learningv1alpha1.OrganizationName(org)
		return m
	}
	create(t, member("lee", "u-plan-lee", "Lead", "Iowa Alliance"), member("ann", "u-plan-ann", "Member", "Iowa Alliance"), member("bea", "u-plan-bea", "Member", "Iowa Alliance"))
	eventually(t, "lee, ann and bea are seated", func() error {
		for _, name := range []string{"lee", "ann", "bea"} {
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
	create(t, member("cal", "u-plan-cal", "Member", "Ohio Coalition"))
	eventually(t, "cal waits", func() error {
		s, err := seatOf(ns, "cal")
		if err != nil {
			return err
		}
		if s != "waitlisted 1" {
			return fmt.Errorf("cal is %q", s)
		}
		return nil
	})

	ann, bea, lee, cal, outsider := identity(t, "u-plan-ann"), identity(t, "u-plan-bea"), identity(t, "u-plan-lee"), identity(t, "u-plan-cal"), identity(t, "u-plan-outsider")
	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
	personal := func(name, membership, owner string) func() error {
		return func() error {
			p := testutil.PersonalPlan(ns, name, membership, owner, testutil.Action("listen", "2026-06-30", learningv1alpha1.ActionPlanned))
			p.Spec.PartnerRef = &learningv1alpha1.LocalObjectReference{Name: "bea"}
			return map[string]client.Client{"u-plan-ann": ann, "u-plan-cal": cal, "u-plan-lee": lee, "u-plan-outsider": outsider}[owner].Create(ctx, p)
		}
	}
	getPlan := func(c client.Client, name string) func() error {
		return func() error { return c.Get(ctx, key(name), &learningv1alpha1.ActionPlan{}) }
	}
	checkIn := func(c client.Client, name, author, id string) func() error {
		return func() error {
			p := &learningv1alpha1.ActionPlan{}
			if err := c.Get(ctx, key(name), p); err != nil {
				p = &learningv1alpha1.ActionPlan{}
				if err := k8s.Get(ctx, key(name), p); err != nil {
					return err
				}
			}
			p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{ID: id, At: metav1.NewTime(fakeClock.Now()), Author: author, Learned: "Listening first works."})
			return c.Update(ctx, p)
		}
	}
	listPlans := func(c client.Client) func() error {
		return func() error { return c.List(ctx, &learningv1alpha1.ActionPlanList{}, client.InNamespace(ns)) }
	}

	// Creating: seated members only, and only as themselves.
	allowed(t, "a seated member creating their plan", personal("ann-2026", "ann", "u-plan-ann"))
	eventually(t, "a plan in another's name is refused by the action-plan policy", func() error {
		p := testutil.PersonalPlan(ns, "forged", "bea", "u-plan-bea")
		err := ann.Create(ctx, p)
		if err == nil {
			return fmt.Errorf("ann created a plan owned by u-plan-bea")
		}
		if !strings.Contains(err.Error(), "spec.owner") {
			return fmt.Errorf("refused, but not naming spec.owner: %w", err)
		}
		return nil
	})
	denied(t, "a waitlisted member creating a plan", personal("cal-2026", "cal", "u-plan-cal"))
	denied(t, "an outsider creating a plan", personal("out-2026", "ann", "u-plan-outsider"))

	// Reading and updating by name: the owner, and the partner read only.
	allowed(t, "the owner getting their plan", getPlan(ann, "ann-2026"))
	allowed(t, "the owner checking in", checkIn(ann, "ann-2026", "u-plan-ann", "march"))
	allowed(t, "the partner getting the plan", getPlan(bea, "ann-2026"))
	denied(t, "the partner checking in on the plan", checkIn(bea, "ann-2026", "u-plan-bea", "bea"))
	denied(t, "the Edit lead getting a member's plan", getPlan(lee, "ann-2026"))
	denied(t, "the waitlisted member getting a plan", getPlan(cal, "ann-2026"))
	denied(t, "an outsider getting a plan", getPlan(outsider, "ann-2026"))
	for who, c := range map[string]client.Client{"the owner": ann, "the partner": bea, "the Edit lead": lee} {
		denied(t, who+" listing plans", listPlans(c))
	}

	// A team workplan: every seated member of the team may update it; the lead of
	// Iowa Alliance too, as a member of the team.
	allowed(t, "a team member creating the team's workplan", func() error {
		p := testutil.PersonalPlan(ns, "iowa", "", "u-plan-bea")
		p.Spec.MembershipRef = nil
		p.Spec.Team = &learningv1alpha1.PlanTeam{CohortRef: learningv1alpha1.LocalObjectReference{Name: "spring"}, Organization: "Iowa Alliance"}
		return bea.Create(ctx, p)
	})
	allowed(t, "another team member checking in on the workplan", checkIn(ann, "iowa", "u-plan-ann", "ann-march"))
	denied(t, "a member of another organization getting the workplan", getPlan(cal, "iowa"))

	// Shared reflections, and only those, reach the cohort: the overview's agenda holds
	// Bea's shared check-in on the workplan, not Ann's private ones.
	allowed(t, "a team member sharing a check-in", func() error {
		p := &learningv1alpha1.ActionPlan{}
		if err := bea.Get(ctx, key("iowa"), p); err != nil {
			return err
		}
		p.Spec.CheckIns = append(p.Spec.CheckIns, learningv1alpha1.CheckIn{ID: "bea-shared", At: metav1.NewTime(fakeClock.Now()), Author: "u-plan-bea", Learned: "Budget before stories.", Shared: true})
		return bea.Update(ctx, p)
	})
	eventually(t, "the shared reflection is on the overview's agenda, the private ones are not", func() error {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(ctx, key("spring-overview"), cm); err != nil {
			return err
		}
		overview := cm.Data["overview.json"]
		if !strings.Contains(overview, "Budget before stories.") {
			return fmt.Errorf("the overview has no agenda with Bea's reflection:\n%s", overview)
		}
		if strings.Contains(overview, "Listening first works.") {
			return fmt.Errorf("a private check-in reached the overview:\n%s", overview)
		}
		return nil
	})

	// Withdrawing ends the access; the plan is kept.
	update(t, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ann"}}, func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	denied(t, "a withdrawn member getting their plan", getPlan(ann, "ann-2026"))
	denied(t, "a withdrawn member creating a plan", personal("ann-2027", "ann", "u-plan-ann"))
	denied(t, "a withdrawn member getting the team's workplan", getPlan(ann, "iowa"))
	allowed(t, "the partner still getting the plan", getPlan(bea, "ann-2026"))
	if err := get(actionPlan(ns, "ann-2026")); err != nil {
		t.Errorf("the withdrawn member's plan is gone: %v", err)
	}

	// A suspended cohort changes none of its services, but access to plans still
	// follows the seats: Bea withdraws and loses her plans at once.
	update(t, &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spring"}}, func(c *learningv1alpha1.Cohort) { c.Spec.Suspend = true })
	update(t, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bea"}}, func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	denied(t, "a member who withdrew from a suspended cohort getting the team's workplan", getPlan(bea, "iowa"))
	denied(t, "a member who withdrew from a suspended cohort getting the plan she was partner of", getPlan(bea, "ann-2026"))
}
