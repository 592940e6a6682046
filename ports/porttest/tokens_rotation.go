package porttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// The subtests of this file are about rotation in place: a re-login keeps a
// row's id and swaps its hash, so anything that addresses a row by id on
// behalf of a presented token must also check the hash.

// tokRevokeRaceRounds is how many times tokRevokeRaceMint races a revoke of a
// presented token against a re-login of the same device.
const tokRevokeRaceRounds = 100

// tokRevokeReplaced: a revoke that names the hash the caller presented does
// nothing once a re-login replaced that hash; the replacement stays live.
// Revoke with a wrong hash likewise changes nothing.
func tokRevokeReplaced(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	old := tokAccount(t, tokNow)
	tokMint(t, s, old)
	fresh := tokAgain(t, old, tokNow.Add(time.Minute))
	tokMint(t, s, fresh)
	want := fresh
	want.ID = old.ID

	_, err := s.Revoke(ctx, old.ID, old.TokenHash, tokNow.Add(time.Hour))
	tokWantErr(t, "Revoke presenting the replaced hash", err, domain.ErrNotFound)
	_, err = s.Revoke(ctx, old.ID, tokHash(t), tokNow.Add(time.Hour))
	tokWantErr(t, "Revoke presenting an unknown hash", err, domain.ErrNotFound)
	tokAssertRow(t, "replacement after revokes of other hashes", want, tokByID(t, s, old.ID))

	cleared, err := s.Revoke(ctx, old.ID, fresh.TokenHash, tokNow.Add(time.Hour))
	if err != nil || cleared != fresh.TokenHash {
		t.Fatalf("Revoke presenting the live hash = %q, %v; want the live hash", cleared, err)
	}
	tokWantGone(t, s, fresh.TokenHash)
	_, err = s.Revoke(ctx, old.ID, fresh.TokenHash, tokNow.Add(2*time.Hour))
	tokWantErr(t, "second Revoke presenting the hash", err, domain.ErrNotFound)
}

// tokRevokeRaceMint races a revoke of a presented token T_old (its row found
// by hash beforehand, as RFC 7009 and "revoke self" do) against a re-login of
// the same device minting T_new, many times. Whichever runs first, T_new
// must be live afterwards: either the revoke won (it cleared T_old and the
// mint inserted a fresh row) or the mint won (it replaced T_old in place and
// the revoke found nothing to do), never both and never neither.
func tokRevokeRaceMint(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	revokeWon, mintWon := 0, 0
	for round := range tokRevokeRaceRounds {
		old := tokAccount(t, tokNow)
		tokMint(t, s, old)
		fresh := tokAgain(t, old, tokNow.Add(time.Minute))
		var (
			wg      sync.WaitGroup
			cleared string
			revErr  error
			res     ports.MintResult
			mintErr error
		)
		gate := make(chan struct{})
		wg.Go(func() { <-gate; cleared, revErr = s.Revoke(ctx, old.ID, old.TokenHash, tokNow.Add(time.Second)) })
		wg.Go(func() { <-gate; res, mintErr = s.Mint(ctx, fresh) })
		close(gate)
		wg.Wait()
		if mintErr != nil {
			t.Fatalf("round %d: Mint: %v", round, mintErr)
		}
		if revErr != nil && !errors.Is(revErr, domain.ErrNotFound) {
			t.Fatalf("round %d: Revoke: %v", round, revErr)
		}
		switch {
		case revErr == nil && cleared == old.TokenHash && !res.Rotated && res.Token.ID == fresh.ID:
			revokeWon++
		case revErr != nil && res.Rotated && res.ReplacedHash == old.TokenHash && res.Token.ID == old.ID:
			mintWon++
		default:
			t.Fatalf("round %d: Revoke = %q, %v; Mint rotated=%v replaced=%q id=%s: neither order explains it",
				round, cleared, revErr, res.Rotated, res.ReplacedHash, res.Token.ID)
		}
		live, err := s.ByHash(ctx, fresh.TokenHash)
		if err != nil || !live.RevokedAt.IsZero() {
			t.Fatalf("round %d: the token minted by the re-login is gone (%v, revoked %v): the revoke of the token it replaced killed it",
				round, err, live.RevokedAt)
		}
		tokWantGone(t, s, old.TokenHash)
	}
	t.Logf("%d rounds: the revoke ran first %d times, the re-login %d times", tokRevokeRaceRounds, revokeWon, mintWon)
}

// tokMintAfterRevokeTwice: mint, revoke, mint, mint for one device. The third
// mint must rotate the second row and leave the revoked one alone, however
// many revoked rows the device has.
func tokMintAfterRevokeTwice(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	first := tokAccount(t, tokNow)
	tokMint(t, s, first)
	if _, err := s.Revoke(ctx, first.ID, "", tokNow.Add(time.Minute)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	second := tokAgain(t, first, tokNow.Add(time.Hour))
	if res := tokMint(t, s, second); res.Rotated || res.Token.ID != second.ID {
		t.Fatalf("mint after revoke: Rotated=%v id=%s, want a new row %s", res.Rotated, res.Token.ID, second.ID)
	}
	third := tokAgain(t, first, tokNow.Add(2*time.Hour))
	res, err := s.Mint(ctx, third)
	if err != nil {
		t.Fatalf("third mint of a device with a revoked row: %v", err)
	}
	if !res.Rotated || res.ReplacedHash != second.TokenHash || res.Token.ID != second.ID {
		t.Fatalf("third mint: Rotated=%v ReplacedHash=%q id=%s, want a rotation of row %s",
			res.Rotated, res.ReplacedHash, res.Token.ID, second.ID)
	}
	want := third
	want.ID = second.ID
	tokAssertRow(t, "rotated second row", want, tokByID(t, s, second.ID))
	if got := tokByID(t, s, first.ID); got.RevokedAt.IsZero() || got.TokenHash != "" {
		t.Fatalf("revoked row changed by later mints: %+v", got)
	}
	fourth := tokAgain(t, first, tokNow.Add(3*time.Hour))
	if res := tokMint(t, s, fourth); !res.Rotated || res.ReplacedHash != third.TokenHash || res.Token.ID != second.ID {
		t.Fatalf("fourth mint: Rotated=%v ReplacedHash=%q id=%s, want a rotation of row %s",
			res.Rotated, res.ReplacedHash, res.Token.ID, second.ID)
	}
}

// tokTouchReplaced: a use of a token that was since replaced (or revoked)
// must not stamp the row: the row now holds another token, never presented.
func tokTouchReplaced(t *testing.T, s ports.TokenStore) {
	ctx := context.Background()
	old := tokAccount(t, tokNow)
	tokMint(t, s, old)
	fresh := tokAgain(t, old, tokNow.Add(time.Hour))
	tokMint(t, s, fresh)
	oldUse := tokUse(old)
	freshUse := ports.TokenUse{ID: old.ID, Hash: fresh.TokenHash}
	touch := func(seen map[ports.TokenUse]time.Time) {
		t.Helper()
		if err := s.TouchLastUsed(ctx, seen); err != nil {
			t.Fatalf("TouchLastUsed: %v", err)
		}
	}
	lastUsed := func() time.Time { t.Helper(); return tokByID(t, s, old.ID).LastUsedAt }

	// A use of T_old queued before the rotation and flushed after it.
	touch(map[ports.TokenUse]time.Time{oldUse: tokNow.Add(30 * time.Minute)})
	if got := lastUsed(); !got.IsZero() {
		t.Fatalf("a use of the replaced token set the new token's last use to %v", got)
	}
	// One batch with both: only T_new's own use counts, even when T_old's is later.
	t1 := tokNow.Add(61 * time.Minute)
	touch(map[ports.TokenUse]time.Time{freshUse: t1, oldUse: t1.Add(time.Minute)})
	if got := lastUsed(); !got.Equal(t1) {
		t.Fatalf("LastUsedAt = %v, want %v (the new token's use, not the old one's)", got, t1)
	}
	// After a revoke the row holds no hash: later touches change nothing.
	if _, err := s.Revoke(ctx, old.ID, "", t1.Add(time.Minute)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	touch(map[ports.TokenUse]time.Time{freshUse: t1.Add(2 * time.Minute)})
	if got := lastUsed(); !got.Equal(t1) {
		t.Fatalf("LastUsedAt of a revoked row moved to %v, want it kept at %v", got, t1)
	}
}
