package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports/porttest"
)

// secLabel is the device label of the exercised flows: not a secret, so
// finding it proves a dump actually read the stored values.
const secLabel = "secret-scan laptop"

// exercised is what exercise learned: the secrets it saw (by name), which
// of them may sit at rest, and every error body the service answered.
type exercised struct {
	secrets  map[string]string
	atRest   map[string]bool // names a store legitimately holds (user codes, CSRF secrets, hashes)
	errBody  []string
	statuses map[int]bool
}

// exercise drives every kind of flow (account approve, deny, pending, SSO,
// rotation, revocation) and their failure paths on in, whose configuration
// is ssoVars, with member@corp.example signed up under secPassword.
func exercise(t *testing.T, in *instance) *exercised {
	x := &exercised{secrets: map[string]string{}, atRest: map[string]bool{}, statuses: map[int]bool{}}
	api := in.Base + "/openapi/v1"
	send := func(r secReq) (*http.Response, map[string]any) {
		t.Helper()
		resp, body := secDo(t, r)
		x.statuses[resp.StatusCode] = true
		switch {
		case resp.StatusCode >= 400: // what the service answers, not what was asked
			x.errBody = append(x.errBody, string(body)+" "+strings.Join(resp.Header.Values("Set-Cookie"), "; ")+" "+resp.Header.Get("WWW-Authenticate"))
		case resp.StatusCode >= 300:
			x.errBody = append(x.errBody, resp.Header.Get("Location"))
		}
		return resp, jsonBody(body)
	}
	add := func(name, v string, atRest bool) {
		x.secrets[name], x.atRest[name] = v, atRest
	}
	start := func(n string) (string, string) {
		_, m := send(secReq{method: http.MethodPost, url: api + "/oauth/device/code",
			body: url.Values{"client_id": {"difyctl"}, "device_label": {secLabel}}.Encode()})
		dc, uc := m["device_code"].(string), m["user_code"].(string)
		add("device code "+n, dc, false)
		add("device code hash "+n, domain.HashSecret(dc), true)
		add("user code "+n, uc, true)
		return dc, uc
	}
	poll := func(dc, client string) map[string]any {
		_, m := send(secReq{method: http.MethodPost, url: api + "/oauth/device/token", body: url.Values{"client_id": {client},
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc}}.Encode()})
		return m
	}
	add("password", secPassword, false)
	add("introspection secret", "introspection-secret-0123456789", false)
	add("SECRET_KEY", ssoSecret, false)
	add("ENTERPRISE_API_SECRET", ssoEntSecret, false)

	// Sign-in failures, then a session.
	send(secReq{method: http.MethodPost, url: in.Base + "/console/api/login", body: `{"email":"member@corp.example","password":"` + secPassword + `x"}`})
	send(secReq{method: http.MethodPost, url: in.Base + "/console/api/login", body: `{"email":"nobody@corp.example","password":"` + secPassword + `"}`})
	_, sess, csrf := consoleSignIn(t, in.Base, "member@corp.example", secPassword)
	add("session id", sess.Value, false)
	add("session id hash", domain.HashSecret(sess.Value), true)
	add("CSRF token", csrf.Value, true)
	decide := func(action, uc, hdr string) {
		send(secReq{method: http.MethodPost, url: api + "/oauth/device/" + action, body: "user_code=" + uc,
			header: map[string]string{"X-CSRF-Token": hdr}, cookies: []*http.Cookie{sess, csrf}})
	}

	// Account flow A: failure paths, approval, token, rotation, revocation.
	dcA, ucA := start("A")
	poll(dcA, "other-client")
	poll(dcA+"x", "difyctl")
	decide("approve", ucA, "")
	decide("approve", ucA, csrf.Value+"x")
	send(secReq{method: http.MethodPost, url: api + "/oauth/device/approve", body: "user_code=" + ucA, header: map[string]string{"X-CSRF-Token": csrf.Value}})
	decide("approve", ucA, csrf.Value)
	decide("deny", ucA, csrf.Value) // already resolved
	tokA := poll(dcA, "difyctl")["access_token"].(string)
	add("token A", tokA, false)
	add("token hash A", domain.HashSecret(tokA), true)
	poll(dcA, "difyctl") // the flow is gone
	dcR, ucR := start("rotation")
	decide("approve", ucR, csrf.Value)
	tokR, _ := poll(dcR, "difyctl")["access_token"].(string)
	add("token rotated", tokR, false)
	for _, tok := range []string{tokA, tokA + "x", "dfoa_" + strings.Repeat("A", 43)} {
		send(secReq{url: api + "/me", header: map[string]string{"Authorization": "Bearer " + tok}})
		send(secReq{method: http.MethodPost, url: api + "/oauth/introspect", body: "token=" + url.QueryEscape(tok),
			header: map[string]string{"Authorization": "Bearer introspection-secret-0123456789x"}})
		send(secReq{method: http.MethodDelete, url: api + "/oauth/authorizations/not-a-row", header: map[string]string{"Authorization": "Bearer " + tok}})
	}
	send(secReq{method: http.MethodPost, url: api + "/oauth/revoke", body: "token=" + tokR})
	send(secReq{url: api + "/me", header: map[string]string{"Authorization": "Bearer " + tokR}})

	// Flow B: pending, slow_down, denied, then gone; flow C stays pending.
	dcB, ucB := start("B")
	poll(dcB, "difyctl")
	poll(dcB, "difyctl")
	decide("deny", ucB, csrf.Value)
	poll(dcB, "difyctl")
	send(secReq{url: api + "/oauth/device/lookup?user_code=" + ucB})
	start("C")

	// SSO flow D: replayed assertion, bad CSRF, then approval and a dfoe_ token.
	dcD, ucD := start("D")
	a := porttest.ForgeAssertion(t, ssoSecret, "secret.ext@corp.example", ssoIssuer, ucD, "secret-nonce", time.Now())
	add("assertion", a, false)
	resp, _ := send(secReq{url: api + "/oauth/device/sso-complete?sso_assertion=" + url.QueryEscape(a)})
	grant := setCookie(resp, "device_approval_grant")
	add("grant cookie", grant.Value, false)
	send(secReq{url: api + "/oauth/device/sso-complete?sso_assertion=" + url.QueryEscape(a)})
	_, actx := send(secReq{url: api + "/oauth/device/approval-context", cookies: []*http.Cookie{grant}})
	add("grant CSRF token", actx["csrf_token"].(string), false)
	ext := func(hdr, uc string) {
		send(secReq{method: http.MethodPost, url: api + "/oauth/device/approve-external", body: `{"user_code":"` + uc + `"}`,
			header: map[string]string{"X-CSRF-Token": hdr}, cookies: []*http.Cookie{grant}})
	}
	ext(actx["csrf_token"].(string)+"x", ucD)
	ext(actx["csrf_token"].(string), ucA)
	ext(actx["csrf_token"].(string), ucD)
	ext(actx["csrf_token"].(string), ucD) // consumed
	tokD, _ := poll(dcD, "difyctl")["access_token"].(string)
	add("token D", tokD, false)
	send(secReq{method: http.MethodDelete, url: api + "/oauth/authorizations/00000000-0000-0000-0000-000000000000", header: map[string]string{"Authorization": "Bearer " + tokD}})
	send(secReq{method: http.MethodDelete, url: api + "/oauth/authorizations/self", header: map[string]string{"Authorization": "Bearer " + tokD}})
	send(secReq{url: api + "/me", header: map[string]string{"Authorization": "Bearer " + tokD}})

	// Logout refused without CSRF, then done.
	send(secReq{method: http.MethodPost, url: in.Base + "/console/api/logout", cookies: []*http.Cookie{sess, csrf}})
	send(secReq{method: http.MethodPost, url: in.Base + "/console/api/logout", header: map[string]string{"X-CSRF-Token": csrf.Value},
		cookies: []*http.Cookie{sess, csrf}})
	for name, v := range x.secrets {
		if v == "" {
			t.Fatalf("exercise lost reach: no %s", name)
		}
	}
	return x
}

// leaks returns the names of the secrets that text contains, whole or as
// any piece of 20 characters or more (every 16-character window at a stride
// of 4 is looked for), skipping those skip reports true for.
func leaks(text string, secrets map[string]string, skip func(string) bool) []string {
	var out []string
	for name, v := range secrets {
		if skip != nil && skip(name) {
			continue
		}
		found := strings.Contains(text, v)
		for i := 0; !found && len(v) >= 20 && i+16 <= len(v); i += 4 {
			found = strings.Contains(text, v[i:i+16])
		}
		if found {
			out = append(out, name)
		}
	}
	return out
}

// TestSecretsAbsentFromLogsAndErrorBodies: across every failure path of
// every flow, no log line (debug level included) and no error answer (body,
// Location, Set-Cookie, WWW-Authenticate) carries a device code or its
// hash, a user code, a token or its hash, a session id, a CSRF token, a
// password, an assertion, a grant cookie or a configured secret.
func TestSecretsAbsentFromLogsAndErrorBodies(t *testing.T) {
	in, _ := secInstance(t, secWeb)
	x := exercise(t, in)
	for _, code := range []int{400, 401, 403, 404, 409} {
		if !x.statuses[code] {
			t.Errorf("no %d was driven (%v)", code, x.statuses)
		}
	}
	logs := in.logs.String()
	if !strings.Contains(logs, "oauth.token_issued") {
		t.Fatal("the captured logs hold no audit event: the test lost reach")
	}
	if l := leaks(logs, x.secrets, nil); len(l) > 0 {
		t.Errorf("logs contain: %v", l)
	}
	for _, body := range x.errBody {
		if l := leaks(body, x.secrets, nil); len(l) > 0 {
			t.Errorf("error answer contains %v: %s", l, body)
		}
	}
}
