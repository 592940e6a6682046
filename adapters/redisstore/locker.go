package redisstore

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/redis/rueidis"
)

// Locker hands out named, time-bounded locks shared by every instance
// (ports.Locker): SET NX PX with a random owner token at <prefix>lock:{<name>},
// released by compare-and-delete so an expired holder never frees a lock
// another instance has since taken.
type Locker struct {
	c    rueidis.Client
	keys keyspace
}

// NewLocker returns the locker on c with every key under prefix.
func NewLocker(c rueidis.Client, prefix string) *Locker {
	return &Locker{c: c, keys: keyspace(prefix)}
}

// TryLock takes name for ttl if free; ok=false when another holder has it.
// unlock releases it only while this call's token still holds it.
func (l *Locker) TryLock(ctx context.Context, name string, ttl time.Duration) (func(context.Context) error, bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	key, token := l.keys.lock(name), rand.Text()
	ok, err := setNX(ctx, l.c, key, token, ttl)
	if err != nil || !ok {
		return nil, false, err
	}
	unlock := func(ctx context.Context) error {
		ctx, cancel := bounded(ctx)
		defer cancel()
		return wrapErr(cadScript.Exec(ctx, l.c, []string{key}, []string{token}).Error())
	}
	return unlock, true, nil
}
