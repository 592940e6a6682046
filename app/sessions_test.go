package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// reloginDuringRevoke arranges for the next Revoke to find that the device
// signed in again (rotating its row in place) after the revoke looked the
// presented token up, and returns where the re-login's token will be.
func reloginDuringRevoke(t *testing.T, r *bearerRig, label string) *app.Minted {
	t.Helper()
	fresh := new(app.Minted)
	r.tokens.mu.Lock()
	defer r.tokens.mu.Unlock()
	r.tokens.revokeHook = func(context.Context) {
		r.tokens.mu.Lock()
		r.tokens.revokeHook = nil
		r.tokens.mu.Unlock()
		*fresh = r.mint(t, label)
	}
	return fresh
}

// A revoke of a presented token (RFC 7009, or "revoke self") that overlaps a
// re-login of the same device must not revoke the token the re-login minted:
// the CLI already holds it. Revoke-by-id keeps revoking whatever the row holds.
func TestRevokeOfReplacedTokenSparesItsReplacement(t *testing.T) {
	ctx := context.Background()
	r := newBearerRig(t)
	s := &app.Sessions{Env: app.Env{Clock: r.clock, Audit: r.audit}, Tokens: r.tokens, Cache: r.auth.Cache, Kinds: domain.DefaultKinds()}

	old := r.mint(t, "laptop")
	fresh := reloginDuringRevoke(t, r, "laptop")
	if err := s.RevokeToken(ctx, old.Token); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if !fresh.Rotated || fresh.Row.ID != old.Row.ID {
		t.Fatalf("the re-login did not rotate the row in place: %+v", fresh.Row)
	}
	if _, err := r.auth.Validate(ctx, fresh.Token); err != nil {
		t.Fatalf("the re-login's token after an RFC 7009 revoke of the token it replaced: %v", err)
	}

	p, err := r.auth.Validate(ctx, fresh.Token)
	if err != nil {
		t.Fatal(err)
	}
	newer := reloginDuringRevoke(t, r, "laptop")
	if err := s.RevokeSelf(ctx, p); err != nil {
		t.Fatalf("RevokeSelf: %v", err)
	}
	if _, err := r.auth.Validate(ctx, newer.Token); err != nil {
		t.Fatalf("the re-login's token after a self-revoke of the token it replaced: %v", err)
	}
	if n := r.audit.count(domain.EventTokenRevoked); n != 0 {
		t.Fatalf("%d oauth.token_revoked events, want none (nothing was revoked)", n)
	}

	owner := domain.Principal{AccountID: newer.Row.AccountID}
	if err := s.RevokeByID(ctx, owner, newer.Row.ID); err != nil {
		t.Fatalf("RevokeByID: %v", err)
	}
	if _, err := r.auth.Validate(ctx, newer.Token); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("token after revoke-by-id: %v, want invalid_token", err)
	}
	if n := r.audit.count(domain.EventTokenRevoked); n != 1 {
		t.Fatalf("%d oauth.token_revoked events, want 1", n)
	}
}

// A use of T_old queued before a re-login rotated its row must not become
// T_new's last use, nor hold back T_new's own first write.
func TestLastUsedFollowsThePresentedToken(t *testing.T) {
	ctx := context.Background()
	r := newBearerRig(t)
	r.auth.Bucket.Limit = 0
	old := r.mint(t, "laptop")
	if _, err := r.auth.Validate(ctx, old.Token); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(10 * time.Second)
	fresh := r.mint(t, "laptop")
	if !fresh.Rotated {
		t.Fatal("the second mint did not rotate")
	}
	r.touch.Flush(ctx) // T_old's use, flushed after the rotation
	row, err := r.tokens.ByID(ctx, fresh.Row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !row.LastUsedAt.IsZero() {
		t.Fatalf("never-presented T_new shows a last use at %v (T_old's)", row.LastUsedAt)
	}
	r.clock.Advance(10 * time.Second) // still within a minute of T_old's write
	if _, err := r.auth.Validate(ctx, fresh.Token); err != nil {
		t.Fatal(err)
	}
	r.touch.Flush(ctx)
	if row, _ := r.tokens.ByID(ctx, fresh.Row.ID); !row.LastUsedAt.Equal(r.clock.Now()) {
		t.Fatalf("T_new's first use was not written: last_used_at = %v, want %v", row.LastUsedAt, r.clock.Now())
	}
}
