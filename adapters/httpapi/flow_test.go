package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAccountFlow walks SPEC 2-3 end to end through HTTP: login, device
// code, lookup, approve with CSRF, poll, /me, list, revoke self, /me 401,
// and proves no code, token or cookie reaches the logs.
func TestAccountFlow(t *testing.T) {
	s := newTestServer(t)
	l := s.login("alice@example.com")

	rec := s.serve(req{method: http.MethodPost, path: "/openapi/v1/oauth/device/code",
		ctype: "application/x-www-form-urlencoded", body: "client_id=difyctl&device_label=laptop&scope=full"})
	code := wantStatus(t, rec, http.StatusOK)
	dc, uc := code["device_code"].(string), code["user_code"].(string)
	if !regexp.MustCompile(`^dc_[A-Za-z0-9_-]{43}$`).MatchString(dc) {
		t.Fatalf("device_code %q", dc)
	}
	if !regexp.MustCompile(`^[ABCDEFGHJKLMNPQRSTUVWXY3-9]{4}-[ABCDEFGHJKLMNPQRSTUVWXY3-9]{4}$`).MatchString(uc) {
		t.Fatalf("user_code %q", uc)
	}
	wantEqual(t, "verification_uri", code["verification_uri"], testWebURL+"/device")
	wantEqual(t, "verification_uri_complete", code["verification_uri_complete"], testWebURL+"/device?user_code="+uc)
	wantEqual(t, "expires_in", code["expires_in"], float64(900))
	wantEqual(t, "interval", code["interval"], float64(5))
	if len(code) != 6 {
		t.Fatalf("device code body has %d keys: %v", len(code), code)
	}

	look := wantStatus(t, s.lookup(uc), http.StatusOK)
	wantEqual(t, "valid", look["valid"], true)
	wantEqual(t, "expires_in_remaining", look["expires_in_remaining"], float64(900))
	wantEqual(t, "client_id", look["client_id"], testClient)
	wantEqual(t, "device_label", look["device_label"], "laptop")

	wantOAuthError(t, s.poll(dc, testClient), http.StatusBadRequest, "authorization_pending")
	s.clock.Advance(5 * time.Second)

	approved := wantStatus(t, s.decide("approve", uc, l), http.StatusOK)
	wantEqual(t, "status", approved["status"], "approved")
	look = wantStatus(t, s.lookup(uc), http.StatusOK)
	wantEqual(t, "valid", look["valid"], false)
	wantEqual(t, "client_id", look["client_id"], testClient)
	if _, ok := look["device_label"]; ok {
		t.Fatalf("device_label leaked for a resolved flow: %v", look)
	}

	rec = s.poll(dc, testClient)
	tok := wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get("Pragma") != "no-cache" {
		t.Fatalf("token response without Pragma: no-cache")
	}
	access := tok["access_token"].(string)
	if !regexp.MustCompile(`^dfoa_[A-Za-z0-9_-]{43}$`).MatchString(access) || tok["token"] != access {
		t.Fatalf("token fields: %v", tok)
	}
	wantEqual(t, "token_type", tok["token_type"], "Bearer")
	wantEqual(t, "expires_in", tok["expires_in"], float64(14*24*3600))
	wantEqual(t, "expires_at", tok["expires_at"], s.clock.Now().Add(14*24*time.Hour).UTC().Format("2006-01-02T15:04:05Z"))
	wantEqual(t, "subject_type", tok["subject_type"], "account")
	acct := tok["account"].(map[string]any)
	wantEqual(t, "account.id", acct["id"], s.alice.ID)
	wantEqual(t, "account.email", acct["email"], "alice@example.com")
	wantEqual(t, "account.name", acct["name"], "Alice")
	ws := tok["workspaces"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["name"] != "Alice's team" || ws[0].(map[string]any)["role"] == "" {
		t.Fatalf("workspaces %v", ws)
	}
	wantEqual(t, "default_workspace_id", tok["default_workspace_id"], ws[0].(map[string]any)["id"])
	for _, k := range []string{"subject_email", "subject_issuer"} {
		if _, ok := tok[k]; ok {
			t.Fatalf("account token body carries %s", k)
		}
	}
	tokenID := tok["token_id"].(string)

	wantOAuthError(t, s.poll(dc, testClient), http.StatusBadRequest, "expired_token")

	me := wantStatus(t, s.get("/openapi/v1/me", bearer(access)), http.StatusOK)
	wantEqual(t, "me.subject_type", me["subject_type"], "account")
	wantEqual(t, "me.subject_email", me["subject_email"], "alice@example.com")
	wantEqual(t, "me.account.id", me["account"].(map[string]any)["id"], s.alice.ID)
	wantEqual(t, "me.default_workspace_id", me["default_workspace_id"], ws[0].(map[string]any)["id"])
	if len(me["workspaces"].([]any)) != 1 {
		t.Fatalf("me workspaces %v", me["workspaces"])
	}

	list := wantStatus(t, s.get("/openapi/v1/oauth/authorizations", bearer(access)), http.StatusOK)
	wantEqual(t, "page", list["page"], float64(1))
	wantEqual(t, "limit", list["limit"], float64(100))
	wantEqual(t, "total", list["total"], float64(1))
	wantEqual(t, "has_more", list["has_more"], false)
	row := list["data"].([]any)[0].(map[string]any)
	wantEqual(t, "row.id", row["id"], tokenID)
	wantEqual(t, "row.current", row["current"], true)
	wantEqual(t, "row.prefix", row["prefix"], "dfoa_")
	wantEqual(t, "row.client_id", row["client_id"], testClient)
	wantEqual(t, "row.device_label", row["device_label"], "laptop")
	wantEqual(t, "row.last_used_at", row["last_used_at"], nil)
	wantEqual(t, "row.expires_at", row["expires_at"], tok["expires_at"])
	if _, err := time.Parse(time.RFC3339, row["created_at"].(string)); err != nil {
		t.Fatalf("created_at %v", row["created_at"])
	}

	rec = s.serve(req{method: http.MethodDelete, path: "/openapi/v1/oauth/authorizations/self", header: http.Header{"Authorization": {"Bearer " + access}}})
	wantEqual(t, "revoke self", wantStatus(t, rec, http.StatusOK)["status"], "revoked")
	wantCanonical(t, s.get("/openapi/v1/me", bearer(access)), http.StatusUnauthorized, "invalid_token")

	logs := s.logs.String()
	for name, secret := range map[string]string{
		"device code": dc, "device code body": strings.TrimPrefix(dc, "dc_"), "user code": uc,
		"user code (bare)": strings.ReplaceAll(uc, "-", ""), "token": access, "token body": strings.TrimPrefix(access, "dfoa_"),
		"session cookie": l.session.Value, "csrf token": l.csrf,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
	for _, ev := range []string{"oauth.device_flow_approved", "oauth.token_issued", "oauth.token_revoked"} {
		if !strings.Contains(logs, `"event":"`+ev+`"`) {
			t.Errorf("audit event %s missing from the logs", ev)
		}
	}
}

// TestRotation: the same device signing in again rotates the live row in
// place: new token, same token_id, the old token dead, one live row.
func TestRotation(t *testing.T) {
	s := newTestServer(t)
	first := s.issueToken("alice@example.com")
	second := s.issueToken("alice@example.com")
	if first["access_token"] == second["access_token"] {
		t.Fatal("rotation returned the same token")
	}
	wantEqual(t, "token_id", second["token_id"], first["token_id"])
	wantCanonical(t, s.get("/openapi/v1/me", bearer(first["access_token"].(string))), http.StatusUnauthorized, "invalid_token")
	list := wantStatus(t, s.get("/openapi/v1/oauth/authorizations", bearer(second["access_token"].(string))), http.StatusOK)
	wantEqual(t, "total", list["total"], float64(1))
}

// TestExternalSubject: an external-SSO token (minted directly, as the SSO
// branch would) gets the external /me body and its narrower scopes.
func TestExternalSubject(t *testing.T) {
	s := newTestServer(t)
	tok := s.externalToken("ext@corp.example", "https://idp.corp.example")
	me := wantStatus(t, s.get("/openapi/v1/me", bearer(tok)), http.StatusOK)
	wantEqual(t, "subject_type", me["subject_type"], "external_sso")
	wantEqual(t, "subject_email", me["subject_email"], "ext@corp.example")
	wantEqual(t, "subject_issuer", me["subject_issuer"], "https://idp.corp.example")
	wantEqual(t, "account", me["account"], nil)
	wantEqual(t, "default_workspace_id", me["default_workspace_id"], nil)
	if ws, ok := me["workspaces"].([]any); !ok || len(ws) != 0 {
		t.Fatalf("workspaces = %v, want []", me["workspaces"])
	}
	list := wantStatus(t, s.get("/openapi/v1/oauth/authorizations", bearer(tok)), http.StatusOK)
	wantEqual(t, "external total", list["total"], float64(1))
	wantEqual(t, "prefix", list["data"].([]any)[0].(map[string]any)["prefix"], "dfoe_")
}
