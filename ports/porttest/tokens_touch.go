package porttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// tokTouchLastUsedRace: instances flush their last-used batches
// concurrently, and batches overlap (a client's requests spread over every
// instance). Every flush must succeed (a store that locks rows in a
// different order per batch deadlocks here) and each row ends at the latest
// time any batch carried.
func tokTouchLastUsedRace(t *testing.T, s ports.TokenStore) {
	const rows, flushers, rounds = 30, 4, 4
	uses := make([]ports.TokenUse, rows)
	for i := range uses {
		tok := tokAccount(t, tokNow)
		tokMint(t, s, tok)
		uses[i] = tokUse(tok)
	}
	at := func(f, r int) time.Time { return tokNow.Add(time.Duration(1+r*flushers+f) * time.Second) }
	var (
		mu   sync.Mutex
		errs []error
	)
	stRace(flushers, func(f int) {
		for r := range rounds {
			seen := make(map[ports.TokenUse]time.Time, rows)
			for _, u := range uses {
				seen[u] = at(f, r)
			}
			if err := s.TouchLastUsed(context.Background(), seen); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("flusher %d round %d: %w", f, r, err))
				mu.Unlock()
			}
		}
	})
	if len(errs) > 0 {
		t.Fatalf("concurrent TouchLastUsed failed %d times, first: %v", len(errs), errs[0])
	}
	want := at(flushers-1, rounds-1)
	for _, u := range uses {
		if got := tokByID(t, s, u.ID).LastUsedAt; !got.Equal(want) {
			t.Fatalf("LastUsedAt of %s = %v, want the latest touch %v", u.ID, got, want)
		}
	}
}
