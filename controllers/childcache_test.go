package controllers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// liveChild gives obj the metadata the API server and others write: a UID, a
// resourceVersion, a creation time, owner, annotations and managedFields.
func liveChild[T client.Object](obj T) T {
	obj.SetUID("0f8c6b8e-5d4c-4bb6-9a51-3c2e8f7d6a10")
	obj.SetResourceVersion("48213")
	obj.SetCreationTimestamp(metav1.Unix(1767225600, 0))
	obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "learning.cohort.dev/v1alpha1", Kind: "Cohort", Name: "spring", UID: "1d1f0f57-6f53-4a4c-b0a1-6c1ef7a8e0b2", Controller: new(true), BlockOwnerDeletion: new(true)}})
	obj.SetAnnotations(map[string]string{"reviewed-by": "ada"})
	obj.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: fieldOwner, Operation: metav1.ManagedFieldsOperationApply}})
	return obj
}

// slimmedAs is what the cache held of live before its copies were compact: live with
// its content replaced by the digest, without annotations, managedFields or creation
// time (which provisioning never reads).
func slimmedAs[T client.Object](live T, strip func(T)) T {
	want := live.DeepCopyObject().(T)
	want.SetGenerateName(cachedState(contentDigest(live)))
	want.SetAnnotations(nil)
	want.SetManagedFields(nil)
	want.SetCreationTimestamp(metav1.Time{})
	strip(want)
	return want
}

// TestCachedChildCopies: the cache turns each slimmed provisioned object into a
// compact copy, and a read of the copy gives back the slimmed object: metadata,
// content digest, a Deployment's generation and replica counts. A UID or
// resourceVersion of an unusual form survives too.
func TestCachedChildCopies(t *testing.T) {
	labels := map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentPlans}
	role := liveChild(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-plan-ada", Labels: labels},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"learning.cohort.dev"}, Resources: []string{"actionplans"}, ResourceNames: []string{"ada"}, Verbs: []string{"get"}}}})
	binding := liveChild(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-plan-ada", Labels: labels},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "spring-plan-ada"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "ada"}}})
	deploy := liveChild(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-portal", Generation: 3,
		Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentPortal}},
		Spec:   appsv1.DeploymentSpec{Replicas: new(int32(2))},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}}}})
	deleting := liveChild(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-roster", Labels: labels, DeletionTimestamp: new(metav1.Unix(1767229200, 0))},
		Data: map[string]string{"roster.csv": "ada"}})
	odd := liveChild(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-portal", Labels: labels}})
	odd.SetUID("not-a-uuid")
	odd.SetResourceVersion("v7")

	check := func(name string, cached any, out, want client.Object) {
		t.Helper()
		if _, ok := cached.(*cachedChild); !ok {
			t.Errorf("%s: the cache holds a %T, not a compact copy", name, cached)
			return
		}
		if err := copyCached(cached, out, false); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("%s: read back (-want +got):\n%s", name, diff)
		}
	}
	cached := func(obj client.Object) any {
		c, err := slimForCache(obj.DeepCopyObject())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	check("Role", cached(role), &rbacv1.Role{}, slimmedAs(role, func(r *rbacv1.Role) { r.Rules = nil }))
	check("RoleBinding", cached(binding), &rbacv1.RoleBinding{}, slimmedAs(binding, func(b *rbacv1.RoleBinding) {
		b.Subjects, b.RoleRef = nil, rbacv1.RoleRef{}
	}))
	check("Deployment", cached(deploy), &appsv1.Deployment{}, slimmedAs(deploy, func(d *appsv1.Deployment) {
		d.Spec, d.Status.Conditions = appsv1.DeploymentSpec{}, nil
	}))
	check("deleted ConfigMap", cached(deleting), &corev1.ConfigMap{}, slimmedAs(deleting, func(c *corev1.ConfigMap) { c.Data = nil }))
	check("ServiceAccount", cached(odd), &corev1.ServiceAccount{}, slimmedAs(odd, func(*corev1.ServiceAccount) {}))

	// A watch event's object is the copy itself: what the child watches read of it.
	c := cached(deploy).(*cachedChild)
	if n, ok := availableReplicas(c); !ok || n != 1 {
		t.Errorf("available replicas of the cached Deployment: %d (%v), want 1", n, ok)
	}
	if refOf(c) != refOf(deploy) {
		t.Errorf("the cached Deployment is %+v to the record of applies, the Deployment %+v", refOf(c), refOf(deploy))
	}
	if digest, slimmed := cachedDigest(c); !slimmed || digest != contentDigest(deploy) {
		t.Errorf("the cached Deployment's digest %q (slimmed %v), want %s", digest, slimmed, contentDigest(deploy))
	}
	if again, _ := slimForCache(c); again != any(c) {
		t.Error("a compact copy transformed again (a resync) is not kept as it is")
	}
	if err := c.into(&rbacv1.Role{}); err == nil {
		t.Error("the cached Deployment was read into a Role")
	}

	// What is not a slimmed child is kept as it is.
	approvers := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "allyship-approvers", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentApprovals}},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "ada"}}}
	if c, ok := cached(approvers).(*rbacv1.RoleBinding); !ok || len(c.Subjects) != 1 {
		t.Errorf("the approvers' binding is cached as %T", cached(approvers))
	}
}

// TestCachedChildSize: the compact copy stays within one 128-byte allocation: at scale
// the cache holds tens of thousands of them.
func TestCachedChildSize(t *testing.T) {
	if size := unsafe.Sizeof(cachedChild{}); size > 128 {
		t.Errorf("a cachedChild takes %d bytes, more than 128", size)
	}
}

// storeOnly is an informer whose store is filled by hand and counts as synced.
type storeOnly struct {
	toolscache.SharedIndexInformer
	store toolscache.Indexer
}

func (s storeOnly) GetIndexer() toolscache.Indexer { return s.store }
func (s storeOnly) HasSynced() bool                { return true }

// innerCache stands for controller-runtime's cache: it says which reads it was asked
// for.
type innerCache struct {
	cache.Cache
}

var errInner = errors.New("read from the inner cache")

func (c innerCache) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return nil, nil
}
func (c innerCache) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errInner
}
func (c innerCache) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errInner
}

// TestChildCacheReads: the manager's cache reads provisioned objects from their
// compact copies, by name and by namespace and labels, from the informer of the whole
// cluster or from those of each namespace it watches, and every other kind from
// controller-runtime's cache.
func TestChildCacheReads(t *testing.T) {
	newStore := func(objs ...client.Object) toolscache.SharedIndexInformer {
		store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
		for _, obj := range objs {
			cached, err := slimForCache(obj)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.Add(cached); err != nil {
				t.Fatal(err)
			}
		}
		return storeOnly{store: store}
	}
	role := func(ns, name, cohort string) *rbacv1.Role {
		return liveChild(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentPlans, CohortLabel: cohort}}})
	}
	approvers := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "allyship-approvers", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentApprovals}},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "ada"}}}
	kindOf := func(obj client.Object) reflect.Type { return reflect.TypeOf(obj) }
	// The Roles as a cache of two namespaces holds them, an informer each.
	c := &childCache{Cache: innerCache{}, informers: &kindInformers{byType: map[reflect.Type][]toolscache.SharedIndexInformer{
		kindOf(&rbacv1.Role{}):        {newStore(role("ns", "spring-plan-ada", "spring"), role("ns", "autumn-plan-bo", "autumn")), newStore(role("other", "spring-plan-cy", "spring"))},
		kindOf(&rbacv1.RoleBinding{}): {newStore(approvers)},
	}}}
	ctx := context.Background()
	if err := c.Get(ctx, client.ObjectKey{Namespace: "other", Name: "spring-plan-cy"}, &rbacv1.Role{}); err != nil {
		t.Errorf("a Role of the second namespace's informer: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "spring"}, &corev1.ConfigMap{}); err == nil {
		t.Error("a ConfigMap was read though the cache made no informer of ConfigMaps")
	}

	got := &rbacv1.Role{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "spring-plan-ada"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "spring-plan-ada" || got.UID != "0f8c6b8e-5d4c-4bb6-9a51-3c2e8f7d6a10" || got.ResourceVersion != "48213" {
		t.Errorf("read %s uid %s version %s", got.Name, got.UID, got.ResourceVersion)
	}
	got.Labels["changed"] = "by the reader" // a read is the reader's own
	again := &rbacv1.Role{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "spring-plan-ada"}, again); err != nil || again.Labels["changed"] != "" {
		t.Errorf("changing a read object changed the cache's copy: %v %v", again.Labels, err)
	}
	err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "spring-plan-cy"}, &rbacv1.Role{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("a Role of another namespace: %v, want not found", err)
	}
	whole := &rbacv1.RoleBinding{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(approvers), whole); err != nil || len(whole.Subjects) != 1 {
		t.Errorf("the approvers' binding, kept whole, read as %+v: %v", whole, err)
	}

	list := &rbacv1.RoleList{}
	if err := c.List(ctx, list, client.InNamespace("ns"), client.MatchingLabels{CohortLabel: "spring"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "spring-plan-ada" || list.Items[0].UID == "" {
		t.Errorf("the spring Roles of ns: %+v", list.Items)
	}
	if err := c.List(ctx, list); err != nil || len(list.Items) != 3 {
		t.Errorf("every Role: %d, %v; want 3", len(list.Items), err)
	}
	if err := c.List(ctx, list, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", "x")}); err == nil {
		t.Error("a list of provisioned objects by field was answered")
	}

	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "x"}, &corev1.Secret{}); !errors.Is(err, errInner) {
		t.Errorf("a Secret was not read from the inner cache: %v", err)
	}
	if err := c.List(ctx, &corev1.SecretList{}); !errors.Is(err, errInner) {
		t.Errorf("Secrets were not listed from the inner cache: %v", err)
	}
}

// BenchmarkCachedChildMemory reports what the cache holds per provisioned object:
// a member's plan Role and RoleBinding, decoded as the informer decodes them (strings
// of their own), slimmed and kept either as the typed object ("typed", as the cache
// held them before) or as the compact copy ("compact"). The figure is the live heap
// after a collection, per object, without the store's key and indexes.
func BenchmarkCachedChildMemory(b *testing.B) {
	dup := func(s string) string { return string([]byte(s)) }
	decoded := func(i int) []client.Object {
		name := dup(fmt.Sprintf("spring-%d-plan-member-%02d", i/20, i%20))
		meta := func() metav1.ObjectMeta {
			return metav1.ObjectMeta{Namespace: dup("ns"), Name: dup(name), UID: types.UID(uuid.NewString()), ResourceVersion: dup(strconv.Itoa(100000 + i)),
				CreationTimestamp: metav1.Unix(1767225600, 0),
				Labels:            map[string]string{dup(ManagedByLabel): dup(ManagedBy), dup(ComponentLabel): dup(componentPlans), dup(CohortLabel): dup(fmt.Sprintf("spring-%d", i/20))},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: dup("learning.cohort.dev/v1alpha1"), Kind: dup("Cohort"), Name: dup(fmt.Sprintf("spring-%d", i/20)),
					UID: types.UID(dup(fmt.Sprintf("1d1f0f57-6f53-4a4c-b0a1-%012d", i/20))), Controller: new(true), BlockOwnerDeletion: new(true)}},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: dup(fieldOwner), Operation: metav1.ManagedFieldsOperationApply}}}
		}
		return []client.Object{
			&rbacv1.Role{ObjectMeta: meta(), Rules: []rbacv1.PolicyRule{{APIGroups: []string{dup("learning.cohort.dev")}, Resources: []string{dup("actionplans")}, ResourceNames: []string{name}, Verbs: []string{dup("get"), dup("update"), dup("patch")}}}},
			&rbacv1.RoleBinding{ObjectMeta: meta(), RoleRef: rbacv1.RoleRef{APIGroup: dup(rbacv1.GroupName), Kind: dup("Role"), Name: dup(name)},
				Subjects: []rbacv1.Subject{{Kind: dup(rbacv1.UserKind), APIGroup: dup(rbacv1.GroupName), Name: dup("u-" + name)}}},
		}
	}
	const n = 20000
	for _, form := range []string{"typed", "compact"} {
		b.Run(form, func(b *testing.B) {
			perObject := heapPerObject(b, func() []any {
				kept := make([]any, 0, 2*n)
				for i := range n {
					for _, obj := range decoded(i) {
						if form == "typed" {
							slimChild(obj)
							obj.SetManagedFields(nil)
							internMeta(obj)
							kept = append(kept, obj)
							continue
						}
						cached, err := slimForCache(obj)
						if err != nil {
							b.Fatal(err)
						}
						kept = append(kept, cached)
					}
				}
				return kept
			})
			b.ReportMetric(perObject, "B/object")
		})
	}
}

// TestForgedCachedState: generateName is anyone's to write, so a Role edited by hand
// to look like the cache's copy of its declaration (a generateName of "#" and the
// declared content's digest) is still compared by what it holds: in the cache's
// transform, when read whole from the cache or the API server, and by the record of
// the manager's own applies.
func TestForgedCachedState(t *testing.T) {
	declared := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-plan-ada", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentPlans}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"learning.cohort.dev"}, Resources: []string{"actionplans"}, ResourceNames: []string{"ada"}, Verbs: []string{"get"}}},
	}
	forged := liveChild(declared.DeepCopy())
	forged.Rules = append(forged.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}})
	forged.GenerateName = cachedState(contentDigest(declared))

	if childMatches(declared, cachedAs(t, forged)) {
		t.Error("the cache took the forged generateName for the Role's content")
	}
	fullRead := forged.DeepCopy()
	fromAPIServer(fullRead)
	if childMatches(declared, fullRead) {
		t.Error("a full read with the forged generateName matches the declaration")
	}
	// A digest of the wrong length is not taken either, nor does it break the cache.
	long := forged.DeepCopy()
	long.GenerateName = cachedState(strings.Repeat("A", 64))
	if childMatches(declared, cachedAs(t, long)) {
		t.Error("a Role with a long forged digest matches its declaration")
	}

	// The approvers' binding is cached whole, as the API server answered it.
	approvers := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "allyship-approvers", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentApprovals}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "approver"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "ada"}}}
	widened := liveChild(approvers.DeepCopy())
	widened.Subjects = append(widened.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"})
	widened.GenerateName = cachedState(contentDigest(approvers))
	if childMatches(approvers, cachedAs(t, widened)) {
		t.Error("the approvers' binding with a subject added and a forged generateName matches its declaration")
	}

	var lag cacheLag
	var verified verifiedChildren
	lag.applying(declared)
	if lag.echoes(forged, &verified) {
		t.Error("a watch event of the forged Role is taken for the echo of the manager's apply")
	}
	echo, err := slimForCache(liveChild(declared.DeepCopy()))
	if err != nil {
		t.Fatal(err)
	}
	if !lag.echoes(echo.(client.Object), &verified) {
		t.Error("the cache's copy of the Role as applied is not taken for the echo of the apply")
	}
}
