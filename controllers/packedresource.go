package controllers

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// How the cache holds the custom resources there are thousands of.
//
// The cache holds every custom resource of the cluster; the Memberships, LearningEvents
// and ActionPlans alone are 54,000 objects at scale S, which decoded were most of the
// manager's memory (a Membership's struct alone is 488 bytes before its strings, most
// of its fields empty). The cache's transform therefore packs each custom resource
// (pack) into a cachedResource: the name, namespace, resourceVersion and generation the watches and
// the informers' indexes read, the conditions list (shared with every equal list, see
// conditionLists), and the rest of the object in the packed encoding (packcodec.go).
// The manager's cache (NewCache) unpacks the object of its kind on every Get and List,
// equal to the one the API server's answer decoded to; watch events carry the
// cachedResource, and the watches and indexes of these kinds unpack it (typedObject).

// packedKinds are the kinds the cache packs: the custom kinds.
var packedKinds = []cachedKind{
	{obj: &learningv1alpha1.CommunityOfPractice{}, list: func() client.ObjectList { return &learningv1alpha1.CommunityOfPracticeList{} }},
	{obj: &learningv1alpha1.Cohort{}, list: func() client.ObjectList { return &learningv1alpha1.CohortList{} }},
	{obj: &learningv1alpha1.Membership{}, list: func() client.ObjectList { return &learningv1alpha1.MembershipList{} }},
	{obj: &learningv1alpha1.LearningEvent{}, list: func() client.ObjectList { return &learningv1alpha1.LearningEventList{} }},
	{obj: &learningv1alpha1.ActionPlan{}, list: func() client.ObjectList { return &learningv1alpha1.ActionPlanList{} }},
	{obj: &learningv1alpha1.ProgramReport{}, list: func() client.ObjectList { return &learningv1alpha1.ProgramReportList{} }},
}

// packedKind indexes packedKinds.
type packedKind uint8

// packedKindByType finds a packed kind by its Go type (of the object, not its list).
var packedKindByType = func() map[reflect.Type]packedKind {
	byType := map[reflect.Type]packedKind{}
	for i, k := range packedKinds {
		byType[reflect.TypeOf(k.obj)] = packedKind(i)
	}
	return byType
}()

// conditioned is an object with a list of conditions, as every kind the cache packs.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// cachedResource is the cache's packed copy of a custom resource (see above). It is
// read-only: its conditions are shared.
type cachedResource struct {
	namespace, name string
	// data is the object without its type, name, namespace, resourceVersion,
	// generation and conditions, packed.
	data       []byte
	conditions []metav1.Condition
	generation int64
	// resourceVersion is the object's resourceVersion when it is a decimal number, as
	// the API server writes it; otherwise otherVersion holds it.
	resourceVersion uint64
	otherVersion    *string
	kind            packedKind
	// typed reports whether the object had its kind and API version set.
	typed bool
}

// pack returns the packed copy of obj, of a packed kind, which the cache's transform
// has just slimmed; an error when obj cannot be packed, which the cache then keeps as
// it is.
func pack(kind packedKind, obj client.Object) (*cachedResource, error) {
	gvk := packedGVKs[kind]
	c := &cachedResource{
		namespace:  obj.GetNamespace(), // interned by internMeta
		name:       obj.GetName(),
		generation: obj.GetGeneration(),
		kind:       kind,
	}
	switch t := obj.GetObjectKind().GroupVersionKind(); t {
	case gvk:
		c.typed = true
	case schema.GroupVersionKind{}:
	default:
		return nil, fmt.Errorf("packing a %s that says it is a %s", gvk.Kind, t)
	}
	rv := obj.GetResourceVersion()
	if n, err := strconv.ParseUint(rv, 10, 64); err == nil && strconv.FormatUint(n, 10) == rv {
		c.resourceVersion = n
	} else {
		c.otherVersion = &rv
	}
	if o, ok := obj.(conditioned); ok {
		c.conditions = o.GetConditions()
	}
	// What the fields above hold is left out of a shallow copy, which is packed.
	v := reflect.New(reflect.TypeOf(obj).Elem())
	v.Elem().Set(reflect.ValueOf(obj).Elem())
	rest := v.Interface().(client.Object)
	rest.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	rest.SetNamespace("")
	rest.SetName("")
	rest.SetResourceVersion("")
	rest.SetGeneration(0)
	if o, ok := rest.(conditioned); ok {
		o.SetConditions(nil)
	}
	codec, err := codecOf(v.Type().Elem())
	if err != nil {
		return nil, err
	}
	buf := packBuffers.Get().(*[]byte)
	defer packBuffers.Put(buf)
	data, err := codec.encode((*buf)[:0], v.Elem(), reflect.Value{})
	if err != nil {
		return nil, err
	}
	*buf = data
	// The buffer grew by doubling: the copy kept is exactly as long as the data.
	c.data = slices.Clone(data)
	return c, nil
}

// packBuffers are the buffers objects are packed into before their exact copy is kept.
var packBuffers = sync.Pool{New: func() any { return new([]byte) }}

// packedGVKs are the packed kinds' group, version and kind, by packedKind.
var packedGVKs = func() []schema.GroupVersionKind {
	gvks := make([]schema.GroupVersionKind, len(packedKinds))
	for i, k := range packedKinds {
		gvks[i] = learningv1alpha1.GroupVersion.WithKind(reflect.TypeOf(k.obj).Elem().Name())
	}
	return gvks
}()

// goType is the Go type of the kind the copy is of.
func (c *cachedResource) goType() reflect.Type { return reflect.TypeOf(packedKinds[c.kind].obj) }

// into sets out, an object of the copy's kind, to the object the copy stands for.
// Its conditions are the cache's own when shared is true (the caller only reads
// them); a copy otherwise.
func (c *cachedResource) into(out client.Object, shared bool) error {
	if t := reflect.TypeOf(out); t != c.goType() {
		return fmt.Errorf("the cache holds %s %s/%s as a %s, not a %s", packedGVKs[c.kind].Kind, c.namespace, c.name, c.goType(), t)
	}
	v := reflect.ValueOf(out).Elem()
	v.SetZero()
	codec, err := codecOf(v.Type())
	if err != nil {
		return err
	}
	d := &unpacker{data: c.data}
	if err := codec.decode(d, v, reflect.Value{}); err != nil {
		return fmt.Errorf("unpacking %s %s/%s from the cache: %w", packedGVKs[c.kind].Kind, c.namespace, c.name, err)
	}
	if c.typed {
		out.GetObjectKind().SetGroupVersionKind(packedGVKs[c.kind])
	}
	out.SetNamespace(c.namespace)
	out.SetName(c.name)
	out.SetResourceVersion(c.GetResourceVersion())
	out.SetGeneration(c.generation)
	if o, ok := out.(conditioned); ok && c.conditions != nil {
		if shared {
			o.SetConditions(c.conditions)
		} else {
			o.SetConditions(slices.Clone(c.conditions))
		}
	}
	return nil
}

// unpack returns the object the copy stands for, sharing the cache's conditions.
func (c *cachedResource) unpack() (client.Object, error) {
	out := reflect.New(c.goType().Elem()).Interface().(client.Object)
	return out, c.into(out, true)
}

// meta unpacks the copy's metadata. Objects are packed with their metadata first.
func (c *cachedResource) meta() *metav1.ObjectMeta {
	m := &metav1.ObjectMeta{Namespace: c.namespace, Name: c.name, ResourceVersion: c.GetResourceVersion(), Generation: c.generation}
	d := &unpacker{data: c.data}
	if i, err := d.uvarint(); err != nil || i != objectMetaField+1 {
		return m
	}
	codec, err := codecOf(reflect.TypeFor[metav1.ObjectMeta]())
	if err != nil {
		return m
	}
	if err := codec.decode(d, reflect.ValueOf(m).Elem(), reflect.Value{}); err != nil {
		return &metav1.ObjectMeta{Namespace: c.namespace, Name: c.name, ResourceVersion: c.GetResourceVersion(), Generation: c.generation}
	}
	return m
}

// objectMetaField is the index of ObjectMeta in the API types' structs, after TypeMeta.
const objectMetaField = 1

// typedObject is obj as the Go type of its kind: a packed copy unpacked (its conditions
// shared with the cache, to be read only), any other object as it is.
func typedObject[T client.Object](obj client.Object) (T, bool) {
	if c, ok := obj.(*cachedResource); ok {
		typed, err := c.unpack()
		if err != nil {
			var zero T
			return zero, false
		}
		obj = typed
	}
	t, ok := obj.(T)
	return t, ok
}

// The metadata of the copy. The name, namespace, resourceVersion and generation are
// at hand; the rest is unpacked when asked for, which the watches and indexes of the
// packed kinds never do. The setters of fields the copy keeps packed do nothing: the
// cache's copies are never written.

func (c *cachedResource) GetNamespace() string          { return c.namespace }
func (c *cachedResource) SetNamespace(namespace string) { c.namespace = namespace }
func (c *cachedResource) GetName() string               { return c.name }
func (c *cachedResource) SetName(name string)           { c.name = name }
func (c *cachedResource) GetResourceVersion() string {
	if c.otherVersion != nil {
		return *c.otherVersion
	}
	return strconv.FormatUint(c.resourceVersion, 10)
}
func (c *cachedResource) SetResourceVersion(string)      {}
func (c *cachedResource) GetGeneration() int64           { return c.generation }
func (c *cachedResource) SetGeneration(generation int64) { c.generation = generation }
func (c *cachedResource) GetGenerateName() string        { return c.meta().GenerateName }
func (c *cachedResource) SetGenerateName(string)         {}
func (c *cachedResource) GetUID() types.UID              { return c.meta().UID }
func (c *cachedResource) SetUID(types.UID)               {}
func (c *cachedResource) GetSelfLink() string {
	return c.meta().SelfLink //nolint:staticcheck // the object's, as packed
}
func (c *cachedResource) SetSelfLink(string)                 {}
func (c *cachedResource) GetCreationTimestamp() metav1.Time  { return c.meta().CreationTimestamp }
func (c *cachedResource) SetCreationTimestamp(metav1.Time)   {}
func (c *cachedResource) GetDeletionTimestamp() *metav1.Time { return c.meta().DeletionTimestamp }
func (c *cachedResource) SetDeletionTimestamp(*metav1.Time)  {}
func (c *cachedResource) GetDeletionGracePeriodSeconds() *int64 {
	return c.meta().DeletionGracePeriodSeconds
}
func (c *cachedResource) SetDeletionGracePeriodSeconds(*int64) {}
func (c *cachedResource) GetLabels() map[string]string         { return c.meta().Labels }
func (c *cachedResource) SetLabels(map[string]string)          {}
func (c *cachedResource) GetAnnotations() map[string]string    { return c.meta().Annotations }
func (c *cachedResource) SetAnnotations(map[string]string)     {}
func (c *cachedResource) GetFinalizers() []string              { return c.meta().Finalizers }
func (c *cachedResource) SetFinalizers([]string)               {}
func (c *cachedResource) GetOwnerReferences() []metav1.OwnerReference {
	return c.meta().OwnerReferences
}
func (c *cachedResource) SetOwnerReferences([]metav1.OwnerReference) {}
func (c *cachedResource) GetManagedFields() []metav1.ManagedFieldsEntry {
	return c.meta().ManagedFields
}
func (c *cachedResource) SetManagedFields([]metav1.ManagedFieldsEntry) {}
func (c *cachedResource) GetObjectKind() schema.ObjectKind {
	// A copy of its own: the cache's copies are never written.
	return &metav1.TypeMeta{APIVersion: packedGVKs[c.kind].GroupVersion().String(), Kind: packedGVKs[c.kind].Kind}
}
func (c *cachedResource) DeepCopyObject() runtime.Object {
	out := *c
	out.conditions = slices.Clone(c.conditions)
	return &out // data is never written
}
