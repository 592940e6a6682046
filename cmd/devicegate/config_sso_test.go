package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/fx"
)

// TestSSOConfig: both gateways is an error naming both variables; the relay
// needs its client id and secret, CONSOLE_API_URL, an http(s) issuer and
// openid in its scopes, and its variables without OIDC_ISSUER are an error;
// the enterprise gateway needs its secret; SECRET_KEY_PREVIOUS may not repeat SECRET_KEY.
func TestSSOConfig(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"ENTERPRISE_API_URL": "https://ent.example", "ENTERPRISE_API_SECRET": "s", "OIDC_ISSUER": "https://idp.example"},
			[]string{"ENTERPRISE_API_URL", "OIDC_ISSUER"}},
		{map[string]string{"OIDC_ISSUER": "https://idp.example"}, []string{"OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "CONSOLE_API_URL"}},
		{map[string]string{"OIDC_ISSUER": "idp.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s", "CONSOLE_API_URL": "https://api.example"},
			[]string{"OIDC_ISSUER"}},
		{map[string]string{"OIDC_ISSUER": "https://idp.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s",
			"CONSOLE_API_URL": "https://api.example", "OIDC_SCOPES": "email profile"}, []string{"OIDC_SCOPES", "openid"}},
		{map[string]string{"OIDC_CLIENT_ID": "c"}, []string{"OIDC_CLIENT_ID", "OIDC_ISSUER"}},
		{map[string]string{"OIDC_CLIENT_SECRET": "s"}, []string{"OIDC_CLIENT_SECRET", "OIDC_ISSUER"}},
		{map[string]string{"ENTERPRISE_API_URL": "https://ent.example"}, []string{"ENTERPRISE_API_SECRET"}},
		{map[string]string{"ENTERPRISE_API_URL": "ftp://ent.example", "ENTERPRISE_API_SECRET": "s"}, []string{"ENTERPRISE_API_URL"}},
		{map[string]string{"SECRET_KEY": "k-0123456789", "SECRET_KEY_PREVIOUS": "k-0123456789"}, []string{"SECRET_KEY_PREVIOUS"}},
	} {
		_, err := LoadConfig(testEnv(tc.vars))
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v must say %q", tc.vars, err, w)
			}
		}
	}
	c, err := LoadConfig(testEnv(map[string]string{"EDITION": "Enterprise", "LICENSE_STATUS": "active",
		"ENTERPRISE_API_URL": "https://ent.example/", "ENTERPRISE_API_SECRET": "s", "SECRET_KEY_PREVIOUS": "old-key"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Edition != "enterprise" || c.LicenseStatus != "ACTIVE" || c.EnterpriseAPIURL != "https://ent.example" || c.SecretKeyPrevious != "old-key" {
		t.Fatalf("config %+v", c)
	}
	if err := fx.ValidateApp(serveOptions(c, slog.New(slog.NewTextHandler(io.Discard, nil)))); err != nil {
		t.Fatalf("enterprise graph: %v", err)
	}
}

// TestOIDCConfig: a complete relay configuration parses (issuer kept exactly,
// trailing slash included; scopes default to openid email profile), its
// graph wires, and an http issuer is refused in production.
func TestOIDCConfig(t *testing.T) {
	vars := map[string]string{"OIDC_ISSUER": "https://tenant.idp.example/", "OIDC_CLIENT_ID": " devicegate ",
		"OIDC_CLIENT_SECRET": "s3cret", "CONSOLE_API_URL": "https://api.example/"}
	c, err := LoadConfig(testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	if !c.OIDC.Enabled() || c.OIDC.Issuer != "https://tenant.idp.example/" || c.OIDC.ClientID != "devicegate" ||
		c.OIDC.ClientSecret != "s3cret" || strings.Join(c.OIDC.Scopes, " ") != "openid email profile" ||
		c.OIDCRedirectURL() != "https://api.example/openapi/v1/oauth/device/oidc-callback" {
		t.Fatalf("config %+v, redirect %q", c.OIDC, c.OIDCRedirectURL())
	}
	if err := fx.ValidateApp(serveOptions(c, slog.New(slog.NewTextHandler(io.Discard, nil)))); err != nil {
		t.Fatalf("relay graph: %v", err)
	}
	vars["OIDC_SCOPES"] = "openid,email groups"
	if c, err := LoadConfig(testEnv(vars)); err != nil || strings.Join(c.OIDC.Scopes, " ") != "openid email groups" {
		t.Fatalf("OIDC_SCOPES: %v %v", c, err)
	}
	vars["OIDC_ISSUER"] = "http://idp.example"
	vars["DEVICEGATE_ENV"] = "production"
	vars["PUBLIC_WEB_URL"] = "https://web.example"
	vars["SECRET_KEY"] = "production-secret-key-0123456789"
	if _, err := LoadConfig(testEnv(vars)); err == nil || !strings.Contains(err.Error(), "OIDC_ISSUER: must be https in production") {
		t.Fatalf("production http issuer: %v", err)
	}
}
