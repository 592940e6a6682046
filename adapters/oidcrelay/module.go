package oidcrelay

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// Module provides the relay for cfg bound to ports.SSOGateway and
// ports.SSORelay. At start-up it prints the callback URL to register with
// the provider and tries discovery once in the background: a provider that
// is down is a warning (the relay retries on first use), never a failed start.
func Module(cfg Config) fx.Option {
	return fx.Module("oidcrelay",
		fx.Provide(
			func(clock ports.Clock) (*Relay, error) { return New(cfg, clock.Now) },
			func(r *Relay) ports.SSOGateway { return r },
			func(r *Relay) ports.SSORelay { return r },
		),
		fx.Invoke(func(lc fx.Lifecycle, r *Relay, log *slog.Logger) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error {
					log.Info("OpenID Connect relay: register this redirect URI with the provider",
						"issuer", cfg.Issuer, "redirect_uri", cfg.RedirectURL, "client_id", cfg.ClientID)
					go func() {
						defer close(done)
						if _, err := r.Discover(ctx); err != nil {
							log.Warn("OpenID Connect discovery failed; sso-initiate retries it on first use", "err", err)
						}
					}()
					return nil
				},
				OnStop: func(context.Context) error {
					cancel()
					select {
					case <-done:
					case <-time.After(Timeout):
					}
					return nil
				},
			})
		}),
	)
}
