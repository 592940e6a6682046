package main

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// discover reads the RFC 8414 metadata, as a standard client would.
func discover(t *testing.T, base string) oauth2.Endpoint {
	t.Helper()
	var md struct {
		Issuer                      string   `json:"issuer"`
		DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
		TokenEndpoint               string   `json:"token_endpoint"`
		RevocationEndpoint          string   `json:"revocation_endpoint"`
		GrantTypes                  []string `json:"grant_types_supported"`
	}
	if code := getJSON(t, base+"/.well-known/oauth-authorization-server", "", &md); code != 200 {
		t.Fatalf("metadata: %d", code)
	}
	if len(md.GrantTypes) != 1 || md.GrantTypes[0] != "urn:ietf:params:oauth:grant-type:device_code" {
		t.Fatalf("grant types %v", md.GrantTypes)
	}
	// The metadata advertises PUBLIC_WEB_URL (never Host); point the client at this instance.
	rebase := func(u string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return base + p.Path
	}
	return oauth2.Endpoint{
		DeviceAuthURL: rebase(md.DeviceAuthorizationEndpoint),
		TokenURL:      rebase(md.TokenEndpoint),
		// The library's default, as a newcomer would leave it.
		AuthStyle: oauth2.AuthStyleAutoDetect,
	}
}

// TestEndToEndOAuth2DeviceFlow signs in with golang.org/x/oauth2's device
// flow against a real listening server on the embedded default, approves
// through the console API, calls /me, and revokes the token (RFC 7009).
func TestEndToEndOAuth2DeviceFlow(t *testing.T) {
	vars := sqliteVars(t)
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Analytics")
	in := startInstance(t, vars)

	conf := &oauth2.Config{ClientID: "difyctl", Endpoint: discover(t, in.Base)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	da, err := conf.DeviceAuth(ctx, oauth2.SetAuthURLParam("device_label", "e2e laptop"))
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !strings.HasSuffix(da.VerificationURI, "/device") || da.Interval != 5 || da.Expiry.IsZero() {
		t.Fatalf("device auth response %+v", da)
	}

	b := newBrowser(t, in.Base)
	b.login("ADA@example.com", "correct horse battery")
	// The user types the code in lower case with a space instead of the dash.
	typed := strings.ToLower(strings.Replace(da.UserCode, "-", " ", 1))
	if code := b.decide(typed, true); code != 200 {
		t.Fatalf("approve: %d", code)
	}

	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "dfoa_") || tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now().Add(13*24*time.Hour)) {
		t.Fatalf("token %+v", tok)
	}

	var me struct {
		SubjectType string `json:"subject_type"`
		Account     struct {
			Email string `json:"email"`
		} `json:"account"`
		Workspaces []struct {
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"workspaces"`
		DefaultWorkspaceID *string `json:"default_workspace_id"`
	}
	if code := getJSON(t, in.Base+"/openapi/v1/me", tok.AccessToken, &me); code != 200 {
		t.Fatalf("/me: %d", code)
	}
	if me.SubjectType != "account" || me.Account.Email != "ada@example.com" || len(me.Workspaces) != 1 ||
		me.Workspaces[0].Name != "Analytics" || me.Workspaces[0].Role != "owner" || me.DefaultWorkspaceID == nil {
		t.Fatalf("/me = %+v", me)
	}

	if code := postForm(t, in.Base+"/openapi/v1/oauth/revoke", url.Values{"token": {tok.AccessToken}}, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code := getJSON(t, in.Base+"/openapi/v1/me", tok.AccessToken, nil); code != 401 {
		t.Fatalf("/me after revoke: %d, want 401", code)
	}

	logs := in.logs.String()
	for _, secret := range []string{tok.AccessToken, da.DeviceCode, da.UserCode} {
		if strings.Contains(logs, secret) {
			t.Fatal("a token or code reached the logs")
		}
	}
	if !strings.Contains(logs, `"event":"oauth.token_issued"`) || !strings.Contains(logs, `"event":"oauth.device_flow_approved"`) {
		t.Fatal("audit events missing from the logs")
	}
}

// TestEndToEndOAuth2PKCE runs the device flow with RFC 7636 PKCE through
// golang.org/x/oauth2 (S256ChallengeOption on DeviceAuth, VerifierOption on
// DeviceAccessToken; v0.38 sends both on the device endpoints) against a
// real server where OPENAPI_PKCE_REQUIRED_CLIENT_IDS lists the client.
func TestEndToEndOAuth2PKCE(t *testing.T) {
	vars := sqliteVars(t)
	vars["OPENAPI_PKCE_REQUIRED_CLIENT_IDS"] = "difyctl"
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Analytics")
	in := startInstance(t, vars)

	var md struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if code := getJSON(t, in.Base+"/.well-known/oauth-authorization-server", "", &md); code != 200 || len(md.Methods) != 1 || md.Methods[0] != "S256" {
		t.Fatalf("metadata: %d %+v", code, md)
	}
	conf := &oauth2.Config{ClientID: "difyctl", Endpoint: discover(t, in.Base)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var re *oauth2.RetrieveError
	if _, err := conf.DeviceAuth(ctx); !errors.As(err, &re) || re.ErrorCode != "invalid_request" {
		t.Fatalf("DeviceAuth without a challenge for a PKCE-required client: %v", err)
	}
	verifier := oauth2.GenerateVerifier()
	da, err := conf.DeviceAuth(ctx, oauth2.S256ChallengeOption(verifier))
	if err != nil {
		t.Fatalf("DeviceAuth with S256: %v", err)
	}
	b := newBrowser(t, in.Base)
	b.login("ada@example.com", "correct horse battery")
	if code := b.decide(da.UserCode, true); code != 200 {
		t.Fatalf("approve: %d", code)
	}

	// Someone who copied the device code, without the verifier: refused,
	// and the flow is untouched (the client's next poll is not slow_down).
	for _, v := range []string{"", oauth2.GenerateVerifier()} {
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"difyctl"}, "device_code": {da.DeviceCode}}
		if v != "" {
			form.Set("code_verifier", v)
		}
		var answer struct {
			Error string `json:"error"`
		}
		if code := postForm(t, conf.Endpoint.TokenURL, form, &answer); code != 400 || answer.Error != "invalid_grant" {
			t.Fatalf("poll without the right verifier: %d %q, want 400 invalid_grant", code, answer.Error)
		}
	}

	tok, err := conf.DeviceAccessToken(ctx, da, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("DeviceAccessToken with the verifier: %v", err)
	}
	if code := getJSON(t, in.Base+"/openapi/v1/me", tok.AccessToken, nil); code != 200 {
		t.Fatalf("/me: %d", code)
	}
	if logs := in.logs.String(); strings.Contains(logs, verifier) || strings.Contains(logs, tok.AccessToken) {
		t.Fatal("a verifier or token reached the logs")
	}
}
