package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

const formType = "application/x-www-form-urlencoded"

// TestPollFormRequiresGrantType: SPEC 2.3 makes grant_type optional only in
// JSON (what the reference CLI sends); a form-encoded poll is a standard
// RFC 8628 request, where grant_type is REQUIRED. Empty counts as absent
// (RFC 6749 section 3.1).
func TestPollFormRequiresGrantType(t *testing.T) {
	s := newTestServer(t)
	dc, _ := s.startFlow()
	const path = "/openapi/v1/oauth/device/token"
	form := func(body string) req { return req{method: http.MethodPost, path: path, ctype: formType, body: body} }
	base := "client_id=" + testClient + "&device_code=" + url.QueryEscape(dc)
	wantOAuthError(t, s.serve(form(base)), 400, "invalid_request")
	wantOAuthError(t, s.serve(form(base+"&grant_type=")), 400, "invalid_request")
	wantOAuthError(t, s.serve(form(base+"&grant_type=password")), 400, "unsupported_grant_type")
	// None of the refused requests reached the flow: this first real poll is not slow_down.
	wantOAuthError(t, s.serve(form(base+"&grant_type="+url.QueryEscape("urn:ietf:params:oauth:grant-type:device_code"))),
		400, "authorization_pending")
}

// TestJSONRepeatedFields: a named field given twice in a JSON body is as
// malformed as a repeated form field (RFC 6749 section 3.1: parameters must
// not be included more than once), instead of silently taking the last one.
// Repeated unknown fields stay ignored.
func TestJSONRepeatedFields(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/device/code"
	json := func(body string) req {
		return req{method: http.MethodPost, path: path, ctype: "application/json", body: body}
	}
	wantOAuthError(t, s.serve(json(`{"client_id":"other-cli","client_id":"difyctl"}`)), 400, "invalid_request")
	wantOAuthError(t, s.serve(json(`{"client_id":"difyctl","device_label":"a","device_label":null}`)), 400, "invalid_request")
	wantStatus(t, s.serve(json(`{"client_id":"difyctl","x":1,"x":{"client_id":"y"},"Client_Id":"z"}`)), 200)
}

// TestLoginIsJSONOnly: a cross-site HTML form can post
// application/x-www-form-urlencoded without a CORS preflight, which would let
// another site sign the victim's browser into the attacker's account (login
// CSRF) and have the victim approve their own CLI into it. JSON needs a
// preflight, which fails while CORS is off.
func TestLoginIsJSONOnly(t *testing.T) {
	s := newTestServer(t)
	rec := s.serve(req{method: http.MethodPost, path: "/console/api/login", ctype: formType,
		body: "email=alice%40example.com&password=" + url.QueryEscape(testPassword)})
	wantCanonical(t, rec, 400, "invalid_request")
	if len(rec.Result().Cookies()) != 0 {
		t.Fatalf("a refused sign-in set cookies: %v", rec.Header().Values("Set-Cookie"))
	}
	s.login("alice@example.com") // JSON still works
}

// TestHeadOnGetRoutes: HEAD is answered like GET without a body (RFC 9110
// section 9.3.2: general-purpose servers must support GET and HEAD), so
// probes and health checkers that use HEAD do not get 405.
func TestHeadOnGetRoutes(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/healthz", "/readyz", "/.well-known/oauth-authorization-server",
		"/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH"} {
		rec := s.serve(req{method: http.MethodHead, path: path})
		if rec.Code != http.StatusOK {
			t.Errorf("HEAD %s = %d, want 200", path, rec.Code)
		}
	}
	wantCanonical(t, s.serve(req{method: http.MethodHead, path: "/openapi/v1/me"}), 401, "unauthorized")
	if rec := s.serve(req{method: http.MethodHead, path: "/openapi/v1/oauth/device/code"}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("HEAD on a POST-only route = %d, want 405", rec.Code)
	}
}

// TestDecideAdmitsBeforeReadingTheBody: SPEC 2.5's admission order (session
// 401, then CSRF 403) holds whatever the body is; a caller without a session
// learns nothing about how its body would have been parsed.
func TestDecideAdmitsBeforeReadingTheBody(t *testing.T) {
	s := newTestServer(t)
	l := s.login("alice@example.com")
	for _, action := range []string{"approve", "deny"} {
		path := "/openapi/v1/oauth/device/" + action
		for _, body := range []string{"", "[]", "{bad"} {
			r := req{method: http.MethodPost, path: path, ctype: "application/json", body: body}
			wantOAuthError(t, s.serve(r), 401, "no_session")
			r.cookies = []*http.Cookie{l.session}
			wantOAuthError(t, s.serve(r), 403, "csrf_mismatch")
			r.header = http.Header{"X-Csrf-Token": {l.csrf}}
			wantOAuthError(t, s.serve(r), 400, "invalid_request")
		}
	}
}
