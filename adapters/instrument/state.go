package instrument

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// cache observes a ports.TokenCache.
type cache struct {
	next                 ports.TokenCache
	get, put, invalidate op
}

// Cache returns c with every call observed as backend's.
func Cache(c ports.TokenCache, backend string, s Set) ports.TokenCache {
	return &cache{next: c, get: s.op(backend, "cache_get"), put: s.op(backend, "cache_put"),
		invalidate: s.op(backend, "cache_invalidate")}
}

func (d *cache) Get(ctx context.Context, hash string) (ports.CacheEntry, bool, error) {
	ctx, began := d.get.begin(ctx)
	e, ok, err := d.next.Get(ctx, hash)
	d.get.end(ctx, began, err)
	return e, ok, err
}

func (d *cache) Put(ctx context.Context, hash string, e ports.CacheEntry, ttl time.Duration) error {
	ctx, began := d.put.begin(ctx)
	err := d.next.Put(ctx, hash, e, ttl)
	d.put.end(ctx, began, err)
	return err
}

func (d *cache) Invalidate(ctx context.Context, hash string) error {
	ctx, began := d.invalidate.begin(ctx)
	err := d.next.Invalidate(ctx, hash)
	d.invalidate.end(ctx, began, err)
	return err
}

// limiter observes a ports.RateLimiter.
type limiter struct {
	next        ports.RateLimiter
	allow, undo op
}

// Limiter returns l with every call observed as backend's.
func Limiter(l ports.RateLimiter, backend string, s Set) ports.RateLimiter {
	return &limiter{next: l, allow: s.op(backend, "ratelimit_allow"), undo: s.op(backend, "ratelimit_undo")}
}

func (d *limiter) Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	ctx, began := d.allow.begin(ctx)
	r, err := d.next.Allow(ctx, b, key, now)
	d.allow.end(ctx, began, err)
	return r, err
}

func (d *limiter) Undo(ctx context.Context, b domain.RateBucket, key string, now time.Time) error {
	ctx, began := d.undo.begin(ctx)
	err := d.next.Undo(ctx, b, key, now)
	d.undo.end(ctx, began, err)
	return err
}

// nonces observes a ports.NonceStore.
type nonces struct {
	next             ports.NonceStore
	reserve, release op
}

// Nonces returns n with every call observed as backend's.
func Nonces(n ports.NonceStore, backend string, s Set) ports.NonceStore {
	return &nonces{next: n, reserve: s.op(backend, "nonce_reserve"), release: s.op(backend, "nonce_release")}
}

func (d *nonces) Reserve(ctx context.Context, nonce, owner string, ttl time.Duration) (bool, error) {
	ctx, began := d.reserve.begin(ctx)
	ok, err := d.next.Reserve(ctx, nonce, owner, ttl)
	d.reserve.end(ctx, began, err)
	return ok, err
}

func (d *nonces) Release(ctx context.Context, nonce, owner string) error {
	ctx, began := d.release.begin(ctx)
	err := d.next.Release(ctx, nonce, owner)
	d.release.end(ctx, began, err)
	return err
}
