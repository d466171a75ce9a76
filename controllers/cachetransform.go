package controllers

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// lastAppliedAnnotation holds a full copy of an object applied with client-side
// kubectl apply; the operator never reads it.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// slimForCache is the cache's transform of every object it stores. It drops what the
// reconciler never reads, managedFields and kubectl's copy of the last applied
// configuration, which together can be larger than the object itself, and makes the
// strings that repeat across thousands of objects (condition types, reasons and
// messages; the membership names and statuses of attendance records) share one copy.
// The cache holds every Membership and LearningEvent of the cluster, so these are most
// of the manager's memory.
func slimForCache(obj any) (any, error) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		slim(d.Obj)
		return d, nil
	}
	slim(obj)
	return obj, nil
}

func slim(obj any) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	if child, ok := obj.(client.Object); ok {
		slimChild(child) // before managedFields go: it reads them
	}
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a != nil {
		if _, ok := a[lastAppliedAnnotation]; ok {
			delete(a, lastAppliedAnnotation)
			m.SetAnnotations(a)
		}
	}
	internMeta(m)
	switch o := obj.(type) {
	case *learningv1alpha1.CommunityOfPractice:
		internConditions(o.Status.Conditions)
	case *learningv1alpha1.Cohort:
		internConditions(o.Status.Conditions)
	case *learningv1alpha1.Membership:
		o.Name = intern(o.Name)
		o.Spec.CohortRef.Name = intern(o.Spec.CohortRef.Name)
		internConditions(o.Status.Conditions)
	case *learningv1alpha1.LearningEvent:
		for i := range o.Spec.Attendance {
			a := &o.Spec.Attendance[i]
			a.Member = intern(a.Member)
			a.Status = intern(a.Status)
		}
		internConditions(o.Status.Conditions)
	case *learningv1alpha1.ActionPlan:
		if o.Spec.MembershipRef != nil {
			o.Spec.MembershipRef.Name = intern(o.Spec.MembershipRef.Name)
		}
		internConditions(o.Status.Conditions)
	case *learningv1alpha1.ProgramReport:
		internConditions(o.Status.Conditions)
	}
}

// internMeta makes the metadata strings that repeat across objects (the namespace,
// label keys and values, owner references, finalizers) share one copy.
func internMeta(m metav1.Object) {
	m.SetNamespace(intern(m.GetNamespace()))
	if labels := m.GetLabels(); labels != nil {
		interned := make(map[string]string, len(labels))
		for k, v := range labels {
			interned[intern(k)] = intern(v)
		}
		m.SetLabels(interned)
	}
	refs := m.GetOwnerReferences()
	for i := range refs {
		refs[i].APIVersion, refs[i].Kind, refs[i].Name = intern(refs[i].APIVersion), intern(refs[i].Kind), intern(refs[i].Name)
	}
	finalizers := m.GetFinalizers()
	for i := range finalizers {
		finalizers[i] = intern(finalizers[i])
	}
}

// internConditions makes the conditions' strings share one copy with every equal
// string of the cache.
func internConditions(conditions []metav1.Condition) {
	for i := range conditions {
		c := &conditions[i]
		c.Type = intern(c.Type)
		c.Status = intern(c.Status)
		c.Reason = intern(c.Reason)
		c.Message = intern(c.Message)
	}
}

// intern returns the canonical copy of s; canonical copies nobody holds any more are
// collected.
func intern[S ~string](s S) S {
	return S(unique.Make(string(s)).Value())
}
