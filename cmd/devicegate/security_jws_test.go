package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
)

// TestJWSAlgorithmConfusionAtTheEdge: sso-complete given an assertion
// whose claims are right but whose alg is none (any case), HS384/HS512, a
// lower-case hs256, RS256/ES256/PS256/EdDSA keyed with the secret, a real
// RSA or ECDSA signature, or no alg at all ends in sso_error=sso_failed with
// no grant cookie, and the flow stays pending; the same forgeries as an
// approval-grant cookie are 401 at approval-context and approve-external.
func TestJWSAlgorithmConfusionAtTheEdge(t *testing.T) {
	in, _ := secInstance(t, secWeb)
	api := in.Base + "/openapi/v1/oauth/device"
	_, userCode := startDeviceFlow(t, in.Base, "alg confusion")
	now := time.Now()
	forged := porttest.AlgForgeries(t, ssoSecret, porttest.AssertionClaims("alg.ext@corp.example", ssoIssuer, userCode, "alg-nonce", now))
	if len(forged) < 10 {
		t.Fatalf("only %d forgeries", len(forged))
	}
	for name, tok := range forged {
		resp, _ := secDo(t, secReq{url: api + "/sso-complete?sso_assertion=" + url.QueryEscape(tok)})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != secWeb+"/device?sso_error=sso_failed" {
			t.Errorf("assertion %s: %d Location %q", name, resp.StatusCode, loc)
		}
		if setCookieLine(resp, "device_approval_grant") != "" {
			t.Errorf("assertion %s: a grant cookie was set", name)
		}
	}
	grants := porttest.AlgForgeries(t, ssoSecret, porttest.GrantClaims(ssoAPIOrigin, "alg.ext@corp.example", ssoIssuer, userCode, "g-nonce", "csrf", now))
	for name, tok := range grants {
		ck := []*http.Cookie{{Name: "device_approval_grant", Value: tok}}
		if resp, body := secDo(t, secReq{url: api + "/approval-context", cookies: ck}); resp.StatusCode != 401 {
			t.Errorf("grant %s: approval-context %d %s", name, resp.StatusCode, body)
		}
		resp, body := secDo(t, secReq{method: http.MethodPost, url: api + "/approve-external", body: `{"user_code":"` + userCode + `"}`,
			header: map[string]string{"X-CSRF-Token": "csrf"}, cookies: ck})
		if resp.StatusCode != 401 || jsonBody(body)["code"] != "invalid_session" {
			t.Errorf("grant %s: approve-external %d %s", name, resp.StatusCode, body)
		}
	}
	if !lookupValid(t, in.Base, userCode) {
		t.Fatal("a forged object moved the flow")
	}
	// The control: the same claims signed HS256 with the key do verify.
	ok := porttest.ForgeAssertion(t, ssoSecret, "alg.ext@corp.example", ssoIssuer, userCode, "alg-nonce", now)
	if resp, _ := secDo(t, secReq{url: api + "/sso-complete?sso_assertion=" + url.QueryEscape(ok)}); resp.Header.Get("Location") != secWeb+"/device?sso_verified=1" {
		t.Fatalf("the genuine assertion: Location %q", resp.Header.Get("Location"))
	}
}
