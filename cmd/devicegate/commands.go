package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/ports"
)

// startTimeout bounds start-up (connecting, migrating SQLite, binding the
// port); stopTimeout bounds the stop of the database-only subcommands, and
// what serve's stop allows the background workers after the drain.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

// start reports a graph that failed to build, else runs its OnStart hooks
// within startTimeout.
func start(ctx context.Context, a *fx.App) error {
	if err := a.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	return a.Start(ctx)
}

func generateKey() (string, error) {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// serve runs the service until ctx ends (SIGINT/SIGTERM) or the server fails.
func serve(ctx context.Context, cfg *Config, log *slog.Logger) error {
	if err := cfg.ensureSecretKey(log, generateKey); err != nil {
		return err
	}
	a := fx.New(serveOptions(cfg, log)) //nolint:contextcheck // fx constructors take no context; gormrepo.Open bounds its ping at 2 s
	if err := start(ctx, a); err != nil {
		if ctx.Err() != nil { // SIGTERM during start-up is a stop, not a failure
			log.Info("devicegate stopped during start-up")
			stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			_ = a.Stop(stopCtx) // whatever had started; fx rolls back a failed start itself
			return nil
		}
		return err
	}
	code := 0
	select {
	case <-ctx.Done():
	case sig := <-a.Wait():
		code = sig.ExitCode
	}
	log.Info("devicegate stopping")
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownDelay+cfg.ShutdownTimeout+stopTimeout)
	defer cancelStop()
	if err := a.Stop(stopCtx); err != nil {
		return err
	}
	log.Info("devicegate stopped")
	if code != 0 {
		return fmt.Errorf("stopped with exit code %d", code)
	}
	return nil
}

// databaseDeps is what the database-only subcommands use.
type databaseDeps struct {
	fx.In
	Env    app.Env
	Admin  ports.AccountAdmin
	Hasher ports.PasswordHasher
	Tokens ports.TokenStore
	Owned  ports.OwnedTokens
	Status ports.AccountStatus
}

func (d *databaseDeps) createAccount() *app.CreateAccount {
	return &app.CreateAccount{Env: d.Env, Admin: d.Admin, Hasher: d.Hasher}
}

func createAccountInput(email, name, password, workspace string) app.CreateAccountInput {
	return app.CreateAccountInput{Email: email, Name: name, Password: password, Workspace: workspace}
}

// withDatabase starts the database part of the graph, runs fn and stops it.
// With migrateSQLite an SQLite database is migrated at start; Postgres never
// is (start-up fails on an older schema: `devicegate migrate` first).
func withDatabase(ctx context.Context, cfg *Config, log *slog.Logger, migrateSQLite bool, fn func(*databaseDeps) error) error {
	var deps databaseDeps
	a := fx.New(coreOptions(cfg, log, migrateSQLite && cfg.SQLitePath() != ""), fx.Populate(&deps)) //nolint:contextcheck // as in serve
	if err := start(ctx, a); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		_ = a.Stop(stopCtx)
	}()
	return fn(&deps)
}

// migrate applies every migration to DATABASE_URL (SQLite or Postgres).
func migrate(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	db, err := gormrepo.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // the pool only read and wrote; Migrate reported any failure
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations applied (%s)\n", db.Dialect())
	return nil
}

// prune deletes rows past the retention window once, now.
func prune(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	return withDatabase(ctx, cfg, log, true, func(d *databaseDeps) error {
		p := &app.Prune{Env: d.Env, Tokens: d.Tokens, RetentionDays: cfg.RetentionDays}
		n, _, err := p.Execute(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pruned %d token rows older than %d days\n", n, cfg.RetentionDays)
		return nil
	})
}
