package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/fx"
)

// TestSSOConfig: both gateways is an error naming both variables; the relay
// alone fails start-up as not implemented; the enterprise gateway needs its
// secret; SECRET_KEY_PREVIOUS may not repeat SECRET_KEY.
func TestSSOConfig(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"ENTERPRISE_API_URL": "https://ent.example", "ENTERPRISE_API_SECRET": "s", "OIDC_ISSUER": "https://idp.example"},
			[]string{"ENTERPRISE_API_URL", "OIDC_ISSUER"}},
		{map[string]string{"OIDC_ISSUER": "https://idp.example"}, []string{"OIDC_ISSUER", "not implemented in this build"}},
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
