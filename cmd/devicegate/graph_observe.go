package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/adapters/instrument"
	"github.com/devicegate/devicegate/adapters/metrics"
	"github.com/devicegate/devicegate/adapters/tracing"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/ports"
)

// observeOptions wires metrics (and tracing, when configured) around the
// backends and the use cases of the service graph: every backend port is
// wrapped once in its instrument decorator, the audit sink and the rate
// limiter in their counting decorators, and the use cases get the observer.
func observeOptions(cfg *Config) fx.Option {
	state, db := stateKind(cfg), dbKind(cfg)
	gateway := fx.Options()
	if cfg.EnterpriseAPIURL != "" {
		gateway = decorateGateway("enterprise")
	}
	return fx.Options(gateway, tracingOptions(cfg), stateProbes(state),
		fx.Provide(metrics.New, newProbes, newRequestObservers, func() *Draining { return &Draining{} }),
		fx.Decorate(
			func(env app.Env, m *metrics.Metrics) app.Env {
				env.Observe = m
				env.Audit = m.AuditSink(env.Audit)
				return env
			},
			// The one rate-limiter decorator: Redis calls are timed, then
			// wrapped in the outage policy, and every refusal (shared or the
			// local fallback's) is counted.
			func(l ports.RateLimiter, s instrument.Set, m *metrics.Metrics, log *slog.Logger) ports.RateLimiter {
				if state == "redis" {
					l = withOutagePolicy(instrument.Limiter(l, state, s), log)
				}
				return m.Limiter(l)
			},
			func(t ports.TokenStore, s instrument.Set) ports.TokenStore { return instrument.Tokens(t, db, s) },
			func(f ports.RevocationFeed, s instrument.Set) ports.RevocationFeed { return instrument.Feed(f, db, s) },
			func(a ports.AccountDirectory, s instrument.Set) ports.AccountDirectory {
				return instrument.Directory(a, db, s)
			},
			func(c ports.ConsoleSessions, s instrument.Set) ports.ConsoleSessions {
				return instrument.Sessions(c, db, s)
			},
		),
	)
}

// stateProbes instruments the Redis state backends (the rate limiter is
// wrapped with the refusal counter in observeOptions). The memory backends are
// maps inside the process: timing them would cost the bearer hot path (a
// cache hit and a rate-limit check) more than the calls themselves and
// tell nothing, so they are not wrapped (their outcomes are still counted
// by the observer and the refusal counter).
func stateProbes(state string) fx.Option {
	if state != "redis" {
		return fx.Options()
	}
	return fx.Decorate(
		func(f ports.Flows, s instrument.Set) ports.Flows { return instrument.Flows(f, state, s) },
		func(c ports.TokenCache, s instrument.Set) ports.TokenCache { return instrument.Cache(c, state, s) },
		func(n ports.NonceStore, s instrument.Set) ports.NonceStore { return instrument.Nonces(n, state, s) },
	)
}

// decorateGateway wraps the SSO gateway, when one is configured.
func decorateGateway(name string) fx.Option {
	return fx.Decorate(func(g ports.SSOGateway, s instrument.Set) ports.SSOGateway {
		return instrument.Gateway(g, name, s)
	})
}

// tracingProbes is what the tracing adapter observes, when tracing is on.
type tracingProbes struct {
	Probes   instrument.Probes
	Requests httpapi.RequestObserver
}

// handlerWrap wraps the HTTP handler the server runs (the tracing middleware).
type handlerWrap func(http.Handler) http.Handler

// tracingOptions turns tracing on when an OTLP traces endpoint is set: a
// span per request and per backend call, the trace id in the log lines of
// a request. Off, the handler is served as is.
func tracingOptions(cfg *Config) fx.Option {
	if cfg.TracesEndpoint == "" {
		return fx.Provide(func() handlerWrap { return func(h http.Handler) http.Handler { return h } })
	}
	return fx.Options(
		fx.Provide(
			func(lc fx.Lifecycle) (*tracing.Tracing, error) {
				t, err := tracing.New(context.Background(), tracing.Options{Endpoint: cfg.TracesEndpoint,
					ServiceName: cfg.ServiceName, Version: readBuildInfo().Version, TrustedProxies: cfg.TrustedProxies})
				if err != nil {
					return nil, err
				}
				lc.Append(fx.StopHook(t.Shutdown)) // after the drain: flushes the last requests' spans
				return t, nil
			},
			func(t *tracing.Tracing) *tracingProbes { return &tracingProbes{Probes: t, Requests: t} },
			func(t *tracing.Tracing) handlerWrap { return t.Handler },
		),
		fx.Decorate(func(l *slog.Logger) *slog.Logger { return slog.New(tracing.LogHandler(l.Handler())) }),
	)
}

// probeDeps are the probes observing backend calls.
type probeDeps struct {
	fx.In
	Metrics *metrics.Metrics
	Tracing *tracingProbes `optional:"true"`
}

func newProbes(d probeDeps) instrument.Set {
	s := instrument.Set{d.Metrics}
	if d.Tracing != nil {
		s = append(s, d.Tracing.Probes)
	}
	return s
}

// requestObservers hands each answered request to every observer.
type requestObservers []httpapi.RequestObserver

// ObserveRequest calls each observer.
func (o requestObservers) ObserveRequest(ctx context.Context, route, method string, status int, d time.Duration) {
	for _, x := range o {
		x.ObserveRequest(ctx, route, method, status, d)
	}
}

func newRequestObservers(d probeDeps) httpapi.RequestObserver {
	o := requestObservers{d.Metrics}
	if d.Tracing != nil {
		o = append(o, d.Tracing.Requests)
	}
	return o
}

// Draining is set when shutdown begins; /readyz answers 503 from then on.
type Draining struct{ atomic.Bool }

// Is reports whether shutdown has begun.
func (d *Draining) Is() bool { return d.Load() }
