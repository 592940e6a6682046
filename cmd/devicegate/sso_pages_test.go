package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesOfferSSOOnlyWhenServed: the real graph's /device page offers the
// single-sign-on choice exactly when the SSO endpoints answer and have a
// gateway to send the person to: never on the community edition, never
// with a license outside the allowlist, never without ENTERPRISE_API_URL;
// with the built-in OpenID Connect relay, whatever the edition.
func TestPagesOfferSSOOnlyWhenServed(t *testing.T) {
	ent := newEnterprise(t)
	idp := newOIDCProvider(t)
	cases := map[string]struct {
		vars map[string]string
		want string
	}{
		"community":                     {sqliteVars(t), `data-sso="0"`},
		"community with a gateway":      {ssoVars(sqliteVars(t), ent), `data-sso="0"`},
		"enterprise, expired":           {ssoVars(sqliteVars(t), ent), `data-sso="0"`},
		"enterprise, no gateway":        {ssoVars(sqliteVars(t), ent), `data-sso="0"`},
		"enterprise, active, gateway":   {ssoVars(sqliteVars(t), ent), `data-sso="1"`},
		"enterprise, expiring, gateway": {ssoVars(sqliteVars(t), ent), `data-sso="1"`},
		"community, OIDC relay":         {oidcVars(sqliteVars(t), idp), `data-sso="1"`},
	}
	cases["community with a gateway"].vars["EDITION"] = "community"
	cases["enterprise, expired"].vars["LICENSE_STATUS"] = "expired"
	delete(cases["enterprise, no gateway"].vars, "ENTERPRISE_API_URL")
	delete(cases["enterprise, no gateway"].vars, "ENTERPRISE_API_SECRET")
	cases["enterprise, expiring, gateway"].vars["LICENSE_STATUS"] = "EXPIRING"
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := startInstance(t, tc.vars)
			resp, err := http.Get(in.Base + "/device")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), tc.want) {
				t.Fatalf("/device: %d, body lacks %s", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestLookupDetailsForAnSSOApprover: the approval grant of an SSO-verified
// person brings the lookup's request details (when, and the coarse networks)
// for its own code, as a console session does; for another code, or with a
// forged grant, the lookup stays SPEC 2.4's anonymous answer.
func TestLookupDetailsForAnSSOApprover(t *testing.T) {
	ent := newEnterprise(t)
	in := startInstance(t, ssoVars(sqliteVars(t), ent))
	_, code := startDeviceFlow(t, in.Base, "sso laptop")
	_, other := startDeviceFlow(t, in.Base, "someone else's")
	b := newSSOBrowser(t, in.Base)
	lookup := func(c string) map[string]any {
		t.Helper()
		resp, body := b.get(in.Base + "/openapi/v1/oauth/device/lookup?user_code=" + url.QueryEscape(c))
		var m map[string]any
		if resp.StatusCode != 200 || json.Unmarshal(body, &m) != nil {
			t.Fatalf("lookup: %d %s", resp.StatusCode, body)
		}
		return m
	}
	if m := lookup(code); len(m) != 4 {
		t.Fatalf("anonymous lookup = %v, want the four anonymous fields", m)
	}
	if loc := b.signIn(code); loc != "/device?sso_verified=1" {
		t.Fatalf("sso-complete Location = %q", loc)
	}
	m := lookup(strings.ToLower(code))
	if m["created_at"] == nil || m["request_network"] != "127.0.0.0/24" || m["approver_network"] != "127.0.0.0/24" || len(m) != 7 {
		t.Fatalf("lookup with the grant = %v, want the request details", m)
	}
	if m := lookup(other); len(m) != 4 {
		t.Fatalf("lookup of another code with the grant = %v, want the anonymous answer", m)
	}
	b.setGrantCookie("forged.grant.value")
	if m := lookup(code); len(m) != 4 {
		t.Fatalf("lookup with a forged grant = %v, want the anonymous answer", m)
	}
}
