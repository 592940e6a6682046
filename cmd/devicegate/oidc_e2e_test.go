package main

import (
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/oidcrelay"
	"github.com/devicegate/devicegate/adapters/oidcrelay/oidctest"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports/porttest"
)

// The relay's client registration at the mock provider.
const (
	oidcClientID     = "devicegate-e2e"
	oidcClientSecret = "oidc-client-secret-0123456789"
	oidcCallback     = ssoAPIOrigin + app.SSOCallbackPath
)

// oidcIdP is the mock OpenID provider as the SSO side of ssoFlow.
type oidcIdP struct{ *oidctest.Provider }

func newOIDCProvider(t *testing.T) oidcIdP {
	return oidcIdP{oidctest.New(t, oidcClientID, oidcClientSecret, oidcCallback)}
}

func (p oidcIdP) signInAs(email string) { p.Set(oidctest.Behaviour{Email: email}) }
func (p oidcIdP) issuer() string        { return p.Issuer() }
func (p oidcIdP) secrets() []string     { return []string{oidcClientSecret} }

// oidcVars is base plus the built-in relay pointing at p, on the community
// edition (the relay needs no license).
func oidcVars(base map[string]string, p oidcIdP) map[string]string {
	vars := maps.Clone(base)
	maps.Copy(vars, map[string]string{"SECRET_KEY": ssoSecret, "CONSOLE_API_URL": ssoAPIOrigin, "PUBLIC_WEB_URL": ssoAPIOrigin,
		"OIDC_ISSUER": p.Issuer(), "OIDC_CLIENT_ID": oidcClientID, "OIDC_CLIENT_SECRET": oidcClientSecret,
		"INTROSPECTION_SECRET": "introspection-secret-0123456789"})
	return vars
}

// TestOIDCEndToEnd (SQLite + memory) and TestOIDCEndToEndPostgresRedis drive
// the external-SSO branch through the built-in relay and a mock OpenID
// provider over HTTP on a real listening server, on the community edition:
// code -> sso-initiate -> provider -> callback -> sso-complete ->
// approval-context -> approve-external -> poll -> dfoe_ token -> /me (the
// SSO email and the provider's issuer) -> introspection -> list -> self-revoke.
func TestOIDCEndToEnd(t *testing.T) {
	p := newOIDCProvider(t)
	in := startInstance(t, oidcVars(sqliteVars(t), p))
	ssoFlow(t, in, p)
	if !strings.Contains(in.logs.String(), oidcCallback) {
		t.Fatal("the redirect URI to register is not printed at start-up")
	}
	if n := p.TokenRequests(); n != 1 {
		t.Fatalf("the provider's token endpoint saw %d requests, want 1", n)
	}
	oidcReplays(t, in, p) // the memory nonce store
}

func TestOIDCEndToEndPostgresRedis(t *testing.T) {
	p := newOIDCProvider(t)
	in := startInstance(t, oidcVars(postgresRedisVars(t), p))
	ssoFlow(t, in, p)
	oidcReplays(t, in, p) // the nonce store is Redis here
}

// TestOIDCRefusals: every way the provider's answer can be wrong ends, over
// HTTP, on /device?sso_error=sso_failed with the flow's user code: never an
// error body, never provider details, never a grant cookie; the flow stays
// pending, so the person can try again.
func TestOIDCRefusals(t *testing.T) {
	p := newOIDCProvider(t)
	in := startInstance(t, oidcVars(sqliteVars(t), p))
	no := false
	for name, bh := range map[string]oidctest.Behaviour{
		"access denied":        {Email: "a@corp.example", Deny: true},
		"wrong nonce":          {Email: "a@corp.example", WrongNonce: true},
		"wrong audience":       {Email: "a@corp.example", WrongAudience: true},
		"wrong issuer":         {Email: "a@corp.example", WrongIssuer: true},
		"expired":              {Email: "a@corp.example", Expired: true},
		"foreign signing key":  {Email: "a@corp.example", ForeignKey: true},
		"email_verified false": {Email: "a@corp.example", EmailVerified: &no},
		"no email":             {EmailInUserinfoOnly: true},
	} {
		t.Run(name, func(t *testing.T) {
			p.Set(bh)
			_, userCode := startDeviceFlow(t, in.Base, "refusal "+name)
			b := newSSOBrowser(t, in.Base)
			if loc := b.signIn(userCode); loc != "/device?sso_error=sso_failed&user_code="+userCode {
				t.Fatalf("Location = %q", loc)
			}
			if b.grantCookie() != "" {
				t.Fatal("a refused sign-in left a grant cookie")
			}
			var look map[string]any
			if code := getJSON(t, in.Base+"/openapi/v1/oauth/device/lookup?user_code="+userCode, "", &look); code != 200 || look["valid"] != true {
				t.Fatalf("the flow must stay pending: %d %v", code, look)
			}
		})
	}
	t.Run("unreachable provider", func(t *testing.T) {
		p.Set(oidctest.Behaviour{Email: "a@corp.example"})
		_, userCode := startDeviceFlow(t, in.Base, "provider down")
		b := newSSOBrowser(t, in.Base)
		resp, _ := b.get(in.Base + "/openapi/v1/oauth/device/sso-initiate?user_code=" + userCode)
		authorize := resp.Header.Get("Location")
		resp, _ = b.get(authorize)
		callback := resp.Header.Get("Location")
		p.SetDown(true) // the provider fails between the sign-in and the code exchange
		defer p.SetDown(false)
		resp, body := b.get(callback)
		if resp.StatusCode != http.StatusFound || len(bytes.TrimSpace(body)) > 0 && bytes.Contains(body, []byte(`"code"`)) {
			t.Fatalf("callback: %d %s", resp.StatusCode, body)
		}
		if loc := b.complete(resp.Header.Get("Location")); loc != "/device?sso_error=sso_failed&user_code="+userCode {
			t.Fatalf("Location = %q", loc)
		}
	})
	logs := in.logs.String()
	for _, leak := range []string{oidcClientSecret, "<script>"} {
		if strings.Contains(logs, leak) {
			t.Fatalf("the logs carry %q", leak)
		}
	}
}

// oidcReplays: a replayed callback (same state and code twice) and a forged
// or tampered state end on sso_failed, and a replayed state does not even
// reach the provider's token endpoint.
func oidcReplays(t *testing.T, in *instance, p oidcIdP) {
	api := in.Base + "/openapi/v1/oauth/device"
	p.signInAs("replay@corp.example")
	_, userCode := startDeviceFlow(t, in.Base, "replay")
	b := newSSOBrowser(t, in.Base)
	if loc := b.signIn(userCode); loc != "/device?sso_verified=1" {
		t.Fatalf("sign-in: %q", loc)
	}
	redeemed := p.TokenRequests()
	for _, name := range []string{"same browser", "another browser"} {
		cb := b.lastCallback
		again := b
		if name != "same browser" {
			again = newSSOBrowser(t, in.Base)
		}
		resp, _ := again.get(cb)
		if loc := again.complete(resp.Header.Get("Location")); loc != "/device?sso_error=sso_failed&user_code="+userCode {
			t.Fatalf("%s: replayed callback ends on %q", name, loc)
		}
	}
	if p.TokenRequests() != redeemed {
		t.Fatal("a replayed state reached the provider's token endpoint")
	}
	cbq, _ := url.Parse(b.lastCallback)
	for _, v := range []string{cbq.Query().Get("code"), cbq.Query().Get("state")} {
		if v == "" || strings.Contains(in.logs.String(), v) {
			t.Fatal("the provider's code or the state reached the logs")
		}
	}
	state := cbq.Query().Get("state")
	parts := strings.Split(state, ".")
	forged := porttest.ForgeHS256(t, "another-secret-key-0123456789", map[string]any{"alg": "HS256", "kid": porttest.SignerKID, "typ": "JWT"},
		map[string]any{"aud": domain.AudStateEnvelope, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
			"intent": "device_flow", "user_code": userCode, "nonce": "forged-nonce", "idp_callback_url": ssoAPIOrigin + app.SSOCompletePath,
			"redirect_url": "", "app_code": "", "return_to": ""})
	for name, st := range map[string]string{
		"no state":       "",
		"garbage":        "not-a-jws",
		"tampered":       parts[0] + "." + parts[1] + "x." + parts[2],
		"foreign key":    forged,
		"state as grant": b.grantCookie(),
	} {
		q := url.Values{"code": {"any-code"}}
		if st != "" {
			q.Set("state", st)
		}
		resp, _ := newSSOBrowser(t, in.Base).get(api + "/oidc-callback?" + q.Encode())
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != oidcCallbackFailed {
			t.Fatalf("%s: %d Location %q, want %q", name, resp.StatusCode, loc, oidcCallbackFailed)
		}
	}
}

// oidcCallbackFailed is where a callback without a verifiable state sends the
// browser: sso-complete with sso_failed and no user code (none is trusted).
const oidcCallbackFailed = ssoAPIOrigin + "/openapi/v1/oauth/device/sso-complete?sso_error=sso_failed"

// TestOIDCNeedsNoLicense: with the relay configured the SSO endpoints are on
// whatever the edition and license status (the license gates only the
// enterprise gateway); TestSSOEndpointsAreBare404sWithoutALicense proves
// them, the callback included, a bare 404 on the community edition without it.
func TestOIDCNeedsNoLicense(t *testing.T) {
	p := newOIDCProvider(t)
	for name, extra := range map[string]map[string]string{
		"community":           {"EDITION": "community"},
		"enterprise, expired": {"EDITION": "enterprise", "LICENSE_STATUS": "expired"},
	} {
		t.Run(name, func(t *testing.T) {
			vars := oidcVars(sqliteVars(t), p)
			maps.Copy(vars, extra)
			in := startInstance(t, vars)
			b := newSSOBrowser(t, in.Base)
			if resp, body := b.get(in.Base + "/openapi/v1/oauth/device/sso-initiate?user_code=ZZZZ-ZZZZ"); resp.StatusCode != 400 ||
				jsonField(t, body, "code") != "invalid_user_code" {
				t.Fatalf("sso-initiate: %d %s, want 400 invalid_user_code", resp.StatusCode, body)
			}
			if resp, body := b.get(in.Base + "/openapi/v1/oauth/device/approval-context"); resp.StatusCode != 401 {
				t.Fatalf("approval-context: %d %s, want 401", resp.StatusCode, body)
			}
			if resp, _ := b.get(in.Base + "/openapi/v1/oauth/device/oidc-callback?code=x&state=y"); resp.StatusCode != 302 ||
				resp.Header.Get("Location") != oidcCallbackFailed || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("callback: %d %q %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Cache-Control"))
			}
			if resp, _ := b.do(http.MethodPost, in.Base+"/openapi/v1/oauth/device/oidc-callback?code=x&state=y", nil, nil); resp.StatusCode != 405 {
				t.Fatalf("POST callback: %d, want 405 (GET only)", resp.StatusCode)
			}
			_, userCode := startDeviceFlow(t, in.Base, "license-free")
			if loc := b.signIn(userCode); loc != "/device?sso_verified=1" {
				t.Fatalf("sign-in: %q", loc)
			}
		})
	}
}

// TestOIDCProviderDownAtStart: a provider that is down when devicegate starts
// does not fail start-up (a warning says discovery will be retried);
// sso-initiate answers 502 sso_initiate_failed while it is down, and signs
// in once it is back, with no restart.
func TestOIDCProviderDownAtStart(t *testing.T) {
	p := newOIDCProvider(t)
	p.SetDown(true)
	in := startInstance(t, oidcVars(sqliteVars(t), p))
	_, userCode := startDeviceFlow(t, in.Base, "provider down at start")
	b := newSSOBrowser(t, in.Base)
	initiate := in.Base + "/openapi/v1/oauth/device/sso-initiate?user_code=" + userCode
	if resp, body := b.get(initiate); resp.StatusCode != http.StatusBadGateway || jsonField(t, body, "code") != "sso_initiate_failed" ||
		jsonField(t, body, "message") == "" || strings.Contains(string(body), p.Issuer()) {
		t.Fatalf("sso-initiate while the provider is down: %d %s", resp.StatusCode, body)
	}
	// The start-up attempt runs in the background: wait for its warning
	// (bounded by the relay's own timeout, with slack).
	for warned := time.Now().Add(oidcrelay.Timeout + 10*time.Second); !strings.Contains(in.logs.String(), "sso-initiate retries it on first use"); {
		if time.Now().After(warned) {
			t.Fatal("no start-up warning about the failed discovery")
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.SetDown(false)
	// Retry until the relay's pause after a failure has passed (bounded
	// generously for a loaded machine; no timing is asserted).
	deadline := time.Now().Add(10*oidcrelay.RetryPause + 20*time.Second)
	for {
		resp, body := b.get(initiate)
		if resp.StatusCode == http.StatusFound {
			break
		}
		if resp.StatusCode != http.StatusBadGateway || time.Now().After(deadline) {
			t.Fatalf("sso-initiate after the provider came back: %d %s", resp.StatusCode, body)
		}
		time.Sleep(oidcrelay.RetryPause / 4)
	}
	if loc := b.signIn(userCode); loc != "/device?sso_verified=1" {
		t.Fatalf("sign-in after recovery: %q", loc)
	}
}
