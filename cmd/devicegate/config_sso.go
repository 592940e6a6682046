package main

import (
	"net/url"
	"slices"
	"strings"

	"github.com/devicegate/devicegate/adapters/oidcrelay"
	"github.com/devicegate/devicegate/app"
)

// OIDCConfig is the built-in OpenID Connect relay's configuration (OIDC_*);
// the zero value (OIDC_ISSUER unset) means no relay.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
}

// Enabled reports whether the relay is configured.
func (o OIDCConfig) Enabled() bool { return o.Issuer != "" }

// oidcOnlyVars are the relay's variables, for "set without OIDC_ISSUER" checks.
var oidcOnlyVars = []string{"OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES"}

// checkSSO validates the external-SSO settings (SPEC 2.6, 7.2, 9) and
// returns one message per problem, each naming its variable. Configuring
// both gateways names both variables (SPEC 2.6); a relay variable without
// OIDC_ISSUER is an error rather than a relay silently off.
func (c *Config) checkSSO(getenv func(string) string) []string {
	var errs []string
	errs = append(errs, c.loadOIDC(getenv)...)
	if c.OIDC.Enabled() && c.EnterpriseAPIURL != "" {
		errs = append(errs, "ENTERPRISE_API_URL, OIDC_ISSUER: configure one SSO gateway, not both")
	}
	if c.EnterpriseAPIURL != "" && c.EnterpriseAPISecret == "" {
		errs = append(errs, "ENTERPRISE_API_SECRET: required when ENTERPRISE_API_URL is set")
	}
	if c.SecretKeyPrevious != "" && c.SecretKeyPrevious == strings.TrimSpace(c.SecretKey) {
		errs = append(errs, "SECRET_KEY_PREVIOUS: equals SECRET_KEY; set it to the key being rotated out, or unset it")
	}
	return errs
}

// loadOIDC reads OIDC_*. The issuer is kept exactly as written (a trailing
// slash included): go-oidc requires it to equal the issuer the provider's
// discovery document names.
func (c *Config) loadOIDC(getenv func(string) string) []string {
	issuer := strings.TrimSpace(getenv("OIDC_ISSUER"))
	if issuer == "" {
		for _, v := range oidcOnlyVars {
			if strings.TrimSpace(getenv(v)) != "" {
				return []string{v + ": set, but OIDC_ISSUER is not; set OIDC_ISSUER to enable the OpenID Connect relay, or unset " + v}
			}
		}
		return nil
	}
	var errs []string
	u, err := url.Parse(issuer)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs = append(errs, "OIDC_ISSUER: must be the provider's issuer URL, http(s)://host[/path]")
	case c.Production && u.Scheme != "https":
		errs = append(errs, "OIDC_ISSUER: must be https in production")
	}
	o := OIDCConfig{Issuer: issuer, ClientID: strings.TrimSpace(getenv("OIDC_CLIENT_ID")),
		ClientSecret: getenv("OIDC_CLIENT_SECRET"), Scopes: oidcrelay.ParseScopes(getenv("OIDC_SCOPES"))}
	if o.ClientID == "" {
		errs = append(errs, "OIDC_CLIENT_ID: required when OIDC_ISSUER is set")
	}
	if o.ClientSecret == "" {
		errs = append(errs, "OIDC_CLIENT_SECRET: required when OIDC_ISSUER is set (register a confidential client)")
	}
	if !slices.Contains(o.Scopes, "openid") {
		errs = append(errs, "OIDC_SCOPES: must include openid")
	}
	if c.ConsoleAPIURL == "" {
		errs = append(errs, "CONSOLE_API_URL: required when OIDC_ISSUER is set (the relay's redirect URI is built from it)")
	}
	c.OIDC = o
	return errs
}

// OIDCRedirectURL is the relay's callback URL, to register with the provider.
func (c *Config) OIDCRedirectURL() string { return c.ConsoleAPIURL + app.SSOCallbackPath }
