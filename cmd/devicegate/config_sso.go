package main

import (
	"strings"
)

// checkSSO validates the external-SSO settings (SPEC 2.6, 7.2, 9) and
// returns one message per problem, each naming its variable.
//
// The built-in OpenID Connect relay (OIDC_*) is not part of this build:
// configuring it fails start-up rather than being silently ignored, and
// configuring it next to the enterprise gateway names both variables, as
// SPEC 2.6 requires of a deployment with both gateways.
func (c *Config) checkSSO(getenv func(string) string) []string {
	var errs []string
	oidc := strings.TrimSpace(getenv("OIDC_ISSUER"))
	switch {
	case oidc != "" && c.EnterpriseAPIURL != "":
		errs = append(errs, "ENTERPRISE_API_URL, OIDC_ISSUER: configure one SSO gateway, not both")
	case oidc != "":
		errs = append(errs, "OIDC_ISSUER: the built-in OpenID Connect relay is not implemented in this build; unset OIDC_ISSUER (or use ENTERPRISE_API_URL)")
	}
	if c.EnterpriseAPIURL != "" && c.EnterpriseAPISecret == "" {
		errs = append(errs, "ENTERPRISE_API_SECRET: required when ENTERPRISE_API_URL is set")
	}
	if c.SecretKeyPrevious != "" && c.SecretKeyPrevious == strings.TrimSpace(c.SecretKey) {
		errs = append(errs, "SECRET_KEY_PREVIOUS: equals SECRET_KEY; set it to the key being rotated out, or unset it")
	}
	return errs
}
