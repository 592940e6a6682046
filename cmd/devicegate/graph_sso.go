package main

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/jwssigner"
	"github.com/devicegate/devicegate/adapters/oidcrelay"
	"github.com/devicegate/devicegate/adapters/ssogateway"
	"github.com/devicegate/devicegate/adapters/staticlicense"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// ssoOptions wires the external-SSO branch: the signer, the license and the
// gateway: the enterprise service when ENTERPRISE_API_URL is set, the
// built-in OpenID Connect relay when OIDC_ISSUER is (never both: LoadConfig
// refuses that).
func ssoOptions(cfg *Config) fx.Option {
	opts := []fx.Option{
		jwssigner.Module(cfg.SecretKey, cfg.SecretKeyPrevious),
		staticlicense.Module(cfg.Edition, cfg.LicenseStatus),
		fx.Provide(newSSO),
	}
	if cfg.EnterpriseAPIURL != "" {
		opts = append(opts, ssogateway.EnterpriseModule(cfg.EnterpriseAPIURL, cfg.EnterpriseAPISecret))
	}
	if cfg.OIDC.Enabled() {
		opts = append(opts, oidcrelay.Module(oidcrelay.Config{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID,
			ClientSecret: cfg.OIDC.ClientSecret, Scopes: cfg.OIDC.Scopes, RedirectURL: cfg.OIDCRedirectURL(),
			Key: []byte(cfg.SecretKey)}))
	}
	return fx.Options(opts...)
}

type ssoDeps struct {
	fx.In
	Cfg      *Config
	Log      *slog.Logger
	Env      app.Env
	Flows    ports.Flows
	Accounts ports.AccountDirectory
	Limiter  ports.RateLimiter
	Nonces   ports.NonceStore
	Signer   ports.Signer
	License  ports.License
	Gateway  ports.SSOGateway `optional:"true"`
	Relay    ports.SSORelay   `optional:"true"`
}

// newSSO builds the SSO use cases and says at start-up what keeps a licensed
// deployment's SSO from working.
func newSSO(d ssoDeps) *app.SSO {
	lic := domain.License{Edition: d.Cfg.Edition, Status: d.Cfg.LicenseStatus}
	if lic.AllowsEnterpriseSSO() && d.Relay == nil {
		if d.Gateway == nil {
			d.Log.Warn("enterprise SSO is licensed but ENTERPRISE_API_URL is unset: sso-initiate will answer 502")
		}
		if d.Cfg.ConsoleAPIURL == "" {
			d.Log.Warn("enterprise SSO is licensed but CONSOLE_API_URL is unset: sso-initiate will answer 502")
		}
	}
	// The endpoints' gate (Available) and the /device page's SSO choice
	// (Offered) both follow License, Ungated and Gateway below: nothing
	// else decides whether SSO is on.
	return &app.SSO{Env: d.Env, Flows: d.Flows, Accounts: d.Accounts, Limiter: d.Limiter, GuessBucket: guessBucket(d.Cfg), Nonces: d.Nonces,
		Signer: d.Signer, Gateway: d.Gateway, Relay: d.Relay, License: d.License, ConsoleAPIURL: d.Cfg.ConsoleAPIURL,
		// The organisation's own provider is no licensed feature (SPEC 2.6):
		// with the relay the SSO endpoints are on whatever the edition.
		Ungated:       d.Relay != nil,
		BearerEnabled: d.Cfg.BearerEnabled}
}
