package redisstore

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/devicegate/devicegate/ports"
	"github.com/redis/rueidis"
)

// memoSlots is how many hashes the decoded-entry memo holds at most (a
// power of two). Each slot costs a pointer, and a filled one under 1 KiB
// (the hash, the value, its decoding and its GET), so a full memo stays
// under 4 MiB per TokenCache.
const memoSlots = 4096

// tokenMemo remembers, for recently read hashes, the GET command of the
// hash's key and the last value read with its decoding: building the GET
// (the key string and its cluster slot, a CRC16 of the key) and decoding
// the value were most of a hit's cost once rueidis served it from local
// memory.
//
// It is not a cache of its own: every Get still asks rueidis (DoCache),
// which stays the single source of truth, invalidations and TTLs included,
// and a remembered decoding is used only when the value rueidis returns is
// byte-identical to the value it was decoded from (decoding is a pure
// function of the bytes). A stale slot can thus cost a decode, never an
// answer.
//
// Slots are direct-mapped by a seeded hash of the token hash: a collision
// replaces the older hash, and a lookup compares the whole hash. Slots are
// atomic pointers to immutable memoEntry values, so readers never lock.
type tokenMemo struct {
	seed  maphash.Seed
	slots [memoSlots]atomic.Pointer[memoEntry]
}

// memoEntry is one remembered hash. It is never modified once published.
type memoEntry struct {
	hash  string            // the token hash
	get   rueidis.Cacheable // GET of the hash's key, pinned: reused by every Get, never recycled
	raw   string            // the stored value entry was decoded from
	entry ports.CacheEntry  // decodeEntry(raw), with ok
	ok    bool
}

func newTokenMemo() *tokenMemo {
	return &tokenMemo{seed: maphash.MakeSeed()}
}

// slot is where hash lives.
func (m *tokenMemo) slot(hash string) *atomic.Pointer[memoEntry] {
	return &m.slots[maphash.String(m.seed, hash)&(memoSlots-1)]
}

// lookup returns the entry remembered for hash, or nil.
func (m *tokenMemo) lookup(hash string) *memoEntry {
	if e := m.slot(hash).Load(); e != nil && e.hash == hash {
		return e
	}
	return nil
}

// remember publishes e in its slot, replacing whatever was there.
func (m *tokenMemo) remember(e *memoEntry) {
	m.slot(e.hash).Store(e)
}
