package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeviceCodeErrors covers SPEC 2.2's error rows and the per-IP limit.
func TestDeviceCodeErrors(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/device/code"
	wantOAuthError(t, s.postJSON(path, map[string]string{"client_id": "other-cli"}), 400, "unsupported_client")
	wantOAuthError(t, s.postJSON(path, map[string]string{"device_label": "x"}), 400, "invalid_request")
	wantOAuthError(t, s.postJSON(path, map[string]string{"client_id": testClient, "device_label": strings.Repeat("é", 256)}), 400, "invalid_request")
	wantStatus(t, s.postJSON(path, map[string]string{"client_id": testClient, "device_label": strings.Repeat("é", 255)}), 200)

	// 4 requests so far from this IP (the limit counts every request); 56 more are allowed.
	for i := 0; i < 56; i++ {
		wantStatus(t, s.postJSON(path, map[string]string{"client_id": testClient}), 200)
	}
	rec := s.postJSON(path, map[string]string{"client_id": testClient})
	wantCanonical(t, rec, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, rec)
	// Another IP has its own bucket.
	wantStatus(t, s.postJSON(path, map[string]string{"client_id": testClient}, fromRemote("198.51.100.7:1")), 200)
}

// TestLookup covers SPEC 2.4, including lower-case and spaced input.
func TestLookup(t *testing.T) {
	s := newTestServer(t)
	wantOAuthError(t, s.get("/openapi/v1/oauth/device/lookup"), 400, "invalid_request")
	for _, raw := range []string{"ABCD-EFGH", "nonsense", "ABCD-EFGH-J"} {
		m := wantStatus(t, s.lookup(raw), 200)
		if m["valid"] != false || m["client_id"] != nil || m["expires_in_remaining"] != float64(0) || len(m) != 3 {
			t.Fatalf("unknown code %q: %v", raw, m)
		}
	}
	_, uc := s.startFlow()
	typed := strings.ToLower(uc[:4]) + " " + strings.ToLower(uc[5:])
	s.clock.Advance(100 * time.Second)
	m := wantStatus(t, s.lookup(typed), 200)
	wantEqual(t, "valid", m["valid"], true)
	wantEqual(t, "expires_in_remaining", m["expires_in_remaining"], float64(800))
	wantEqual(t, "device_label", m["device_label"], "difyctl device")
	s.clock.Advance(800 * time.Second)
	wantEqual(t, "expired", wantStatus(t, s.lookup(uc), 200)["valid"], false)
}

// TestPollErrors covers SPEC 2.3's rows (all OAuth shape).
func TestPollErrors(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/device/token"
	dc, uc := s.startFlow()
	wantOAuthError(t, s.poll("dc_unknown", testClient), 400, "expired_token")
	wantOAuthError(t, s.poll(dc, "other-cli"), 400, "invalid_grant")
	wantOAuthError(t, s.postJSON(path, map[string]string{"device_code": dc, "client_id": testClient, "grant_type": "password"}), 400, "unsupported_grant_type")
	wantOAuthError(t, s.postJSON(path, map[string]string{"client_id": testClient}), 400, "invalid_request")
	wantOAuthError(t, s.postJSON(path, map[string]string{"device_code": dc}), 400, "invalid_request")
	// grant_type is optional in JSON.
	wantOAuthError(t, s.postJSON(path, map[string]string{"device_code": dc, "client_id": testClient}), 400, "authorization_pending")

	// Deny: access_denied once, then the flow is gone.
	s.clock.Advance(5 * time.Second)
	wantEqual(t, "deny", wantStatus(t, s.decide("deny", uc, s.login("alice@example.com")), 200)["status"], "denied")
	wantOAuthError(t, s.poll(dc, testClient), 400, "access_denied")
	wantOAuthError(t, s.poll(dc, testClient), 400, "expired_token")

	// An expired flow is expired_token.
	dc2, _ := s.startFlow()
	s.clock.Advance(901 * time.Second)
	wantOAuthError(t, s.poll(dc2, testClient), 400, "expired_token")
}

// TestSlowDown: polling inside the interval is slow_down and grows the interval by 5 s.
func TestSlowDown(t *testing.T) {
	s := newTestServer(t)
	dc, _ := s.startFlow()
	wantOAuthError(t, s.poll(dc, testClient), 400, "authorization_pending")
	wantOAuthError(t, s.poll(dc, testClient), 400, "slow_down") // interval now 10 s
	s.clock.Advance(5 * time.Second)
	wantOAuthError(t, s.poll(dc, testClient), 400, "slow_down") // 5 < 10; interval now 15 s
	s.clock.Advance(14 * time.Second)
	wantOAuthError(t, s.poll(dc, testClient), 400, "slow_down") // 14 < 15; interval now 20 s
	s.clock.Advance(20 * time.Second)
	wantOAuthError(t, s.poll(dc, testClient), 400, "authorization_pending")
}

// TestDecideErrors covers SPEC 2.5's admission and decision rows.
func TestDecideErrors(t *testing.T) {
	s := newTestServer(t)
	const approve = "/openapi/v1/oauth/device/approve"
	_, uc := s.startFlow()
	l := s.login("alice@example.com")
	body := map[string]string{"user_code": uc}

	wantOAuthError(t, s.postJSON(approve, body), 401, "no_session")
	bogus := *l.session
	bogus.Value = "not-a-session"
	wantOAuthError(t, s.postJSON(approve, body, withCookies(&bogus), withHeader("X-CSRF-Token", l.csrf)), 401, "no_session")
	wantOAuthError(t, s.postJSON(approve, body, withCookies(l.cookies()...)), 403, "csrf_mismatch")
	wantOAuthError(t, s.postJSON(approve, body, withCookies(l.cookies()...), withHeader("X-CSRF-Token", "wrong")), 403, "csrf_mismatch")
	// Double submit: a csrf_token cookie that differs from the header is refused even if the header is right.
	other := *l.csrfCookie
	other.Value = "something-else"
	wantOAuthError(t, s.postJSON(approve, body, withCookies(l.session, &other), withHeader("X-CSRF-Token", l.csrf)), 403, "csrf_mismatch")

	wantOAuthError(t, s.postJSON(approve, map[string]string{}, withCookies(l.cookies()...), withHeader("X-CSRF-Token", l.csrf)), 400, "invalid_request")
	wantOAuthError(t, s.decide("approve", "ABCD-EFGH", l), 404, "expired_or_unknown")
	wantOAuthError(t, s.decide("approve", "not a code", l), 404, "expired_or_unknown")

	// The session's header alone (no csrf cookie) is accepted, typed lower-case with a space.
	typed := strings.ToLower(uc[:4]) + " " + strings.ToLower(uc[5:])
	wantStatus(t, s.postJSON(approve, map[string]string{"user_code": typed}, withCookies(l.session), withHeader("X-CSRF-Token", l.csrf)), 200)
	wantOAuthError(t, s.decide("approve", uc, l), 409, "already_resolved")
	wantOAuthError(t, s.decide("deny", uc, l), 409, "already_resolved")

	_, uc2 := s.startFlow()
	s.accounts.disable(s.alice.ID)
	wantOAuthError(t, s.decide("approve", uc2, l), 409, "state_lost")
}

// TestDecideRateLimit: 10 decisions per hour per session, approve and deny
// sharing the bucket; the 11th is a canonical 429 with Retry-After.
func TestDecideRateLimit(t *testing.T) {
	s := newTestServer(t)
	l := s.login("alice@example.com")
	for i := 0; i < 10; i++ {
		action := "approve"
		if i%2 == 1 {
			action = "deny"
		}
		wantOAuthError(t, s.decide(action, "ABCD-EFGH", l), 404, "expired_or_unknown")
	}
	rec := s.decide("approve", "ABCD-EFGH", l)
	wantCanonical(t, rec, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, rec)
}

// TestBearerDisabled: ENABLE_OAUTH_BEARER=false -> 503 canonical
// bearer_auth_disabled on approve/deny and on every bearer route.
func TestBearerDisabled(t *testing.T) {
	s := newTestServer(t, func(st *setup) { st.bearerOff = true })
	_, uc := s.startFlow()
	l := s.login("alice@example.com")
	wantCanonical(t, s.decide("approve", uc, l), 503, "bearer_auth_disabled")
	wantCanonical(t, s.decide("deny", uc, l), 503, "bearer_auth_disabled")
	tok := s.externalToken("ext@corp.example", "https://idp.example")
	for _, r := range []req{
		{method: http.MethodGet, path: "/openapi/v1/me"},
		{method: http.MethodGet, path: "/openapi/v1/oauth/authorizations"},
		{method: http.MethodDelete, path: "/openapi/v1/oauth/authorizations/self"},
		{method: http.MethodDelete, path: "/openapi/v1/oauth/authorizations/00000000-0000-4000-8000-000000000000"},
	} {
		r.header = http.Header{"Authorization": {"Bearer " + tok}}
		rec := s.serve(r)
		wantCanonical(t, rec, 503, "bearer_auth_disabled")
		wantRetryAfter(t, rec)
	}
}

// TestDecideCSRFHeaderMustMatchTheSession: with the session cookie alone
// (no csrf_token cookie, so the double-submit comparison has nothing to
// refuse) the session's own CSRF secret is the check that decides: a wrong
// header, one of the same length, and another session's valid token are all
// 403 csrf_mismatch on approve and on deny, and the flow stays pending.
func TestDecideCSRFHeaderMustMatchTheSession(t *testing.T) {
	s := newTestServer(t)
	_, uc := s.startFlow()
	l, other := s.login("alice@example.com"), s.login("alice@example.com")
	if l.csrf == other.csrf {
		t.Fatal("two sessions must not share a CSRF secret")
	}
	sameLength := []byte(l.csrf)
	sameLength[len(sameLength)-1] ^= 1
	for _, action := range []string{"approve", "deny"} {
		for name, header := range map[string]string{
			"a wrong": "wrong", "a same-length": string(sameLength), "another session's": other.csrf,
		} {
			rec := s.postJSON("/openapi/v1/oauth/device/"+action, map[string]string{"user_code": uc},
				withCookies(l.session), withHeader("X-CSRF-Token", header))
			if rec.Code != 403 {
				t.Errorf("%s with the session cookie alone and %s header: %d %s", action, name, rec.Code, rec.Body)
				continue
			}
			wantOAuthError(t, rec, 403, "csrf_mismatch")
		}
	}
	if m := wantStatus(t, s.lookup(uc), 200); m["valid"] != true {
		t.Fatalf("a refused decision changed the flow: %v", m)
	}
	wantStatus(t, s.postJSON("/openapi/v1/oauth/device/deny", map[string]string{"user_code": uc},
		withCookies(l.session), withHeader("X-CSRF-Token", l.csrf)), 200)
}
