package portal

import (
	"container/list"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ttlCache remembers values for a bounded time and holds a bounded number of them. An
// entry is never returned after its expiry; when the cache is full, adding an entry
// first drops the expired ones and then, if it is still full, the oldest. Keys are
// what the callers derive from a request (hashes of tokens and of identities), so a
// flood of distinct keys costs memory only up to the bound.
type ttlCache[V any] struct {
	clock clock.PassiveClock
	max   int

	mu      sync.Mutex
	entries map[string]*list.Element
	// order holds the entries oldest first.
	order *list.List
}

type cacheEntry[V any] struct {
	key     string
	value   V
	expires time.Time
}

func newTTLCache[V any](clk clock.PassiveClock, maxEntries int) *ttlCache[V] {
	return &ttlCache[V]{clock: clk, max: max(maxEntries, 1), entries: map[string]*list.Element{}, order: list.New()}
}

// get returns the value under key unless it is missing or expired.
func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.entries[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*cacheEntry[V])
	if !c.clock.Now().Before(e.expires) {
		c.remove(el)
		return zero, false
	}
	return e.value, true
}

// set stores value under key until expires; an expiry that is not in the future
// stores nothing.
func (c *ttlCache[V]) set(key string, value V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	if !now.Before(expires) {
		return
	}
	if len(c.entries) >= c.max {
		c.dropExpired(now)
	}
	for len(c.entries) >= c.max {
		c.remove(c.order.Front())
	}
	c.entries[key] = c.order.PushBack(&cacheEntry[V]{key: key, value: value, expires: expires})
}

// len is how many entries the cache holds, expired ones included until they are dropped.
func (c *ttlCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *ttlCache[V]) dropExpired(now time.Time) {
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if !now.Before(el.Value.(*cacheEntry[V]).expires) {
			c.remove(el)
		}
		el = next
	}
}

func (c *ttlCache[V]) remove(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry[V]).key)
	c.order.Remove(el)
}
