package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

const (
	ownerEmail    = "owner@example.com"
	ownerPassword = "correct horse battery"
)

// countingHasher is plainHasher counting verifications.
type countingHasher struct {
	plainHasher
	verified atomic.Int64
}

func (h *countingHasher) Verify(enc, p string) bool {
	h.verified.Add(1)
	return h.plainHasher.Verify(enc, p)
}

type signInRig struct {
	console *app.Console
	clock   *fakeClock
	hasher  *countingHasher
}

// newSignInRig is the console on a real SQLite directory with two accounts
// and the in-memory limiter, one second passing between attempts.
func newSignInRig(t *testing.T) *signInRig {
	t.Helper()
	ctx := context.Background()
	db := migratedSQLite(t)
	r := &signInRig{clock: &fakeClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, hasher: &countingHasher{}}
	env := app.Env{Clock: r.clock}
	create := &app.CreateAccount{Env: env, Admin: db, Hasher: r.hasher}
	for _, email := range []string{ownerEmail, "other@example.com"} {
		if _, err := create.Execute(ctx, app.CreateAccountInput{Email: email, Name: "N", Password: ownerPassword, Workspace: "W"}); err != nil {
			t.Fatal(err)
		}
	}
	r.console = &app.Console{Env: env, Admin: db, Accounts: db, Sessions: db, Hasher: r.hasher, Limiter: memstore.NewRateLimiter()}
	return r
}

// try signs in once, a second after the previous attempt, and returns the
// outcome: "ok", "wrong" (invalid credentials) or "limited".
func (r *signInRig) try(t *testing.T, email, password, ip string) string {
	t.Helper()
	r.clock.Advance(time.Second)
	_, err := r.console.Login(context.Background(), email, password, ip)
	var rl *domain.RateLimitedError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, domain.ErrInvalidCredentials):
		return "wrong"
	case errors.As(err, &rl) && rl.RetryAfter >= time.Second:
		return "limited"
	}
	t.Fatalf("sign-in %s from %s: %v", email, ip, err)
	return ""
}

func wantOutcome(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %s, want %s", what, got, want)
	}
}

// TestSignInAttackerCannotLockOwnerOut: ten wrong passwords from address A
// (the last five refused without a check) leave the owner free to sign in
// from address B. The per-email bucket used to count every attempt, so ten
// from anywhere locked the owner out for 15 minutes.
func TestSignInAttackerCannotLockOwnerOut(t *testing.T) {
	r := newSignInRig(t)
	for i := 0; i < 10; i++ {
		want := "wrong"
		if i >= domain.BucketLoginEmailIP.Limit {
			want = "limited"
		}
		wantOutcome(t, fmt.Sprintf("wrong password %d from A", i+1), r.try(t, ownerEmail, "guess", "203.0.113.66"), want)
	}
	wantOutcome(t, "the owner from B", r.try(t, ownerEmail, ownerPassword, "198.51.100.10"), "ok")
	wantOutcome(t, "the right password from A, still refused", r.try(t, ownerEmail, ownerPassword, "203.0.113.66"), "limited")
	wantOutcome(t, "A for another email", r.try(t, "other@example.com", ownerPassword, "203.0.113.66"), "ok")
}

// TestSignInSuccessesConsumeNoBudget: twenty correct sign-ins in a row all
// succeed (the tenth used to be refused), and they do not wear down the
// failure budget either: four failures, twenty successes, and the fifth
// failure is still allowed; the sixth attempt is refused.
func TestSignInSuccessesConsumeNoBudget(t *testing.T) {
	r := newSignInRig(t)
	const ip = "198.51.100.10"
	for i := 0; i < 20; i++ {
		wantOutcome(t, fmt.Sprintf("correct sign-in %d", i+1), r.try(t, ownerEmail, ownerPassword, ip), "ok")
	}
	for i := 0; i < 4; i++ {
		wantOutcome(t, "failure", r.try(t, ownerEmail, "typo", ip), "wrong")
	}
	for i := 0; i < 20; i++ {
		wantOutcome(t, fmt.Sprintf("correct sign-in %d after four failures", i+1), r.try(t, ownerEmail, ownerPassword, ip), "ok")
	}
	wantOutcome(t, "fifth failure", r.try(t, ownerEmail, "typo", ip), "wrong")
	wantOutcome(t, "sixth attempt", r.try(t, ownerEmail, ownerPassword, ip), "limited")
}

// TestSignInEmailCeilingBitesDistributedAttacker: fifty failures spread
// over ten addresses fill the per-email ceiling, so the next attempt from
// any address, the owner's included, is refused without a password check;
// another email is unaffected, and the ceiling lifts after its window.
func TestSignInEmailCeilingBitesDistributedAttacker(t *testing.T) {
	r := newSignInRig(t)
	for a := 0; a < 10; a++ {
		for i := 0; i < 5; i++ {
			wantOutcome(t, "distributed guess", r.try(t, ownerEmail, "guess", fmt.Sprintf("203.0.113.%d", a)), "wrong")
		}
	}
	before := r.hasher.verified.Load()
	wantOutcome(t, "the owner from a fresh address", r.try(t, ownerEmail, ownerPassword, "198.51.100.10"), "limited")
	wantOutcome(t, "an attacker from a fresh address", r.try(t, ownerEmail, "guess", "192.0.2.99"), "limited")
	if n := r.hasher.verified.Load() - before; n != 0 {
		t.Fatalf("%d password checks past the ceiling, want 0", n)
	}
	wantOutcome(t, "another email", r.try(t, "other@example.com", ownerPassword, "192.0.2.99"), "ok")
	r.clock.Advance(domain.BucketLoginEmail.Window)
	wantOutcome(t, "the owner after the window", r.try(t, ownerEmail, ownerPassword, "198.51.100.10"), "ok")
}

// TestSignInPerIPCeilingAndRefusalsCountNowhere: an address spraying many
// emails (unknown ones count like known ones) is stopped by the per-IP
// ceiling, everywhere from that address only; and attempts refused by one
// bucket are not counted in the others (a hundred refused attempts on one
// email leave the address and the email's ceiling untouched).
func TestSignInPerIPCeilingAndRefusalsCountNowhere(t *testing.T) {
	r := newSignInRig(t)
	const sprayer, other = "203.0.113.7", "198.51.100.10"
	for i := 0; i < 5; i++ {
		wantOutcome(t, "wrong password", r.try(t, ownerEmail, "guess", sprayer), "wrong")
	}
	for i := 0; i < 100; i++ {
		wantOutcome(t, "refused attempt", r.try(t, ownerEmail, "guess", sprayer), "limited")
	}
	wantOutcome(t, "the sprayer's correct sign-in to another email", r.try(t, "other@example.com", ownerPassword, sprayer), "ok")
	for i := 0; i < 8; i++ { // 5 + 40 failures: below the ceiling of 50, had the refusals not counted
		for j := 0; j < 5; j++ {
			wantOutcome(t, "guess", r.try(t, ownerEmail, "guess", fmt.Sprintf("192.0.2.%d", i)), "wrong")
		}
	}
	wantOutcome(t, "the owner below the ceiling", r.try(t, ownerEmail, ownerPassword, other), "ok")

	for i := 0; i < domain.BucketLoginIP.Limit-5; i++ {
		before := r.hasher.verified.Load()
		wantOutcome(t, "spray", r.try(t, fmt.Sprintf("nobody%d@example.com", i), "guess", sprayer), "wrong")
		if n := r.hasher.verified.Load() - before; n != 1 {
			t.Fatalf("an unknown email cost %d password checks, want 1 (the timing equaliser)", n)
		}
	}
	wantOutcome(t, "past the per-IP ceiling", r.try(t, "other@example.com", ownerPassword, sprayer), "limited")
	wantOutcome(t, "another address", r.try(t, "other@example.com", ownerPassword, other), "ok")
}
