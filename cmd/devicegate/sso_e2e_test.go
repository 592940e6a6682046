package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSSOEndToEnd (SQLite + memory) and TestSSOEndToEndPostgresRedis drive
// the external-SSO branch over HTTP on a real listening server, with a test
// server playing the enterprise service.
func TestSSOEndToEnd(t *testing.T) {
	ent := newEnterprise(t)
	in := startInstance(t, ssoVars(sqliteVars(t), ent))
	ssoFlow(t, in, ent)
}

func TestSSOEndToEndPostgresRedis(t *testing.T) {
	ent := newEnterprise(t)
	vars := ssoVars(postgresRedisVars(t), ent)
	createAccount(t, vars, "member@corp.example", "correct horse battery", "Corp")
	in := startInstance(t, vars)
	ssoFlow(t, in, ent)
	ssoReplays(t, in, ent) // the nonce store is Redis here
}

// ssoIdP is the SSO side a flow test signs in at: the enterprise service or
// the OpenID provider behind the built-in relay.
type ssoIdP interface {
	signInAs(email string) // who signs in next
	issuer() string        // the subject_issuer the token must carry
	secrets() []string     // what must never reach the logs
}

func (e *enterprise) signInAs(email string) { e.set(email, "") }
func (e *enterprise) issuer() string        { return ssoIssuer }
func (e *enterprise) secrets() []string     { return []string{e.lastAssertion()} }

// ssoFlow: code -> sso-initiate -> IdP (-> the relay's callback) -> sso-complete ->
// approval-context -> approve-external -> poll -> dfoe_ token -> /me -> introspection -> list -> self-revoke.
func ssoFlow(t *testing.T, in *instance, ent ssoIdP) {
	ssoIssuer := ent.issuer()
	email := "Ext.User+" + strings.Repeat("x", 298) + "@corp.example" // 320 characters (the SPEC 5 bound), mixed case
	if len(email) != 320 {
		t.Fatalf("test bug: email is %d characters", len(email))
	}
	ent.signInAs(email)
	deviceCode, userCode := startDeviceFlow(t, in.Base, "sso laptop")
	b := newSSOBrowser(t, in.Base)

	// The user types the code in lower case; the envelope carries the normalised one.
	loc := b.signIn(strings.ToLower(userCode))
	if loc != "/device?sso_verified=1" {
		t.Fatalf("sso-complete Location = %q, want /device?sso_verified=1 (same origin: a path)", loc)
	}
	ck := b.grantCookie()
	if ck == "" {
		t.Fatal("no grant cookie after sso-complete")
	}

	resp, body := b.get(in.Base + "/openapi/v1/oauth/device/approval-context")
	var actx map[string]string
	if resp.StatusCode != 200 || json.Unmarshal(body, &actx) != nil {
		t.Fatalf("approval-context: %d %s", resp.StatusCode, body)
	}
	if actx["subject_email"] != email || actx["subject_issuer"] != ssoIssuer || actx["user_code"] != userCode ||
		actx["csrf_token"] == "" || actx["expires_at"] == "" {
		t.Fatalf("approval-context = %v", actx)
	}
	if resp, _ := b.get(in.Base + "/openapi/v1/oauth/device/approval-context"); resp.StatusCode != 200 {
		t.Fatalf("approval-context is idempotent; second call %d", resp.StatusCode)
	}

	resp, out := b.approve(actx["csrf_token"], userCode)
	if resp.StatusCode != 200 || out["status"] != "approved" || !clearsGrant(resp) {
		t.Fatalf("approve-external: %d %v (cookie cleared: %v)", resp.StatusCode, out, clearsGrant(resp))
	}

	var tok map[string]any
	if code := postForm(t, in.Base+"/openapi/v1/oauth/device/token", url.Values{"device_code": {deviceCode}, "client_id": {"difyctl"},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, &tok); code != 200 {
		t.Fatalf("poll: %d %v", code, tok)
	}
	access, _ := tok["access_token"].(string)
	if !strings.HasPrefix(access, "dfoe_") || tok["subject_type"] != "external_sso" || tok["subject_email"] != email ||
		tok["subject_issuer"] != ssoIssuer || tok["account"] != nil || tok["default_workspace_id"] != nil {
		t.Fatalf("poll body = %v", tok)
	}
	if ws, ok := tok["workspaces"].([]any); !ok || len(ws) != 0 {
		t.Fatalf("workspaces = %#v, want []", tok["workspaces"])
	}

	var me map[string]any
	if code := getJSON(t, in.Base+"/openapi/v1/me", access, &me); code != 200 {
		t.Fatalf("/me: %d", code)
	}
	if me["subject_type"] != "external_sso" || me["subject_email"] != email || me["subject_issuer"] != ssoIssuer ||
		me["account"] != nil || me["default_workspace_id"] != nil {
		t.Fatalf("/me = %v", me)
	}

	req, _ := http.NewRequest(http.MethodPost, in.Base+"/openapi/v1/oauth/introspect", strings.NewReader(url.Values{"token": {access}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("resource-server", "introspection-secret-0123456789")
	iresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var intro map[string]any
	_ = json.NewDecoder(iresp.Body).Decode(&intro)
	iresp.Body.Close()
	if intro["active"] != true || intro["scope"] != "apps:run apps:read:permitted-external" {
		t.Fatalf("introspection = %d %v", iresp.StatusCode, intro)
	}

	var list struct {
		Total int `json:"total"`
		Data  []struct {
			Prefix      string `json:"prefix"`
			DeviceLabel string `json:"device_label"`
			Current     bool   `json:"current"`
		} `json:"data"`
	}
	if code := getJSON(t, in.Base+"/openapi/v1/oauth/authorizations", access, &list); code != 200 ||
		list.Total != 1 || len(list.Data) != 1 || list.Data[0].Prefix != "dfoe_" || list.Data[0].DeviceLabel != "sso laptop" || !list.Data[0].Current {
		t.Fatalf("authorizations: %d %+v", code, list)
	}

	del, _ := http.NewRequest(http.MethodDelete, in.Base+"/openapi/v1/oauth/authorizations/self", nil)
	del.Header.Set("Authorization", "Bearer "+access)
	dresp, err := http.DefaultClient.Do(del)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	if dresp.StatusCode != 200 {
		t.Fatalf("self-revoke: %d", dresp.StatusCode)
	}
	if code := getJSON(t, in.Base+"/openapi/v1/me", access, nil); code != 401 {
		t.Fatalf("/me after self-revoke: %d, want 401", code)
	}

	logs := in.logs.String()
	for _, secret := range append([]string{access, deviceCode, userCode, ck, actx["csrf_token"]}, ent.secrets()...) {
		if strings.Contains(logs, secret) {
			t.Fatal("a token, code, cookie, assertion or CSRF token reached the logs")
		}
	}
	for _, ev := range []string{`"event":"oauth.device_flow_approved"`, `"event":"oauth.token_issued"`} {
		if !strings.Contains(logs, ev) {
			t.Fatalf("audit event %s missing", ev)
		}
	}
	if !auditHas(logs, "oauth.device_flow_approved", `"subject_type":"external_sso"`, ssoIssuer) ||
		!auditHas(logs, "oauth.token_issued", `"subject_type":"external_sso"`, `"token_prefix":"dfoe_"`, "apps:run", "apps:read:permitted-external") {
		t.Fatalf("audit events lack the external subject or scopes:\n%s", logs)
	}
}

// auditHas reports whether one log line of event holds every want.
func auditHas(logs, event string, want ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"event":"`+event+`"`) {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return true
		}
	}
	return false
}
