package porttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// tokRacers is how many goroutines the race subtests start at once.
const tokRacers = 20

// tokStartLine returns a function that each of tokRacers goroutines calls
// before racing: it makes one store call (so pooled backends have warm
// connections rather than dialling one by one, which would stagger the
// racers) and then waits until all racers are ready.
func tokStartLine(t testing.TB, s ports.TokenStore) func() {
	t.Helper()
	var ready sync.WaitGroup
	ready.Add(tokRacers)
	gate := make(chan struct{})
	go func() { ready.Wait(); close(gate) }()
	return func() {
		_, _ = s.ByHash(context.Background(), "warm-up")
		ready.Done()
		<-gate
	}
}

func tokRevoke(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	tok := tokAccount(t, tokNow)
	tokMint(t, s, tok)
	at := tokNow.Add(time.Hour)

	cleared, err := s.Revoke(ctx, tok.ID, "", at)
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if cleared != tok.TokenHash {
		t.Fatalf("Revoke returned hash %q, want the row's hash", cleared)
	}
	want := tok
	want.TokenHash, want.RevokedAt = "", at
	tokAssertRow(t, "revoked row", want, tokByID(t, s, tok.ID))
	tokWantGone(t, s, tok.TokenHash)

	// Compare-and-set: the second revoke changes nothing and says so.
	_, err = s.Revoke(ctx, tok.ID, "", at.Add(time.Hour))
	tokWantErr(t, "second Revoke", err, domain.ErrNotFound)
	tokAssertRow(t, "row after second revoke", want, tokByID(t, s, tok.ID))

	_, err = s.Revoke(ctx, tokUUID(t), "", at)
	tokWantErr(t, "Revoke(unknown id)", err, domain.ErrNotFound)
}

func tokMintAfterRevoke(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	old := tokAccount(t, tokNow)
	tokMint(t, s, old)
	if _, err := s.Revoke(ctx, old.ID, "", tokNow.Add(time.Minute)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	fresh := tokAgain(t, old, tokNow.Add(time.Hour))
	res := tokMint(t, s, fresh)
	if res.Rotated || res.ReplacedHash != "" || res.Token.ID != fresh.ID {
		t.Fatalf("mint after revoke: Rotated=%v ReplacedHash=%q id=%s, want a new row %s",
			res.Rotated, res.ReplacedHash, res.Token.ID, fresh.ID)
	}
	tokAssertRow(t, "new row", fresh, tokByID(t, s, fresh.ID))
	if got := tokByID(t, s, old.ID); got.RevokedAt.IsZero() || got.TokenHash != "" {
		t.Fatalf("revoked row changed by a later mint: %+v", got)
	}
}

func tokExpireHard(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	tok := tokExternal(t, tokNow)
	tokMint(t, s, tok)

	// Not yet expired: nothing happens.
	before := tok.ExpiresAt.Add(-time.Microsecond)
	if won, err := s.ExpireHard(ctx, tok.ID, before); err != nil || won {
		t.Fatalf("ExpireHard before expires_at = %v, %v; want false, nil", won, err)
	}
	tokAssertRow(t, "row after an early ExpireHard", tok, tokByID(t, s, tok.ID))

	// Exactly at expires_at the row is expired (expires_at <= now).
	if won, err := s.ExpireHard(ctx, tok.ID, tok.ExpiresAt); err != nil || !won {
		t.Fatalf("ExpireHard at expires_at = %v, %v; want true, nil", won, err)
	}
	want := tok
	want.TokenHash, want.RevokedAt = "", tok.ExpiresAt
	tokAssertRow(t, "hard-expired row", want, tokByID(t, s, tok.ID))
	tokWantGone(t, s, tok.TokenHash)

	if won, err := s.ExpireHard(ctx, tok.ID, tok.ExpiresAt.Add(time.Hour)); err != nil || won {
		t.Fatalf("second ExpireHard = %v, %v; want false, nil", won, err)
	}
	if _, err := s.Revoke(ctx, tok.ID, "", tokNow); err == nil {
		t.Fatal("Revoke after ExpireHard succeeded, want domain.ErrNotFound")
	}

	// A revoked row is not expired again.
	rev := tokAccount(t, tokNow)
	tokMint(t, s, rev)
	if _, err := s.Revoke(ctx, rev.ID, "", tokNow); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if won, err := s.ExpireHard(ctx, rev.ID, rev.ExpiresAt.Add(time.Hour)); err != nil || won {
		t.Fatalf("ExpireHard of a revoked row = %v, %v; want false, nil", won, err)
	}
	if won, err := s.ExpireHard(ctx, tokUUID(t), tokNow); err != nil || won {
		t.Fatalf("ExpireHard(unknown id) = %v, %v; want false, nil", won, err)
	}
}

// tokExpireHardRace: of many concurrent presentations after expiry, exactly one wins.
func tokExpireHardRace(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	tok := tokAccount(t, tokNow)
	tokMint(t, s, tok)
	now := tok.ExpiresAt.Add(time.Second)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
		errs []error
	)
	start := tokStartLine(t, s)
	for range tokRacers {
		wg.Go(func() {
			start()
			won, err := s.ExpireHard(ctx, tok.ID, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if won {
				wins++
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent ExpireHard returned errors: %v", errs)
	}
	if wins != 1 {
		t.Fatalf("%d concurrent ExpireHard calls won, want exactly 1", wins)
	}
	tokWantGone(t, s, tok.TokenHash)
}

// tokRaceMint: concurrent mints for one (subject, client, device) all succeed
// and leave exactly one live row. Each rotation reports the hash it replaced,
// so the replaced hashes plus the surviving one are every minted hash, once.
func tokRaceMint(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	base := tokAccount(t, tokNow)
	toks := make([]domain.AccessToken, tokRacers)
	for i := range toks {
		toks[i] = tokAgain(t, base, tokNow.Add(time.Duration(i)*time.Second))
	}
	results := make([]ports.MintResult, tokRacers)
	errs := make([]error, tokRacers)
	var wg sync.WaitGroup
	start := tokStartLine(t, s)
	for i := range toks {
		wg.Go(func() {
			start()
			results[i], errs[i] = s.Mint(ctx, toks[i])
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Mint %d: %v", i, err)
		}
	}

	rows, total, err := s.ListLive(ctx, domain.Owner{AccountID: base.AccountID}, tokNow, 1, 100)
	if err != nil {
		t.Fatalf("ListLive: %v", err)
	}
	if total != 1 || len(rows) != 1 {
		t.Fatalf("after %d concurrent mints: %d live rows (total %d), want 1", tokRacers, len(rows), total)
	}
	live := rows[0]
	resolving, inserted := 0, 0
	seen := map[string]int{live.TokenHash: 1}
	for i, tok := range toks {
		if _, err := s.ByHash(ctx, tok.TokenHash); err == nil {
			resolving++
		}
		r := results[i]
		if r.Token.ID != live.ID {
			t.Errorf("mint %d returned row %s, want the one live row %s", i, r.Token.ID, live.ID)
		}
		if !r.Rotated {
			inserted++
			continue
		}
		seen[r.ReplacedHash]++
	}
	if resolving != 1 {
		t.Fatalf("%d minted hashes resolve, want exactly 1", resolving)
	}
	if inserted != 1 {
		t.Errorf("%d mints inserted a row, want exactly 1 (the rest rotate)", inserted)
	}
	for _, tok := range toks {
		if seen[tok.TokenHash] != 1 {
			t.Errorf("hash of mint %s was replaced or kept %d times, want exactly once", tok.ID, seen[tok.TokenHash])
		}
	}
}
