package controllers

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// How the cache holds provisioned objects.
//
// Slimmed (slimChild), a provisioned object still cost its kind's whole Go struct:
// a Role or a RoleBinding is about 300 bytes before its name, UID, resourceVersion and
// digest, and at scale the cache holds tens of thousands of them (every member with a
// plan has a Role and a RoleBinding of their own). The cache's transform therefore
// turns a slimmed child into a cachedChild, which keeps exactly what provisioning
// reads, in a third of that (BenchmarkCachedChildMemory): its name and namespace, UID,
// resourceVersion, labels and owners (shared with every equal set), deletion time,
// content digest and, for a Deployment, its generation and replica counts.
//
// controller-runtime's cache reader only hands out what its store holds, so the
// manager's cache (NewCache) reads the provisioned kinds itself, from the stores of
// their informers (one for the cluster, or one per watched namespace): a Get or a List
// rebuilds, from the cached copy, the slimmed object of the kind asked for, as the
// cache held it before. Watch events carry the cachedChild itself; it is a
// client.Object, which is all the child watches need (names, labels, owners,
// generation, the digest as generateName), and availableReplicas reads a Deployment's
// either way. Only a cachedChild is trusted for a digest: a generateName that looks
// like one on an object from the API server is anyone's (see cachedStateMarker).

// childKind indexes childKinds.
type childKind uint8

// childKindByType finds a provisioned kind by its Go type, of the object or of its list.
var childKindByType = func() map[reflect.Type]childKind {
	byType := map[reflect.Type]childKind{}
	for i, k := range childKinds {
		byType[reflect.TypeOf(k.obj)] = childKind(i)
		byType[reflect.TypeOf(k.list())] = childKind(i)
	}
	return byType
}()

// childGVKs are the provisioned kinds' group, version and kind, by childKind.
var childGVKs = func() []schema.GroupVersionKind {
	gvks := make([]schema.GroupVersionKind, len(childKinds))
	for i, k := range childKinds {
		of, _, err := clientgoscheme.Scheme.ObjectKinds(k.obj)
		if err != nil || len(of) == 0 {
			panic(fmt.Sprintf("provisioned kind %T is not in the scheme: %v", k.obj, err))
		}
		gvks[i] = of[0]
	}
	return gvks
}()

// cachedChild is the cache's copy of a provisioned object (see above). The cache's
// objects are read-only: labels and owners are shared with every equal set.
type cachedChild struct {
	namespace, name string
	labels          map[string]string
	owners          []metav1.OwnerReference
	deletion        *metav1.Time
	uid             uuid.UUID
	digest          [16]byte
	resourceVersion uint64
	// extra holds what few children have: a UID or resourceVersion not in the form
	// the API server writes them, a Deployment's generation and replica counts.
	extra *childExtra
	kind  childKind
}

type childExtra struct {
	uid             types.UID
	resourceVersion string
	generation      int64
	deployment      *appsv1.DeploymentStatus
}

// packChild returns the compact copy of obj, a child slimChild has just slimmed (its
// content digest in generateName), or obj itself when obj is not of a provisioned kind
// or its state is not of that form.
func packChild(obj client.Object) client.Object {
	kind, ok := childKindByType[reflect.TypeOf(obj)]
	if !ok {
		return obj
	}
	encoded, slimmed := cachedDigest(obj)
	if !slimmed {
		return obj
	}
	c := &cachedChild{
		namespace: obj.GetNamespace(), // interned by internMeta
		name:      obj.GetName(),
		labels:    obj.GetLabels(), // shared by internMeta
		owners:    obj.GetOwnerReferences(),
		deletion:  obj.GetDeletionTimestamp(),
		kind:      kind,
	}
	extra := &childExtra{generation: obj.GetGeneration()}
	if d, ok := obj.(*appsv1.Deployment); ok {
		status := d.Status
		extra.deployment = &status
	}
	if len(encoded) != base64.RawURLEncoding.EncodedLen(len(c.digest)) {
		return obj // not a digest of this form: keep the slimmed object
	}
	if n, err := base64.RawURLEncoding.Decode(c.digest[:], []byte(encoded)); err != nil || n != len(c.digest) {
		return obj
	}
	if id, err := uuid.Parse(string(obj.GetUID())); err == nil && id.String() == string(obj.GetUID()) {
		c.uid = id
	} else {
		extra.uid = obj.GetUID()
	}
	rv := obj.GetResourceVersion()
	if n, err := strconv.ParseUint(rv, 10, 64); err == nil && strconv.FormatUint(n, 10) == rv && n != 0 {
		c.resourceVersion = n
	} else {
		extra.resourceVersion = rv
	}
	if *extra != (childExtra{}) {
		c.extra = extra
	}
	return c
}

// goType is the Go type of the kind the copy is of.
func (c *cachedChild) goType() reflect.Type { return reflect.TypeOf(childKinds[c.kind].obj) }

// into sets out, an object of the copy's kind, to the slimmed object the copy stands
// for: metadata, the content digest as its cached state, a Deployment's status.
func (c *cachedChild) into(out client.Object) error {
	if t := reflect.TypeOf(out); t != c.goType() {
		return fmt.Errorf("the cache holds %s %s/%s as a %s, not a %s", kindName(childKinds[c.kind].obj), c.namespace, c.name, c.goType(), t)
	}
	reflect.ValueOf(out).Elem().SetZero()
	out.SetNamespace(c.namespace)
	out.SetName(c.name)
	out.SetGenerateName(c.GetGenerateName())
	out.SetUID(c.GetUID())
	out.SetResourceVersion(c.GetResourceVersion())
	out.SetGeneration(c.GetGeneration())
	out.SetLabels(maps.Clone(c.labels))
	out.SetOwnerReferences(slices.Clone(c.owners))
	if c.deletion != nil {
		out.SetDeletionTimestamp(c.deletion.DeepCopy())
	}
	if d, ok := out.(*appsv1.Deployment); ok && c.extra != nil && c.extra.deployment != nil {
		c.extra.deployment.DeepCopyInto(&d.Status)
	}
	return nil
}

// The metadata of the copy. Of the setters, those of fields the copy does not keep do
// nothing: the cache's copies are never written.

func (c *cachedChild) GetNamespace() string          { return c.namespace }
func (c *cachedChild) SetNamespace(namespace string) { c.namespace = namespace }
func (c *cachedChild) GetName() string               { return c.name }
func (c *cachedChild) SetName(name string)           { c.name = name }
func (c *cachedChild) GetGenerateName() string {
	return cachedState(base64.RawURLEncoding.EncodeToString(c.digest[:]))
}
func (c *cachedChild) SetGenerateName(string) {}
func (c *cachedChild) GetUID() types.UID {
	if c.extra != nil && c.extra.uid != "" {
		return c.extra.uid
	}
	return types.UID(c.uid.String())
}
func (c *cachedChild) SetUID(types.UID) {}
func (c *cachedChild) GetResourceVersion() string {
	if c.extra != nil && c.extra.resourceVersion != "" {
		return c.extra.resourceVersion
	}
	return strconv.FormatUint(c.resourceVersion, 10)
}
func (c *cachedChild) SetResourceVersion(string) {}
func (c *cachedChild) GetGeneration() int64 {
	if c.extra != nil {
		return c.extra.generation
	}
	return 0
}
func (c *cachedChild) SetGeneration(int64)                               {}
func (c *cachedChild) GetSelfLink() string                               { return "" }
func (c *cachedChild) SetSelfLink(string)                                {}
func (c *cachedChild) GetCreationTimestamp() metav1.Time                 { return metav1.Time{} }
func (c *cachedChild) SetCreationTimestamp(metav1.Time)                  {}
func (c *cachedChild) GetDeletionTimestamp() *metav1.Time                { return c.deletion }
func (c *cachedChild) SetDeletionTimestamp(t *metav1.Time)               { c.deletion = t }
func (c *cachedChild) GetDeletionGracePeriodSeconds() *int64             { return nil }
func (c *cachedChild) SetDeletionGracePeriodSeconds(*int64)              {}
func (c *cachedChild) GetLabels() map[string]string                      { return c.labels }
func (c *cachedChild) SetLabels(labels map[string]string)                { c.labels = labels }
func (c *cachedChild) GetAnnotations() map[string]string                 { return nil }
func (c *cachedChild) SetAnnotations(map[string]string)                  {}
func (c *cachedChild) GetFinalizers() []string                           { return nil }
func (c *cachedChild) SetFinalizers([]string)                            {}
func (c *cachedChild) GetOwnerReferences() []metav1.OwnerReference       { return c.owners }
func (c *cachedChild) SetOwnerReferences(owners []metav1.OwnerReference) { c.owners = owners }
func (c *cachedChild) GetManagedFields() []metav1.ManagedFieldsEntry     { return nil }
func (c *cachedChild) SetManagedFields([]metav1.ManagedFieldsEntry)      {}
func (c *cachedChild) GetObjectKind() schema.ObjectKind                  { return schema.EmptyObjectKind }
func (c *cachedChild) DeepCopyObject() runtime.Object                    { return c.deepCopy() }
func (c *cachedChild) deepCopy() *cachedChild {
	out := *c
	out.labels = maps.Clone(c.labels)
	out.owners = slices.Clone(c.owners)
	out.deletion = c.deletion.DeepCopy()
	if c.extra != nil {
		extra := *c.extra
		if extra.deployment != nil {
			extra.deployment = extra.deployment.DeepCopy()
		}
		out.extra = &extra
	}
	return &out
}

// availableReplicas is a Deployment's available replicas, from the API type or the
// cache's copy; false for any other object.
func availableReplicas(obj client.Object) (int32, bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return o.Status.AvailableReplicas, true
	case *cachedChild:
		if o.extra != nil && o.extra.deployment != nil {
			return o.extra.deployment.AvailableReplicas, true
		}
		return 0, o.goType() == reflect.TypeOf(&appsv1.Deployment{})
	}
	return 0, false
}

// NewCache is the manager's cache: controller-runtime's, with the provisioned kinds
// read from their compact copies (see cachedChild) and the custom resources there are
// thousands of from their packed copies (see cachedResource). Pass it as the manager's
// NewCache, with CacheOptions.
func NewCache(config *rest.Config, opts cache.Options) (cache.Cache, error) {
	informers := &kindInformers{}
	newInformer := opts.NewInformer
	if newInformer == nil {
		newInformer = toolscache.NewSharedIndexInformer
	}
	// A cache of some namespaces runs an informer per namespace and kind, behind one
	// that has no store to read: the informers of the kinds read here are recorded as
	// they are made.
	opts.NewInformer = func(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
		kind, ok := readKinds[reflect.TypeOf(obj)]
		if ok && kind.listedByField {
			// Never listed by namespace alone: the index would cost an entry per object.
			indexers = maps.Clone(indexers)
			delete(indexers, toolscache.NamespaceIndex)
		}
		informer := newInformer(lw, obj, resync, indexers)
		if ok {
			informers.add(reflect.TypeOf(obj), informer)
		}
		return informer
	}
	c, err := cache.New(config, opts)
	if err != nil {
		return nil, err
	}
	return &childCache{Cache: c, informers: informers}, nil
}

// readKind is a kind the manager's cache reads from its informers' stores itself.
type readKind struct {
	obj      client.Object
	gvk      schema.GroupVersionKind
	resource schema.GroupResource
	// indexed reports whether the kind is listed by field, through the indexes of
	// namespacedIndex.
	indexed bool
	// listedByField reports whether the manager lists the kind by field only: its
	// informers keep no index by namespace, and a list by namespace alone looks at
	// every object.
	listedByField bool
}

// readKinds are the kinds the manager's cache reads itself, by the Go type of the
// object and of its list: the provisioned kinds and the packed ones.
var readKinds = func() map[reflect.Type]*readKind {
	byType := map[reflect.Type]*readKind{}
	add := func(k cachedKind, gvk schema.GroupVersionKind, indexed bool) {
		kind := &readKind{obj: k.obj, gvk: gvk, resource: schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, indexed: indexed,
			listedByField: listedByField[reflect.TypeOf(k.obj)]}
		byType[reflect.TypeOf(k.obj)] = kind
		byType[reflect.TypeOf(k.list())] = kind
	}
	for i, k := range childKinds {
		add(k, childGVKs[i], false)
	}
	for i, k := range packedKinds {
		add(k, packedGVKs[i], true)
	}
	return byType
}()

// listedByField are the kinds there are thousands of, which the manager lists only by
// an indexed field (see readUnit).
var listedByField = map[reflect.Type]bool{
	reflect.TypeFor[*learningv1alpha1.Membership]():    true,
	reflect.TypeFor[*learningv1alpha1.LearningEvent](): true,
	reflect.TypeFor[*learningv1alpha1.ActionPlan]():    true,
}

// kindInformers are the informers of the kinds the cache reads itself, by the Go type
// of the kind: one for the whole cluster, or one per namespace the cache watches.
type kindInformers struct {
	mu     sync.Mutex
	byType map[reflect.Type][]toolscache.SharedIndexInformer
}

func (i *kindInformers) add(t reflect.Type, informer toolscache.SharedIndexInformer) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.byType == nil {
		i.byType = map[reflect.Type][]toolscache.SharedIndexInformer{}
	}
	i.byType[t] = append(i.byType[t], informer)
}

func (i *kindInformers) of(t reflect.Type) []toolscache.SharedIndexInformer {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.byType[t])
}

// childCache reads the provisioned and the packed kinds from the informers' stores,
// whose objects the cache's transform made compact copies; every other kind as the
// embedded cache does. The kinds it reads are all namespaced.
type childCache struct {
	cache.Cache
	informers *kindInformers
}

// stores returns the stores of kind's informers, once they have synced.
func (c *childCache) stores(ctx context.Context, kind *readKind) ([]toolscache.Indexer, error) {
	// Starts the kind's informers if the cache has not yet, and waits for them to sync
	// if it has started.
	if _, err := c.GetInformer(ctx, kind.obj); err != nil {
		return nil, err
	}
	informers := c.informers.of(reflect.TypeOf(kind.obj))
	if len(informers) == 0 {
		return nil, fmt.Errorf("no informer of %s was made by the manager's cache", kind.resource.Resource)
	}
	stores := make([]toolscache.Indexer, len(informers))
	for i, informer := range informers {
		if !informer.HasSynced() {
			return nil, &cache.ErrCacheNotStarted{}
		}
		stores[i] = informer.GetIndexer()
	}
	return stores, nil
}

// Get reads a provisioned or packed object from its compact copy; any other from the
// cache.
func (c *childCache) Get(ctx context.Context, key client.ObjectKey, out client.Object, opts ...client.GetOption) error {
	kind, ok := readKinds[reflect.TypeOf(out)]
	if !ok {
		return c.Cache.Get(ctx, key, out, opts...)
	}
	var o client.GetOptions
	o.ApplyOptions(opts)
	item, exists, err := c.item(ctx, kind, key)
	switch {
	case err != nil:
		return err
	case !exists:
		return apierrors.NewNotFound(kind.resource, key.Name)
	}
	if err := copyCached(item, out, ptr.Deref(o.UnsafeDisableDeepCopy, false)); err != nil {
		return err
	}
	out.GetObjectKind().SetGroupVersionKind(kind.gvk)
	return nil
}

// item is the cache's copy of the object of key, of kind, from the store of the
// informer that holds it.
func (c *childCache) item(ctx context.Context, kind *readKind, key client.ObjectKey) (any, bool, error) {
	stores, err := c.stores(ctx, kind)
	if err != nil {
		return nil, false, err
	}
	for _, store := range stores {
		if item, exists, err := store.GetByKey(key.Namespace + "/" + key.Name); err != nil || exists {
			return item, exists, err
		}
	}
	return nil, false, nil
}

// cachedVersion is the resourceVersion of the cache's copy of the object of key, for a
// kind the cache holds compact, without building the object; found is false for any
// other kind, and when the cache holds no such object.
func (c *childCache) cachedVersion(ctx context.Context, key client.ObjectKey, obj client.Object) (version string, found bool, err error) {
	kind, ok := readKinds[reflect.TypeOf(obj)]
	if !ok {
		return "", false, nil
	}
	item, exists, err := c.item(ctx, kind, key)
	if m, ok := item.(metav1.Object); err == nil && exists && ok {
		return m.GetResourceVersion(), true, nil
	}
	return "", false, err
}

// copyCached sets out to the object item of the cache stands for. With shared, out
// may share what it holds with the cache (the caller only reads it).
func copyCached(item any, out client.Object, shared bool) error {
	switch o := item.(type) {
	case *cachedChild:
		return o.into(out)
	case *cachedResource:
		return o.into(out, shared)
	case client.Object:
		// An object kept whole (an approvers' RoleBinding, an object not slimmed or not
		// packed), as the API server answered it.
		copied := reflect.ValueOf(o)
		if !shared {
			copied = reflect.ValueOf(o.DeepCopyObject())
		}
		if !copied.Type().AssignableTo(reflect.TypeOf(out)) {
			return fmt.Errorf("the cache holds %s/%s as a %s, not a %T", o.GetNamespace(), o.GetName(), copied.Type(), out)
		}
		reflect.ValueOf(out).Elem().Set(copied.Elem())
		fromAPIServer(out)
		return nil
	}
	return fmt.Errorf("the cache holds a %T, which is not an object", item)
}

// List lists provisioned or packed objects, by namespace and labels, and the packed
// kinds also by one field of namespacedIndex's; any other kind from the cache.
func (c *childCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	kind, ok := readKinds[reflect.TypeOf(list)]
	if !ok {
		return c.Cache.List(ctx, list, opts...)
	}
	var o client.ListOptions
	o.ApplyOptions(opts)
	if o.Continue != "" {
		return fmt.Errorf("listing %s from the cache: a list from the cache has no continuation", kind.resource.Resource)
	}
	index, value, err := fieldIndexOf(kind, &o)
	if err != nil {
		return err
	}
	stores, err := c.stores(ctx, kind)
	if err != nil {
		return err
	}
	var items []any
	for _, store := range stores {
		var in []any
		switch {
		case index != "":
			in, err = store.ByIndex(index, o.Namespace+"/"+value)
		case o.Namespace != "" && kind.listedByField:
			for _, item := range store.List() {
				if m, ok := item.(metav1.Object); ok && m.GetNamespace() == o.Namespace {
					in = append(in, item)
				}
			}
		case o.Namespace != "":
			in, err = store.ByIndex(toolscache.NamespaceIndex, o.Namespace)
		default:
			in = store.List()
		}
		if err != nil {
			return err
		}
		items = append(items, in...)
	}
	shared := ptr.Deref(o.UnsafeDisableDeepCopy, false)
	objs := make([]runtime.Object, 0, len(items))
	for _, item := range items {
		if o.Limit > 0 && int64(len(objs)) >= o.Limit {
			break
		}
		// By the copy's labels, before the object is built: a provisioned kind is listed
		// by its cohort's label among every such object of the namespace.
		m, err := apimeta.Accessor(item)
		if err != nil {
			return err
		}
		if o.LabelSelector != nil && !o.LabelSelector.Matches(labels.Set(m.GetLabels())) {
			continue
		}
		obj, ok := reflect.New(reflect.TypeOf(kind.obj).Elem()).Interface().(client.Object)
		if !ok {
			return fmt.Errorf("listing %s: not an object", kind.resource.Resource)
		}
		if err := copyCached(item, obj, shared); err != nil {
			return err
		}
		obj.GetObjectKind().SetGroupVersionKind(kind.gvk)
		objs = append(objs, obj)
	}
	return apimeta.SetList(list, objs)
}

// fieldIndexOf returns the index and the value a list's field selector asks for: one
// field equal to one value, in a namespace, of a kind indexed by namespacedIndex. No
// index is asked for without a field selector.
func fieldIndexOf(kind *readKind, o *client.ListOptions) (index, value string, err error) {
	if o.FieldSelector == nil || o.FieldSelector.Empty() {
		return "", "", nil
	}
	requirements := o.FieldSelector.Requirements()
	if !kind.indexed || len(requirements) != 1 || o.Namespace == "" ||
		(requirements[0].Operator != selection.Equals && requirements[0].Operator != selection.DoubleEquals) {
		return "", "", fmt.Errorf("listing %s from the cache by %q: only by namespace and labels, or in a namespace by one indexed field", kind.resource.Resource, o.FieldSelector)
	}
	return fieldIndexName(requirements[0].Field), requirements[0].Value, nil
}
