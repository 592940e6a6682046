package httpapi_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/docs/contracttest"
)

// req describes one request.
type req struct {
	method, path string
	body         string
	ctype        string
	header       http.Header
	cookies      []*http.Cookie
	remote       string
}

// serve runs r through e.ServeHTTP and checks the headers every response
// must carry (SPEC 1.1-1.2).
func (s *testServer) serve(r req) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	hr.RemoteAddr = testRemote
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, hr)
	checkCommonHeaders(s.t, r, rec)
	if err := contracttest.Check(hr, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		s.t.Error(err)
	}
	if rec.Code < 400 {
		if err := contracttest.CheckRequest(hr, []byte(r.body)); err != nil {
			s.t.Error(err)
		}
	}
	return rec
}

func checkCommonHeaders(t testing.TB, r req, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	for k, v := range map[string]string{
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", r.method, r.path, k, got, v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", r.method, r.path)
	}
	api := strings.HasPrefix(r.path, "/openapi/") || strings.HasPrefix(r.path, "/console/")
	if (rec.Code >= 400 || api) && h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s %s (%d): Cache-Control = %q, want no-store", r.method, r.path, rec.Code, h.Get("Cache-Control"))
	}
}

// postJSON posts a JSON body.
func (s *testServer) postJSON(path string, body any, mods ...func(*req)) *httptest.ResponseRecorder {
	s.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	r := req{method: http.MethodPost, path: path, body: string(b), ctype: "application/json"}
	for _, m := range mods {
		m(&r)
	}
	return s.serve(r)
}

// get issues a GET.
func (s *testServer) get(path string, mods ...func(*req)) *httptest.ResponseRecorder {
	s.t.Helper()
	r := req{method: http.MethodGet, path: path}
	for _, m := range mods {
		m(&r)
	}
	return s.serve(r)
}

func bearer(tok string) func(*req) {
	return func(r *req) { r.setHeader("Authorization", "Bearer "+tok) }
}

func withHeader(k, v string) func(*req) { return func(r *req) { r.setHeader(k, v) } }

func withCookies(cs ...*http.Cookie) func(*req) {
	return func(r *req) { r.cookies = append(r.cookies, cs...) }
}

func fromRemote(addr string) func(*req) { return func(r *req) { r.remote = addr } }

func (r *req) setHeader(k, v string) {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(k, v)
}

// decodeBody decodes a JSON response into a generic map.
func decodeBody(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", rec.Body.String(), err)
	}
	return m
}

// wantStatus fails unless rec has status.
func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	return decodeBody(t, rec)
}

// wantOAuthError checks an OAuth-shaped error body.
func wantOAuthError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	m := wantStatus(t, rec, status)
	if m["error"] != code {
		t.Fatalf("error = %v, want %q; body %s", m["error"], code, rec.Body.String())
	}
	for k := range m {
		if k != "error" && k != "error_description" {
			t.Fatalf("OAuth error body has extra key %q: %s", k, rec.Body.String())
		}
	}
}

// wantCanonical checks a canonical error body (exactly code, message, status).
func wantCanonical(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	m := wantStatus(t, rec, status)
	if m["code"] != code || m["status"] != float64(status) {
		t.Fatalf("canonical body = %s, want code %q status %d", rec.Body.String(), code, status)
	}
	msg, _ := m["message"].(string)
	if msg == "" || (status >= 500 && msg != "Internal Server Error") {
		t.Fatalf("message = %q for status %d", msg, status)
	}
	if _, ok := m["error"]; ok {
		t.Fatalf("canonical body mixes in OAuth keys: %s", rec.Body.String())
	}
	return m
}

// wantRetryAfter checks a whole-second Retry-After >= 1.
func wantRetryAfter(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	ra := rec.Header().Get("Retry-After")
	if ra == "" || ra == "0" || strings.TrimLeft(ra, "0123456789") != "" {
		t.Fatalf("Retry-After = %q, want whole seconds >= 1", ra)
	}
}

// ipNet parses a CIDR for TrustedProxies.
func ipNet(t *testing.T, cidr string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
