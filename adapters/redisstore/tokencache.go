package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/redis/rueidis"
)

// localTTL bounds how long an entry may sit in this process's memory. The
// server's own TTL bounds it too (rueidis reads PTTL with each cached GET),
// and the server's invalidation messages drop it at once on a write or delete.
const localTTL = 60 * time.Second

// TokenCache is the bearer-validation cache (ports.TokenCache) on rueidis
// client-side caching: a hot entry is served from local memory with no
// round trip, while Invalidate (a DEL) makes Redis push an invalidation to
// every instance that cached it (RESP3 client tracking). Keys are
// <prefix>tok:{<token hash>}; values are compact JSON.
type TokenCache struct {
	c    rueidis.Client
	keys keyspace
}

// NewTokenCache returns the cache on c with every key under prefix.
// Client-side caching needs a client built without DisableCache, and
// reading this instance's own writes at once needs one connection per node
// (NewClient / ClientOptions set both); without caching every Get is a
// round trip, still correct.
func NewTokenCache(c rueidis.Client, prefix string) *TokenCache {
	return &TokenCache{c: c, keys: keyspace(prefix)}
}

// tombstoneTTL is how long an invalidation outlives the entry it dropped
// (see Invalidate): longer than any database read that raced it can take to
// be Put, and at least the positive TTL.
const tombstoneTTL = 2 * time.Minute

// tombstone is the stored value of an invalidated hash: a negative-looking
// document that Get answers as a miss.
const tombstone = `{"n":"-"}`

// tokenDoc is the stored JSON of a ports.CacheEntry. Negative is the first
// field, so every negative entry (and the tombstone) begins with {"n": and no
// positive entry does; scripts/putpos.lua relies on it.
type tokenDoc struct {
	Negative      string    `json:"n,omitempty"`
	ID            string    `json:"id,omitempty"`
	SubjectEmail  string    `json:"se,omitempty"`
	SubjectIssuer string    `json:"si,omitempty"`
	AccountID     string    `json:"ac,omitempty"`
	ClientID      string    `json:"ci,omitempty"`
	DeviceLabel   string    `json:"dl,omitempty"`
	Prefix        string    `json:"p,omitempty"`
	TokenHash     string    `json:"th,omitempty"`
	CreatedAt     time.Time `json:"ca,omitzero"`
	LastUsedAt    time.Time `json:"lu,omitzero"`
	ExpiresAt     time.Time `json:"ex,omitzero"`
	RevokedAt     time.Time `json:"rv,omitzero"`
}

// Get returns the entry for hash; ok=false on a miss.
func (t *TokenCache) Get(ctx context.Context, hash string) (ports.CacheEntry, bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	e, ok, _, err := t.get(ctx, hash)
	return e, ok, err
}

// get is Get that also reports whether the answer came from local memory.
func (t *TokenCache) get(ctx context.Context, hash string) (e ports.CacheEntry, ok, local bool, err error) {
	resp := t.c.DoCache(ctx, t.c.B().Get().Key(t.keys.token(hash)).Cache(), localTTL)
	b, err := resp.AsBytes()
	if rueidis.IsRedisNil(err) {
		return ports.CacheEntry{}, false, resp.IsCacheHit(), nil
	}
	if err != nil {
		return ports.CacheEntry{}, false, false, wrapErr(err)
	}
	var d tokenDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return ports.CacheEntry{}, false, false, fmt.Errorf("redisstore: token cache entry: %w", err)
	}
	if string(b) == tombstone {
		return ports.CacheEntry{}, false, resp.IsCacheHit(), nil
	}
	return d.entry(), true, resp.IsCacheHit(), nil
}

// Put stores e for hash for ttl (SET PX). A positive entry is not stored
// over a negative one or an invalidation (scripts/putpos.lua): it can only
// come from a database read that raced a revocation, and would otherwise let
// the revoked token pass on every instance until it lapsed.
func (t *TokenCache) Put(ctx context.Context, hash string, e ports.CacheEntry, ttl time.Duration) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	a := e.Token
	b, err := json.Marshal(tokenDoc{Negative: string(e.Negative), ID: a.ID, SubjectEmail: a.SubjectEmail,
		SubjectIssuer: a.SubjectIssuer, AccountID: a.AccountID, ClientID: a.ClientID, DeviceLabel: a.DeviceLabel,
		Prefix: a.Prefix, TokenHash: a.TokenHash, CreatedAt: a.CreatedAt, LastUsedAt: a.LastUsedAt,
		ExpiresAt: a.ExpiresAt, RevokedAt: a.RevokedAt})
	if err != nil {
		return fmt.Errorf("redisstore: encode token cache entry: %w", err)
	}
	key := t.keys.token(hash)
	px := max(ttl.Milliseconds(), 1)
	if e.Negative == ports.CacheHit {
		return t.write(ctx, key, t.c.B().Eval().Script(putPosLua).Numkeys(1).Key(key).
			Arg(string(b), strconv.FormatInt(px, 10)).Build())
	}
	return t.write(ctx, key, t.c.B().Set().Key(key).Value(string(b)).PxMilliseconds(px).Build())
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

func (d tokenDoc) entry() ports.CacheEntry {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	return ports.CacheEntry{Negative: ports.CacheNegative(d.Negative), Token: domain.AccessToken{
		ID: d.ID, SubjectEmail: d.SubjectEmail, SubjectIssuer: d.SubjectIssuer, AccountID: d.AccountID,
		ClientID: d.ClientID, DeviceLabel: d.DeviceLabel, Prefix: d.Prefix, TokenHash: d.TokenHash,
		CreatedAt: utc(d.CreatedAt), LastUsedAt: utc(d.LastUsedAt), ExpiresAt: utc(d.ExpiresAt),
		RevokedAt: utc(d.RevokedAt)}}
}
