package projections

import "sync"

// viewCache keeps the views as known at an earlier time that had to be
// folded (Index.viewAt folds only when it cannot read the current view up to
// a bound), most recently used last. A view as known at cut depends only on
// the agreement's first versionAt(cut) records, which never change, so
// entries are keyed by that count and never go stale.
type viewCache struct {
	mu      sync.Mutex
	entries []cached
	records int // records folded into the cached views
}

type cached struct {
	a *agreement
	n uint64
	v *view
}

// Limits of the cache.
const (
	cacheViews   = 16
	cacheRecords = 1 << 16
)

// get returns the view of a's first n records, folding it when not cached.
func (c *viewCache) get(a *agreement, n uint64, fold func() *view) *view {
	c.mu.Lock()
	for i, e := range c.entries {
		if e.a == a && e.n == n {
			copy(c.entries[i:], c.entries[i+1:])
			c.entries[len(c.entries)-1] = e
			c.mu.Unlock()
			return e.v
		}
	}
	c.mu.Unlock()
	v := fold() // outside the lock: two callers may fold the same view
	size := len(v.folded)
	if size > cacheRecords {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.entries) > 0 && (len(c.entries) >= cacheViews || c.records+size > cacheRecords) {
		c.records -= len(c.entries[0].v.folded)
		c.entries[0] = cached{}
		c.entries = c.entries[1:]
	}
	c.entries = append(c.entries, cached{a, n, v})
	c.records += size
	return v
}

// reset empties the cache.
func (c *viewCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.records = nil, 0
}
