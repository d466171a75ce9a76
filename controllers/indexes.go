package controllers

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Field indexes on the informer caches. They let a reconciler find the objects related
// to one object without listing a whole namespace.
const (
	membershipCohortIndex = "spec.cohortRef.name"
	membershipMemberIndex = "spec.member"
	eventCohortIndex      = "spec.cohortRef.name"
	eventCommunityIndex   = "spec.communityRef.name"
	cohortCommunityIndex  = "spec.communityRef.name"
)

// readOnly lists straight from the informer cache without copying: the reconcilers
// only read the listed objects, and a program of hundreds of memberships and events
// would otherwise be deep-copied on every pass.
var readOnly = client.UnsafeDisableDeepCopy

// setupIndexes registers every field index the reconcilers use.
func setupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	indexer := mgr.GetFieldIndexer()
	indexes := []struct {
		obj   client.Object
		field string
		value func(client.Object) []string
	}{
		{&learningv1alpha1.Membership{}, membershipCohortIndex, func(o client.Object) []string {
			return []string{string(o.(*learningv1alpha1.Membership).Spec.CohortRef.Name)}
		}},
		{&learningv1alpha1.Membership{}, membershipMemberIndex, func(o client.Object) []string {
			return []string{o.(*learningv1alpha1.Membership).Spec.Member}
		}},
		{&learningv1alpha1.LearningEvent{}, eventCohortIndex, func(o client.Object) []string {
			return refName(o.(*learningv1alpha1.LearningEvent).Spec.CohortRef)
		}},
		{&learningv1alpha1.LearningEvent{}, eventCommunityIndex, func(o client.Object) []string {
			return refName(o.(*learningv1alpha1.LearningEvent).Spec.CommunityRef)
		}},
		{&learningv1alpha1.Cohort{}, cohortCommunityIndex, func(o client.Object) []string {
			return refName(o.(*learningv1alpha1.Cohort).Spec.CommunityRef)
		}},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.value); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

func refName(ref *learningv1alpha1.LocalObjectReference) []string {
	if ref == nil {
		return nil
	}
	return []string{string(ref.Name)}
}

// requestsFor turns names in one namespace into reconcile requests.
func requestsFor(namespace string, names ...string) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(names))
	for _, n := range names {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: namespace, Name: n}})
	}
	return reqs
}

// relatedNames lists the names of the objects of list's kind whose field index equals
// value; errors are logged and yield no requests, since the cache lists only fail while
// it stops.
func relatedNames(ctx context.Context, c client.Reader, list client.ObjectList, namespace, field, value string) []string {
	if err := c.List(ctx, list, client.InNamespace(namespace), readOnly, client.MatchingFields{field: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing related objects", "field", field, "value", value)
		return nil
	}
	var names []string
	switch l := list.(type) {
	case *learningv1alpha1.MembershipList:
		for i := range l.Items {
			names = append(names, l.Items[i].Name)
		}
	case *learningv1alpha1.LearningEventList:
		for i := range l.Items {
			names = append(names, l.Items[i].Name)
		}
	case *learningv1alpha1.CohortList:
		for i := range l.Items {
			names = append(names, l.Items[i].Name)
		}
	}
	return names
}

// cohortsOfCommunity names the cohorts that run under a community.
func cohortsOfCommunity(ctx context.Context, c client.Reader, namespace, community string) []string {
	return relatedNames(ctx, c, &learningv1alpha1.CohortList{}, namespace, cohortCommunityIndex, community)
}

// membershipsOfCohorts names the memberships of the given cohorts.
func membershipsOfCohorts(ctx context.Context, c client.Reader, namespace string, cohorts ...string) []string {
	var names []string
	for _, cohort := range cohorts {
		names = append(names, relatedNames(ctx, c, &learningv1alpha1.MembershipList{}, namespace, membershipCohortIndex, cohort)...)
	}
	return names
}

// eventCohorts names the cohorts an event counts for: its own cohort, or every cohort
// of its community.
func eventCohorts(ctx context.Context, c client.Reader, e *learningv1alpha1.LearningEvent) []string {
	if e.Spec.CohortRef != nil {
		return []string{string(e.Spec.CohortRef.Name)}
	}
	if e.Spec.CommunityRef != nil {
		return cohortsOfCommunity(ctx, c, e.Namespace, string(e.Spec.CommunityRef.Name))
	}
	return nil
}

// cohortsOfPerson names the cohorts in which the person holds memberships: a change to
// one of them can change the person's eligibility in the others.
func cohortsOfPerson(ctx context.Context, c client.Reader, namespace, person string) []string {
	list := &learningv1alpha1.MembershipList{}
	if err := c.List(ctx, list, client.InNamespace(namespace), readOnly, client.MatchingFields{membershipMemberIndex: person}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing memberships of a person", "member", person)
		return nil
	}
	seen := map[string]bool{}
	var cohorts []string
	for i := range list.Items {
		name := string(list.Items[i].Spec.CohortRef.Name)
		if !seen[name] {
			seen[name] = true
			cohorts = append(cohorts, name)
		}
	}
	return cohorts
}
