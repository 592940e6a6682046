package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// offboardRig is one serving instance on a real SQLite file with the
// embedded memory cache, and an "other process" (a CLI) on the same file
// that has no way to reach that cache.
type offboardRig struct {
	db      *gormrepo.DB
	clock   *fakeClock
	audit   *recordingAudit
	auth    *app.Authenticator
	watch   *app.RevocationWatch
	minter  *app.Minter
	account domain.Account
	cli     *app.Offboard // another process: no cache
}

func newOffboardRig(t *testing.T) *offboardRig {
	t.Helper()
	ctx := context.Background()
	db := migratedSQLite(t)
	r := &offboardRig{db: db, clock: &fakeClock{now: time.Now().UTC().Truncate(time.Second)}, audit: &recordingAudit{}}
	env := app.Env{Clock: r.clock, Rand: rand.Reader, Audit: r.audit}
	id, _ := domain.NewUUID(rand.Reader)
	var err error
	r.account, err = db.CreateAccount(ctx, ports.NewAccount{ID: id, Email: "ada@example.com", Name: "Ada",
		PasswordHash: "x", Workspace: "Engines", Now: r.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cache := memstore.NewTokenCache()
	r.watch = &app.RevocationWatch{Env: env, Feed: db}
	guard := &app.AccountGuard{Env: env, Accounts: db, Offboard: &app.Offboard{Env: env, Tokens: db, Cache: cache}}
	r.auth = &app.Authenticator{Env: env, Kinds: domain.DefaultKinds(), Tokens: db, Expirer: db, Cache: cache,
		Limiter: memstore.NewRateLimiter(), Bucket: domain.BucketBearer, Enabled: true, Guard: guard, Watch: r.watch}
	r.minter = &app.Minter{Env: env, Tokens: db, Cache: cache, Kinds: domain.DefaultKinds(), TTL: 14 * 24 * time.Hour}
	r.cli = &app.Offboard{Env: env, Tokens: db}
	return r
}

func (r *offboardRig) mint(t *testing.T, label string) string {
	t.Helper()
	m, err := r.minter.Mint(context.Background(), domain.Subject{Type: domain.SubjectAccount, Email: r.account.Email,
		AccountID: r.account.ID}, "difyctl", label)
	if err != nil {
		t.Fatal(err)
	}
	return m.Token
}

// signIn stores a console session of the rig's account.
func (r *offboardRig) signIn(t *testing.T) domain.ConsoleSession {
	t.Helper()
	sess := domain.ConsoleSession{IDHash: domain.HashSecret("cookie"), AccountID: r.account.ID, CSRFToken: "c",
		CreatedAt: r.clock.Now(), ExpiresAt: r.clock.Now().Add(time.Hour)}
	if err := r.db.CreateSession(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	return sess
}

// status is `accounts disable|enable|delete` on the rig's database and cache.
func (r *offboardRig) status() *app.AccountStatus {
	return &app.AccountStatus{Env: app.Env{Clock: r.clock, Audit: r.audit}, Accounts: r.db, Offboard: r.auth.Guard.Offboard}
}

func (r *offboardRig) actors(name string) []string {
	r.audit.mu.Lock()
	defer r.audit.mu.Unlock()
	var out []string
	for _, e := range r.audit.events {
		if e.Name == name {
			out = append(out, e.Actor)
		}
	}
	return out
}

// A token another process revoked stops being served from this instance's
// cache at the watch's next poll (without the watch it would be served until
// its positive entry lapsed, a minute later).
func TestRevocationWatchRefusesACachedTokenRevokedElsewhere(t *testing.T) {
	r := newOffboardRig(t)
	ctx := context.Background()
	if err := r.watch.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	tok := r.mint(t, "laptop")
	if _, err := r.auth.Validate(ctx, tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	r.clock.Advance(time.Second)
	rows, err := r.cli.Revoke(ctx, ports.TokenFilter{Email: "ADA@example.com"}, domain.ActorOperator)
	if err != nil || len(rows) != 1 {
		t.Fatalf("revoke by email (issuer defaulted to the account sentinel): %d rows, %v", len(rows), err)
	}
	if _, err := r.auth.Validate(ctx, tok); err != nil {
		t.Fatalf("before the poll the cached entry still answers (the premise of this test): %v", err)
	}
	r.clock.Advance(time.Second)
	if err := r.watch.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("after the poll: %v, want invalid_token", err)
	}
	if got := r.actors(domain.EventTokenRevoked); len(got) != 1 || got[0] != domain.ActorOperator {
		t.Fatalf("token_revoked actors %v, want [operator]", got)
	}
}

// The watch looks back over revocations whose revoked_at is older than its
// previous poll (a revoking statement commits after taking its time).
func TestRevocationWatchSeesALateCommittedRevocation(t *testing.T) {
	r := newOffboardRig(t)
	ctx := context.Background()
	tok := r.mint(t, "laptop")
	if _, err := r.auth.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	revokedAt := r.clock.Now()
	r.clock.Advance(10 * time.Second)
	if err := r.watch.Poll(ctx); err != nil { // polls before the revocation commits
		t.Fatal(err)
	}
	late := &app.Offboard{Env: app.Env{Clock: ports.ClockFunc(func() time.Time { return revokedAt })}, Tokens: r.db}
	if _, err := late.Revoke(ctx, ports.TokenFilter{AccountID: r.account.ID}, domain.ActorOperator); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Second)
	if err := r.watch.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("a revocation committed after the previous poll, dated before it: %v, want invalid_token", err)
	}
}

// A token minted for an account after the account was disabled (the race of
// a poll with `accounts disable`) is refused on first use and revoked, so
// enabling the account later does not bring it back.
func TestTokenOfADisabledAccountIsRefusedAndRevoked(t *testing.T) {
	r := newOffboardRig(t)
	ctx := context.Background()
	if _, err := r.db.SetAccountActive(ctx, r.account.Email, false); err != nil {
		t.Fatal(err)
	}
	tok := r.mint(t, "raced laptop")
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("token of a disabled account: %v, want invalid_token", err)
	}
	if _, err := r.auth.Inspect(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("introspection of it: %v, want invalid_token", err)
	}
	live, err := r.db.LiveTokens(ctx, ports.TokenFilter{AccountID: r.account.ID}, r.clock.Now())
	if err != nil || len(live) != 0 {
		t.Fatalf("live rows of the disabled account: %d, %v; want none", len(live), err)
	}
	if got := r.actors(domain.EventTokenRevoked); len(got) != 1 || got[0] != domain.ActorSystem {
		t.Fatalf("token_revoked actors %v, want [system]", got)
	}
	if _, err := r.db.SetAccountActive(ctx, r.account.Email, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("after enabling the account again: %v, want invalid_token", err)
	}
}

// Disabling ends the console sessions and revokes the tokens; enabling
// brings neither back.
func TestDisableEndsSessionsAndTokens(t *testing.T) {
	r := newOffboardRig(t)
	ctx := context.Background()
	tok := r.mint(t, "laptop")
	sess := r.signIn(t)
	u := r.status()
	res, err := u.Disable(ctx, " ADA@example.com ")
	if err != nil || len(res.Revoked) != 1 || res.Sessions != 1 || res.Account.Active {
		t.Fatalf("Disable = %+v, %v", res, err)
	}
	if res.Revoked[0].TokenHash != "" {
		t.Fatal("Disable must not hand out token hashes")
	}
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("token after disable: %v", err)
	}
	if _, err := r.db.Session(ctx, sess.IDHash, r.clock.Now()); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("console session after disable: %v", err)
	}
	if _, err := u.Disable(ctx, "nobody@example.com"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown email: %v", err)
	}
	if a, err := u.Enable(ctx, r.account.Email); err != nil || !a.Active {
		t.Fatalf("Enable = %+v, %v", a, err)
	}
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("token after enable: %v", err)
	}
}

func TestOffboardRefusesAFilterNamingNoOne(t *testing.T) {
	r := newOffboardRig(t)
	for _, f := range []ports.TokenFilter{{}, {Issuer: "https://idp"}, {ID: "x", AccountID: "y"}} {
		if _, err := r.cli.Revoke(context.Background(), f, domain.ActorOperator); !errors.Is(err, domain.ErrInvalidRequest) {
			t.Errorf("Revoke(%+v): %v, want invalid request", f, err)
		}
	}
}

// Deleting an account revokes its tokens and ends its sessions; a token
// minted in a race with the deletion is refused and revoked (its account is
// missing), and the rows stay for the audit trail.
func TestDeleteEndsSessionsAndTokens(t *testing.T) {
	r := newOffboardRig(t)
	ctx := context.Background()
	tok := r.mint(t, "laptop")
	if _, err := r.auth.Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	sess := r.signIn(t)
	u := r.status()
	res, err := u.Delete(ctx, "Ada@Example.com")
	if _, err := r.db.Session(ctx, sess.IDHash, r.clock.Now()); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("console session after delete: %v", err)
	}
	if err != nil || len(res.Revoked) != 1 || res.Sessions != 1 || res.Account.ID != r.account.ID {
		t.Fatalf("Delete = %+v, %v", res, err)
	}
	if _, err := r.auth.Validate(ctx, tok); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("token after delete: %v", err)
	}
	raced := r.mint(t, "raced laptop")
	if _, err := r.auth.Validate(ctx, raced); !errors.Is(err, domain.ErrInvalidToken) {
		t.Fatalf("token of a deleted account: %v", err)
	}
	if got := r.actors(domain.EventTokenRevoked); len(got) != 2 || got[0] != domain.ActorOperator || got[1] != domain.ActorSystem {
		t.Fatalf("token_revoked actors %v, want [operator system]", got)
	}
	if _, err := u.Delete(ctx, r.account.Email); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// migratedSQLite opens a migrated SQLite database in a temporary directory,
// closed at cleanup.
func migratedSQLite(t *testing.T) *gormrepo.DB {
	t.Helper()
	ctx := context.Background()
	db, err := gormrepo.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "devicegate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
