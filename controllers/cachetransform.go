package controllers

import (
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unique"
	"unsafe"
	"weak"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
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
		d.Obj = slim(d.Obj)
		return d, nil
	}
	return slim(obj), nil
}

// slim slims obj in place and returns it, or returns the compact copy of a provisioned
// object (packChild) or the packed copy of a custom resource (cachedResource).
func slim(obj any) any {
	switch obj.(type) {
	case *cachedChild, *cachedResource:
		return obj // transformed before, on a resync
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return obj
	}
	child, isChild := obj.(client.Object)
	// Before managedFields go: it reads them.
	isChild = isChild && slimChild(child)
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a != nil {
		if _, ok := a[lastAppliedAnnotation]; ok {
			delete(a, lastAppliedAnnotation)
			m.SetAnnotations(a)
		}
	}
	if p, ok := obj.(*learningv1alpha1.ActionPlan); ok {
		withoutPrivateWords(p)
	}
	if o, ok := obj.(conditioned); ok {
		if kind, ok := packedKindByType[reflect.TypeOf(obj)]; ok {
			// Its labels and owners are packed with it: only the namespace is shared.
			o.SetNamespace(intern(o.GetNamespace()))
			o.SetConditions(compactConditions(o.GetConditions()))
			if packed, err := pack(kind, o); err == nil {
				return packed
			}
		}
	}
	internMeta(m)
	if isChild {
		return packChild(child) // its metadata interned
	}
	compactDecoded(obj)
	return obj
}

// compactDecoded makes a custom resource kept as decoded (one the packed encoding
// cannot hold exactly) share its repeated strings and hold no spare capacity.
func compactDecoded(obj any) {
	switch o := obj.(type) {
	case *learningv1alpha1.CommunityOfPractice:
		o.Status.Conditions = compactConditions(o.Status.Conditions)
	case *learningv1alpha1.Cohort:
		o.Status.Conditions = compactConditions(o.Status.Conditions)
		o.Status.StartDate, o.Status.EndDate = intern(o.Status.StartDate), intern(o.Status.EndDate)
	case *learningv1alpha1.Membership:
		compactMembership(o)
	case *learningv1alpha1.LearningEvent:
		compactEvent(o)
	case *learningv1alpha1.ActionPlan:
		compactPlan(o)
	case *learningv1alpha1.ProgramReport:
		compactReport(o)
	}
}

// compactMembership makes a Membership's strings that repeat across memberships share
// one copy.
func compactMembership(o *learningv1alpha1.Membership) {
	o.Name = intern(o.Name)
	o.Spec.CohortRef.Name = intern(o.Spec.CohortRef.Name)
	o.Spec.Role = intern(o.Spec.Role)
	o.Status.Conditions = compactConditions(o.Status.Conditions)
	o.Status.Phase = intern(o.Status.Phase)
	o.Status.StartDate, o.Status.EndDate = intern(o.Status.StartDate), intern(o.Status.EndDate)
}

// compactEvent makes a LearningEvent's strings that repeat across events share one
// copy (the schedule's titles, types, time zones, places; the attendance records'
// members and statuses) and its lists hold no spare capacity.
func compactEvent(o *learningv1alpha1.LearningEvent) {
	if o.Spec.CohortRef != nil {
		o.Spec.CohortRef.Name = intern(o.Spec.CohortRef.Name)
	}
	if o.Spec.CommunityRef != nil {
		o.Spec.CommunityRef.Name = intern(o.Spec.CommunityRef.Name)
	}
	o.Spec.Type, o.Spec.Title, o.Spec.TimeZone = intern(o.Spec.Type), intern(o.Spec.Title), intern(o.Spec.TimeZone)
	o.Spec.Location, o.Spec.Audience = intern(o.Spec.Location), intern(o.Spec.Audience)
	o.Spec.Attendance = clip(o.Spec.Attendance)
	for i := range o.Spec.Attendance {
		a := &o.Spec.Attendance[i]
		a.Member = intern(a.Member)
		a.Status = intern(a.Status)
	}
	o.Status.Conditions = compactConditions(o.Status.Conditions)
	o.Status.Phase = intern(o.Status.Phase)
}

// withoutPrivateWords leaves out of the cache's copy of a plan the people's words the
// manager never reads: each action's title, description and outcome, and what a
// check-in that is not shared learned and will adjust. The manager counts and dates
// actions and publishes only shared reflections (the cohort's agenda), so its memory
// holds no private text of a plan; the owner and the partner read it from the API
// server. The manager never writes a plan's spec (its status patches carry only what
// changed in the status), so nothing left out here is lost.
func withoutPrivateWords(o *learningv1alpha1.ActionPlan) {
	for i := range o.Spec.Actions {
		a := &o.Spec.Actions[i]
		a.Title, a.Description, a.Outcome = "", "", ""
	}
	for i := range o.Spec.CheckIns {
		if c := &o.Spec.CheckIns[i]; !c.Shared {
			c.Learned, c.Adjust = "", ""
		}
	}
}

// compactPlan makes an ActionPlan's repeated strings (its membership, the actions'
// IDs, due days and statuses, the events of check-ins) share one copy and its
// lists hold no spare capacity.
func compactPlan(o *learningv1alpha1.ActionPlan) {
	if o.Spec.MembershipRef != nil {
		o.Spec.MembershipRef.Name = intern(o.Spec.MembershipRef.Name)
	}
	o.Spec.Actions = clip(o.Spec.Actions)
	for i := range o.Spec.Actions {
		a := &o.Spec.Actions[i]
		a.ID, a.Status, a.Due = intern(a.ID), intern(a.Status), internPtr(a.Due)
	}
	o.Spec.CheckIns = clip(o.Spec.CheckIns)
	for i := range o.Spec.CheckIns {
		c := &o.Spec.CheckIns[i]
		if c.EventRef != nil {
			c.EventRef.Name = intern(c.EventRef.Name)
		}
		c.Progress = clip(c.Progress)
		for j := range c.Progress {
			c.Progress[j].ActionID, c.Progress[j].Status = intern(c.Progress[j].ActionID), intern(c.Progress[j].Status)
		}
	}
	o.Status.Conditions = compactConditions(o.Status.Conditions)
}

// compactReport makes a ProgramReport's repeated strings (its program, period and
// phase, the KPIs' names, directions and verdicts) share one copy and its lists hold
// no spare capacity. Its narrative is the approvers' own words and stays as it is.
func compactReport(o *learningv1alpha1.ProgramReport) {
	o.Spec.Program.Kind, o.Spec.Program.Name = intern(o.Spec.Program.Kind), intern(o.Spec.Program.Name)
	o.Spec.Period = intern(o.Spec.Period)
	o.Status.Phase = intern(o.Status.Phase)
	o.Status.From, o.Status.Until = intern(o.Status.From), intern(o.Status.Until)
	o.Status.KPIs = clip(o.Status.KPIs)
	for i := range o.Status.KPIs {
		k := &o.Status.KPIs[i]
		k.Name, k.Qualifier, k.Direction, k.Verdict = intern(k.Name), intern(k.Qualifier), intern(k.Direction), intern(k.Verdict)
	}
	o.Status.Conditions = compactConditions(o.Status.Conditions)
}

// internMeta makes the metadata that repeats across objects share one copy: the
// kind and API version (the items of a list carry them), the namespace and
// finalizers, and the label sets and owner references whole, which the objects a
// cohort provisions have in common by the dozen.
func internMeta(m metav1.Object) {
	if o, ok := m.(kruntime.Object); ok {
		if t, ok := o.GetObjectKind().(*metav1.TypeMeta); ok {
			t.APIVersion, t.Kind = intern(t.APIVersion), intern(t.Kind)
		}
	}
	m.SetNamespace(intern(m.GetNamespace()))
	if labels := m.GetLabels(); labels != nil {
		m.SetLabels(sharedLabels.get(labels))
	}
	if refs := m.GetOwnerReferences(); refs != nil {
		m.SetOwnerReferences(sharedOwners.get(refs))
	}
	finalizers := m.GetFinalizers()
	for i := range finalizers {
		finalizers[i] = intern(finalizers[i])
	}
}

// maxSharedValues bounds each table of shared label sets and owner references: a
// cohort has a few label sets and one owner, so the tables hold every value a cluster
// of 10,000 cohorts has in common; values past the bound are simply not shared.
const maxSharedValues = 1 << 16

var (
	sharedLabels = &sharedValues[map[string]string]{key: labelsKey, values: map[string]map[string]string{}}
	sharedOwners = &sharedValues[[]metav1.OwnerReference]{key: ownersKey, values: map[string][]metav1.OwnerReference{}}
)

// sharedValues hands out one canonical copy of equal label sets (or owner reference
// lists). The cache's objects are read-only, so objects may share a map or a slice:
// the informers replace an object on every change rather than change it, and the
// reconciler deep-copies whatever it changes.
type sharedValues[V any] struct {
	key    func(V) string
	mu     sync.Mutex
	values map[string]V
}

func (t *sharedValues[V]) get(v V) V {
	k := t.key(v)
	t.mu.Lock()
	defer t.mu.Unlock()
	if shared, ok := t.values[k]; ok {
		return shared
	}
	if len(t.values) < maxSharedValues {
		t.values[k] = v
	}
	return v
}

// labelsKey is the label set in key order, each key and value followed by a zero
// byte, which neither may hold.
func labelsKey(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}

// ownersKey is the owner references in order, every field of each.
func ownersKey(refs []metav1.OwnerReference) string {
	var b strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\x00%v\x00%v\x00", r.APIVersion, r.Kind, r.Name, r.UID, ptr.Deref(r.Controller, false), ptr.Deref(r.BlockOwnerDeletion, false))
		if r.Controller == nil || r.BlockOwnerDeletion == nil {
			fmt.Fprintf(&b, "%v%v\x00", r.Controller == nil, r.BlockOwnerDeletion == nil)
		}
	}
	return b.String()
}

// compactConditions returns the conditions without spare capacity (a decoded list
// grows by doubling), their strings sharing one copy with every equal string of the
// cache, and the list itself shared with every equal list (see conditionLists).
func compactConditions(conditions []metav1.Condition) []metav1.Condition {
	if len(conditions) == 0 {
		return conditions
	}
	key := sharedConditions.key(conditions)
	if shared, ok := sharedConditions.find(key, conditions); ok {
		return shared
	}
	conditions = clip(conditions)
	for i := range conditions {
		c := &conditions[i]
		c.Type = intern(c.Type)
		c.Status = intern(c.Status)
		c.Reason = intern(c.Reason)
		c.Message = intern(c.Message)
	}
	return sharedConditions.store(key, conditions)
}

// sharedConditions are the condition lists the cache's objects have in common.
var sharedConditions = &conditionLists{seed: maphash.MakeSeed(), byKey: map[uint64]weakConditions{}}

// conditionLists hands out one canonical copy of equal condition lists. The objects
// one pass evaluates get their conditions at the same second, with the same reasons
// and messages (a cohort's members are seated as Member, hold one of 20 seats, run to
// the same end of term, attend at one of a few rates), so their lists are equal by
// the dozen; at scale the conditions are the largest part of the cached memberships
// and plans. A list is held weakly: once no cached object holds it, it is collected
// and forgotten. The cache's objects are read-only, so objects may share it (the
// evaluation deep-copies a status before it changes it).
type conditionLists struct {
	seed  maphash.Seed
	mu    sync.Mutex
	byKey map[uint64]weakConditions
}

// weakConditions is a canonical list, by its first element and length.
type weakConditions struct {
	first weak.Pointer[metav1.Condition]
	n     int
}

// key hashes every field of every condition of the list.
func (t *conditionLists) key(conditions []metav1.Condition) uint64 {
	var h maphash.Hash
	h.SetSeed(t.seed)
	for i := range conditions {
		maphash.WriteComparable(&h, conditions[i])
	}
	return h.Sum64()
}

// find returns the canonical list equal to conditions, whose key is given.
func (t *conditionLists) find(key uint64, conditions []metav1.Condition) ([]metav1.Condition, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.byKey[key]
	if !ok {
		return nil, false
	}
	first := w.first.Value()
	if first == nil {
		return nil, false
	}
	// The canonical list was made without spare capacity, so its length is its size.
	shared := unsafe.Slice(first, w.n)
	return shared, slices.Equal(shared, conditions)
}

// store makes conditions the canonical list of its key, unless a live list that
// differs holds the key (two lists whose hashes collide are simply not shared), and
// returns the canonical list.
func (t *conditionLists) store(key uint64, conditions []metav1.Condition) []metav1.Condition {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.byKey[key]; ok {
		if first := w.first.Value(); first != nil {
			if shared := unsafe.Slice(first, w.n); slices.Equal(shared, conditions) {
				return shared
			}
			return conditions
		}
	}
	t.byKey[key] = weakConditions{first: weak.Make(&conditions[0]), n: len(conditions)}
	runtime.AddCleanup(&conditions[0], t.forget, key)
	return conditions
}

// forget drops the key of a canonical list that has been collected.
func (t *conditionLists) forget(key uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.byKey[key]; ok && w.first.Value() == nil {
		delete(t.byKey, key)
	}
}

// clip returns s, or a copy of it without spare capacity when it has some: the
// decoder grows lists by doubling, so a list of 20 attendance records holds room for 32.
func clip[T any](s []T) []T {
	if cap(s) == len(s) {
		return s
	}
	return slices.Clone(s)
}

// intern returns the canonical copy of s; canonical copies nobody holds any more are
// collected.
func intern[S ~string](s S) S {
	if s == "" {
		return s
	}
	return S(unique.Make(string(s)).Value())
}

// internPtr points to the canonical copy of *p, or is nil when p is.
func internPtr[S ~string](p *S) *S {
	if p == nil {
		return nil
	}
	v := intern(*p)
	return &v
}
