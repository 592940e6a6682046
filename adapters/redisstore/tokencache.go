package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/devicegate/devicegate/ports"
	"github.com/redis/rueidis"
)

// localTTL bounds how long an entry may sit in this process's memory. The
// server's own TTL bounds it too (rueidis reads PTTL with each cached GET),
// and the server's invalidation messages drop it at once on a write or delete.
// The PTTL travels only with a GET that goes to Redis (a local hit sends
// nothing), so dropping it (rueidis' Cacheable.ToStaticTTL) would save
// nothing on the hot path, while a local copy could then outlive its key,
// e.g. a 10 s negative entry served for up to localTTL until Redis got round
// to expiring the key: not done.
const localTTL = 60 * time.Second

// TokenCache is the bearer-validation cache (ports.TokenCache) on rueidis
// client-side caching: a hot entry is served from local memory with no
// round trip, while every write of a key (Put, Invalidate's tombstone) makes
// Redis push an invalidation to every instance that cached it (RESP3 client
// tracking). Keys are <prefix>tok:{<token hash>}; values are described in
// tokencodec.go; tokenMemo spares a repeated hit its command building and
// decoding.
type TokenCache struct {
	c    rueidis.Client
	keys keyspace
	memo *tokenMemo
}

// NewTokenCache returns the cache on c with every key under prefix.
// Client-side caching needs a client built without DisableCache, and
// reading this instance's own writes at once needs one connection per node
// (NewClient / ClientOptions set both); without caching every Get is a
// round trip, still correct.
func NewTokenCache(c rueidis.Client, prefix string) *TokenCache {
	return &TokenCache{c: c, keys: keyspace(prefix), memo: newTokenMemo()}
}

// tombstoneTTL is how long an invalidation outlives the entry it dropped
// (see Invalidate): longer than any database read that raced it can take to
// be Put, and at least the positive TTL.
const tombstoneTTL = 2 * time.Minute

// Get returns the entry for hash; ok=false on a miss. It is bounded like
// every call (opTimeout), through boundedLazy: a hit served from local
// memory never waits, so it need not start a timer.
func (t *TokenCache) Get(ctx context.Context, hash string) (ports.CacheEntry, bool, error) {
	ctx, op := boundedLazy(ctx)
	defer op.release()
	e, ok, local, err := t.get(ctx, hash)
	e.Layer = ports.LayerShared
	if local {
		e.Layer = ports.LayerLocal
	}
	return e, ok, err
}

// get is Get that also reports whether the answer came from local memory.
// A hash read before reuses its pinned GET and, when rueidis returns the
// very value decoded last time, that decoding (tokenMemo); rueidis is asked
// every time either way.
func (t *TokenCache) get(ctx context.Context, hash string) (e ports.CacheEntry, ok, local bool, err error) {
	m := t.memo.lookup(hash)
	var cmd rueidis.Cacheable
	if m != nil {
		cmd = m.get
	} else {
		cmd = t.c.B().Get().Key(t.keys.token(hash)).Cache()
	}
	resp := t.c.DoCache(ctx, cmd, localTTL)
	v, err := resp.ToString()
	if rueidis.IsRedisNil(err) {
		return ports.CacheEntry{}, false, resp.IsCacheHit(), nil
	}
	if err != nil {
		return ports.CacheEntry{}, false, false, wrapErr(err)
	}
	local = resp.IsCacheHit()
	if m != nil && m.raw == v {
		return m.entry, m.ok, local, nil
	}
	e, ok, err = decodeEntry(v)
	if err != nil {
		return ports.CacheEntry{}, false, false, fmt.Errorf("redisstore: token cache entry: %w", err)
	}
	if local { // served twice at least: worth remembering
		get := t.c.B().Get().Key(t.keys.token(hash)).Cache().Pin()
		if m != nil {
			get = m.get
		}
		t.memo.remember(&memoEntry{hash: hash, get: get, raw: v, entry: e, ok: ok})
	}
	return e, ok, local, nil
}

// Put stores e for hash for ttl (SET PX). A positive entry is not stored
// over a negative one or an invalidation (scripts/putpos.lua): it can only
// come from a database read that raced a revocation, and would otherwise let
// the revoked token pass on every instance until it lapsed.
func (t *TokenCache) Put(ctx context.Context, hash string, e ports.CacheEntry, ttl time.Duration) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	v, err := encodeEntry(e)
	if err != nil {
		return err
	}
	key := t.keys.token(hash)
	px := max(ttl.Milliseconds(), 1)
	if e.Negative == ports.CacheHit {
		return t.write(ctx, key, t.c.B().Eval().Script(putPosLua).Numkeys(1).Key(key).
			Arg(v, strconv.FormatInt(px, 10)).Build())
	}
	return t.write(ctx, key, t.c.B().Set().Key(key).Value(v).PxMilliseconds(px).Build())
}

// Invalidate replaces the entry with a tombstone for tombstoneTTL, which Get
// answers as a miss and which keeps a racing positive Put out (see Put);
// Redis then invalidates every client-side copy.
func (t *TokenCache) Invalidate(ctx context.Context, hash string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	key := t.keys.token(hash)
	return t.write(ctx, key, t.c.B().Set().Key(key).Value(tombstone).PxMilliseconds(tombstoneTTL.Milliseconds()).Build())
}

// write runs a write of key followed, in the same pipeline, by a PTTL of key
// as a fence, so this instance reads its own writes: Redis sends the
// invalidation of a key written by the very connection that tracks it just
// after the write's reply, and rueidis applies that push before it hands
// out the fence's reply. Without the fence a Get right after Put or
// Invalidate could still be served the old local copy. This needs the write
// to travel the connection that caches key, which holds with one connection
// per node (ClientOptions; rueidis' cluster default); with more, rueidis
// picks a write's connection at random and this instance, like every other,
// sees its invalidations a few milliseconds later.
func (t *TokenCache) write(ctx context.Context, key string, cmd rueidis.Completed) error {
	res := t.c.DoMulti(ctx, cmd, t.c.B().Pttl().Key(key).Build())
	for _, r := range res {
		if err := r.Error(); err != nil {
			return wrapErr(err)
		}
	}
	return nil
}
