package main

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/jwssigner"
	"github.com/devicegate/devicegate/adapters/ssogateway"
	"github.com/devicegate/devicegate/adapters/staticlicense"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// ssoOptions wires the external-SSO branch: the signer, the license and,
// when ENTERPRISE_API_URL is set, the enterprise gateway.
func ssoOptions(cfg *Config) fx.Option {
	opts := []fx.Option{
		jwssigner.Module(cfg.SecretKey, cfg.SecretKeyPrevious),
		staticlicense.Module(cfg.Edition, cfg.LicenseStatus),
		fx.Provide(newSSO),
	}
	if cfg.EnterpriseAPIURL != "" {
		opts = append(opts, ssogateway.EnterpriseModule(cfg.EnterpriseAPIURL, cfg.EnterpriseAPISecret))
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
}

// newSSO builds the SSO use cases and says at start-up what keeps a licensed
// deployment's SSO from working.
func newSSO(d ssoDeps) *app.SSO {
	lic := domain.License{Edition: d.Cfg.Edition, Status: d.Cfg.LicenseStatus}
	if lic.AllowsEnterpriseSSO() {
		if d.Gateway == nil {
			d.Log.Warn("enterprise SSO is licensed but ENTERPRISE_API_URL is unset: sso-initiate will answer 502")
		}
		if d.Cfg.ConsoleAPIURL == "" {
			d.Log.Warn("enterprise SSO is licensed but CONSOLE_API_URL is unset: sso-initiate will answer 502")
		}
	}
	// The endpoints' gate (Available) and the /device page's SSO choice
	// (Offered) both read this value: a gateway no license governs (the
	// built-in OpenID Connect relay) sets Ungated and Gateway here, and
	// nothing else has to change.
	return &app.SSO{Env: d.Env, Flows: d.Flows, Accounts: d.Accounts, Limiter: d.Limiter, Nonces: d.Nonces,
		Signer: d.Signer, Gateway: d.Gateway, License: d.License, ConsoleAPIURL: d.Cfg.ConsoleAPIURL,
		BearerEnabled: d.Cfg.BearerEnabled}
}
