package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

// secPassword is the password of member@corp.example; secWeb the
// PUBLIC_WEB_URL of most security tests (another origin than the API).
const (
	secPassword = "correct horse battery staple"
	secWeb      = "https://web.devicegate.test"
)

// secInstance is a licensed SSO instance on SQLite whose /device page lives
// at webURL (http or https), with the account member@corp.example.
func secInstance(t *testing.T, webURL string) (*instance, *enterprise) {
	t.Helper()
	in, ent, _ := secInstanceVars(t, webURL)
	return in, ent
}

// secInstanceVars is secInstance that also returns the configuration.
func secInstanceVars(t *testing.T, webURL string) (*instance, *enterprise, map[string]string) {
	t.Helper()
	ent := newEnterprise(t)
	vars := ssoVars(sqliteVars(t), ent)
	vars["PUBLIC_WEB_URL"] = webURL
	createAccount(t, vars, "member@corp.example", secPassword, "Corp")
	return startInstance(t, vars), ent, vars
}

// wantCookie checks the attributes of a cookie the service sets or clears.
func wantCookie(t *testing.T, what string, c *http.Cookie, line string, httpOnly, secure bool, path string, maxAge int) {
	t.Helper()
	if c == nil {
		t.Fatalf("%s: not set", what)
	}
	if c.HttpOnly != httpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != path {
		t.Errorf("%s: HttpOnly=%v Secure=%v SameSite=%v Path=%q; want %v %v Lax %q (%s)", what, c.HttpOnly, c.Secure, c.SameSite, c.Path,
			httpOnly, secure, path, line)
	}
	switch {
	case maxAge < 0: // a clearing cookie: empty, Max-Age=0 on the wire
		if c.Value != "" || c.MaxAge >= 0 || !strings.Contains(line, "Max-Age=0") {
			t.Errorf("%s: not cleared: %s", what, line)
		}
	case maxAge == 0: // any positive lifetime
		if c.MaxAge <= 0 || c.Value == "" {
			t.Errorf("%s: Max-Age %d, value set %v", what, c.MaxAge, c.Value != "")
		}
	case c.MaxAge != maxAge:
		t.Errorf("%s: Max-Age %d, want %d", what, c.MaxAge, maxAge)
	}
	if strings.Contains(strings.ToLower(line), "domain=") {
		t.Errorf("%s: sets a Domain (widening it to subdomains): %s", what, line)
	}
}

// TestCookieAttributes: every cookie the service sets (devicegate_session,
// csrf_token, device_approval_grant) and every clearing of one carries
// HttpOnly (all but csrf_token, which the page reads), SameSite=Lax, its
// Path, its Max-Age, no Domain, and Secure exactly when PUBLIC_WEB_URL is https.
func TestCookieAttributes(t *testing.T) {
	for _, web := range []string{"http://web.devicegate.test", "https://web.devicegate.test"} {
		t.Run(web[:strings.Index(web, ":")], func(t *testing.T) {
			secure := strings.HasPrefix(web, "https")
			in, _ := secInstance(t, web)
			resp, sess, csrf := consoleSignIn(t, in.Base, "member@corp.example", secPassword)
			wantCookie(t, "login session", sess, setCookieLine(resp, "devicegate_session"), true, secure, "/", 0)
			wantCookie(t, "login csrf_token", csrf, setCookieLine(resp, "csrf_token"), false, secure, "/", sess.MaxAge)

			resp, body := secDo(t, secReq{method: http.MethodPost, url: in.Base + "/console/api/logout",
				header: map[string]string{"X-CSRF-Token": csrf.Value}, cookies: []*http.Cookie{sess, csrf}})
			if resp.StatusCode != 200 {
				t.Fatalf("logout: %d %s", resp.StatusCode, body)
			}
			wantCookie(t, "logout session", setCookie(resp, "devicegate_session"), setCookieLine(resp, "devicegate_session"), true, secure, "/", -1)
			wantCookie(t, "logout csrf_token", setCookie(resp, "csrf_token"), setCookieLine(resp, "csrf_token"), false, secure, "/", -1)

			api := in.Base + "/openapi/v1/oauth/device"
			const grantPath = "/openapi/v1/oauth/device"
			_, userCode := startDeviceFlow(t, in.Base, "cookies")
			resp, _ = secDo(t, secReq{url: api + "/sso-initiate?user_code=" + userCode})
			wantCookie(t, "sso-initiate grant", setCookie(resp, "device_approval_grant"), setCookieLine(resp, "device_approval_grant"), true, secure, grantPath, -1)

			a := porttest.ForgeAssertion(t, ssoSecret, "cookie.ext@corp.example", ssoIssuer, userCode, "cookie-nonce-"+web, time.Now())
			resp, _ = secDo(t, secReq{url: api + "/sso-complete?sso_assertion=" + url.QueryEscape(a)})
			grant := setCookie(resp, "device_approval_grant")
			wantCookie(t, "sso-complete grant", grant, setCookieLine(resp, "device_approval_grant"), true, secure, grantPath, 300)

			resp, body = secDo(t, secReq{url: api + "/approval-context", cookies: []*http.Cookie{grant}})
			ctx := jsonBody(body)
			if resp.StatusCode != 200 || ctx == nil {
				t.Fatalf("approval-context: %d %s", resp.StatusCode, body)
			}
			resp, body = secDo(t, secReq{method: http.MethodPost, url: api + "/approve-external", body: `{"user_code":"` + userCode + `"}`,
				header: map[string]string{"X-CSRF-Token": ctx["csrf_token"].(string)}, cookies: []*http.Cookie{grant}})
			if resp.StatusCode != 200 {
				t.Fatalf("approve-external: %d %s", resp.StatusCode, body)
			}
			wantCookie(t, "approve-external grant", setCookie(resp, "device_approval_grant"), setCookieLine(resp, "device_approval_grant"), true, secure, grantPath, -1)
		})
	}
}
