package memstore

import (
	"context"
	"sync"
	"time"
)

// lease is one held lock: a holder token and when it lapses.
type lease struct {
	holder  uint64
	expires time.Time
}

// Locker is the in-memory ports.Locker. It only excludes holders within one
// process: with several instances, use the Redis adapter.
type Locker struct {
	mu     sync.Mutex
	leases map[string]lease
	next   uint64
	clock  func() time.Time
}

// NewLocker returns a locker with no locks held.
func NewLocker() *Locker {
	return &Locker{leases: map[string]lease{}, clock: time.Now}
}

// TryLock takes name for ttl if free (or lapsed). The returned unlock frees
// it only while this call's lease is still the current one.
func (l *Locker) TryLock(_ context.Context, name string, ttl time.Duration) (func(context.Context) error, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if cur, ok := l.leases[name]; ok && now.Before(cur.expires) {
		return nil, false, nil
	}
	for k, cur := range l.leases { // few names: keep the map tidy
		if !now.Before(cur.expires) {
			delete(l.leases, k)
		}
	}
	l.next++
	me := l.next
	l.leases[name] = lease{holder: me, expires: now.Add(ttl)}
	unlock := func(context.Context) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if cur, ok := l.leases[name]; ok && cur.holder == me {
			delete(l.leases, name)
		}
		return nil
	}
	return unlock, true, nil
}
