package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

// lookupValid reports whether userCode still names a pending flow.
func lookupValid(t *testing.T, base, userCode string) bool {
	t.Helper()
	_, body := secDo(t, secReq{url: base + "/openapi/v1/oauth/device/lookup?user_code=" + url.QueryEscape(userCode)})
	return jsonBody(body)["valid"] == true
}

// TestCSRFOnEveryStateChangingConsoleRoute: approve, deny, logout and
// approve-external refuse (403 csrf_mismatch, nothing changed) a request
// without the X-CSRF-Token header, with a wrong one, and with a header that
// matches a csrf_token cookie the attacker planted but not the session's
// (or grant's) own secret.
func TestCSRFOnEveryStateChangingConsoleRoute(t *testing.T) {
	in, _ := secInstance(t, secWeb)
	_, sess, csrf := consoleSignIn(t, in.Base, "member@corp.example", secPassword)
	planted := &http.Cookie{Name: "csrf_token", Value: "attacker-chosen"}
	attempts := map[string]secReq{
		"no header":      {cookies: []*http.Cookie{sess, csrf}},
		"wrong header":   {header: map[string]string{"X-CSRF-Token": csrf.Value + "x"}, cookies: []*http.Cookie{sess, csrf}},
		"planted cookie": {header: map[string]string{"X-CSRF-Token": planted.Value}, cookies: []*http.Cookie{sess, planted}},
		"header only":    {header: map[string]string{"X-CSRF-Token": "attacker-chosen"}, cookies: []*http.Cookie{sess}},
	}
	refused := func(t *testing.T, what string, resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode != http.StatusForbidden || jsonBody(body)["code"] != "csrf_mismatch" && jsonBody(body)["error"] != "csrf_mismatch" {
			t.Errorf("%s: %d %s, want 403 csrf_mismatch", what, resp.StatusCode, body)
		}
	}
	for _, action := range []string{"approve", "deny"} {
		_, userCode := startDeviceFlow(t, in.Base, "csrf "+action)
		for name, r := range attempts {
			r.method, r.url, r.body = http.MethodPost, in.Base+"/openapi/v1/oauth/device/"+action, "user_code="+userCode
			resp, body := secDo(t, r)
			refused(t, action+", "+name, resp, body)
		}
		if !lookupValid(t, in.Base, userCode) {
			t.Fatalf("%s: a refused request resolved the flow", action)
		}
	}
	for name, r := range attempts {
		r.method, r.url = http.MethodPost, in.Base+"/console/api/logout"
		resp, body := secDo(t, r)
		refused(t, "logout, "+name, resp, body)
		if setCookie(resp, "devicegate_session") != nil {
			t.Errorf("logout, %s: a refused logout touched the session cookie", name)
		}
		if profileStatus(t, in.Base, sess.Value) != 200 {
			t.Fatalf("logout, %s: a refused logout ended the session", name)
		}
	}

	_, userCode := startDeviceFlow(t, in.Base, "csrf external")
	a := porttest.ForgeAssertion(t, ssoSecret, "csrf.ext@corp.example", ssoIssuer, userCode, "csrf-nonce", time.Now())
	resp, _ := secDo(t, secReq{url: in.Base + "/openapi/v1/oauth/device/sso-complete?sso_assertion=" + url.QueryEscape(a)})
	grant := setCookie(resp, "device_approval_grant")
	if grant == nil {
		t.Fatal("sso-complete set no grant")
	}
	for name, hdr := range map[string]map[string]string{"no header": nil, "wrong header": {"X-CSRF-Token": "attacker-chosen"},
		"session CSRF token": {"X-CSRF-Token": csrf.Value}} {
		resp, body := secDo(t, secReq{method: http.MethodPost, url: in.Base + "/openapi/v1/oauth/device/approve-external",
			body: `{"user_code":"` + userCode + `"}`, header: hdr, cookies: []*http.Cookie{grant, csrf}})
		refused(t, "approve-external, "+name, resp, body)
	}
	if !lookupValid(t, in.Base, userCode) {
		t.Fatal("approve-external: a refused request resolved the flow")
	}
}

// TestSessionFixation: sign-in always mints a fresh session id (never the
// value a browser presented, never a previous one); a session id planted
// before sign-in is never adopted; the old session is dead after logout and
// after a new sign-in from the same browser.
func TestSessionFixation(t *testing.T) {
	in, _ := secInstance(t, secWeb)
	planted := &http.Cookie{Name: "devicegate_session", Value: "attacker-planted-session-id-0123456789"}
	_, s1, c1 := consoleSignIn(t, in.Base, "member@corp.example", secPassword, planted)
	if s1.Value == planted.Value {
		t.Fatal("sign-in adopted the planted session id")
	}
	if profileStatus(t, in.Base, planted.Value) != 401 {
		t.Fatal("the planted session id works after sign-in")
	}
	if profileStatus(t, in.Base, s1.Value) != 200 {
		t.Fatal("the new session does not work")
	}

	// A second sign-in from the same browser ends the first session.
	_, s2, c2 := consoleSignIn(t, in.Base, "member@corp.example", secPassword, s1, c1)
	if s2.Value == s1.Value || c2.Value == c1.Value {
		t.Fatal("a new sign-in reused the session id or CSRF token")
	}
	if profileStatus(t, in.Base, s1.Value) != 401 {
		t.Fatal("the first session outlived a new sign-in")
	}

	// Logout ends the session: the id and its CSRF token are dead.
	resp, body := secDo(t, secReq{method: http.MethodPost, url: in.Base + "/console/api/logout",
		header: map[string]string{"X-CSRF-Token": c2.Value}, cookies: []*http.Cookie{s2, c2}})
	if resp.StatusCode != 200 {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if profileStatus(t, in.Base, s2.Value) != 401 {
		t.Fatal("the session outlived logout")
	}
	_, userCode := startDeviceFlow(t, in.Base, "after logout")
	resp, body = secDo(t, secReq{method: http.MethodPost, url: in.Base + "/openapi/v1/oauth/device/approve", body: "user_code=" + userCode,
		header: map[string]string{"X-CSRF-Token": c2.Value}, cookies: []*http.Cookie{s2, c2}})
	if resp.StatusCode != 401 || !lookupValid(t, in.Base, userCode) {
		t.Fatalf("approve with a logged-out session: %d %s", resp.StatusCode, body)
	}
}
