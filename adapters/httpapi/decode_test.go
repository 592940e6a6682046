package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBodyDecoding: every body-reading endpoint rejects empty, non-object,
// malformed and wrongly typed bodies with 400 (413 when too large), in its
// own error shape, before any use case runs.
func TestBodyDecoding(t *testing.T) {
	s := newTestServer(t)
	l := s.login("alice@example.com")
	endpoints := []struct {
		path   string
		field  string // a field the endpoint reads
		oauth  bool
		extras []func(*req)
	}{
		{"/openapi/v1/oauth/device/code", "client_id", true, nil},
		{"/openapi/v1/oauth/device/token", "device_code", true, nil},
		{"/openapi/v1/oauth/device/approve", "user_code", true, []func(*req){withCookies(l.cookies()...), withHeader("X-CSRF-Token", l.csrf)}},
		{"/openapi/v1/oauth/device/deny", "user_code", true, []func(*req){withCookies(l.cookies()...), withHeader("X-CSRF-Token", l.csrf)}},
		{"/openapi/v1/oauth/revoke", "token", true, nil},
		{"/console/api/login", "email", false, nil},
	}
	type bodyCase struct {
		name, ctype, body string
		status            int
		code              string
	}
	bad := []bodyCase{
		{"empty JSON", "application/json", "", 400, "invalid_request"},
		{"blank JSON", "application/json", "  \n", 400, "invalid_request"},
		{"array", "application/json", "[]", 400, "invalid_request"},
		{"string", "application/json", `"x"`, 400, "invalid_request"},
		{"null", "application/json", "null", 400, "invalid_request"},
		{"number", "application/json", "42", 400, "invalid_request"},
		{"malformed", "application/json", `{"client_id":`, 400, "invalid_request"},
		{"trailing data", "application/json", `{} {}`, 400, "invalid_request"},
		{"empty form", "application/x-www-form-urlencoded", "", 400, "invalid_request"},
		{"malformed form", "application/x-www-form-urlencoded", "a=%zz", 400, "invalid_request"},
		{"text/plain", "text/plain", `{}`, 400, "invalid_request"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", 400, "invalid_request"},
		{"no content type", "", `{}`, 400, "invalid_request"},
		{"too large", "application/json", `{"x":"` + strings.Repeat("a", 64<<10) + `"}`, 413, "request_too_large"},
	}
	for _, ep := range endpoints {
		cases := append(bad[:len(bad):len(bad)],
			bodyCase{"non-string field", "application/json", `{"` + ep.field + `": 5}`, 400, "invalid_request"},
			bodyCase{"repeated form field", "application/x-www-form-urlencoded", ep.field + "=a&" + ep.field + "=b", 400, "invalid_request"})
		for _, tc := range cases {
			t.Run(ep.path+"/"+tc.name, func(t *testing.T) {
				r := req{method: http.MethodPost, path: ep.path, ctype: tc.ctype, body: tc.body}
				for _, m := range ep.extras {
					m(&r)
				}
				rec := s.serve(r)
				if ep.oauth {
					wantOAuthError(t, rec, tc.status, tc.code)
				} else {
					wantCanonical(t, rec, tc.status, tc.code)
				}
			})
		}
	}
}

// TestBodyLimitBoundary: exactly 64 KiB is read; one byte more is a 413,
// with or without a Content-Length.
func TestBodyLimitBoundary(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/device/code"
	prefix, suffix := `{"client_id":"difyctl","pad":"`, `"}`
	exact := prefix + strings.Repeat("a", 64<<10-len(prefix)-len(suffix)) + suffix
	wantStatus(t, s.serve(req{method: http.MethodPost, path: path, ctype: "application/json", body: exact}), 200)
	over := exact[:len(exact)-2] + `a"}`
	wantOAuthError(t, s.serve(req{method: http.MethodPost, path: path, ctype: "application/json", body: over}), 413, "request_too_large")

	// Unknown length (chunked): the reader still stops at the limit.
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(over))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, r)
	wantOAuthError(t, rec, 413, "request_too_large")
}

// TestBodyEncodings: JSON and form both work; unknown fields of any type are
// ignored; a JSON null is an absent field; charset parameters are fine.
func TestBodyEncodings(t *testing.T) {
	s := newTestServer(t)
	const path = "/openapi/v1/oauth/device/code"
	for _, tc := range []struct{ ctype, body string }{
		{"application/json", `{"client_id":"difyctl","extra":{"nested":[1,2]},"n":5}`},
		{"application/json; charset=utf-8", `{"client_id":"difyctl","device_label":null}`},
		{"application/x-www-form-urlencoded", "client_id=difyctl&unknown=1&unknown=2"},
		{"application/x-www-form-urlencoded; charset=UTF-8", "client_id=difyctl&device_label=my+box"},
	} {
		wantStatus(t, s.serve(req{method: http.MethodPost, path: path, ctype: tc.ctype, body: tc.body}), 200)
	}
	// Query parameters are not body fields.
	wantOAuthError(t, s.serve(req{method: http.MethodPost, path: path + "?client_id=difyctl",
		ctype: "application/x-www-form-urlencoded", body: "scope=x"}), 400, "invalid_request")

	// Undecodable bodies never reach the use case: they do not count against
	// the per-IP limit, which StartFlow applies first.
	for i := 0; i < 60; i++ {
		wantOAuthError(t, s.serve(req{method: http.MethodPost, path: path, ctype: "application/json", body: "[]"}), 400, "invalid_request")
	}
	// Five requests above reached it; 55 more fill the hour's 60.
	for i := 0; i < 55; i++ {
		wantStatus(t, s.postJSON(path, map[string]string{"client_id": testClient}), 200)
	}
	wantCanonical(t, s.postJSON(path, map[string]string{"client_id": testClient}), 429, "rate_limited")
}
