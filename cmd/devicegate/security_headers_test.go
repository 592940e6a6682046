package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

// secRoutes is every path the service serves (and a few it does not), each
// tried with every method by the crawl.
var secRoutes = []string{"/healthz", "/readyz", "/metrics", "/.well-known/oauth-authorization-server", "/device", "/signin",
	"/console/api/login", "/console/api/logout", "/console/api/account/profile",
	"/openapi/v1/oauth/device/code", "/openapi/v1/oauth/device/token", "/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH",
	"/openapi/v1/oauth/device/approve", "/openapi/v1/oauth/device/deny",
	"/openapi/v1/oauth/device/sso-initiate?user_code=ABCD-EFGH", "/openapi/v1/oauth/device/sso-complete?sso_assertion=x",
	"/openapi/v1/oauth/device/approval-context", "/openapi/v1/oauth/device/approve-external",
	"/openapi/v1/me", "/openapi/v1/oauth/authorizations", "/openapi/v1/oauth/authorizations/self",
	"/openapi/v1/oauth/authorizations/00000000-0000-0000-0000-000000000000", "/openapi/v1/oauth/revoke", "/openapi/v1/oauth/introspect",
	"/nope", "//evil.example/", "/%2F%2Fevil.example", "/openapi/v1//evil.example", "/openapi/v1/oauth/device/sso-complete/",
	"/.well-known/oauth-authorization-server/", "/device/", "/openapi/v1/oauth/device/sso-complete?sso_error=sso_failed&return_to=https://evil.example&redirect_uri=//evil.example&next=https://evil.example"}

// hostileHeaders are sent on every crawled request: nothing the service
// builds (Location, URLs in bodies) may come from them.
var hostileHeaders = map[string]string{"Host": "evil.example", "X-Forwarded-Host": "evil.example",
	"X-Forwarded-Proto": "https", "Origin": "https://evil.example", "Referer": "https://evil.example/x"}

// wantSecurityHeaders fails t unless resp carries the headers of SPEC 1.2
// and, for an error, Cache-Control: no-store.
func wantSecurityHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s (%d): %s = %q, want %q", what, resp.StatusCode, k, got, v)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s (%d): Content-Security-Policy %q", what, resp.StatusCode, csp)
	}
	if resp.StatusCode >= 400 && !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("%s (%d): error without Cache-Control: no-store", what, resp.StatusCode)
	}
}

// wantNoOpenRedirect fails t unless a 3xx points at the /device page of
// PUBLIC_WEB_URL (or the same-origin path /device), or at gateway when set.
func wantNoOpenRedirect(t *testing.T, what string, resp *http.Response, gateway string) {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return
	}
	loc := resp.Header.Get("Location")
	if gateway != "" && strings.HasPrefix(loc, gateway) {
		return
	}
	u, err := url.Parse(loc)
	web, _ := url.Parse(secWeb)
	sameOrigin := err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && strings.HasPrefix(loc, "/device") && !strings.HasPrefix(loc, "//")
	onWeb := err == nil && u.Scheme == web.Scheme && u.Host == web.Host && u.User == nil
	if !sameOrigin && !onWeb || u.Path != "/device" || strings.ContainsAny(loc, "\\\r\n") {
		t.Errorf("%s: %d redirects to %q", what, resp.StatusCode, loc)
	}
}

// TestNoOpenRedirectAndSecurityHeadersEverywhere crawls every route with
// every method and hostile Host/forwarding headers: every 3xx points at the
// /device page of PUBLIC_WEB_URL (sso-initiate: exactly the URL the SSO
// gateway answered, whatever the request said), and every response (200,
// 3xx, 400, 401, 403, 404, 405, 429, 503) carries the anti-framing and
// hardening headers, errors with Cache-Control: no-store. Token and code
// responses are no-store too.
func TestNoOpenRedirectAndSecurityHeadersEverywhere(t *testing.T) {
	in, ent := secInstance(t, secWeb)
	_, sess, _ := consoleSignIn(t, in.Base, "member@corp.example", secPassword) // so state-changing routes reach their CSRF check (403)
	seen := map[int]bool{}
	for _, path := range secRoutes {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
			r := secReq{method: m, url: in.Base + path, header: hostileHeaders, cookies: []*http.Cookie{sess}}
			if m == http.MethodPost {
				r.body = "user_code=ABCD-EFGH&client_id=difyctl"
			}
			resp, _ := secDo(t, r)
			seen[resp.StatusCode] = true
			what := m + " " + path
			wantSecurityHeaders(t, what, resp)
			wantNoOpenRedirect(t, what, resp, "")
		}
	}

	// The redirects with real outcomes: sso-initiate to the gateway's URL,
	// sso-complete success, relayed error, failure.
	_, userCode := startDeviceFlow(t, in.Base, "redirects")
	for _, q := range []string{"user_code=" + userCode, "user_code=" + userCode + "&return_to=https://evil.example&redirect_uri=https://evil.example"} {
		resp, _ := secDo(t, secReq{url: in.Base + "/openapi/v1/oauth/device/sso-initiate?" + q, header: hostileHeaders})
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), ent.srv.URL+"/idp/login?state=") {
			t.Errorf("sso-initiate?%s: %d %q, want the gateway's URL", q, resp.StatusCode, resp.Header.Get("Location"))
		}
		wantSecurityHeaders(t, "sso-initiate", resp)
	}
	a := porttest.ForgeAssertion(t, ssoSecret, "redirect.ext@corp.example", ssoIssuer, userCode, "redirect-nonce", time.Now())
	for _, q := range []string{"sso_assertion=" + url.QueryEscape(a), "sso_error=email_belongs_to_dify_account&user_code=" + userCode,
		"sso_error=https://evil.example&user_code=//evil.example", "sso_assertion=" + url.QueryEscape(a) + "&next=https://evil.example"} {
		resp, _ := secDo(t, secReq{url: in.Base + "/openapi/v1/oauth/device/sso-complete?" + q, header: hostileHeaders})
		seen[resp.StatusCode] = true
		wantSecurityHeaders(t, "sso-complete", resp)
		wantNoOpenRedirect(t, "sso-complete?"+q, resp, "")
		if resp.StatusCode != http.StatusFound {
			t.Errorf("sso-complete?%s: %d", q, resp.StatusCode)
		}
	}

	// A 429 (the lookup budget is 60 per 5 minutes per address).
	var resp *http.Response
	for i := 0; i < 70; i++ {
		if resp, _ = secDo(t, secReq{url: in.Base + "/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH"}); resp.StatusCode == 429 {
			break
		}
	}
	if resp.StatusCode != 429 {
		t.Fatalf("no 429 after 70 lookups: %d", resp.StatusCode)
	}
	seen[429] = true
	wantSecurityHeaders(t, "lookup 429", resp)

	// Token and code responses are never cached.
	form := url.Values{"client_id": {"difyctl"}}.Encode()
	resp, _ = secDo(t, secReq{method: http.MethodPost, url: in.Base + "/openapi/v1/oauth/device/code", body: form})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("device code: %d Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	for _, code := range []int{200, 302, 400, 401, 403, 404, 405, 429} {
		if !seen[code] {
			t.Errorf("the crawl saw no %d (seen %v): the test lost reach", code, seen)
		}
	}
}

// TestSecurityHeadersOn503: a 503 (bearer switched off; the readiness probe
// with a backend down is covered in httpapi) carries the headers, no-store
// and Retry-After.
func TestSecurityHeadersOn503(t *testing.T) {
	vars := sqliteVars(t)
	vars["ENABLE_OAUTH_BEARER"] = "false"
	in := startInstance(t, vars)
	for _, path := range []string{"/openapi/v1/me", "/openapi/v1/oauth/authorizations"} {
		resp, body := secDo(t, secReq{url: in.Base + path, header: map[string]string{"Authorization": "Bearer dfoa_x"}})
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %s (Retry-After %q)", path, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
		wantSecurityHeaders(t, fmt.Sprint("503 ", path), resp)
	}
}
