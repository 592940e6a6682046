package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestPublicClientBasicCredentials: a client id sent as HTTP Basic
// credentials with an empty secret (what many OAuth libraries try first) is
// the client id; a secret, or a Basic id contradicting the body, is refused.
func TestPublicClientBasicCredentials(t *testing.T) {
	s := newTestServer(t)
	basic := func(user, pass string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(url.QueryEscape(user), pass)
		return r.Header
	}
	const path = "/openapi/v1/oauth/device/code"
	form := "application/x-www-form-urlencoded"
	m := wantStatus(t, s.serve(req{method: "POST", path: path, ctype: form, body: "device_label=cli", header: basic(testClient, "")}), 200)
	if m["device_code"] == nil {
		t.Fatalf("no device code: %v", m)
	}
	wantOAuthError(t, s.serve(req{method: "POST", path: path, ctype: form, body: "device_label=cli", header: basic(testClient, "s3cret")}), 401, "invalid_client")
	wantOAuthError(t, s.serve(req{method: "POST", path: path, ctype: form, body: "client_id=" + testClient, header: basic("other", "")}), 400, "invalid_request")
	wantOAuthError(t, s.serve(req{method: "POST", path: path, ctype: form, body: "device_label=cli", header: basic("other-cli", "")}), 400, "unsupported_client")

	dc := m["device_code"].(string)
	rec := s.serve(req{method: "POST", path: "/openapi/v1/oauth/device/token", ctype: form,
		body:   "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=" + url.QueryEscape(dc),
		header: basic(testClient, "")})
	wantOAuthError(t, rec, 400, "authorization_pending")
}
