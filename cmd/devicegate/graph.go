package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/devicegate/devicegate/docs"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/devicegate/devicegate/adapters/failover"
	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/adapters/metrics"
	"github.com/devicegate/devicegate/adapters/passwordhash"
	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/adapters/tracing"
	"github.com/devicegate/devicegate/adapters/web"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Background work intervals.
const (
	lastUsedFlushEvery = 10 * time.Second
	pruneEvery         = 24 * time.Hour
)

// stateModule picks the flow/rate-limit/cache backend, like dex's storage map.
// On Redis the rate limiter gets its outage policy (withOutagePolicy), applied
// in observeOptions' one rate-limiter decorator (fx decorates a type once per scope).
func stateModule(cfg *Config) fx.Option {
	if cfg.RedisURL != "" {
		return redisstore.Module(cfg.RedisURL, cfg.RedisKeyPrefix)
	}
	return memstore.Module
}

// withOutagePolicy wraps the shared rate limiter in the per-bucket outage
// policy (failover): fail-open buckets fall back to this instance's memory,
// the others answer 503.
func withOutagePolicy(shared ports.RateLimiter, log *slog.Logger) ports.RateLimiter {
	return failover.New(shared, memstore.NewRateLimiter(), log)
}

// coreOptions is the graph shared by every subcommand that uses the database.
func coreOptions(cfg *Config, log *slog.Logger, migrate bool) fx.Option {
	if cfg.TracesEndpoint != "" || cfg.LogsEndpoint != "" {
		tracing.LogExportErrors(log)
	}
	return fx.Options(
		fx.Supply(cfg, log),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }),
		fx.Provide(
			func() ports.Clock { return ports.ClockFunc(time.Now) },
			func() io.Reader { return rand.Reader },
			newAuditSink,
			newEnv,
		),
		gormrepo.Module(cfg.DatabaseURL, migrate),
		passwordhash.Module,
	)
}

// newEnv bundles what every use case needs besides its ports.
func newEnv(clock ports.Clock, r io.Reader, audit ports.AuditSink, log *slog.Logger) app.Env {
	return app.Env{Clock: clock, Rand: r, Audit: audit, Logger: log}
}

// serveOptions is the whole service graph.
func serveOptions(cfg *Config, log *slog.Logger) fx.Option {
	return fx.Options(
		coreOptions(cfg, log, cfg.SQLitePath() != ""),
		stateModule(cfg),
		ssoOptions(cfg),
		observeOptions(cfg),
		fx.Provide(newKinds, newUseCases, newEcho, listen),
		fx.Invoke(runWorkers, func(*Listener) {}),
	)
}

func newKinds() (*domain.KindRegistry, error) {
	return domain.NewKindRegistry(domain.AccountTokenKind, domain.ExternalTokenKind)
}

// useCases are every use case of the service, built once.
type useCases struct {
	fx.Out
	Handlers httpapi.Handlers
	LastUsed *app.LastUsed
	Prune    *app.Prune
	Watch    *app.RevocationWatch
}

type useCaseDeps struct {
	fx.In
	Cfg      *Config
	Log      *slog.Logger
	Env      app.Env
	Kinds    *domain.KindRegistry
	Flows    ports.Flows
	Limiter  ports.RateLimiter
	Cache    ports.TokenCache
	Locker   ports.Locker
	Tokens   ports.TokenStore
	Accounts ports.AccountDirectory
	Admin    ports.AccountAdmin
	Sessions ports.ConsoleSessions
	Hasher   ports.PasswordHasher
	Owned    ports.OwnedTokens
	Feed     ports.RevocationFeed
	// SessionPruner is optional: a backend without it keeps expired sessions hidden but stored.
	SessionPruner ports.SessionPruner `optional:"true"`
	Pingers       []ports.Pinger      `group:"pingers"`
	SSO           *app.SSO
	Metrics       *metrics.Metrics
	Requests      httpapi.RequestObserver
	Draining      *Draining
}

func newUseCases(d useCaseDeps) useCases {
	cfg, env := d.Cfg, d.Env
	minter := &app.Minter{Env: env, Tokens: d.Tokens, Cache: d.Cache, Kinds: d.Kinds, TTL: time.Duration(cfg.TTLDays) * 24 * time.Hour}
	lastUsed := &app.LastUsed{Env: env, Tokens: d.Tokens}
	bearer := domain.BucketBearer
	bearer.Limit = cfg.RateLimitPerToken
	decision := domain.BucketDecision
	decision.Limit = cfg.ApproveLimitPerHour
	watch := &app.RevocationWatch{Env: env, Feed: d.Feed}
	guard := &app.AccountGuard{Env: env, Accounts: d.Accounts, Offboard: &app.Offboard{Env: env, Tokens: d.Owned, Cache: d.Cache}}
	auth := &app.Authenticator{Env: env, Kinds: d.Kinds, Tokens: d.Tokens, Expirer: d.Tokens, Cache: d.Cache,
		Limiter: d.Limiter, Bucket: bearer, Touch: lastUsed, Enabled: cfg.BearerEnabled, Guard: guard, Watch: watch}
	return useCases{
		Handlers: httpapi.Handlers{
			StartFlow: &app.StartFlow{Env: env, Flows: d.Flows, Limiter: d.Limiter, KnownClients: cfg.KnownClientIDs,
				PKCERequired: cfg.PKCERequiredIDs, PublicWebURL: cfg.PublicWebURL},
			Poll: &app.Poll{Env: env, Flows: d.Flows, Minter: minter, Accounts: d.Accounts},
			Lookup: &app.Lookup{Env: env, Flows: d.Flows, Limiter: d.Limiter, GuessBucket: guessBucket(cfg),
				AccountGuessBucket: domain.BucketUserCodeGuessAccount},
			Decide: &app.Decide{Env: env, Flows: d.Flows, Accounts: d.Accounts, Limiter: d.Limiter,
				BearerEnabled: cfg.BearerEnabled, Bucket: decision},
			Console: &app.Console{Env: env, Admin: d.Admin, Accounts: d.Accounts, Sessions: d.Sessions,
				Hasher: d.Hasher, Limiter: d.Limiter},
			Auth:       auth,
			Sessions:   &app.Sessions{Env: env, Tokens: d.Tokens, Cache: d.Cache, Kinds: d.Kinds},
			Me:         &app.Me{Env: env, Accounts: d.Accounts, Limiter: d.Limiter},
			Introspect: &app.Introspect{Auth: auth, Secret: cfg.IntrospectionSecret},
			SSO:        d.SSO,
			Pingers:    d.Pingers,
			Logger:     d.Log,
			Requests:   d.Requests,
			Metrics:    d.Metrics.Handler(),
			Draining:   d.Draining.Is,
		},
		LastUsed: lastUsed,
		Prune: &app.Prune{Env: env, Tokens: d.Tokens, Locker: d.Locker, Sessions: d.SessionPruner,
			RetentionDays: cfg.RetentionDays},
		Watch: watch,
	}
}

// guessBucket is the deployment-wide ceiling on failed user-code tries,
// shared by lookup and sso-initiate.
func guessBucket(cfg *Config) domain.RateBucket {
	b := domain.BucketUserCodeGuess
	b.Limit = cfg.GuessLimitPer15Min
	return b
}

func newEcho(cfg *Config, h httpapi.Handlers) (*echo.Echo, error) {
	e := httpapi.New(httpapi.Config{
		PublicWebURL: cfg.PublicWebURL, Issuer: cfg.Issuer, OpenAPIEnabled: cfg.OpenAPIEnabled,
		BearerEnabled: cfg.BearerEnabled, CORSAllowOrigins: cfg.CORSAllowOrigins,
		TrustedProxies: cfg.TrustedProxies, Edition: cfg.Edition, OpenAPIDocument: docs.OpenAPI, AccessLog: cfg.AccessLog,
	}, h)
	// The page offers SSO exactly when the SSO branch is usable
	// (app.SSO.Offered: endpoints on, a gateway to go to), so the gateway
	// wiring of graph_sso.go is the one place that turns it on.
	pages, err := web.New(web.Config{SSOEnabled: h.SSO.Offered})
	if err != nil {
		return nil, err
	}
	pages.Register(e)
	return e, nil
}

// runWorkers runs the last_used_at flusher, the daily pruner and the
// revocation watch for the app's lifetime.
func runWorkers(lc fx.Lifecycle, lu *app.LastUsed, pr *app.Prune, w *app.RevocationWatch) {
	ctx, cancel := context.WithCancel(context.Background())
	const workers = 3
	done := make(chan struct{}, workers)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { lu.Run(ctx, lastUsedFlushEvery); done <- struct{}{} }()
			go func() { pr.Run(ctx, pruneEvery); done <- struct{}{} }()
			go func() { w.Run(ctx, app.RevocationPollEvery); done <- struct{}{} }()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			for i := 0; i < workers; i++ {
				select {
				case <-done:
				case <-stop.Done():
					return nil
				}
			}
			return nil
		},
	})
}

// Listener is the bound address of a started server (tests read it).
type Listener struct{ Addr net.Addr }

// listen binds in OnStart (so a busy port fails start-up), serves in a
// goroutine and, in OnStop, drains: /readyz turns 503 at once, the server
// keeps serving for SHUTDOWN_DELAY (so load balancers stop sending traffic),
// then stops accepting and waits up to SHUTDOWN_TIMEOUT for in-flight
// requests before closing what remains. The background workers stop after
// it (fx stops hooks in reverse order), so a request's last use is flushed.
func listen(lc fx.Lifecycle, cfg *Config, e *echo.Echo, log *slog.Logger, sd fx.Shutdowner, draining *Draining, wrap handlerWrap) *Listener {
	l := &Listener{}
	srv := &http.Server{Handler: wrap(e), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: httpapi.MaxHeaderBytes}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.ListenAddr)
			if err != nil {
				return fmt.Errorf("LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
			}
			l.Addr = ln.Addr()
			b := readBuildInfo()
			log.Info("devicegate started", "version", b.Version, "commit", b.Commit, "addr", ln.Addr().String(),
				"public_web_url", cfg.PublicWebURL, "edition", cfg.Edition, "database", dbKind(cfg),
				"state", stateKind(cfg), "sso_gateway", gatewayKind(cfg), "tracing", cfg.TracesEndpoint != "",
				"audit_sink", cfg.AuditSink)
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", "err", err)
					_ = sd.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error { return drain(ctx, cfg, srv, log, draining) },
	})
	return l
}

// drain is listen's OnStop (see listen).
func drain(ctx context.Context, cfg *Config, srv *http.Server, log *slog.Logger, draining *Draining) error {
	draining.Store(true)
	log.Info("draining: /readyz answers 503", "delay", cfg.ShutdownDelay.String(), "timeout", cfg.ShutdownTimeout.String())
	select {
	case <-time.After(cfg.ShutdownDelay):
	case <-ctx.Done():
	}
	log.Info("draining: no longer accepting connections; waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("drain timed out; closing the remaining connections", "timeout", cfg.ShutdownTimeout.String(), "err", err)
		_ = srv.Close()
		return nil // the stop was asked for; requests cut off at the bound are the bound working
	}
	log.Info("drained: every in-flight request finished")
	return nil
}

// gatewayKind names the configured SSO gateway.
func gatewayKind(cfg *Config) string {
	if cfg.EnterpriseAPIURL != "" {
		return "enterprise"
	}
	return "none"
}

func dbKind(cfg *Config) string {
	if cfg.SQLitePath() != "" {
		return "sqlite"
	}
	return "postgres"
}

func stateKind(cfg *Config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "memory"
}
