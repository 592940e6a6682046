package memstore

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"
)

// nonceSweepEvery is how many reservations pass between two sweeps of
// lapsed ones. Each sweep scans every reservation: fine at SSO sign-in rates
// (a nonce per sign-in), unlike the flows' per-issuance expiry work.
const nonceSweepEvery = 256

// reservation is one reserved nonce: its owner and when it lapses.
type reservation struct {
	owner   string
	expires time.Time
}

// NonceStore is the in-memory ports.NonceStore. Reservations lapse after
// their ttl on the real clock; lapsed ones are dropped lazily and by an
// amortised sweep, so memory stays bounded by the live reservations.
type NonceStore struct {
	mu     sync.Mutex
	byKey  map[string]reservation
	writes int
	clock  func() time.Time
}

// NewNonceStore returns an empty nonce store.
func NewNonceStore() *NonceStore {
	return &NonceStore{byKey: map[string]reservation{}, clock: time.Now}
}

// Reserve claims nonce for owner for ttl; false means it is already reserved (a replay).
func (s *NonceStore) Reserve(_ context.Context, nonce, owner string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if r, ok := s.byKey[nonce]; ok && now.Before(r.expires) {
		return false, nil
	}
	s.byKey[nonce] = reservation{owner: owner, expires: now.Add(ttl)}
	if s.writes++; s.writes%nonceSweepEvery == 0 {
		for k, r := range s.byKey {
			if !now.Before(r.expires) {
				delete(s.byKey, k)
			}
		}
	}
	return true, nil
}

// Release frees nonce only if owner holds it; otherwise it does nothing.
func (s *NonceStore) Release(_ context.Context, nonce, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byKey[nonce]; ok && subtle.ConstantTimeCompare([]byte(r.owner), []byte(owner)) == 1 {
		delete(s.byKey, nonce)
	}
	return nil
}

// Len returns how many reservations are held, lapsed or not (for tests).
func (s *NonceStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}
