package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/devicegate/devicegate/domain"
)

// wantLimited checks the canonical 429 with a whole-second Retry-After.
func wantLimited(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	wantCanonical(t, rec, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, rec)
}

// signIn posts one console sign-in from remote.
func (s *testServer) signIn(email, password, remote string) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.postJSON("/console/api/login", map[string]string{"email": email, "password": password}, fromRemote(remote))
}

// TestLookupRateLimitPerIP: 60 lookups per 5 minutes per client IP, then a
// canonical 429; another IP has its own bucket.
func TestLookupRateLimitPerIP(t *testing.T) {
	s := newTestServer(t)
	for i := 0; i < domain.BucketLookup.Limit; i++ {
		wantStatus(t, s.lookup("ABCD-EFGH"), http.StatusOK)
	}
	wantLimited(t, s.lookup("ABCD-EFGH"))
	wantStatus(t, s.get("/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH", fromRemote("198.51.100.7:1")), http.StatusOK)
}

// TestMeRateLimitPerSubject: 60 /me per minute per subject, shared by all
// of its tokens (each well under its own per-token limit), then a canonical
// 429; another subject has its own bucket.
func TestMeRateLimitPerSubject(t *testing.T) {
	s := newTestServer(t)
	mint := func(a domain.Account, label string) string {
		m, err := s.minter.Mint(context.Background(), domain.Subject{Type: domain.SubjectAccount, Email: a.Email, AccountID: a.ID}, testClient, label)
		if err != nil {
			t.Fatal(err)
		}
		return m.Token
	}
	laptop, desktop := mint(s.alice, "laptop"), mint(s.alice, "desktop")
	for i := 0; i < domain.BucketMe.Limit; i++ {
		tok := laptop
		if i%2 == 1 {
			tok = desktop
		}
		wantStatus(t, s.get("/openapi/v1/me", bearer(tok)), http.StatusOK)
	}
	wantLimited(t, s.get("/openapi/v1/me", bearer(laptop)))
	wantLimited(t, s.get("/openapi/v1/me", bearer(desktop)))
	wantStatus(t, s.get("/openapi/v1/oauth/authorizations", bearer(laptop)), http.StatusOK) // only /me is limited
	wantStatus(t, s.get("/openapi/v1/me", bearer(mint(s.bob, "laptop"))), http.StatusOK)
}

// TestSignInRateLimitPerIP: 20 failed sign-ins per 15 minutes per client
// IP (here spread over unknown emails, five each, under the per-(email, IP)
// limit), then a canonical 429 even for a right password; another IP signs
// in.
func TestSignInRateLimitPerIP(t *testing.T) {
	s := newTestServer(t)
	const sprayer = "203.0.113.9:5000"
	for i := 0; i < domain.BucketLoginIP.Limit; i++ {
		wantCanonical(t, s.signIn(fmt.Sprintf("nobody%d@example.com", i/5), "guess-guess", sprayer), 401, "invalid_credentials")
	}
	wantLimited(t, s.signIn("alice@example.com", testPassword, sprayer))
	wantStatus(t, s.signIn("alice@example.com", testPassword, "198.51.100.7:1"), http.StatusOK)
}

// TestSignInLockout covers SPEC 7.1's failure-only sign-in limits at the
// endpoint: ten wrong passwords from one address do not stop the owner
// from another; twenty right sign-ins in a row all succeed; fifty failures
// spread over ten addresses close the email to every address.
func TestSignInLockout(t *testing.T) {
	s := newTestServer(t)
	const attacker, owner = "203.0.113.66:4000", "198.51.100.10:443"
	for i := 0; i < 10; i++ {
		rec := s.signIn("alice@example.com", "wrong password", attacker)
		if i < domain.BucketLoginEmailIP.Limit {
			wantCanonical(t, rec, 401, "invalid_credentials")
		} else {
			wantLimited(t, rec)
		}
	}
	for i := 0; i < 20; i++ {
		wantStatus(t, s.signIn("alice@example.com", testPassword, owner), http.StatusOK)
	}
	for a := 1; a < 10; a++ { // 5 failures above, 45 here
		for i := 0; i < 5; i++ {
			wantCanonical(t, s.signIn("alice@example.com", "wrong password", fmt.Sprintf("192.0.2.%d:1", a)), 401, "invalid_credentials")
		}
	}
	wantLimited(t, s.signIn("alice@example.com", testPassword, owner))
	wantStatus(t, s.signIn("bob@example.com", testPassword, owner), http.StatusOK)
}
