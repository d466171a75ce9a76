package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/randfill"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// decodedAsCached is obj as the cache's informers decode it from the API server's
// answer: through JSON.
func decodedAsCached[T client.Object](t testing.TB, obj T) T {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(T)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPackedRoundTrip packs randomly filled objects of every packed kind, as the cache
// decodes them, and checks that each unpacks to exactly the object the cache held
// before packing: every field, empty lists that are not nil, times and their
// location, and the metadata the copy answers for without unpacking.
func TestPackedRoundTrip(t *testing.T) {
	filler := randfill.New().NilChance(0.2).NumElements(0, 3).Funcs(
		func(tm *metav1.Time, c randfill.Continue) {
			*tm = metav1.Unix(c.Int63n(4_000_000_000)-1_000_000_000, 0)
		},
		func(d *metav1.Duration, c randfill.Continue) {
			d.Duration = time.Duration(c.Int63n(int64(1000 * time.Hour)))
		},
		func(m *metav1.ObjectMeta, c randfill.Continue) {
			c.FillNoCustom(m)
			m.ManagedFields = nil // the transform drops them
			if c.Bool() {
				m.ResourceVersion = fmt.Sprint(c.Uint32())
			}
			if c.Bool() {
				m.UID = types.UID(uuid.NewString())
			}
		},
	)
	for i := range 300 {
		for _, k := range packedKinds {
			obj := reflect.New(reflect.TypeOf(k.obj).Elem()).Interface().(client.Object)
			filler.Fill(obj)
			// Items of a list and objects of a watch event carry their kind, or not.
			gvk := packedGVKs[packedKindByType[reflect.TypeOf(obj)]]
			if i%2 == 1 {
				gvk = schema.GroupVersionKind{}
			}
			obj.GetObjectKind().SetGroupVersionKind(gvk)
			if e, ok := obj.(*learningv1alpha1.LearningEvent); ok {
				// Digests packed as the bytes they spell, and strings that only look like one.
				e.Status.ContentHash = fmt.Sprintf("%064x", rand.Uint64())
				e.Spec.Title = "0123456789abcdef0"
				e.Spec.Location = "0123456789ABCDEF"
				e.Spec.Description = "0123456789abcdeg"
				// Records that share a prefix with the one before, or all of it, or none.
				for j, member := range []string{"spring-0-m-01", "spring-0-m-02", "spring-0-m-02", "spring-0-m-1", "s", "", "spring-1"} {
					e.Spec.Attendance = append(e.Spec.Attendance, learningv1alpha1.AttendanceRecord{
						Member: learningv1alpha1.ObjectName(member), Status: []learningv1alpha1.AttendanceStatus{"Present", "Absent"}[j/3%2]})
				}
			}
			want := decodedAsCached(t, obj)
			if p, ok := any(want).(*learningv1alpha1.ActionPlan); ok {
				// The cache never holds a plan's private words (TestCachedPlanHoldsNoPrivateWords).
				withoutPrivateWords(p)
			}
			if i%5 == 0 {
				// Lists and maps present but empty are kept as such.
				want.SetLabels(map[string]string{})
				want.SetFinalizers([]string{})
			}
			cached, err := slimForCache(want.DeepCopyObject())
			if err != nil {
				t.Fatal(err)
			}
			c, ok := cached.(*cachedResource)
			if !ok {
				t.Fatalf("the cache holds a %T, not a packed copy", cached)
			}
			for _, shared := range []bool{true, false} {
				got := reflect.New(reflect.TypeOf(k.obj).Elem()).Interface().(client.Object)
				if err := c.into(got, shared); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("%T unpacked differs (-want +got):\n%s", want, cmp.Diff(want, got))
				}
			}
			for _, field := range []struct {
				name      string
				got, want any
			}{
				{"labels", c.GetLabels(), want.GetLabels()},
				{"uid", c.GetUID(), want.GetUID()},
				{"owners", c.GetOwnerReferences(), want.GetOwnerReferences()},
				{"finalizers", c.GetFinalizers(), want.GetFinalizers()},
				{"annotations", c.GetAnnotations(), want.GetAnnotations()},
				{"deletion", c.GetDeletionTimestamp(), want.GetDeletionTimestamp()},
				{"grace period", c.GetDeletionGracePeriodSeconds(), want.GetDeletionGracePeriodSeconds()},
				{"creation", c.GetCreationTimestamp(), want.GetCreationTimestamp()},
				{"generateName", c.GetGenerateName(), want.GetGenerateName()},
				{"selfLink", c.GetSelfLink(), want.GetSelfLink()},
				{"kind", c.GetObjectKind().GroupVersionKind(), packedGVKs[c.kind]},
				{"resourceVersion", c.GetResourceVersion(), want.GetResourceVersion()},
				{"generation", c.GetGeneration(), want.GetGeneration()},
				{"name", c.GetName(), want.GetName()},
				{"namespace", c.GetNamespace(), want.GetNamespace()},
			} {
				if !reflect.DeepEqual(field.got, field.want) {
					t.Fatalf("the %s of the packed %T is %v, the object's %v", field.name, want, field.got, field.want)
				}
			}
		}
	}
}

// TestPackedExact packs what a JSON round trip never gives the cache, but the encoding
// must still hold exactly or refuse: times in UTC and zero times behind pointers, UIDs
// not in the API server's form, and equal maps, which pack to equal bytes.
func TestPackedExact(t *testing.T) {
	m := benchMembership(1)
	m.Status.SeatedSince = &metav1.Time{}
	m.CreationTimestamp = metav1.NewTime(time.Date(2026, 12, 7, 9, 30, 0, 5, time.UTC))
	m.Labels = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
	m.Annotations = map[string]string{}
	for _, uid := range []types.UID{"not-a-uuid", "0F8C6B8E-5D4C-4BB6-9A51-3C2E8F7D6A10", ""} {
		m.UID = uid
		c, err := pack(packedKindByType[reflect.TypeOf(m)], m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.unpack()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("uid %q: unpacked differs (-want +got):\n%s", uid, cmp.Diff(m, got))
		}
		for range 5 {
			again, err := pack(packedKindByType[reflect.TypeOf(m)], m)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.data, c.data) {
				t.Fatal("the same object packed to different bytes")
			}
		}
	}
}

// TestPackedSize keeps the packed form of the scale benchmark's objects small: an
// attendance record whose membership is named like the one before it, with the same
// status, packs in a few bytes.
func TestPackedSize(t *testing.T) {
	for _, c := range []struct {
		obj client.Object
		max int
	}{{benchMembership(3), 160}, {benchGathering(3), 448}, {benchPlan(3), 384}} {
		cached, err := slimForCache(decodedAsCached(t, c.obj))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(cached.(*cachedResource).data); n > c.max {
			t.Errorf("a %T packs in %d bytes, more than %d", c.obj, n, c.max)
		}
	}
}

// TestPackedConditionsAreTheReadersOwn checks that a read that may change what it is
// given gets conditions of its own, and one that only reads shares the cache's.
func TestPackedConditionsAreTheReadersOwn(t *testing.T) {
	m := decodedAsCached(t, benchMembership(0))
	cached, err := slimForCache(m)
	if err != nil {
		t.Fatal(err)
	}
	c := cached.(*cachedResource)
	own := &learningv1alpha1.Membership{}
	if err := copyCached(c, own, false); err != nil {
		t.Fatal(err)
	}
	own.Status.Conditions[0].Message = "changed by the reader"
	again := &learningv1alpha1.Membership{}
	if err := copyCached(c, again, true); err != nil {
		t.Fatal(err)
	}
	if again.Status.Conditions[0].Message == "changed by the reader" {
		t.Error("changing a read object's conditions changed the cache's")
	}
	if &again.Status.Conditions[0] != &c.conditions[0] {
		t.Error("a read-only read did not share the cache's conditions")
	}
}

// TestPackedNotPacked checks that an object the codec cannot encode exactly is kept
// as decoded.
func TestPackedNotPacked(t *testing.T) {
	e := decodedAsCached(t, benchGathering(0))
	e.Spec.Start = metav1.NewTime(e.Spec.Start.In(time.FixedZone("elsewhere", 3600)))
	cached, err := slimForCache(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cached.(*learningv1alpha1.LearningEvent); !ok {
		t.Errorf("an event with a time in a fixed zone is cached as a %T", cached)
	}
	if _, err := (&cachedResource{data: []byte{2, 1}}).unpack(); err == nil {
		t.Error("a truncated packed object unpacked")
	}
}

// TestPackedReads reads packed objects through the manager's cache reader: by key, by
// namespace, by an indexed field, by labels; and refuses what the indexes cannot answer.
func TestPackedReads(t *testing.T) {
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	if err := store.AddIndexers(namespacedIndex(membershipCohortIndex, func(o client.Object) []string {
		return []string{string(o.(*learningv1alpha1.Membership).Spec.CohortRef.Name)}
	})); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		m := decodedAsCached(t, benchMembership(i))
		if i == 3 {
			m.Namespace = "other"
		}
		cached, err := slimForCache(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Add(cached); err != nil {
			t.Fatal(err)
		}
	}
	c := &childCache{Cache: innerCache{}, informers: &kindInformers{byType: map[reflect.Type][]toolscache.SharedIndexInformer{
		reflect.TypeFor[*learningv1alpha1.Membership](): {storeOnly{store: store}},
	}}}
	ctx := context.Background()
	got := &learningv1alpha1.Membership{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "spring-0-m-01"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Member != "u-ns-spring-0-m-01" || got.Status.Phase != learningv1alpha1.MembershipActive || got.APIVersion != "learning.cohort.dev/v1alpha1" {
		t.Errorf("read %+v", got)
	}
	// The cache-lag check reads a resourceVersion without unpacking.
	if v, found, err := c.cachedVersion(ctx, client.ObjectKey{Namespace: "ns", Name: "spring-0-m-01"}, &learningv1alpha1.Membership{}); v != got.ResourceVersion || !found || err != nil {
		t.Errorf("the cached version of spring-0-m-01: %q, %v, %v; want %q", v, found, err, got.ResourceVersion)
	}
	if v, found, err := c.cachedVersion(ctx, client.ObjectKey{Namespace: "ns", Name: "spring-0-m-09"}, &learningv1alpha1.Membership{}); found || err != nil {
		t.Errorf("the cached version of a membership the cache does not hold: %q, %v, %v", v, found, err)
	}
	list := &learningv1alpha1.MembershipList{}
	if err := c.List(ctx, list, client.InNamespace("ns"), client.MatchingFields{membershipCohortIndex: "spring-0"}, readOnly); err != nil {
		t.Fatal(err)
	}
	if names := memberNames(list); !slices.Equal(names, []string{"spring-0-m-00", "spring-0-m-01", "spring-0-m-02"}) {
		t.Errorf("the memberships of spring-0 in ns: %v", names)
	}
	if err := c.List(ctx, list, client.InNamespace("other")); err != nil || !slices.Equal(memberNames(list), []string{"spring-0-m-03"}) {
		t.Errorf("the memberships of other: %v, %v", memberNames(list), err)
	}
	if err := c.List(ctx, list, client.MatchingLabels{"team": "odd"}); err != nil || !slices.Equal(memberNames(list), []string{"spring-0-m-01", "spring-0-m-03"}) {
		t.Errorf("the memberships labelled team=odd: %v, %v", memberNames(list), err)
	}
	if err := c.List(ctx, list, client.MatchingFields{membershipCohortIndex: "spring-0"}); err == nil {
		t.Error("a list by field across namespaces was answered")
	}
	if err := c.List(ctx, list, client.InNamespace("ns"), client.MatchingFieldsSelector{Selector: fields.OneTermNotEqualSelector(membershipCohortIndex, "x")}); err == nil {
		t.Error("a list by a field not equal to a value was answered")
	}
}

func memberNames(list *learningv1alpha1.MembershipList) []string {
	names := make([]string, len(list.Items))
	for i, m := range list.Items {
		names[i] = m.Name
	}
	slices.Sort(names)
	return names
}

// TestCachedResourceSize keeps the packed copy's fixed part small.
func TestCachedResourceSize(t *testing.T) {
	if size := unsafe.Sizeof(cachedResource{}); size > 112 {
		t.Errorf("a cachedResource takes %d bytes, more than 112", size)
	}
}

// The objects of a cohort at the scale benchmark's shape, with the status the
// operator writes.

func benchConditions(reason string) []metav1.Condition {
	at := metav1.Unix(1767225600, 0)
	return []metav1.Condition{
		{Type: "Ready", Status: metav1.ConditionTrue, Reason: reason, Message: "everything holds", LastTransitionTime: at, ObservedGeneration: 1},
		{Type: "Seated", Status: metav1.ConditionTrue, Reason: "Seated", Message: "holds seat 4 of 20", LastTransitionTime: at, ObservedGeneration: 1},
	}
}

func benchMeta(name string, i int) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(uuid.NewString()), ResourceVersion: fmt.Sprint(100000 + i),
		Generation: 1, CreationTimestamp: metav1.Unix(1767225600+int64(i), 0)}
}

func benchMembership(i int) *learningv1alpha1.Membership {
	name := fmt.Sprintf("spring-%d-m-%02d", i/20, i%20)
	since := metav1.Unix(1767225600, 0)
	m := &learningv1alpha1.Membership{
		TypeMeta:   metav1.TypeMeta{APIVersion: "learning.cohort.dev/v1alpha1", Kind: "Membership"},
		ObjectMeta: benchMeta(name, i),
		Spec: learningv1alpha1.MembershipSpec{CohortRef: learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(fmt.Sprintf("spring-%d", i/20))},
			Member: "u-ns-" + name, DisplayName: "Person " + name, Role: "Member"},
		Status: learningv1alpha1.MembershipStatus{ObservedGeneration: 1, Conditions: benchConditions("Seated"), Phase: learningv1alpha1.MembershipActive,
			SeatedSince: &since, StartDate: "2026-01-01", EndDate: "2026-12-31",
			Attendance: &learningv1alpha1.AttendanceSummary{EligibleEvents: 12, Present: 10, Late: 1}},
	}
	if i%2 == 1 {
		m.Labels = map[string]string{"team": "odd"}
	}
	return m
}

func benchGathering(i int) *learningv1alpha1.LearningEvent {
	cohort := fmt.Sprintf("spring-%d", i/12)
	attendance := make([]learningv1alpha1.AttendanceRecord, 20)
	for m := range attendance {
		attendance[m] = learningv1alpha1.AttendanceRecord{Member: learningv1alpha1.ObjectName(fmt.Sprintf("%s-m-%02d", cohort, m)), Status: learningv1alpha1.AttendancePresent}
		if (m+i)%7 == 0 {
			attendance[m].Status = learningv1alpha1.AttendanceAbsent
		}
	}
	end := metav1.Unix(1767225600+int64(i)*1209600+5400, 0)
	return &learningv1alpha1.LearningEvent{
		TypeMeta:   metav1.TypeMeta{APIVersion: "learning.cohort.dev/v1alpha1", Kind: "LearningEvent"},
		ObjectMeta: benchMeta(fmt.Sprintf("%s-g-%02d", cohort, i%12+1), i),
		Spec: learningv1alpha1.LearningEventSpec{CohortRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort)},
			Type: learningv1alpha1.GatheringEvent, Title: fmt.Sprintf("Gathering %d", i%12+1), Start: metav1.Unix(1767225600+int64(i)*1209600, 0),
			Duration: metav1.Duration{Duration: 90 * time.Minute}, Location: "Virtual", Attendance: attendance},
		Status: learningv1alpha1.LearningEventStatus{ObservedGeneration: 1, Conditions: benchConditions("Ended"), Phase: learningv1alpha1.EventEnded, End: &end,
			ContentHash: fmt.Sprintf("%064x", rand.Uint64()),
			Attendance:  &learningv1alpha1.EventAttendance{Expected: 20, Present: 17, Absent: 3},
			Calendar:    &learningv1alpha1.EventCalendar{Sequence: 1, Hash: fmt.Sprintf("%064x", rand.Uint64()), Revised: &end}},
	}
}

func benchPlan(i int) *learningv1alpha1.ActionPlan {
	membership := fmt.Sprintf("spring-%d-m-%02d", i/20, i%20)
	due := learningv1alpha1.Date("2026-09-30")
	at := metav1.Unix(1767225600+int64(i), 0)
	return &learningv1alpha1.ActionPlan{
		TypeMeta:   metav1.TypeMeta{APIVersion: "learning.cohort.dev/v1alpha1", Kind: "ActionPlan"},
		ObjectMeta: benchMeta(membership+"-plan", i),
		Spec: learningv1alpha1.ActionPlanSpec{
			MembershipRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(membership)},
			Owner:         "u-ns-" + membership,
			Actions: []learningv1alpha1.PlannedAction{
				{ID: "listen", Title: "Hold a listening session with my team", Status: learningv1alpha1.ActionDone, Outcome: "Eight colleagues came; two asked for a follow-up."},
				{ID: "mentor", Title: "Mentor a new colleague", Due: &due, Status: learningv1alpha1.ActionInProgress},
			},
			CheckIns: []learningv1alpha1.CheckIn{{ID: "first", At: at, Author: "u-ns-" + membership,
				EventRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(fmt.Sprintf("spring-%d-g-01", i/20))},
				Progress: []learningv1alpha1.ActionProgress{{ActionID: "listen", Status: learningv1alpha1.ActionDone}},
				Learned:  "People speak up more in small groups."}},
		},
		Status: learningv1alpha1.ActionPlanStatus{ObservedGeneration: 1, Conditions: benchConditions("OnTrack"),
			Actions: &learningv1alpha1.ActionCounts{Total: 2, Done: 1}, NextDue: &due, LastCheckIn: &at},
	}
}

// BenchmarkCachedResourceMemory measures the bytes the cache holds per Membership,
// LearningEvent and ActionPlan of the scale benchmark's shape, decoded from JSON as
// the informers decode them: as the slimmed API type (typed) and packed.
func BenchmarkCachedResourceMemory(b *testing.B) {
	kinds := []struct {
		name string
		make func(int) client.Object
	}{
		{"Membership", func(i int) client.Object { return benchMembership(i) }},
		{"LearningEvent", func(i int) client.Object { return benchGathering(i) }},
		{"ActionPlan", func(i int) client.Object { return benchPlan(i) }},
	}
	const n = 5000
	for _, kind := range kinds {
		raw := make([][]byte, n)
		for i := range raw {
			var err error
			if raw[i], err = json.Marshal(kind.make(i)); err != nil {
				b.Fatal(err)
			}
		}
		for _, form := range []string{"typed", "packed"} {
			b.Run(kind.name+"/"+form, func(b *testing.B) {
				perObject := heapPerObject(b, func() []any {
					kept := make([]any, 0, n)
					for i := range n {
						obj := reflect.New(reflect.TypeOf(kind.make(0)).Elem()).Interface().(client.Object)
						if err := json.Unmarshal(raw[i], obj); err != nil {
							b.Fatal(err)
						}
						var cached any = obj
						if form == "packed" {
							var err error
							if cached, err = slimForCache(obj); err != nil {
								b.Fatal(err)
							}
						} else {
							slimTyped(obj)
						}
						kept = append(kept, cached)
					}
					return kept
				})
				b.ReportMetric(perObject, "B/object")
			})
		}
	}
}

// slimTyped slims obj as the cache did before it packed the kinds there are
// thousands of.
func slimTyped(obj client.Object) {
	obj.SetManagedFields(nil)
	internMeta(obj)
	compactDecoded(obj)
}

// BenchmarkPackedRead measures what a read from the cache costs per object: unpacking
// a Membership, a LearningEvent with 20 attendance records and an ActionPlan of the
// scale benchmark's shape, as a read-only List does.
func BenchmarkPackedRead(b *testing.B) {
	for _, obj := range []client.Object{benchMembership(1), benchGathering(1), benchPlan(1)} {
		cached, err := slimForCache(decodedAsCached(b, obj))
		if err != nil {
			b.Fatal(err)
		}
		c := cached.(*cachedResource)
		b.Run(packedGVKs[c.kind].Kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out := reflect.New(c.goType().Elem()).Interface().(client.Object)
				if err := c.into(out, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// heapPerObject runs b's loop over keep and returns the heap the objects it returns
// hold, per object, once collected.
func heapPerObject(b *testing.B, keep func() []any) float64 {
	var perObject float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		kept := keep()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perObject = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(kept))
		runtime.KeepAlive(kept)
	}
	return perObject
}
