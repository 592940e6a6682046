package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// CacheNegative marks a cached negative answer for a token hash.
type CacheNegative string

// Negative markers (SPEC 3.4): cached 10 s.
const (
	CacheHit     CacheNegative = ""
	CacheInvalid CacheNegative = "invalid"
	CacheExpired CacheNegative = "expired"
)

// CacheEntry is what the bearer cache holds for a token hash: the row
// (positive entry) or a negative marker.
type CacheEntry struct {
	Negative CacheNegative
	Token    domain.AccessToken
	// Layer is set by Get to the layer that answered (LayerLocal for this
	// process's memory, LayerShared for a round trip), for metrics only; Put
	// ignores it. An adapter that cannot tell leaves it zero (LayerNone) and
	// the caller counts LayerShared.
	Layer CacheLayer
}

// TokenCache caches bearer validation results by token hash. It is an
// optimisation: callers treat errors as misses.
//
// A hash that was invalidated (its token revoked or rotated away) or cached
// as negative never becomes valid again, so a positive entry Put over either
// can only come from a database read that raced the revocation; it is not
// served (otherwise the revoked token would pass on every instance until the
// entry lapsed).
type TokenCache interface {
	// Get returns the entry for hash, ok=false on a miss.
	Get(ctx context.Context, hash string) (CacheEntry, bool, error)
	// Put stores e for hash for ttl; a positive e does not replace a live
	// negative entry or a recent invalidation.
	Put(ctx context.Context, hash string, e CacheEntry, ttl time.Duration) error
	// Invalidate drops hash on every instance sharing the cache, and for at
	// least a minute keeps a positive Put of hash from being served.
	Invalidate(ctx context.Context, hash string) error
}

// Locker hands out a named, time-bounded lock shared by every instance.
type Locker interface {
	// TryLock takes name for ttl if free. ok=false means another holder has it.
	// unlock releases it only if this call still holds it.
	TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}
