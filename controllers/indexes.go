package controllers

import (
	"context"
	"fmt"

	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Field indexes on the informer caches. They let a reconciler find the objects related
// to one object without listing a whole namespace.
const (
	membershipCohortIndex = "spec.cohortRef.name"
	eventCohortIndex      = "spec.cohortRef.name"
	eventCommunityIndex   = "spec.communityRef.name"
	cohortCommunityIndex  = "spec.communityRef.name"
	// planHolderIndex keys an ActionPlan by what it belongs to: "membership/<name>" for
	// a personal plan, "cohort/<name>" for a team plan.
	planHolderIndex = "plan.holder"
	// reportProgramIndex keys a ProgramReport by its program: "CommunityOfPractice/<name>"
	// or "Cohort/<name>".
	reportProgramIndex = "spec.program"
)

// reportProgramKey is the reportProgramIndex value of the reports of a program.
func reportProgramKey(kind learningv1alpha1.ProgramKind, name string) string {
	return string(kind) + "/" + name
}

// planHolderKey is the planHolderIndex value of a personal plan of the named
// membership (kind "membership") or of a team plan of the named cohort ("cohort").
func planHolderKey(kind, name string) string { return kind + "/" + name }

// readOnly lists straight from the informer cache without copying: the reconcilers
// only read the listed objects, and a program of hundreds of memberships and events
// would otherwise be deep-copied on every pass.
var readOnly = client.UnsafeDisableDeepCopy

// setupIndexes registers every field index the reconcilers use.
func setupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	indexes := []struct {
		obj   client.Object
		field string
		value func(client.Object) []string
	}{
		{&learningv1alpha1.Membership{}, membershipCohortIndex, func(o client.Object) []string {
			return []string{string(o.(*learningv1alpha1.Membership).Spec.CohortRef.Name)}
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
		{&learningv1alpha1.ActionPlan{}, planHolderIndex, func(o client.Object) []string {
			return planHolders(o.(*learningv1alpha1.ActionPlan))
		}},
		{&learningv1alpha1.ProgramReport{}, reportProgramIndex, func(o client.Object) []string {
			ref := o.(*learningv1alpha1.ProgramReport).Spec.Program
			return []string{reportProgramKey(ref.Kind, string(ref.Name))}
		}},
	}
	for _, ix := range indexes {
		informer, err := mgr.GetCache().GetInformer(ctx, ix.obj, cache.BlockUntilSynced(false))
		if err != nil {
			return fmt.Errorf("indexing %T by %s: %w", ix.obj, ix.field, err)
		}
		if err := informer.AddIndexers(namespacedIndex(ix.field, ix.value)); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

// namespacedIndex is a field index that answers a cached List in one namespace with
// client.MatchingFields, as the manager's IndexField would, but keys each object by
// its namespace only. IndexField also keys every object for a List across all
// namespaces, which the reconcilers never make (a program lives in one namespace):
// that second entry of every membership, event, plan and report was a tenth of the
// manager's memory at scale. A List across namespaces with one of these fields
// finds nothing.
func namespacedIndex(field string, value func(client.Object) []string) toolscache.Indexers {
	return toolscache.Indexers{fieldIndexName(field): func(obj any) ([]string, error) {
		o, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("indexing %s: %T is not an object", field, obj)
		}
		if packed, ok := o.(*cachedResource); ok {
			typed, err := packed.unpack()
			if err != nil {
				// The informer's store panics on an index error; an object the cache
				// packed itself always unpacks, and one that did not would only be
				// missing from its lists.
				return nil, nil
			}
			o = typed
		}
		values := value(o)
		keys := make([]string, len(values))
		for i, v := range values {
			keys[i] = o.GetNamespace() + "/" + v
		}
		return keys, nil
	}}
}

// fieldIndexName is the name of the informers' index of field, as controller-runtime
// names it.
func fieldIndexName(field string) string { return "field:" + field }

func refName(ref *learningv1alpha1.LocalObjectReference) []string {
	if ref == nil {
		return nil
	}
	return []string{string(ref.Name)}
}

// planHolders are the planHolderIndex values of a plan.
func planHolders(p *learningv1alpha1.ActionPlan) []string {
	switch {
	case p.Spec.MembershipRef != nil:
		return []string{planHolderKey("membership", string(p.Spec.MembershipRef.Name))}
	case p.Spec.Team != nil:
		return []string{planHolderKey("cohort", string(p.Spec.Team.CohortRef.Name))}
	}
	return nil
}
