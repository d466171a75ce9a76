package controllers

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cacheLagRetry is how soon a unit whose cache has not yet seen the reconciler's own
// writes is looked at again.
const cacheLagRetry = 100 * time.Millisecond

// cacheLagLimit is how long a write may stay unseen by the cache before it is
// forgotten: a lost watch event must not hold a unit forever.
const cacheLagLimit = time.Minute

// cacheLag remembers, per unit, the writes of the unit's last evaluation that the
// informer cache has not shown yet: for each object, the resourceVersions the writes
// replaced ("" for a creation). A unit is evaluated again only once the cache shows
// none of them, because an evaluation from older copies would decide from the past:
// its status patches would meet conflicts, and it would apply again children it has
// just applied. A unit that a change enqueues while the cache lags is looked at again
// after cacheLagRetry. Neither the reconciler's status writes nor the echoes of its
// own applies start an evaluation (see echoes).
type cacheLag struct {
	mu     sync.Mutex
	byUnit map[unitKey]map[objectRef]*unseenWrite
	// own are the children the reconciler applied in the last minute, as it declared
	// them, by object. A watch event that shows a child holding just that only echoes
	// what a pass decided and applied, so it starts no evaluation (see echoes); any
	// other change of a child, a hand edit or a deletion, does, and repairs it.
	own map[childRef]ownApply
	// ownPeak is the most records own held since it was last made anew.
	ownPeak int
	// purged is when applies older than cacheLagLimit were last forgotten, and
	// writesPurged when writes were.
	purged, writesPurged time.Time
}

// childRef names a provisioned object.
type childRef struct {
	kind            reflect.Type
	namespace, name string
}

// ownApply is a child as the reconciler last applied it, by its labels and the digest
// of its content (contentDigest), or its deletion; and when.
type ownApply struct {
	labels  map[string]string
	digest  string
	deleted bool
	at      time.Time
}

func refOf(obj client.Object) childRef {
	kind := reflect.TypeOf(obj)
	if c, ok := obj.(*cachedChild); ok {
		kind = c.goType()
	}
	return childRef{kind: kind, namespace: obj.GetNamespace(), name: obj.GetName()}
}

// applying records, before the write, that the reconciler applies desired: the watch
// event of the write may arrive before the write returns. Applies older than
// cacheLagLimit are forgotten.
func (c *cacheLag) applying(desired client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.own == nil {
		c.own = map[childRef]ownApply{}
	}
	now := time.Now()
	// Forgetting looks at every record, so it runs once a second rather than on each
	// of the thousands of applies a bulk import makes in a second.
	if now.Sub(c.purged) > time.Second {
		c.purged = now
		for ref, a := range c.own {
			if now.Sub(a.at) > cacheLagLimit {
				delete(c.own, ref)
			}
		}
		// A map keeps the room of its largest size: once a bulk import's minute of
		// applies is forgotten, the few left move to a map of their size.
		// (maps.Clone would keep the room too.)
		if len(c.own) < c.ownPeak/4 {
			kept := make(map[childRef]ownApply, len(c.own))
			for ref, a := range c.own {
				kept[ref] = a
			}
			c.own, c.ownPeak = kept, len(kept)
		}
	}
	// The digest alone, so that a minute of applies keeps no second copy of them; the
	// labels as the cache shares them with every equal set (a copy: the declaration's
	// own map is the reconciler's).
	c.own[refOf(desired)] = ownApply{labels: sharedLabels.get(maps.Clone(desired.GetLabels())), digest: contentDigest(desired), at: now}
	c.ownPeak = max(c.ownPeak, len(c.own))
}

// deleting records, before the deletion, that the reconciler deletes obj.
func (c *cacheLag) deleting(obj client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.own == nil {
		c.own = map[childRef]ownApply{}
	}
	c.own[refOf(obj)] = ownApply{deleted: true, at: time.Now()}
}

// echoes reports whether obj, a child as a watch event shows it (slimmed by the
// cache), holds exactly what the reconciler last applied to it: its content is the
// declared one, or one verified to hold it (the API server's answer to the apply).
func (c *cacheLag) echoes(obj client.Object, verified *verifiedChildren) bool {
	c.mu.Lock()
	a, ok := c.own[refOf(obj)]
	c.mu.Unlock()
	if !ok || a.deleted || time.Since(a.at) > cacheLagLimit {
		return false
	}
	// Only the cache's own copy is trusted for its digest (see cachedStateMarker).
	var content string
	if c, ok := obj.(*cachedChild); ok {
		content, _ = cachedDigest(c)
	} else {
		content = contentDigest(obj)
	}
	return (content == a.digest || verified.matches(obj, content, a.digest)) &&
		equality.Semantic.DeepDerivative(a.labels, obj.GetLabels())
}

// echoesDeletion reports whether the deletion of obj is the reconciler's own.
func (c *cacheLag) echoesDeletion(obj client.Object) bool {
	c.mu.Lock()
	a, ok := c.own[refOf(obj)]
	c.mu.Unlock()
	return ok && a.deleted && time.Since(a.at) <= cacheLagLimit
}

// objectRef names one object of a unit's namespace.
type objectRef struct {
	kind reflect.Type
	name string
}

// unseenWrite is what the cache has not shown of an object's writes yet.
type unseenWrite struct {
	// replaced are the resourceVersions the writes replaced; "" stands for no object,
	// before a creation.
	replaced []string
	at       time.Time
}

// wrote records that the unit's evaluation wrote obj over the version replaced ("" for
// a creation).
func (c *cacheLag) wrote(key unitKey, obj client.Object, replaced string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byUnit == nil {
		c.byUnit = map[unitKey]map[objectRef]*unseenWrite{}
	}
	now := time.Now()
	c.forgetWrites(now)
	unseen := c.byUnit[key]
	if unseen == nil {
		unseen = map[objectRef]*unseenWrite{}
		c.byUnit[key] = unseen
	}
	ref := objectRef{kind: reflect.TypeOf(obj), name: obj.GetName()}
	w := unseen[ref]
	if w == nil {
		w = &unseenWrite{}
		unseen[ref] = w
	}
	w.replaced = append(w.replaced, replaced)
	w.at = now
}

// writesPurgeInterval is how often writes older than cacheLagLimit are forgotten.
const writesPurgeInterval = 10 * time.Second

// forgetWrites forgets, every writesPurgeInterval, the writes older than
// cacheLagLimit, which behind no longer waits for. behind forgets a unit's writes when
// the unit is next evaluated; a unit that converged is not, and the last writes of
// every unit would otherwise stay, one record per object of the cluster. c.mu is held.
func (c *cacheLag) forgetWrites(now time.Time) {
	if now.Sub(c.writesPurged) < writesPurgeInterval {
		return
	}
	c.writesPurged = now
	for key, unseen := range c.byUnit {
		for ref, w := range unseen {
			if now.Sub(w.at) > cacheLagLimit {
				delete(unseen, ref)
			}
		}
		if len(unseen) == 0 {
			delete(c.byUnit, key)
		}
	}
}

// behind reports whether the cache still shows, of an object the unit wrote, a version
// one of the writes replaced (or nothing where a write created the object). It forgets
// the writes the cache has caught up with.
func (c *cacheLag) behind(ctx context.Context, reader client.Reader, key unitKey) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	unseen := c.byUnit[key]
	// One object of each kind to read the cache's copies into, sharing what they hold
	// with the cache: only the resourceVersion is looked at.
	into := map[reflect.Type]client.Object{}
	for ref, w := range unseen {
		if time.Since(w.at) > cacheLagLimit {
			delete(unseen, ref)
			continue
		}
		obj := into[ref.kind]
		if obj == nil {
			obj = reflect.New(ref.kind.Elem()).Interface().(client.Object)
			into[ref.kind] = obj
		}
		version, err := cachedVersion(ctx, reader, client.ObjectKey{Namespace: key.Namespace, Name: ref.name}, obj)
		if err != nil {
			return false, err
		}
		if slices.Contains(w.replaced, version) {
			return true, nil
		}
		delete(unseen, ref)
	}
	if len(unseen) == 0 {
		delete(c.byUnit, key)
	}
	return false, nil
}

// versionReader reads an object's resourceVersion from the cache without building the
// object: the manager's cache (childCache) for the kinds it holds compact.
type versionReader interface {
	cachedVersion(ctx context.Context, key client.ObjectKey, obj client.Object) (version string, found bool, err error)
}

// cachedVersion is the resourceVersion of the object of key, of obj's kind, in the
// cache; "" when the cache does not hold it. obj may be read into.
func cachedVersion(ctx context.Context, reader client.Reader, key client.ObjectKey, obj client.Object) (string, error) {
	if vr, ok := reader.(versionReader); ok {
		if version, found, err := vr.cachedVersion(ctx, key, obj); found || err != nil {
			return version, err
		}
	}
	switch err := reader.Get(ctx, key, obj, readOnly); {
	case err == nil:
		return obj.GetResourceVersion(), nil
	case apierrors.IsNotFound(err):
		return "", nil
	default:
		return "", err
	}
}
