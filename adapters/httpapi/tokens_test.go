package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// TestBearerErrors covers SPEC 3.4's 401 rows with their WWW-Authenticate headers.
func TestBearerErrors(t *testing.T) {
	s := newTestServer(t)
	rec := s.get("/openapi/v1/me")
	wantCanonical(t, rec, 401, "unauthorized")
	wantEqual(t, "WWW-Authenticate", rec.Header().Get("WWW-Authenticate"), `Bearer realm="devicegate"`)
	wantCanonical(t, s.get("/openapi/v1/me", withHeader("Authorization", "Basic Zm9vOmJhcg==")), 401, "unauthorized")
	for _, tok := range []string{"dfoa_unknown", "xyz_unknown", strings.Repeat("dfoa_", 40)} {
		rec = s.get("/openapi/v1/me", bearer(tok))
		wantCanonical(t, rec, 401, "invalid_token")
		if !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
		}
	}
	tok := s.token("alice@example.com")
	wantStatus(t, s.get("/openapi/v1/me", withHeader("Authorization", "bEaReR "+tok)), 200) // scheme is case-insensitive
	s.clock.Advance(14*24*time.Hour + time.Second)
	rec = s.get("/openapi/v1/me", bearer(tok))
	wantCanonical(t, rec, 401, "token_expired")
	if h := rec.Header().Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) || !strings.Contains(h, `error_description="token expired"`) {
		t.Fatalf("WWW-Authenticate %q", h)
	}
}

// TestListAuthorizations covers paging and its parameter validation.
func TestListAuthorizations(t *testing.T) {
	s := newTestServer(t)
	tok := s.token("alice@example.com")
	// A second device of the same account, a minute later.
	s.clock.Advance(time.Minute)
	dc, uc := s.startFlow(func(r *req) { r.body = `{"client_id":"difyctl","device_label":"desktop"}` })
	wantStatus(t, s.decide("approve", uc, s.login("alice@example.com")), 200)
	wantStatus(t, s.poll(dc, testClient), 200)

	for _, q := range []string{"page=0", "page=abc", "page=-1", "limit=0", "limit=201", "limit=1.5", "page=99999999999999999999"} {
		wantCanonical(t, s.get("/openapi/v1/oauth/authorizations?"+q, bearer(tok)), 400, "invalid_request")
	}
	p1 := wantStatus(t, s.get("/openapi/v1/oauth/authorizations?page=1&limit=1", bearer(tok)), 200)
	wantEqual(t, "total", p1["total"], float64(2))
	wantEqual(t, "has_more", p1["has_more"], true)
	wantEqual(t, "newest first", p1["data"].([]any)[0].(map[string]any)["device_label"], "desktop")
	p2 := wantStatus(t, s.get("/openapi/v1/oauth/authorizations?page=2&limit=1", bearer(tok)), 200)
	wantEqual(t, "has_more", p2["has_more"], false)
	wantEqual(t, "current", p2["data"].([]any)[0].(map[string]any)["current"], true)
	p3 := wantStatus(t, s.get("/openapi/v1/oauth/authorizations?page=3&limit=1", bearer(tok)), 200)
	if d, ok := p3["data"].([]any); !ok || len(d) != 0 {
		t.Fatalf("empty page data = %v, want []", p3["data"])
	}
}

// TestRevokeByID: owners revoke their rows; anyone else (and any malformed
// or unknown id) gets 404 not_found.
func TestRevokeByID(t *testing.T) {
	s := newTestServer(t)
	alice := s.issueToken("alice@example.com")
	bob := s.issueToken("bob@example.com")
	aliceTok, bobTok := alice["access_token"].(string), bob["access_token"].(string)
	del := func(id, tok string) *req {
		return &req{method: http.MethodDelete, path: "/openapi/v1/oauth/authorizations/" + id, header: http.Header{"Authorization": {"Bearer " + tok}}}
	}
	wantCanonical(t, s.serve(*del(bob["token_id"].(string), aliceTok)), 404, "not_found")
	wantStatus(t, s.get("/openapi/v1/me", bearer(bobTok)), 200)
	wantCanonical(t, s.serve(*del("00000000-0000-4000-8000-000000000000", aliceTok)), 404, "not_found")
	wantCanonical(t, s.serve(*del("not-a-uuid", aliceTok)), 404, "not_found")
	// An external subject with the same email does not own the account's row.
	ext := s.externalToken("bob@example.com", "https://idp.example")
	wantCanonical(t, s.serve(*del(bob["token_id"].(string), ext)), 404, "not_found")

	wantEqual(t, "status", wantStatus(t, s.serve(*del(bob["token_id"].(string), bobTok)), 200)["status"], "revoked")
	wantCanonical(t, s.get("/openapi/v1/me", bearer(bobTok)), 401, "invalid_token")
}

// TestRevokeRFC7009: always 200 {} once a token field is present.
func TestRevokeRFC7009(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/revoke"
	tok := s.token("alice@example.com")
	for _, junk := range []string{"dfoa_unknown", "garbage"} {
		rec := s.postJSON(path, map[string]string{"token": junk})
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "{}" {
			t.Fatalf("revoke %q: %d %s", junk, rec.Code, rec.Body)
		}
	}
	wantOAuthError(t, s.postJSON(path, map[string]string{}), 400, "invalid_request")
	rec := s.serve(req{method: http.MethodPost, path: path, ctype: "application/x-www-form-urlencoded",
		body: "token=" + url.QueryEscape(tok) + "&token_type_hint=access_token"})
	wantEqual(t, "body", strings.TrimSpace(rec.Body.String()), "{}")
	wantCanonical(t, s.get("/openapi/v1/me", bearer(tok)), 401, "invalid_token")
	wantEqual(t, "again", s.postJSON(path, map[string]string{"token": tok}).Code, 200)
}

// TestIntrospection covers RFC 7662: client authentication, active and inactive answers, disabled.
func TestIntrospection(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/introspect"
	body := func(tok string) req {
		return req{method: http.MethodPost, path: path, ctype: "application/x-www-form-urlencoded", body: "token=" + url.QueryEscape(tok)}
	}
	tok := s.issueToken("alice@example.com")
	access := tok["access_token"].(string)

	for _, auth := range []string{"", "Bearer wrong", "Basic " + basic("rs", "wrong")} {
		r := body(access)
		if auth != "" {
			r.setHeader("Authorization", auth)
		}
		rec := s.serve(r)
		wantCanonical(t, rec, 401, "invalid_client")
		wantEqual(t, "WWW-Authenticate", rec.Header().Get("WWW-Authenticate"), `Basic realm="devicegate"`)
	}
	for _, auth := range []string{"Bearer " + testSecret, "Basic " + basic("any-user", testSecret)} {
		r := body(access)
		r.setHeader("Authorization", auth)
		m := wantStatus(t, s.serve(r), 200)
		wantEqual(t, "active", m["active"], true)
		wantEqual(t, "scope", m["scope"], "full")
		wantEqual(t, "client_id", m["client_id"], testClient)
		wantEqual(t, "username", m["username"], "alice@example.com")
		wantEqual(t, "token_type", m["token_type"], "Bearer")
		wantEqual(t, "sub", m["sub"], s.alice.ID)
		wantEqual(t, "iss", m["iss"], testIssuer)
		wantEqual(t, "subject_type", m["subject_type"], "account")
		wantEqual(t, "subject_issuer", m["subject_issuer"], domain.AccountIssuer)
		wantEqual(t, "token_id", m["token_id"], tok["token_id"])
		exp, _ := time.Parse(time.RFC3339, tok["expires_at"].(string))
		wantEqual(t, "exp", m["exp"], float64(exp.Unix()))
	}
	r := req{method: http.MethodPost, path: path, ctype: "application/json", body: `{}`, header: http.Header{"Authorization": {"Bearer " + testSecret}}}
	wantCanonical(t, s.serve(r), 400, "invalid_request")

	ext := s.externalToken("ext@corp.example", "https://idp.example")
	r = body(ext)
	r.setHeader("Authorization", "Bearer "+testSecret)
	m := wantStatus(t, s.serve(r), 200)
	wantEqual(t, "ext scope", m["scope"], "apps:run apps:read:permitted-external")
	wantEqual(t, "ext sub", m["sub"], "ext@corp.example")

	wantStatus(t, s.postJSON("/openapi/v1/oauth/revoke", map[string]string{"token": access}), 200)
	for _, dead := range []string{access, "dfoa_unknown", "junk"} {
		r = body(dead)
		r.setHeader("Authorization", "Bearer "+testSecret)
		rec := s.serve(r)
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
			t.Fatalf("inactive %q: %d %s", dead, rec.Code, rec.Body)
		}
	}

	off := newTestServer(t, func(st *setup) { st.introspect = "" })
	r = body(access)
	r.setHeader("Authorization", "Bearer "+testSecret)
	wantCanonical(t, off.serve(r), 404, "not_found")
}

// TestRequireScope: full satisfies every scope; external tokens only their own.
func TestRequireScope(t *testing.T) {
	s := newTestServer(t)
	ok := func(c echo.Context) error { return c.JSON(200, map[string]string{"ok": "yes"}) }
	s.e.GET("/scoped/run", ok, httpapi.RequireBearer(s.auth), httpapi.RequireScope(domain.ScopeAppsRun))
	s.e.GET("/scoped/full", ok, httpapi.RequireBearer(s.auth), httpapi.RequireScope(domain.ScopeFull))
	s.e.GET("/scoped/nobearer", ok, httpapi.RequireScope(domain.ScopeAppsRun))
	account, ext := s.token("alice@example.com"), s.externalToken("ext@corp.example", "https://idp.example")
	wantStatus(t, s.get("/scoped/run", bearer(account)), 200)
	wantStatus(t, s.get("/scoped/full", bearer(account)), 200)
	wantStatus(t, s.get("/scoped/run", bearer(ext)), 200)
	wantCanonical(t, s.get("/scoped/full", bearer(ext)), 403, "insufficient_scope")
	wantCanonical(t, s.get("/scoped/nobearer"), 401, "unauthorized")
}
