package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

func TestSSOReplaysAndForgeries(t *testing.T) {
	ent := newEnterprise(t)
	vars := ssoVars(sqliteVars(t), ent)
	createAccount(t, vars, "member@corp.example", "correct horse battery", "Corp")
	in := startInstance(t, vars)
	ssoReplays(t, in, ent)
}

// grantHeader is the header every SPEC 5 signer writes.
func grantHeader() map[string]any {
	return map[string]any{"alg": "HS256", "kid": "dify-shared-v1", "typ": "JWT"}
}

// forgeGrant signs a grant cookie with key, as only the service should.
func forgeGrant(t *testing.T, key, iss, email, userCode, nonce, csrf string, iat time.Time) string {
	return porttest.ForgeHS256(t, key, grantHeader(), porttest.GrantClaims(iss, email, ssoIssuer, userCode, nonce, csrf, iat))
}

// wantNoCookie fails t if an error response sets or echoes the grant cookie.
func wantNoCookie(t *testing.T, what string, resp *http.Response, body map[string]any, cookie string) {
	t.Helper()
	if line := setsGrant(resp); line != "" {
		t.Errorf("%s: error response sets the grant cookie: %s", what, line)
	}
	for k, v := range body {
		if s, ok := v.(string); ok && cookie != "" && strings.Contains(s, cookie) {
			t.Errorf("%s: error body field %s echoes the cookie", what, k)
		}
	}
}

// wantError checks an approve-external error answer.
func wantError(t *testing.T, what string, resp *http.Response, body map[string]any, status int, code, cookie string) {
	t.Helper()
	if resp.StatusCode != status || body["code"] != code {
		t.Errorf("%s: %d %v, want %d %s", what, resp.StatusCode, body, status, code)
	}
	wantNoCookie(t, what, resp, body, cookie)
}

// ssoReplays: replays and forgeries of assertions and grant cookies (in is a
// licensed instance whose directory holds member@corp.example).
func ssoReplays(t *testing.T, in *instance, ent *enterprise) {
	api := in.Base + "/openapi/v1/oauth/device"
	fresh := func() string {
		return "ext-" + strings.ToLower(time.Now().Format("150405.000000000")) + "@corp.example"
	}

	t.Run("assertion replayed", func(t *testing.T) {
		ent.set(fresh(), "")
		_, userCode := startDeviceFlow(t, in.Base, "replay")
		b := newSSOBrowser(t, in.Base)
		if loc := b.signIn(userCode); loc != "/device?sso_verified=1" {
			t.Fatalf("first sso-complete: %q", loc)
		}
		again := newSSOBrowser(t, in.Base)
		if loc := again.complete(api + "/sso-complete?sso_assertion=" + url.QueryEscape(ent.lastAssertion())); loc != "/device?sso_error=sso_failed" {
			t.Fatalf("replayed assertion: Location %q", loc)
		}
		if again.grantCookie() != "" {
			t.Fatal("a replayed assertion set a grant cookie")
		}
	})

	t.Run("forged assertions", func(t *testing.T) {
		_, userCode := startDeviceFlow(t, in.Base, "forged assertion")
		for name, tok := range map[string]string{
			"another key":    porttest.ForgeAssertion(t, "not-the-secret-key", fresh(), ssoIssuer, userCode, "n-"+fresh(), time.Now()),
			"expired":        porttest.ForgeAssertion(t, ssoSecret, fresh(), ssoIssuer, userCode, "n-"+fresh(), time.Now().Add(-10*time.Minute)),
			"unknown code":   porttest.ForgeAssertion(t, ssoSecret, fresh(), ssoIssuer, "ZZZZ-ZZZZ", "n-"+fresh(), time.Now()),
			"a grant cookie": forgeGrant(t, ssoSecret, ssoAPIOrigin, fresh(), userCode, "n-"+fresh(), "c", time.Now()),
			"garbage":        "not.a.jws",
			"missing":        "",
		} {
			b := newSSOBrowser(t, in.Base)
			if loc := b.complete(api + "/sso-complete?sso_assertion=" + url.QueryEscape(tok)); loc != "/device?sso_error=sso_failed" || b.grantCookie() != "" {
				t.Errorf("%s: Location %q, cookie set: %v", name, loc, b.grantCookie() != "")
			}
		}
	})

	t.Run("sso_error relay is sanitised", func(t *testing.T) {
		b := newSSOBrowser(t, in.Base)
		for q, want := range map[string]string{
			"sso_error=sso_failed&user_code=ABCD-EFGH":                          "/device?sso_error=sso_failed&user_code=ABCD-EFGH",
			"sso_error=email_belongs_to_dify_account&user_code=ABCD-EFGH":       "/device?sso_error=email_belongs_to_dify_account&user_code=ABCD-EFGH",
			"sso_error=%3Cscript%3E&user_code=ABCD-EFGH":                        "/device?sso_error=sso_failed&user_code=ABCD-EFGH",
			"sso_error=sso_failed&user_code=%3Cscript%3E":                       "/device?sso_error=sso_failed",
			"sso_error=sso_failed&user_code=abcd-efgh":                          "/device?sso_error=sso_failed",
			"sso_error=sso_failed&user_code=ABCDEFGHJKLMNPQRS":                  "/device?sso_error=sso_failed",
			"sso_error=x&sso_assertion=" + url.QueryEscape(ent.lastAssertion()): "/device?sso_error=sso_failed",
		} {
			if loc := b.complete(api + "/sso-complete?" + q); loc != want {
				t.Errorf("%s: Location %q, want %q", q, loc, want)
			}
		}
	})

	t.Run("email belongs to an account", func(t *testing.T) {
		ent.set("MEMBER@Corp.Example", "")
		_, userCode := startDeviceFlow(t, in.Base, "collision")
		b := newSSOBrowser(t, in.Base)
		if loc := b.signIn(userCode); loc != "/device?sso_error=email_belongs_to_dify_account&user_code="+userCode || b.grantCookie() != "" {
			t.Fatalf("Location %q, cookie set: %v", loc, b.grantCookie() != "")
		}
		if !auditHas(in.logs.String(), "oauth.device_flow_rejected", `"subject_type":"external_sso"`) {
			t.Fatal("no oauth.device_flow_rejected audit event")
		}
		// A grant issued before the email became an account's is refused at approval.
		ck := forgeGrant(t, ssoSecret, ssoAPIOrigin, "Member@corp.example", userCode, "n-"+fresh(), "csrf-1", time.Now())
		b.setGrantCookie(ck)
		resp, body := b.approve("csrf-1", userCode)
		wantError(t, "approve-external", resp, body, 403, "email_belongs_to_dify_account", ck)
	})

	t.Run("cookie replayed, reused nonce, other user code, concurrent", func(t *testing.T) {
		ent.set(fresh(), "")
		_, codeA := startDeviceFlow(t, in.Base, "replay A")
		_, codeB := startDeviceFlow(t, in.Base, "replay B")
		b := newSSOBrowser(t, in.Base)
		b.signIn(codeA)
		ck := b.grantCookie()
		_, actx := b.get(api + "/approval-context")
		csrf := jsonField(t, actx, "csrf_token")

		resp, body := b.approve(csrf, codeB)
		wantError(t, "cookie for another user code", resp, body, 400, "user_code_mismatch", ck)

		// Eight concurrent approvals with the same cookie: exactly one succeeds.
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, _ := b.approve(csrf, codeA)
				mu.Lock()
				codes[r.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[200] != 1 {
			t.Fatalf("concurrent approvals with one cookie: %v, want exactly one 200", codes)
		}
		b.setGrantCookie(ck)
		resp, body = b.approve(csrf, codeA)
		wantError(t, "same cookie again", resp, body, 409, "user_code_not_pending", ck)

		// A second grant carrying the consumed nonce (only a key holder could
		// mint one) is refused although its flow is pending.
		nonce := "reused-" + fresh()
		email := fresh()
		first := forgeGrant(t, ssoSecret, ssoAPIOrigin, email, codeB, nonce, "csrf-2", time.Now())
		b.setGrantCookie(first)
		if resp, body := b.approve("csrf-2", codeB); resp.StatusCode != 200 {
			t.Fatalf("first grant: %d %v", resp.StatusCode, body)
		}
		_, codeC := startDeviceFlow(t, in.Base, "replay C")
		second := forgeGrant(t, ssoSecret, ssoAPIOrigin, email, codeC, nonce, "csrf-2", time.Now())
		b.setGrantCookie(second)
		resp, body = b.approve("csrf-2", codeC)
		wantError(t, "grant nonce reused", resp, body, 401, "session_already_consumed", second)
	})

	t.Run("forged and re-signed cookies", func(t *testing.T) {
		_, userCode := startDeviceFlow(t, in.Base, "forged cookie")
		now := time.Now()
		valid := forgeGrant(t, ssoSecret, ssoAPIOrigin, fresh(), userCode, "n-"+fresh(), "csrf", now)
		p := strings.Split(valid, ".")
		for name, ck := range map[string]string{
			"re-signed with another key": forgeGrant(t, "attacker-key-0123456789", ssoAPIOrigin, fresh(), userCode, "n-"+fresh(), "csrf", now),
			"payload swapped":            p[0] + "." + strings.Split(forgeGrant(t, "k", ssoAPIOrigin, "evil@x.y", userCode, "n", "csrf", now), ".")[1] + "." + p[2],
			"signature flipped":          p[0] + "." + p[1] + "." + strings.ToUpper(p[2][:4]) + p[2][4:] + "A",
			"another issuer":             forgeGrant(t, ssoSecret, "https://other-api.example", fresh(), userCode, "n-"+fresh(), "csrf", now),
			"expired":                    forgeGrant(t, ssoSecret, ssoAPIOrigin, fresh(), userCode, "n-"+fresh(), "csrf", now.Add(-6*time.Minute)),
			"an assertion":               porttest.ForgeAssertion(t, ssoSecret, fresh(), ssoIssuer, userCode, "n-"+fresh(), now),
			"alg none":                   strings.Replace(valid, p[0], "eyJhbGciOiJub25lIiwia2lkIjoiZGlmeS1zaGFyZWQtdjEifQ", 1),
		} {
			b := newSSOBrowser(t, in.Base)
			b.setGrantCookie(ck)
			if resp, _ := b.get(api + "/approval-context"); resp.StatusCode != 401 {
				t.Errorf("%s: approval-context %d, want 401", name, resp.StatusCode)
			}
			resp, body := b.approve("csrf", userCode)
			wantError(t, name, resp, body, 401, "invalid_session", ck)
		}
		b := newSSOBrowser(t, in.Base)
		resp, body := b.approve("csrf", userCode)
		wantError(t, "no cookie", resp, body, 401, "invalid_session", "")
		if resp, _ := b.get(api + "/approval-context"); resp.StatusCode != 401 {
			t.Errorf("approval-context without a cookie: %d", resp.StatusCode)
		}
	})

	t.Run("CSRF mismatch, per-email limit counted first", func(t *testing.T) {
		_, userCode := startDeviceFlow(t, in.Base, "csrf")
		ck := forgeGrant(t, ssoSecret, ssoAPIOrigin, fresh(), userCode, "n-"+fresh(), "the-csrf-token", time.Now())
		b := newSSOBrowser(t, in.Base)
		b.setGrantCookie(ck)
		resp, body := b.approve("", userCode)
		wantError(t, "missing CSRF header", resp, body, 403, "csrf_mismatch", ck)
		for i := 0; i < 9; i++ {
			resp, body = b.approve("the-csrf-token-but-wrong", userCode)
			wantError(t, "wrong CSRF header", resp, body, 403, "csrf_mismatch", ck)
		}
		// Ten refused attempts used the email's budget: the right token now meets the limit.
		resp, body = b.approve("the-csrf-token", userCode)
		wantError(t, "eleventh attempt", resp, body, 429, "rate_limited", ck)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})

	t.Run("initiate errors", func(t *testing.T) {
		b := newSSOBrowser(t, in.Base)
		for q, want := range map[string]string{"": "invalid_request", "user_code=ZZZZ-ZZZZ": "invalid_user_code", "user_code=nonsense": "invalid_user_code"} {
			resp, body := b.get(api + "/sso-initiate?" + q)
			if resp.StatusCode != 400 || !strings.Contains(string(body), `"code":"`+want+`"`) || !clearsGrant(resp) {
				t.Errorf("sso-initiate?%s: %d %s", q, resp.StatusCode, body)
			}
		}
		_, userCode := startDeviceFlow(t, in.Base, "gateway down")
		for mode, want := range map[string]string{"fail": "sso_initiate_failed", "nourl": "sso_initiate_missing_url"} {
			ent.set(fresh(), mode)
			resp, body := b.get(api + "/sso-initiate?user_code=" + userCode)
			if resp.StatusCode != 502 || !strings.Contains(string(body), `"code":"`+want+`"`) || !strings.Contains(string(body), "Internal Server Error") {
				t.Errorf("gateway %s: %d %s", mode, resp.StatusCode, body)
			}
		}
		ent.set(fresh(), "")
	})
}
