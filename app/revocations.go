package app

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// Revocation watch timing.
const (
	// RevocationPollEvery is how often a serving instance reads the
	// revocation feed: the bound on how long a token revoked by another
	// process (a CLI next to an embedded server) stays usable from this
	// instance's own cache, plus the time of one query.
	RevocationPollEvery = time.Second
	// revocationLookback is how far before its previous poll each poll looks
	// again. revoked_at is the revoker's clock taken before its transaction
	// commits, so a row can appear in the table with a revoked_at older than
	// the last poll: by the length of the revoking statement (at most the
	// database adapter's 30 s bound on bulk work) plus any clock skew
	// between hosts.
	revocationLookback = 45 * time.Second
	// revocationKeep is how long a revoked id is remembered: longer than a
	// positive cache entry lives (PositiveCacheTTL), counted from when this
	// instance learned of it, so an entry Put by a read that raced the
	// revocation is refused for its whole life.
	revocationKeep = 2*PositiveCacheTTL + revocationLookback
	// revocationPage is the feed's page size.
	revocationPage = 1000
)

// RevocationWatch lets an instance refuse, from its own token cache, the
// tokens other processes revoked: it reads the database's revocation feed
// every RevocationPollEvery and remembers the ids revoked recently. The
// Authenticator treats a cache hit on a remembered id as a miss, so the
// database answers. Revoked ids never come back to life (a new sign-in
// after a revoke makes a new row), so remembering too long is harmless.
type RevocationWatch struct {
	Env
	Feed ports.RevocationFeed

	ids  atomic.Pointer[map[string]time.Time] // revoked id -> when to forget it; replaced, never mutated
	mu   sync.Mutex                           // serialises Poll
	next time.Time                            // start of the next poll's window (before the lookback)
	fail bool                                 // the last poll failed (logged once per outage)
}

// Revoked reports whether id was revoked recently, as of the last poll. It
// takes no lock: the hot path calls it on every cache hit.
func (w *RevocationWatch) Revoked(id string) bool {
	if w == nil {
		return false
	}
	m := w.ids.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[id]
	return ok
}

// Poll reads the revocations since the previous poll (minus the lookback)
// and remembers their ids. The first poll looks back over a positive
// cache entry's lifetime too.
func (w *RevocationWatch) Poll(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	since := w.next
	if since.IsZero() {
		since = now.Add(-PositiveCacheTTL)
	}
	key := ports.Revocation{RevokedAt: since.Add(-revocationLookback)}
	var found []string
	for {
		page, err := w.Feed.RevokedAfter(ctx, key, revocationPage)
		if err != nil {
			return err
		}
		for _, r := range page {
			found = append(found, r.ID)
		}
		if len(page) < revocationPage {
			break
		}
		key = page[len(page)-1]
	}
	w.next = now
	old := map[string]time.Time{}
	if m := w.ids.Load(); m != nil {
		old = *m
	}
	changed := false
	for _, until := range old {
		if !now.Before(until) {
			changed = true
			break
		}
	}
	for _, id := range found {
		if _, ok := old[id]; !ok {
			changed = true
			break
		}
	}
	if !changed {
		return nil
	}
	ids := make(map[string]time.Time, len(old)+len(found))
	maps.Copy(ids, old)
	maps.DeleteFunc(ids, func(_ string, until time.Time) bool { return !now.Before(until) })
	for _, id := range found {
		if _, ok := ids[id]; !ok {
			ids[id] = now.Add(revocationKeep)
		}
	}
	w.ids.Store(&ids)
	return nil
}

// Run polls every interval until ctx ends. A failed poll is retried at the
// next tick (the window start does not move, so nothing is skipped); an
// outage is logged when it starts and when it ends.
func (w *RevocationWatch) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := w.Poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !w.fail:
			w.fail = true
			w.log().WarnContext(ctx, "reading the revocation feed failed; retrying", "err", err)
		case err == nil && w.fail:
			w.fail = false
			w.log().InfoContext(ctx, "revocation feed readable again")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
