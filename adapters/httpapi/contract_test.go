package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/docs"
	"github.com/devicegate/devicegate/docs/contracttest"
	"github.com/devicegate/devicegate/domain"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// allRoutes builds the router with every use case present (the zero values
// are never called: only the route table is read), so every route the
// service can serve under /openapi/v1 is registered.
func allRoutes() *echo.Echo {
	return httpapi.New(httpapi.Config{PublicWebURL: testWebURL, OpenAPIEnabled: true, OpenAPIDocument: docs.OpenAPI},
		httpapi.Handlers{StartFlow: &app.StartFlow{}, Poll: &app.Poll{}, Lookup: &app.Lookup{}, Decide: &app.Decide{},
			Console: &app.Console{}, Auth: &app.Authenticator{}, Sessions: &app.Sessions{}, Me: &app.Me{},
			Introspect: &app.Introspect{}, SSO: &app.SSO{Relay: noRelay{}}})
}

// noRelay is an SSO relay that is never called: with a relay set, the
// server also routes the relay's callback, so allRoutes holds every route.
type noRelay struct{}

func (noRelay) Redeem(context.Context, string, domain.StateEnvelope) (domain.SSOIdentity, error) {
	return domain.SSOIdentity{}, domain.ErrSSOFailed
}

// TestContractCoversEveryRoute: every (method, path) registered under
// /openapi/v1 is an operation of docs/openapi.yaml and every operation is a
// registered route (cmd/devicegate checks the assembled graph the same way).
func TestContractCoversEveryRoute(t *testing.T) {
	doc, err := contracttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	var routes []contracttest.Route
	for _, r := range allRoutes().Routes() {
		if r.Method != echo.RouteNotFound {
			routes = append(routes, contracttest.Route{Method: r.Method, Path: r.Path})
		}
	}
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered; the route walk is broken", len(routes))
	}
	for _, p := range contracttest.CompareRoutes(doc, routes) {
		t.Error(p)
	}
}

// TestContractDocumentServed: GET /openapi/v1/openapi.yaml answers the
// embedded document; with OPENAPI_ENABLED=false it is a 404 like every
// other /openapi/v1 path.
func TestContractDocumentServed(t *testing.T) {
	s := newTestServer(t, func(st *setup) { st.cfg.OpenAPIDocument = docs.OpenAPI })
	rec := s.serve(req{method: http.MethodGet, path: "/openapi/v1/openapi.yaml"})
	wantEqual(t, "status", rec.Code, http.StatusOK)
	wantEqual(t, "content type", rec.Header().Get("Content-Type"), "application/yaml")
	wantEqual(t, "body", rec.Body.String(), string(docs.OpenAPI))

	off := newTestServer(t, func(st *setup) { st.cfg.OpenAPIDocument, st.cfg.OpenAPIEnabled = docs.OpenAPI, false })
	rec = off.serve(req{method: http.MethodGet, path: "/openapi/v1/openapi.yaml"})
	wantEqual(t, "status when disabled", rec.Code, http.StatusNotFound)
}

// TestContractRejectsUndocumentedResponses proves the checker every
// response of this suite goes through can fail: a served answer with a
// status, body or header the document does not allow is reported.
func TestContractRejectsUndocumentedResponses(t *testing.T) {
	post := httptest.NewRequest(http.MethodPost, "/openapi/v1/oauth/device/token", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	for name, c := range map[string]struct {
		r      *http.Request
		status int
		header http.Header
		body   string
	}{
		"undocumented code":     {post, 400, json, `{"error":"not_a_code"}`},
		"code of another route": {post, 400, json, `{"error":"unsupported_client"}`},
		"wrong shape":           {post, 400, json, `{"code":"slow_down","message":"x","status":400}`},
		"undocumented status":   {post, 418, json, `{"error":"invalid_request"}`},
		"429 without Retry-After": {httptest.NewRequest(http.MethodGet, "/openapi/v1/oauth/device/lookup?user_code=x", nil),
			429, json, `{"code":"rate_limited","message":"x","status":429}`},
		"missing field": {httptest.NewRequest(http.MethodGet, "/openapi/v1/oauth/device/lookup?user_code=x", nil),
			200, json, `{"valid":true}`},
		"undocumented path": {httptest.NewRequest(http.MethodGet, "/openapi/v1/nope", nil), 200, json, `{}`},
	} {
		if err := contracttest.Check(c.r, c.status, c.header, []byte(c.body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	if err := contracttest.Check(post, 400, ok, []byte(`{"error":"slow_down","error_description":"x"}`)); err != nil {
		t.Errorf("a documented answer was refused: %v", err)
	}
}

// wireCode is the error code of an answer in either shape.
func wireCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Code, Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return e.Code + e.Error
}

// TestContractTour drives the answers the rest of the suite does not reach
// through every operation it applies to (a wrong method, a missing,
// unknown or expired bearer token, an oversized body, a decision by a
// disabled account, introspection with bearer auth off), so each is both
// asserted here and validated against docs/openapi.yaml by serve.
func TestContractTour(t *testing.T) {
	doc, err := contracttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, func(st *setup) { st.cfg.OpenAPIDocument = docs.OpenAPI })
	const rowID = "00000000-0000-4000-8000-000000000000"
	concrete := func(p string) string {
		return contracttest.Prefix + strings.ReplaceAll(p, "{id}", rowID)
	}
	oauthShaped := map[string]bool{"/oauth/device/code": true, "/oauth/device/token": true, "/oauth/device/lookup": true,
		"/oauth/device/approve": true, "/oauth/device/deny": true, "/oauth/revoke": true}

	t.Run("wrong method", func(t *testing.T) {
		for p, item := range doc.Paths.Map() {
			if ssoOnly(item) {
				continue // the SSO branch is not in this graph (cmd/devicegate's tests cover it)
			}
			method := http.MethodPut
			if item.Put != nil {
				method = http.MethodPatch
			}
			rec := s.serve(req{method: method, path: concrete(p)})
			want := "method_not_allowed"
			if oauthShaped[p] {
				want = "invalid_request"
			}
			if rec.Code != http.StatusMethodNotAllowed || wireCode(t, rec) != want {
				t.Errorf("%s %s: %d %s, want 405 %s", method, p, rec.Code, rec.Body, want)
			}
		}
	})

	bearerOps := []req{{method: http.MethodGet, path: concrete("/me")}, {method: http.MethodGet, path: concrete("/oauth/authorizations")},
		{method: http.MethodDelete, path: concrete("/oauth/authorizations/self")}, {method: http.MethodDelete, path: concrete("/oauth/authorizations/{id}")}}
	t.Run("bearer", func(t *testing.T) {
		for _, op := range bearerOps {
			for _, c := range []struct{ token, want string }{{"", "unauthorized"}, {"dfoa_" + strings.Repeat("A", 43), "invalid_token"}} {
				r := op
				if c.token != "" {
					r.header = http.Header{"Authorization": {"Bearer " + c.token}}
				}
				if rec := s.serve(r); rec.Code != http.StatusUnauthorized || wireCode(t, rec) != c.want {
					t.Errorf("%s %s with token %q: %d %s, want 401 %s", op.method, op.path, c.token, rec.Code, rec.Body, c.want)
				}
			}
			tok := s.token("alice@example.com")
			s.clock.Advance(15 * 24 * time.Hour) // past OAUTH_TTL_DAYS (14)
			r := op
			r.header = http.Header{"Authorization": {"Bearer " + tok}}
			if rec := s.serve(r); rec.Code != http.StatusUnauthorized || wireCode(t, rec) != "token_expired" {
				t.Errorf("%s %s with an expired token: %d %s, want 401 token_expired", op.method, op.path, rec.Code, rec.Body)
			}
		}
	})

	t.Run("body too large", func(t *testing.T) {
		big := `{"pad":"` + strings.Repeat("x", 64<<10) + `"}`
		l := s.login("alice@example.com")
		for _, p := range []string{"/oauth/device/code", "/oauth/device/token", "/oauth/device/approve", "/oauth/device/deny",
			"/oauth/revoke", "/oauth/introspect"} {
			r := req{method: http.MethodPost, path: concrete(p), body: big, ctype: "application/json", cookies: l.cookies(),
				header: http.Header{"X-Csrf-Token": {l.csrf}}}
			if p == "/oauth/introspect" {
				r.header.Set("Authorization", "Bearer "+testSecret)
			}
			if rec := s.serve(r); rec.Code != http.StatusRequestEntityTooLarge || wireCode(t, rec) != "request_too_large" {
				t.Errorf("POST %s with a 64 KiB body: %d %s, want 413 request_too_large", p, rec.Code, rec.Body)
			}
		}
	})

	t.Run("deny by a disabled account", func(t *testing.T) {
		l := s.login("bob@example.com")
		_, uc := s.startFlow()
		s.accounts.disable(s.bob.ID)
		if rec := s.decide("deny", uc, l); rec.Code != http.StatusConflict || wireCode(t, rec) != "state_lost" {
			t.Errorf("deny by a disabled account: %d %s, want 409 state_lost", rec.Code, rec.Body)
		}
	})

	t.Run("introspection with bearer auth off", func(t *testing.T) {
		off := newTestServer(t, func(st *setup) { st.bearerOff = true })
		rec := off.serve(req{method: http.MethodPost, path: concrete("/oauth/introspect"), body: "token=x",
			ctype: "application/x-www-form-urlencoded", header: http.Header{"Authorization": {"Bearer " + testSecret}}})
		if rec.Code != http.StatusServiceUnavailable || wireCode(t, rec) != "bearer_auth_disabled" {
			t.Errorf("introspect with ENABLE_OAUTH_BEARER=false: %d %s, want 503 bearer_auth_disabled", rec.Code, rec.Body)
		}
	})
}

// ssoOnly reports a path of the external-SSO branch (tagged so in the document).
func ssoOnly(item *openapi3.PathItem) bool {
	for _, op := range item.Operations() {
		if slices.Contains(op.Tags, "external SSO") {
			return true
		}
	}
	return false
}
