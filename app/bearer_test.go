package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

type bearerRig struct {
	tokens *fakeTokens
	clock  *fakeClock
	audit  *recordingAudit
	auth   *app.Authenticator
	minter *app.Minter
	touch  *app.LastUsed
}

func newBearerRig(t *testing.T) *bearerRig {
	r := &bearerRig{tokens: newFakeTokens(), clock: &fakeClock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}, audit: &recordingAudit{}}
	env := app.Env{Clock: r.clock, Rand: rand.Reader, Audit: r.audit}
	cache := memstore.NewTokenCache()
	r.touch = &app.LastUsed{Env: env, Tokens: r.tokens}
	r.minter = &app.Minter{Env: env, Tokens: r.tokens, Cache: cache, Kinds: domain.DefaultKinds(), TTL: 14 * 24 * time.Hour}
	r.auth = &app.Authenticator{Env: env, Kinds: domain.DefaultKinds(), Tokens: r.tokens, Expirer: r.tokens, Cache: cache,
		Limiter: memstore.NewRateLimiter(), Bucket: domain.BucketBearer, Touch: r.touch, Enabled: true}
	return r
}

func (r *bearerRig) mint(t *testing.T, label string) app.Minted {
	t.Helper()
	m, err := r.minter.Mint(context.Background(), domain.Subject{Type: domain.SubjectAccount, Email: "a@b.c", AccountID: "acc-1"}, "difyctl", label)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHotTokenCostsOneDatabaseRead(t *testing.T) {
	r := newBearerRig(t)
	r.auth.Bucket.Limit = 0 // 10,000 presentations would exceed the per-token bucket
	m := r.mint(t, "laptop")
	for i := 0; i < 10000; i++ {
		if i%1000 == 0 {
			r.clock.Advance(5 * time.Second) // stays inside the 60 s positive TTL in total
		}
		if _, err := r.auth.Validate(context.Background(), m.Token); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.tokens.byHash.Load(); n != 1 {
		t.Fatalf("%d database reads for 10,000 presentations, want 1", n)
	}
}

func TestBearerAnswers(t *testing.T) {
	r := newBearerRig(t)
	m := r.mint(t, "laptop")
	ctx := context.Background()
	p, err := r.auth.Authenticate(ctx, "bEaReR "+m.Token)
	if err != nil || p.TokenID != m.Row.ID || p.AccountID != "acc-1" || !p.Kind.HasScope("apps:run") {
		t.Fatalf("%+v %v", p, err)
	}
	for header, want := range map[string]error{
		"":                           domain.ErrMissingToken,
		"Basic abc":                  domain.ErrMissingToken,
		"Bearer ":                    domain.ErrMissingToken,
		"Bearer nope_abc":            domain.ErrInvalidToken,
		"Bearer dfoa_unknown":        domain.ErrInvalidToken,
		"Bearer dfoe_" + m.Token[5:]: domain.ErrInvalidToken, // right secret, wrong kind
	} {
		if _, err := r.auth.Authenticate(ctx, header); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", header, err, want)
		}
	}
	r.auth.Enabled = false
	if _, err := r.auth.Authenticate(ctx, "Bearer "+m.Token); !errors.Is(err, domain.ErrBearerDisabled) {
		t.Fatalf("disabled: %v", err)
	}
}

func TestExpiryRecheckedOnCacheHitAndAuditedOnce(t *testing.T) {
	r := newBearerRig(t)
	r.minter.TTL = 30 * time.Second
	m := r.mint(t, "laptop")
	if _, err := r.auth.Validate(context.Background(), m.Token); err != nil {
		t.Fatal(err) // now cached (for min(60 s, time left))
	}
	r.clock.Advance(30 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.auth.Inspect(context.Background(), m.Token)
			mu.Lock()
			got[errString(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got["token_expired"] != 40 {
		t.Fatalf("answers %v, want 40 token_expired", got)
	}
	if n := r.audit.count(domain.EventTokenExpired); n != 1 {
		t.Fatalf("%d oauth.token_expired events, want exactly 1", n)
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func TestRotationAndRevocationInvalidateTheCache(t *testing.T) {
	r := newBearerRig(t)
	ctx := context.Background()
	old := r.mint(t, "laptop")
	if _, err := r.auth.Validate(ctx, old.Token); err != nil {
		t.Fatal(err)
	}
	fresh := r.mint(t, "laptop")
	if !fresh.Rotated || fresh.Row.ID != old.Row.ID {
		t.Fatalf("rotation must keep the id: %+v", fresh)
	}
	if _, err := r.auth.Validate(ctx, old.Token); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("old token after rotation: %v", err)
	}
	p, err := r.auth.Validate(ctx, fresh.Token)
	if err != nil {
		t.Fatal(err)
	}
	s := &app.Sessions{Env: app.Env{Clock: r.clock}, Tokens: r.tokens, Cache: r.auth.Cache, Kinds: domain.DefaultKinds()}
	if err := s.RevokeSelf(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Validate(ctx, fresh.Token); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := s.RevokeSelf(ctx, p); err != nil {
		t.Fatalf("revoke is idempotent: %v", err)
	}
}

func TestPerTokenRateLimit(t *testing.T) {
	r := newBearerRig(t)
	r.auth.Bucket.Limit = 3
	m := r.mint(t, "laptop")
	for i := 0; i < 3; i++ {
		if _, err := r.auth.Validate(context.Background(), m.Token); err != nil {
			t.Fatal(err)
		}
	}
	_, err := r.auth.Validate(context.Background(), m.Token)
	var rl *domain.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < time.Second {
		t.Fatalf("4th request: %v", err)
	}
	if _, err := r.auth.Inspect(context.Background(), m.Token); err != nil {
		t.Fatalf("introspection is outside the per-token bucket: %v", err)
	}
}

func TestLastUsedBatchedOncePerMinute(t *testing.T) {
	r := newBearerRig(t)
	r.auth.Bucket.Limit = 0
	a, b := r.mint(t, "a"), r.mint(t, "b")
	for i := 0; i < 100; i++ {
		_, _ = r.auth.Validate(context.Background(), a.Token)
		_, _ = r.auth.Validate(context.Background(), b.Token)
	}
	if r.tokens.touches.Load() != 0 {
		t.Fatal("no write on the request path")
	}
	r.touch.Flush(context.Background())
	r.touch.Flush(context.Background())
	if n := r.tokens.touches.Load(); n != 1 || len(r.tokens.touched) != 2 {
		t.Fatalf("%d flushes wrote %d tokens; want one batch of 2", n, len(r.tokens.touched))
	}
	r.clock.Advance(30 * time.Second)
	_, _ = r.auth.Validate(context.Background(), a.Token)
	r.touch.Flush(context.Background())
	if n := r.tokens.touches.Load(); n != 1 {
		t.Fatal("at most one write per token per minute")
	}
	r.clock.Advance(31 * time.Second)
	_, _ = r.auth.Validate(context.Background(), a.Token)
	r.touch.Flush(context.Background())
	if n := r.tokens.touches.Load(); n != 2 || !r.tokens.touched[a.Row.ID].Equal(r.clock.Now()) {
		t.Fatalf("second minute: %d writes", n)
	}
}

// TestOnlyLiveTokensEarnARateLog: random tokens of every kind, a revoked
// token presented again and again, and an expired one are refused as
// invalid or expired without creating a per-token log in the limiter (they
// used to, one per junk header, before the lookup); a live token keeps its
// per-token limit.
func TestOnlyLiveTokensEarnARateLog(t *testing.T) {
	r := newBearerRig(t)
	limiter := memstore.NewRateLimiter()
	r.auth.Limiter, r.auth.Bucket.Limit = limiter, 3
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		for _, kind := range []domain.TokenKind{domain.AccountTokenKind, domain.ExternalTokenKind} {
			tok, err := kind.NewToken(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
				t.Fatalf("random %s token: %v", kind.Prefix, err)
			}
		}
	}
	revoked := r.mint(t, "revoked")
	s := &app.Sessions{Env: app.Env{Clock: r.clock}, Tokens: r.tokens, Cache: r.auth.Cache, Kinds: domain.DefaultKinds()}
	if err := s.RevokeToken(ctx, revoked.Token); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ { // more than the limit: never a 429, always the truth
		if _, err := r.auth.Validate(ctx, revoked.Token); !errors.Is(err, domain.ErrInvalidToken) {
			t.Fatalf("revoked token, presentation %d: %v", i, err)
		}
	}
	r.minter.TTL = time.Second
	expired := r.mint(t, "expired")
	r.clock.Advance(2 * time.Second)
	for i := 0; i < 10; i++ {
		if _, err := r.auth.Validate(ctx, expired.Token); !errors.Is(err, domain.ErrTokenExpired) {
			t.Fatalf("expired token, presentation %d: %v", i, err)
		}
	}
	if n := limiter.Len(); n != 0 {
		t.Fatalf("%d per-token logs after only invalid and expired tokens, want 0", n)
	}

	r.minter.TTL = time.Hour
	live := r.mint(t, "live")
	for i := 0; i < 3; i++ {
		if _, err := r.auth.Validate(ctx, live.Token); err != nil {
			t.Fatal(err)
		}
	}
	var rl *domain.RateLimitedError
	if _, err := r.auth.Validate(ctx, live.Token); !errors.As(err, &rl) {
		t.Fatalf("4th presentation of a live token: %v, want rate limited", err)
	}
	if n := limiter.Len(); n != 1 {
		t.Fatalf("%d per-token logs, want 1 (the live token's)", n)
	}
}
