package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// cookieNamed returns the Set-Cookie named name.
func cookieNamed(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, rec.Header()["Set-Cookie"])
	return nil
}

// TestLogin checks the body and both cookies' attributes (SPEC 7.1).
func TestLogin(t *testing.T) {
	s := newTestServer(t)
	// JSON only (TestLoginIsJSONOnly); the email is normalised.
	rec := s.postJSON("/console/api/login", map[string]string{"email": " ALICE@example.com", "password": testPassword})
	m := wantStatus(t, rec, 200)
	wantEqual(t, "result", m["result"], "success")
	acct := m["account"].(map[string]any)
	wantEqual(t, "account.id", acct["id"], s.alice.ID)
	wantEqual(t, "account.email", acct["email"], "alice@example.com")
	wantEqual(t, "account.name", acct["name"], "Alice")

	sess := cookieNamed(t, rec, "devicegate_session")
	if !sess.HttpOnly || !sess.Secure || sess.Path != "/" || sess.SameSite != http.SameSiteLaxMode || sess.MaxAge != 7*24*3600 || sess.Value == "" {
		t.Fatalf("session cookie %+v", sess)
	}
	csrf := cookieNamed(t, rec, "csrf_token")
	if csrf.HttpOnly || !csrf.Secure || csrf.Path != "/" || csrf.SameSite != http.SameSiteLaxMode || csrf.Value != m["csrf_token"] {
		t.Fatalf("csrf cookie %+v", csrf)
	}

	// Plain-http deployments get no Secure attribute.
	plain := newTestServer(t, func(st *setup) { st.cfg.PublicWebURL = "http://localhost:8080" })
	rec = plain.postJSON("/console/api/login", map[string]string{"email": "alice@example.com", "password": testPassword})
	if cookieNamed(t, rec, "devicegate_session").Secure || cookieNamed(t, rec, "csrf_token").Secure {
		t.Fatal("Secure cookie on an http deployment")
	}
}

// TestLoginErrors: wrong credentials 401, missing fields 400, and after five
// failures for one email from one address a 429.
func TestLoginErrors(t *testing.T) {
	s := newTestServer(t)
	const path = "/console/api/login"
	wantCanonical(t, s.postJSON(path, map[string]string{"email": "nobody@example.com", "password": "whatever1"}), 401, "invalid_credentials")
	wantCanonical(t, s.postJSON(path, map[string]string{"email": "alice@example.com"}), 400, "invalid_request")
	for i := 0; i < 5; i++ {
		rec := s.postJSON(path, map[string]string{"email": "alice@example.com", "password": "wrong password"})
		wantCanonical(t, rec, 401, "invalid_credentials")
		if len(rec.Result().Cookies()) != 0 {
			t.Fatal("a failed login set cookies")
		}
	}
	rec := s.postJSON(path, map[string]string{"email": "alice@example.com", "password": "wrong password"})
	wantCanonical(t, rec, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, rec)
}

// TestLogoutAndProfile: profile needs a session; logout (with the CSRF
// header) ends it and clears both cookies, and answers 200 even without one.
func TestLogoutAndProfile(t *testing.T) {
	s := newTestServer(t)
	const profile = "/console/api/account/profile"
	wantCanonical(t, s.get(profile), 401, "no_session")
	l := s.login("alice@example.com")
	m := wantStatus(t, s.get(profile, withCookies(l.session)), 200)
	wantEqual(t, "id", m["id"], s.alice.ID)
	wantEqual(t, "email", m["email"], "alice@example.com")
	wantEqual(t, "name", m["name"], "Alice")
	ws := m["workspaces"].([]any)
	if len(ws) != 1 {
		t.Fatalf("workspaces %v", ws)
	}
	w := ws[0].(map[string]any)
	wantEqual(t, "workspace current", w["current"], true)
	wantEqual(t, "default_workspace_id", m["default_workspace_id"], w["id"])

	for _, cookies := range [][]*http.Cookie{l.cookies(), nil} {
		hdr := http.Header{}
		if cookies != nil {
			hdr.Set("X-CSRF-Token", l.csrfCookie.Value)
		}
		rec := s.serve(req{method: http.MethodPost, path: "/console/api/logout", cookies: cookies, header: hdr})
		wantEqual(t, "result", wantStatus(t, rec, 200)["result"], "success")
		for _, name := range []string{"devicegate_session", "csrf_token"} {
			if c := cookieNamed(t, rec, name); c.MaxAge >= 0 || c.Value != "" {
				t.Fatalf("%s not cleared: %+v", name, c)
			}
		}
		if !strings.Contains(strings.Join(rec.Header()["Set-Cookie"], "\n"), "Max-Age=0") {
			t.Fatalf("Set-Cookie without Max-Age=0: %v", rec.Header()["Set-Cookie"])
		}
	}
	wantCanonical(t, s.get(profile, withCookies(l.session)), 401, "no_session")

	// A new login from the same browser ends the old session.
	a := s.login("alice@example.com")
	rec := s.postJSON("/console/api/login", map[string]string{"email": "alice@example.com", "password": testPassword}, withCookies(a.session))
	wantStatus(t, rec, 200)
	wantCanonical(t, s.get(profile, withCookies(a.session)), 401, "no_session")
	wantStatus(t, s.get(profile, withCookies(cookieNamed(t, rec, "devicegate_session"))), 200)
}
