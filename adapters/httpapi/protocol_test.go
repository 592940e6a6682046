package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBasicSecretIsInvalidClient: HTTP Basic with a non-empty secret is
// client authentication that failed (every client here is public), so it is
// RFC 6749 section 5.2's 401 invalid_client with a WWW-Authenticate
// challenge, on both endpoints that read client credentials.
func TestBasicSecretIsInvalidClient(t *testing.T) {
	s := newTestServer(t)
	dc, _ := s.startFlow()
	h := http.Header{}
	h.Set("Authorization", "Basic "+basic(url.QueryEscape(testClient), "s3cret"))
	for _, r := range []req{
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/code", ctype: formType, body: "device_label=cli", header: h},
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/token", ctype: formType, header: h,
			body: "grant_type=" + url.QueryEscape("urn:ietf:params:oauth:grant-type:device_code") + "&device_code=" + url.QueryEscape(dc)},
	} {
		rec := s.serve(r)
		wantOAuthError(t, rec, http.StatusUnauthorized, "invalid_client")
		if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic realm=") {
			t.Fatalf("%s: WWW-Authenticate = %q, want a Basic challenge", r.path, got)
		}
	}
	// The refused poll never reached the flow: the first real poll is not slow_down.
	wantOAuthError(t, s.poll(dc, testClient), http.StatusBadRequest, "authorization_pending")
}

// TestMethodNotAllowedOAuthShape: a wrong method on endpoints 1-5 and 14 is a
// 405 in the OAuth error shape (with Allow); elsewhere it stays canonical.
func TestMethodNotAllowedOAuthShape(t *testing.T) {
	s := newTestServer(t)
	for _, r := range []req{
		{method: http.MethodGet, path: "/openapi/v1/oauth/device/code"},
		{method: http.MethodGet, path: "/openapi/v1/oauth/device/token"},
		{method: http.MethodPost, path: "/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH"},
		{method: http.MethodGet, path: "/openapi/v1/oauth/device/approve"},
		{method: http.MethodDelete, path: "/openapi/v1/oauth/device/deny"},
		{method: http.MethodPut, path: "/openapi/v1/oauth/revoke"},
	} {
		rec := s.serve(r)
		wantOAuthError(t, rec, http.StatusMethodNotAllowed, "invalid_request")
		if rec.Header().Get("Allow") == "" {
			t.Fatalf("%s %s: 405 without Allow", r.method, r.path)
		}
	}
	wantCanonical(t, s.serve(req{method: http.MethodPost, path: "/openapi/v1/me"}), http.StatusMethodNotAllowed, "method_not_allowed")
	wantCanonical(t, s.serve(req{method: http.MethodGet, path: "/openapi/v1/oauth/introspect"}), http.StatusMethodNotAllowed, "method_not_allowed")
}

// TestJSONEmptyGrantType: in JSON grant_type may be left out, but a present
// empty one is not the device-code grant type.
func TestJSONEmptyGrantType(t *testing.T) {
	s := newTestServer(t)
	dc, _ := s.startFlow()
	const path = "/openapi/v1/oauth/device/token"
	wantOAuthError(t, s.postJSON(path, map[string]string{"device_code": dc, "client_id": testClient, "grant_type": ""}),
		http.StatusBadRequest, "unsupported_grant_type")
	wantOAuthError(t, s.postJSON(path, map[string]any{"device_code": dc, "client_id": testClient, "grant_type": nil}),
		http.StatusBadRequest, "authorization_pending")
}
