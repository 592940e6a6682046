package tokenclient

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// cacheKey is the SHA-256 of a token: the cache and the in-flight table
// never hold a plaintext token, so a heap dump does not hand out tokens.
type cacheKey [sha256.Size]byte

func keyOf(token string) cacheKey { return sha256.Sum256([]byte(token)) }

// entry is one verdict: an active principal or an inactive marker.
type entry struct {
	key    cacheKey
	p      Principal
	active bool
	until  time.Time // the entry is dropped at until; for active entries until <= p.ExpiresAt
}

// cache is a bounded map of verdicts evicting the oldest insertion when full
// (FIFO: a hit takes only the lock, never reorders, so hits stay cheap).
type cache struct {
	mu    sync.Mutex
	max   int
	items map[cacheKey]*list.Element
	order *list.List // of *entry, front = oldest
}

func newCache(max int) *cache {
	return &cache{max: max, items: make(map[cacheKey]*list.Element), order: list.New()}
}

// get returns the cached verdict for k at now. hit is false when there is
// none or it has lapsed. An active entry whose token expiry has passed is
// answered ErrInactive without asking devicegate (exp is final) and dropped;
// a later presentation asks again and caches the negative answer.
func (c *cache) get(k cacheKey, now time.Time) (p Principal, hit bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return Principal{}, false, nil
	}
	e := el.Value.(*entry)
	switch {
	case e.active && !e.p.ExpiresAt.IsZero() && !now.Before(e.p.ExpiresAt):
		c.remove(el)
		return Principal{}, true, ErrInactive
	case !now.Before(e.until):
		c.remove(el)
		return Principal{}, false, nil
	case !e.active:
		return Principal{}, true, ErrInactive
	}
	return e.p.clone(), true, nil
}

// put stores a verdict until the given time; a verdict already lapsed at
// now (or a disabled TTL) is not stored.
func (c *cache) put(k cacheKey, p Principal, active bool, until, now time.Time) {
	if !until.After(now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
	for c.order.Len() >= c.max {
		c.remove(c.order.Front())
	}
	c.items[k] = c.order.PushBack(&entry{key: k, p: p, active: active, until: until})
}

func (c *cache) remove(el *list.Element) {
	delete(c.items, el.Value.(*entry).key)
	c.order.Remove(el)
}
