package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// ssoEndpoints are SPEC 1 rows 6-9 and the built-in relay's callback (absent
// without the relay, so as bare a 404 as the others).
var ssoEndpoints = []struct{ method, path string }{
	{http.MethodGet, "/openapi/v1/oauth/device/sso-initiate?user_code=ABCD-EFGH"},
	{http.MethodGet, "/openapi/v1/oauth/device/sso-complete?sso_assertion=x"},
	{http.MethodGet, "/openapi/v1/oauth/device/approval-context"},
	{http.MethodPost, "/openapi/v1/oauth/device/approve-external"},
	{http.MethodGet, "/openapi/v1/oauth/device/oidc-callback?code=x&state=y"},
}

// TestSSOEndpointsAreBare404sWithoutALicense: on the community edition, and
// on the enterprise edition with any status outside ACTIVE/EXPIRING, every
// SSO endpoint answers exactly as an unknown path does, never a rate limit
// (the gate runs first), and the enterprise service is never called.
func TestSSOEndpointsAreBare404sWithoutALicense(t *testing.T) {
	ent := newEnterprise(t)
	ent.set("x@y.z", "fail")
	for name, vars := range map[string]map[string]string{
		"community":                   sqliteVars(t),
		"community with a gateway":    ssoVars(sqliteVars(t), ent),
		"enterprise, expired":         ssoVars(sqliteVars(t), ent),
		"enterprise, no status":       ssoVars(sqliteVars(t), ent),
		"enterprise, a future status": ssoVars(sqliteVars(t), ent),
	} {
		switch name {
		case "community with a gateway":
			vars["EDITION"] = "community"
		case "enterprise, expired":
			vars["LICENSE_STATUS"] = "expired"
		case "enterprise, no status":
			delete(vars, "LICENSE_STATUS")
		case "enterprise, a future status":
			vars["LICENSE_STATUS"] = "ACTIVE_PENDING_REVIEW"
		}
		t.Run(name, func(t *testing.T) {
			in := startInstance(t, vars)
			b := newSSOBrowser(t, in.Base)
			unknown, want := b.do(http.MethodGet, in.Base+"/openapi/v1/oauth/device/no-such-endpoint", nil, nil)
			if unknown.StatusCode != 404 {
				t.Fatalf("unknown path: %d", unknown.StatusCode)
			}
			for _, ep := range ssoEndpoints {
				for _, m := range []string{http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodPost, http.MethodGet} {
					resp, body := b.do(m, in.Base+ep.path, nil, nil)
					if resp.StatusCode != 404 || m != http.MethodHead && !bytes.Equal(body, want) {
						t.Fatalf("%s %s: %d %s, want the unknown path's 404", m, ep.path, resp.StatusCode, body)
					}
				}
			}
			for i := 0; i < 65; i++ { // past the 60/h sso-initiate budget
				for _, ep := range ssoEndpoints {
					resp, body := b.do(ep.method, in.Base+ep.path, []byte(`{"user_code":"ABCD-EFGH"}`), map[string]string{"Content-Type": "application/json"})
					if resp.StatusCode != 404 || !bytes.Equal(body, want) || resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("Location") != "" {
						t.Fatalf("%s %s (try %d): %d %s, want the unknown path's 404 %s", ep.method, ep.path, i, resp.StatusCode, body, want)
					}
				}
			}
		})
	}
}

// TestSSOInitiateRateLimit: licensed, sso-initiate allows 60 per hour per IP.
func TestSSOInitiateRateLimit(t *testing.T) {
	in := startInstance(t, ssoVars(sqliteVars(t), newEnterprise(t)))
	b := newSSOBrowser(t, in.Base)
	for i := 1; i <= 61; i++ {
		resp, body := b.get(in.Base + "/openapi/v1/oauth/device/sso-initiate?user_code=ZZZZ-ZZZZ")
		want := 400
		if i == 61 {
			want = 429
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s, want %d", i, resp.StatusCode, body, want)
		}
	}
}

// TestSSOCompleteAcrossOrigins: with the page on another origin than the
// API, sso-complete's Location is absolute on PUBLIC_WEB_URL (path prefix
// kept), and an https PUBLIC_WEB_URL makes the grant cookie Secure; the
// cookie carries every SPEC 2.6 attribute.
func TestSSOCompleteAcrossOrigins(t *testing.T) {
	ent := newEnterprise(t)
	vars := ssoVars(sqliteVars(t), ent)
	vars["PUBLIC_WEB_URL"] = "https://web.devicegate.test/portal"
	in := startInstance(t, vars)
	_, userCode := startDeviceFlow(t, in.Base, "cross origin")
	b := newSSOBrowser(t, in.Base)
	resp, body := b.get(in.Base + "/openapi/v1/oauth/device/sso-initiate?user_code=" + userCode)
	if resp.StatusCode != 302 {
		t.Fatalf("sso-initiate: %d %s", resp.StatusCode, body)
	}
	resp, _ = b.get(resp.Header.Get("Location"))
	resp, _ = b.get(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://web.devicegate.test/portal/device?sso_verified=1" {
		t.Fatalf("sso-complete: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	line := setsGrant(resp)
	for _, attr := range []string{"Path=/openapi/v1/oauth/device", "Max-Age=300", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(line, "; "+attr) {
			t.Errorf("grant cookie %q lacks %s", line, attr)
		}
	}
	if strings.Contains(strings.ToLower(line), "domain=") {
		t.Errorf("grant cookie %q must be host-only", line)
	}
}
