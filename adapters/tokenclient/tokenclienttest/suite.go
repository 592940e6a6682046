package tokenclienttest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
)

// Guard builds the middleware under test around next for route
// GET /v1/things, requiring scope. next reads the principal with
// tokenclient.PrincipalFrom(r.Context()), so the middleware must put it there.
type Guard func(c *tokenclient.Client, scope string, next http.Handler) http.Handler

// TestMiddleware is the conformance suite for a tokenclient middleware
// (net/http, Echo, or one you write for another framework): statuses,
// WWW-Authenticate and Retry-After headers, the canonical error body, and
// the principal handed to the handler. It runs against this package's fake;
// TestMiddlewareAgainst runs the same cases against any devicegate.
func TestMiddleware(t *testing.T, guard Guard) {
	srv := NewServer(testSecret)
	defer srv.Close()
	srv.Add("dfoa_ok", Account("tid-a", "acc-1", "a@example.com", time.Now().Add(time.Hour)))
	srv.Add("dfoe_ok", External("tid-e", "e@corp.example", "https://idp", time.Now().Add(time.Hour)))
	TestMiddlewareAgainst(t, Upstream{URL: srv.URL, Secret: testSecret, AccountToken: "dfoa_ok",
		AccountPrincipal: "acc-1 tid-a", ExternalToken: "dfoe_ok", Fail: srv.Fail}, guard)
}

// Upstream is the devicegate introspection endpoint the suite's clients
// call: the fake (NewServer) or a real devicegate (see Faults for Fail).
type Upstream struct {
	URL    string // base URL (tokenclient.Config.BaseURL)
	Secret string // its INTROSPECTION_SECRET
	// AccountToken is an active account token (scope full); the handler
	// must see AccountPrincipal, "<account id> <token id>", for it.
	AccountToken, AccountPrincipal string
	// ExternalToken is an active external-SSO token (devicegate's external
	// scopes, not apps:admin).
	ExternalToken string
	// Fail makes every later call answer status with the canonical error
	// body and Retry-After: retryAfter; Fail(0, "") heals.
	Fail func(status int, retryAfter string)
}

// TestMiddlewareAgainst runs TestMiddleware's cases against up, one at a
// time, each with a fresh client, healing up after every case.
func TestMiddlewareAgainst(t *testing.T, up Upstream, guard Guard) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer up.Fail(0, "")
			tc.run(t, up, guard)
		})
	}
}

// testSecret is the introspection secret the suite's fake accepts.
const testSecret = "suite-secret"

// middlewareCase is one request and what it must be answered.
type middlewareCase struct {
	name string
	// authorization is the header sent; ACCOUNT and EXTERNAL stand for the upstream's tokens.
	authorization string
	fail          int  // make devicegate answer this status
	wrongSecret   bool // configure the client with a wrong secret
	wantStatus    int
	wantCode      string // canonical code, "" for 200
	wantAuth      string // WWW-Authenticate, "" for none
	wantRetry     string // Retry-After, "" for none
}

// cases: ACCOUNT is an account token (scope full), EXTERNAL an external
// one (apps:run only); the route requires "apps:admin".
var cases = []middlewareCase{
	{name: "no header", wantStatus: 401, wantCode: "unauthorized", wantAuth: "Bearer"},
	{name: "basic scheme", authorization: "Basic dTpw", wantStatus: 401, wantCode: "unauthorized", wantAuth: "Bearer"},
	{name: "empty bearer", authorization: "Bearer  ", wantStatus: 401, wantCode: "unauthorized", wantAuth: "Bearer"},
	{name: "unknown token", authorization: "Bearer dfoa_nope", wantStatus: 401, wantCode: "invalid_token",
		wantAuth: `Bearer error="invalid_token"`},
	{name: "insufficient scope", authorization: "Bearer EXTERNAL", wantStatus: 403, wantCode: "insufficient_scope",
		wantAuth: `Bearer error="insufficient_scope", scope="apps:admin"`},
	{name: "full scope, lower-case scheme", authorization: "bearer ACCOUNT", wantStatus: 200},
	{name: "devicegate 503", authorization: "Bearer ACCOUNT", fail: 503, wantStatus: 503, wantCode: "service_unavailable", wantRetry: "7"},
	{name: "devicegate 429", authorization: "Bearer ACCOUNT", fail: 429, wantStatus: 503, wantCode: "service_unavailable", wantRetry: "7"},
	{name: "secret rejected", authorization: "Bearer ACCOUNT", wrongSecret: true, wantStatus: 503, wantCode: "service_unavailable", wantRetry: "2"},
}

func (tc middlewareCase) run(t *testing.T, up Upstream, guard Guard) {
	if tc.fail != 0 {
		up.Fail(tc.fail, "7")
	}
	cfg := tokenclient.Config{BaseURL: up.URL, Secret: up.Secret}
	if tc.wrongSecret {
		cfg.Secret = "not-the-secret"
	}
	c, err := tokenclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := tokenclient.PrincipalFrom(r.Context())
		if !ok {
			t.Error("handler ran without a principal in the request context")
		}
		_, _ = w.Write([]byte(p.AccountID + " " + p.TokenID))
	})
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/things", nil)
	if tc.authorization != "" {
		req.Header.Set("Authorization", strings.NewReplacer("ACCOUNT", up.AccountToken, "EXTERNAL", up.ExternalToken).Replace(tc.authorization))
	}
	rec := httptest.NewRecorder()
	guard(c, "apps:admin", next).ServeHTTP(rec, req)

	if rec.Code != tc.wantStatus {
		t.Fatalf("status = %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != tc.wantAuth {
		t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantAuth)
	}
	if got := rec.Header().Get("Retry-After"); got != tc.wantRetry {
		t.Errorf("Retry-After = %q, want %q", got, tc.wantRetry)
	}
	if tc.wantStatus == http.StatusOK {
		if rec.Body.String() != up.AccountPrincipal {
			t.Errorf("handler saw principal %q, want %q", rec.Body, up.AccountPrincipal)
		}
		return
	}
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Status  int    `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body, err)
	}
	if body.Code != tc.wantCode || body.Status != tc.wantStatus || body.Message == "" {
		t.Errorf("body = %+v, want code %q status %d", body, tc.wantCode, tc.wantStatus)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v, want no-store JSON", rec.Header())
	}
}
