package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// unitKey names a program unit: a community with all its cohorts, or a standalone
// cohort. It is the key of the program reconciler's work queue, so one change costs one
// evaluation of its unit however many of the unit's objects it touches.
type unitKey struct {
	Namespace string
	// Community names the unit's community; empty for a cohort unit.
	Community string
	// Cohort names a standalone cohort, or a cohort that does not exist (its
	// memberships and events still get a status saying so); empty for a community unit.
	Cohort string
	// Membership names a membership that does not exist, whose ActionPlans get a
	// status saying so; set alone.
	Membership string
}

func (k unitKey) String() string {
	if k.Membership != "" {
		return fmt.Sprintf("%s/membership/%s", k.Namespace, k.Membership)
	}
	if k.Community != "" {
		return fmt.Sprintf("%s/community/%s", k.Namespace, k.Community)
	}
	return fmt.Sprintf("%s/cohort/%s", k.Namespace, k.Cohort)
}

// unitsOfCommunity maps a CommunityOfPractice to its unit.
func unitsOfCommunity(_ context.Context, c *learningv1alpha1.CommunityOfPractice) []unitKey {
	return []unitKey{{Namespace: c.Namespace, Community: c.Name}}
}

// unitsOfCohort maps a Cohort to its community's unit and to the unit named after the
// cohort itself, which evaluates it when standalone and reports its memberships and
// events as orphaned once it is deleted.
func unitsOfCohort(_ context.Context, c *learningv1alpha1.Cohort) []unitKey {
	keys := []unitKey{{Namespace: c.Namespace, Cohort: c.Name}}
	if ref := c.Spec.CommunityRef; ref != nil {
		keys = append(keys, unitKey{Namespace: c.Namespace, Community: string(ref.Name)})
	}
	return keys
}

// unitOfCohortNamed finds the unit of the named cohort from the cache: its community's,
// or its own when it is standalone or does not exist.
func unitOfCohortNamed(ctx context.Context, c client.Reader, namespace, name string) unitKey {
	cohort := &learningv1alpha1.Cohort{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cohort); err == nil && cohort.Spec.CommunityRef != nil {
		return unitKey{Namespace: namespace, Community: string(cohort.Spec.CommunityRef.Name)}
	}
	return unitKey{Namespace: namespace, Cohort: name}
}

// unitsOfReport maps a ProgramReport to the unit of its program.
func (r *ProgramReconciler) unitsOfReport(ctx context.Context, p *learningv1alpha1.ProgramReport) []unitKey {
	if p.Spec.Program.Kind == learningv1alpha1.CommunityProgram {
		return []unitKey{{Namespace: p.Namespace, Community: string(p.Spec.Program.Name)}}
	}
	return []unitKey{unitOfCohortNamed(ctx, r.Client, p.Namespace, string(p.Spec.Program.Name))}
}

// unitsOfMembership maps a Membership to the unit of its cohort.
func (r *ProgramReconciler) unitsOfMembership(ctx context.Context, m *learningv1alpha1.Membership) []unitKey {
	return []unitKey{unitOfCohortNamed(ctx, r.Client, m.Namespace, string(m.Spec.CohortRef.Name))}
}

// unitsOfEvent maps a LearningEvent to the unit of its cohort or community.
func (r *ProgramReconciler) unitsOfEvent(ctx context.Context, e *learningv1alpha1.LearningEvent) []unitKey {
	if ref := e.Spec.CommunityRef; ref != nil {
		return []unitKey{{Namespace: e.Namespace, Community: string(ref.Name)}}
	}
	if ref := e.Spec.CohortRef; ref != nil {
		return []unitKey{unitOfCohortNamed(ctx, r.Client, e.Namespace, string(ref.Name))}
	}
	return nil
}

// unitsOfPlan maps an ActionPlan to the unit of its membership's cohort, or of its
// team's cohort; a plan whose membership does not exist, to that membership's unit.
func (r *ProgramReconciler) unitsOfPlan(ctx context.Context, p *learningv1alpha1.ActionPlan) []unitKey {
	switch spec := p.Spec; {
	case spec.MembershipRef != nil:
		m := &learningv1alpha1.Membership{}
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: string(spec.MembershipRef.Name)}, m); err != nil {
			return []unitKey{{Namespace: p.Namespace, Membership: string(spec.MembershipRef.Name)}}
		}
		return []unitKey{unitOfCohortNamed(ctx, r.Client, p.Namespace, string(m.Spec.CohortRef.Name))}
	case spec.Team != nil:
		return []unitKey{unitOfCohortNamed(ctx, r.Client, p.Namespace, string(spec.Team.CohortRef.Name))}
	}
	return nil
}

// unitOfDeletedMembership maps a deleted Membership to its own unit, which reports its
// ActionPlans as MembershipNotFound.
func unitOfDeletedMembership(_ context.Context, m *learningv1alpha1.Membership) []unitKey {
	return []unitKey{{Namespace: m.Namespace, Membership: m.Name}}
}

// unitsOfChild maps an object provisioned for a cohort to the cohort's unit, and the
// approvers' RoleBinding of a community to the community's unit.
func (r *ProgramReconciler) unitsOfChild(ctx context.Context, obj client.Object) []unitKey {
	owner := metav1.GetControllerOf(obj)
	if owner == nil || owner.APIVersion != learningv1alpha1.GroupVersion.String() {
		return nil
	}
	switch owner.Kind {
	case "Cohort":
		return []unitKey{unitOfCohortNamed(ctx, r.Client, obj.GetNamespace(), owner.Name)}
	case "CommunityOfPractice":
		return []unitKey{{Namespace: obj.GetNamespace(), Community: owner.Name}}
	}
	return nil
}

// allUnits maps a change that concerns every unit (the approval policy) to all of
// them: every community and every cohort.
func (r *ProgramReconciler) allUnits(ctx context.Context, _ client.Object) []unitKey {
	var keys []unitKey
	communities := &learningv1alpha1.CommunityOfPracticeList{}
	if err := r.Client.List(ctx, communities, readOnly); err == nil {
		for i := range communities.Items {
			keys = append(keys, unitsOfCommunity(ctx, &communities.Items[i])...)
		}
	}
	cohorts := &learningv1alpha1.CohortList{}
	if err := r.Client.List(ctx, cohorts, readOnly); err == nil {
		for i := range cohorts.Items {
			keys = append(keys, unitsOfCohort(ctx, &cohorts.Items[i])...)
		}
	}
	return keys
}

// unitsOfNamespaceCommunities maps a CommunityOfPractice to its unit and to the units
// of the other communities of its namespace, which report whether they share it.
func (r *ProgramReconciler) unitsOfNamespaceCommunities(ctx context.Context, c *learningv1alpha1.CommunityOfPractice) []unitKey {
	keys := unitsOfCommunity(ctx, c)
	communities := &learningv1alpha1.CommunityOfPracticeList{}
	if err := r.Client.List(ctx, communities, client.InNamespace(c.Namespace), readOnly); err == nil {
		for i := range communities.Items {
			if communities.Items[i].Name != c.Name {
				keys = append(keys, unitsOfCommunity(ctx, &communities.Items[i])...)
			}
		}
	}
	return keys
}
