package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// DefaultTokenCacheSize is the entry bound of NewTokenCache.
const DefaultTokenCacheSize = 10000

// tombstoneTTL is how long an invalidation outlives the entry it dropped
// (see Invalidate): longer than any database read that raced it can take to
// be Put, and at least the positive TTL.
const tombstoneTTL = 2 * time.Minute

// cached is one cache entry and when it lapses. A tombstone marks an
// invalidated hash: Get misses it, and it keeps a positive Put out.
type cached struct {
	entry     ports.CacheEntry
	expires   time.Time
	tombstone bool
}

// TokenCache is the in-memory ports.TokenCache: a map from token hash to
// entry with a per-entry expiry on the real clock. Its size is bounded: when
// full, lapsed entries are dropped, and if that is not enough an eighth of
// the entries, chosen at random, are evicted (the cache is an optimisation;
// a miss only costs a database read). Invalidate reaches this process only.
type TokenCache struct {
	mu      sync.Mutex
	entries map[string]cached
	max     int
	clock   func() time.Time
}

// NewTokenCache returns an empty cache of DefaultTokenCacheSize entries.
func NewTokenCache() *TokenCache { return NewTokenCacheSize(DefaultTokenCacheSize) }

// NewTokenCacheSize returns an empty cache holding at most max entries (at least 1).
func NewTokenCacheSize(max int) *TokenCache {
	if max < 1 {
		max = 1
	}
	return &TokenCache{entries: map[string]cached{}, max: max, clock: time.Now}
}

// Get returns the live entry for hash; ok=false on a miss.
func (c *TokenCache) Get(_ context.Context, hash string) (ports.CacheEntry, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok {
		return ports.CacheEntry{}, false, nil
	}
	if !c.clock().Before(e.expires) {
		delete(c.entries, hash)
		return ports.CacheEntry{}, false, nil
	}
	if e.tombstone {
		return ports.CacheEntry{}, false, nil
	}
	out := e.entry
	out.Layer = ports.LayerLocal
	return out, true, nil
}

// Put stores e for hash for ttl, making room first if the cache is full. A
// positive entry is not stored over a live negative one or an invalidation:
// a revoked, rotated-away or unknown hash never becomes valid again, so it
// can only come from a database read that raced the revocation.
func (c *TokenCache) Put(_ context.Context, hash string, e ports.CacheEntry, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if old, ok := c.entries[hash]; ok && e.Negative == ports.CacheHit && now.Before(old.expires) &&
		(old.tombstone || old.entry.Negative != ports.CacheHit) {
		return nil
	}
	c.store(hash, cached{entry: e, expires: now.Add(ttl)}, now)
	return nil
}

// Invalidate drops hash, leaving a tombstone for tombstoneTTL that Get
// misses and that keeps a racing positive Put out (see Put). Like any entry,
// a tombstone may be evicted early when the cache is full.
func (c *TokenCache) Invalidate(_ context.Context, hash string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	c.store(hash, cached{expires: now.Add(tombstoneTTL), tombstone: true}, now)
	return nil
}

// store sets hash, making room first if the cache is full. Callers hold c.mu.
func (c *TokenCache) store(hash string, e cached, now time.Time) {
	if _, ok := c.entries[hash]; !ok && len(c.entries) >= c.max {
		c.makeRoom(now)
	}
	c.entries[hash] = e
}

// Len returns how many entries are held, lapsed or not (for tests and metrics).
func (c *TokenCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// makeRoom drops lapsed entries and, if the cache is still full, evicts an
// eighth of it (at least one) in map order, which Go randomises. Evicting a
// batch keeps Put amortised O(1) when the cache stays full. Callers hold c.mu.
func (c *TokenCache) makeRoom(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.max {
		return
	}
	n := max(c.max/8, 1)
	for k := range c.entries {
		if n == 0 {
			break
		}
		delete(c.entries, k)
		n--
	}
}
