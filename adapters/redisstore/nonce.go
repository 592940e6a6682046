package redisstore

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// NonceStore reserves one-time nonces (ports.NonceStore): one string key per
// nonce at <prefix>nonce:{<sha256 of the nonce>} holding its owner.
type NonceStore struct {
	c    rueidis.Client
	keys keyspace
}

// NewNonceStore returns the nonce store on c with every key under prefix.
func NewNonceStore(c rueidis.Client, prefix string) *NonceStore {
	return &NonceStore{c: c, keys: keyspace(prefix)}
}

// Reserve is SET NX PX: true if this call reserved nonce, false on a replay.
func (n *NonceStore) Reserve(ctx context.Context, nonce, owner string, ttl time.Duration) (bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return setNX(ctx, n.c, n.keys.nonce(nonce), owner, ttl)
}

// Release deletes the reservation only if owner holds it (compare-and-delete).
func (n *NonceStore) Release(ctx context.Context, nonce, owner string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return wrapErr(cadScript.Exec(ctx, n.c, []string{n.keys.nonce(nonce)}, []string{owner}).Error())
}

// setNX sets key to value for ttl (at least 1 ms) if it is free and reports
// whether it did.
func setNX(ctx context.Context, c rueidis.Client, key, value string, ttl time.Duration) (bool, error) {
	err := c.Do(ctx, c.B().Set().Key(key).Value(value).Nx().PxMilliseconds(max(ttl.Milliseconds(), 1)).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(err)
	}
	return true, nil
}
