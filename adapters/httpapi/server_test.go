package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/ports"
	"github.com/labstack/echo/v4"
)

// downPinger is a backend that never answers.
type downPinger struct{}

func (downPinger) Name() string               { return "redis" }
func (downPinger) Ping(context.Context) error { return errors.New("dial tcp: connection refused") }

func TestHealthAndReadiness(t *testing.T) {
	s := newTestServer(t)
	wantEqual(t, "healthz", wantStatus(t, s.get("/healthz"), 200)["status"], "ok")
	m := wantStatus(t, s.get("/readyz"), 200)
	wantEqual(t, "readyz", m["status"], "ready")
	wantEqual(t, "database", m["backends"].(map[string]any)["database"], "up")

	down := newTestServer(t, func(st *setup) { st.pingers = []ports.Pinger{downPinger{}} })
	rec := down.get("/readyz")
	m = wantStatus(t, rec, 503)
	wantEqual(t, "code", m["code"], "not_ready")
	wantEqual(t, "message", m["message"], "Internal Server Error")
	wantEqual(t, "status", m["status"], float64(503))
	wantEqual(t, "redis", m["backends"].(map[string]any)["redis"], "down")
	wantEqual(t, "database", m["backends"].(map[string]any)["database"], "up")
	wantRetryAfter(t, rec)
	if strings.Contains(rec.Body.String(), "refused") {
		t.Fatal("the ping error leaked into the body")
	}
}

// TestMetadata: RFC 8414 URLs come from the issuer, never from Host.
func TestMetadata(t *testing.T) {
	s := newTestServer(t)
	m := wantStatus(t, s.get("/.well-known/oauth-authorization-server", func(r *req) { r.setHeader("X-Forwarded-Host", "evil.example") }), 200)
	wantEqual(t, "issuer", m["issuer"], testIssuer)
	for k, v := range map[string]string{
		"device_authorization_endpoint": "/oauth/device/code", "token_endpoint": "/oauth/device/token",
		"revocation_endpoint": "/oauth/revoke", "introspection_endpoint": "/oauth/introspect",
	} {
		wantEqual(t, k, m[k], testIssuer+"/openapi/v1"+v)
	}
	g := m["grant_types_supported"].([]any)
	if len(g) != 1 || g[0] != "urn:ietf:params:oauth:grant-type:device_code" {
		t.Fatalf("grant_types_supported %v", g)
	}
	a := m["token_endpoint_auth_methods_supported"].([]any)
	if len(a) != 1 || a[0] != "none" {
		t.Fatalf("token_endpoint_auth_methods_supported %v", a)
	}
	if strings.Contains(wantStatus(t, s.get("/.well-known/oauth-authorization-server"), 200)["issuer"].(string), "example.com") {
		t.Fatal("issuer from Host")
	}
	off := newTestServer(t, func(st *setup) { st.introspect = "" })
	if _, ok := wantStatus(t, off.get("/.well-known/oauth-authorization-server"), 200)["introspection_endpoint"]; ok {
		t.Fatal("introspection advertised while disabled")
	}
}

// TestOpenAPIDisabled: OPENAPI_ENABLED=false makes every /openapi/v1 path a
// canonical 404; the console API stays.
func TestOpenAPIDisabled(t *testing.T) {
	s := newTestServer(t, func(st *setup) { st.cfg.OpenAPIEnabled = false })
	for _, r := range []req{
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/code", ctype: "application/json", body: `{"client_id":"difyctl"}`},
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/token", ctype: "application/json", body: `{}`},
		{method: http.MethodGet, path: "/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH"},
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/approve"},
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/deny"},
		{method: http.MethodGet, path: "/openapi/v1/me"},
		{method: http.MethodGet, path: "/openapi/v1/oauth/authorizations"},
		{method: http.MethodDelete, path: "/openapi/v1/oauth/authorizations/self"},
		{method: http.MethodDelete, path: "/openapi/v1/oauth/authorizations/00000000-0000-4000-8000-000000000000"},
		{method: http.MethodPost, path: "/openapi/v1/oauth/revoke"},
		{method: http.MethodPost, path: "/openapi/v1/oauth/introspect"},
		{method: http.MethodGet, path: "/openapi/v1/anything"},
		{method: http.MethodGet, path: "/.well-known/oauth-authorization-server"},
	} {
		wantCanonical(t, s.serve(r), 404, "not_found")
	}
	s.login("alice@example.com")
}

// TestRoutingErrors: unknown paths and wrong methods are canonical (except
// a wrong method on an OAuth endpoint, see TestMethodNotAllowedOAuthShape).
func TestRoutingErrors(t *testing.T) {
	s := newTestServer(t)
	wantCanonical(t, s.get("/nope"), 404, "not_found")
	wantCanonical(t, s.get("/openapi/v1/nope"), 404, "not_found")
	wantCanonical(t, s.serve(req{method: "POST", path: "/openapi/v1/oauth/authorizations"}), 405, "method_not_allowed")
}

// TestPanicRecovered: a panicking handler answers a canonical 500 and the
// panic is logged, not sent.
func TestPanicRecovered(t *testing.T) {
	s := newTestServer(t)
	s.e.GET("/panic", func(echo.Context) error { panic("kaboom detail") })
	rec := s.get("/panic")
	wantCanonical(t, rec, 500, "internal_error")
	if strings.Contains(rec.Body.String(), "kaboom") {
		t.Fatal("panic detail in the body")
	}
	if !strings.Contains(s.logs.String(), "kaboom detail") {
		t.Fatal("panic not logged")
	}
	wantStatus(t, s.get("/healthz"), 200) // the server keeps serving
}

// TestClientIP: X-Forwarded-For is ignored from untrusted peers and honoured
// (right-most untrusted hop) behind a trusted proxy; rate limits follow.
func TestClientIP(t *testing.T) {
	ipRoute := func(c echo.Context) error { return c.JSON(200, map[string]string{"ip": c.RealIP()}) }
	spoof := withHeader("X-Forwarded-For", "6.6.6.6, 198.51.100.9")

	s := newTestServer(t)
	s.e.GET("/ip", ipRoute)
	wantEqual(t, "untrusted", wantStatus(t, s.get("/ip", spoof), 200)["ip"], "192.0.2.1")
	// Distinct XFF values from one peer share the peer's bucket.
	for i := 0; i < 60; i++ {
		wantStatus(t, s.postJSON("/openapi/v1/oauth/device/code", map[string]string{"client_id": testClient},
			withHeader("X-Forwarded-For", "203.0.113."+strconv.Itoa(i))), 200)
	}
	wantCanonical(t, s.postJSON("/openapi/v1/oauth/device/code", map[string]string{"client_id": testClient}, spoof), 429, "rate_limited")

	p := newTestServer(t, func(st *setup) { st.cfg.TrustedProxies = append(st.cfg.TrustedProxies, ipNet(t, "192.0.2.0/24")) })
	p.e.GET("/ip", ipRoute)
	wantEqual(t, "trusted", wantStatus(t, p.get("/ip", spoof), 200)["ip"], "198.51.100.9")
	wantEqual(t, "no XFF", wantStatus(t, p.get("/ip"), 200)["ip"], "192.0.2.1")
	for i := 0; i < 61; i++ {
		wantStatus(t, p.postJSON("/openapi/v1/oauth/device/code", map[string]string{"client_id": testClient},
			withHeader("X-Forwarded-For", "203.0.113."+strconv.Itoa(i))), 200)
	}
}

// TestRequestID: a well-formed inbound id is kept and reaches audit events;
// a malformed one is replaced.
func TestRequestID(t *testing.T) {
	s := newTestServer(t)
	rec := s.get("/healthz", withHeader("X-Request-Id", "trace-abc.123"))
	wantEqual(t, "kept", rec.Header().Get("X-Request-Id"), "trace-abc.123")
	for _, bad := range []string{"has space", strings.Repeat("a", 129), "quote\"d"} {
		got := s.get("/healthz", withHeader("X-Request-Id", bad)).Header().Get("X-Request-Id")
		if got == bad || len(got) != 32 {
			t.Fatalf("malformed id %q came back as %q", bad, got)
		}
	}
	_, uc := s.startFlow()
	l := s.login("alice@example.com")
	wantStatus(t, s.postJSON("/openapi/v1/oauth/device/approve", map[string]string{"user_code": uc},
		withCookies(l.cookies()...), withHeader("X-CSRF-Token", l.csrf), withHeader("X-Request-Id", "approve-req-1")), 200)
	if !strings.Contains(s.logs.String(), `"request_id":"approve-req-1"`) {
		t.Fatal("the request id did not reach the audit event")
	}
}

// TestCORS: off by default; with origins configured only those are allowed.
func TestCORS(t *testing.T) {
	preflight := func(s *testServer, origin string) http.Header {
		return s.serve(req{method: http.MethodOptions, path: "/openapi/v1/me", header: http.Header{
			"Origin": {origin}, "Access-Control-Request-Method": {"GET"},
		}}).Header()
	}
	off := newTestServer(t)
	if h := preflight(off, "https://app.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS answered while off")
	}
	on := newTestServer(t, func(st *setup) { st.cfg.CORSAllowOrigins = []string{"https://app.example"} })
	wantEqual(t, "allowed", preflight(on, "https://app.example").Get("Access-Control-Allow-Origin"), "https://app.example")
	wantEqual(t, "other", preflight(on, "https://evil.example").Get("Access-Control-Allow-Origin"), "")
}
