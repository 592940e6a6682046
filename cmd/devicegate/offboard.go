package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// sharedCache returns the token cache every instance shares (Redis), so an
// invalidation from this process reaches them all at once, or nil when there
// is none (the embedded memory cache lives inside the serving process; it
// drops revoked tokens through its revocation watch). An unreachable Redis is
// a warning, not a failure: the revocation is in the database, and every
// instance's watch picks it up within about app.RevocationPollEvery.
func sharedCache(cfg *Config, log *slog.Logger) (ports.TokenCache, func()) {
	if cfg.RedisURL == "" {
		return nil, func() {}
	}
	c, err := redisstore.NewClient(cfg.RedisURL)
	if err != nil {
		log.Warn("redis unreachable: tokens are revoked in the database only; instances drop them from their caches when they next read the revocation feed", "err", err)
		return nil, func() {}
	}
	return redisstore.NewTokenCache(c, cfg.RedisKeyPrefix), c.Close
}

// withOffboard runs fn with the offboarding use case wired to the database
// and the shared cache.
func withOffboard(ctx context.Context, cfg *Config, log *slog.Logger, fn func(*databaseDeps, *app.Offboard) error) error {
	return withDatabase(ctx, cfg, log, true, func(d *databaseDeps) error {
		cache, closeCache := sharedCache(cfg, log)
		defer closeCache()
		return fn(d, &app.Offboard{Env: d.Env, Tokens: d.Owned, Cache: cache})
	})
}

// accountStatus is `accounts disable|enable|delete --email E`.
func accountStatus(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	verb := args[0]
	fs := flag.NewFlagSet("accounts "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "account email")
	yes := fs.Bool("yes", false, "confirm a deletion")
	if err := fs.Parse(args[1:]); err != nil || *email == "" || fs.NArg() > 0 {
		return usageError{"accounts " + verb + ": --email is required (and nothing else)"}
	}
	if verb == "delete" && !*yes {
		return usageError{"accounts " + verb + ": --yes confirms a deletion (it cannot be undone; `accounts disable` can)"}
	}
	return withOffboard(ctx, cfg, log, func(d *databaseDeps, off *app.Offboard) error {
		u := &app.AccountStatus{Env: d.Env, Accounts: d.Status, Offboard: off}
		var (
			res app.Ended
			err error
		)
		switch verb {
		case "enable":
			acct, err := u.Enable(ctx, *email)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "enabled account %s (id %s); tokens revoked while it was disabled stay revoked\n", acct.Email, acct.ID)
			return nil
		case "delete":
			res, err = u.Delete(ctx, *email)
		default:
			res, err = u.Disable(ctx, *email)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd account %s (id %s): revoked %d tokens, ended %d console sessions\n",
			verb, res.Account.Email, res.Account.ID, len(res.Revoked), res.Sessions)
		return nil
	})
}

// tokens is `tokens list|revoke`.
func tokens(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") {
		return usageError{"tokens: expected `tokens list` or `tokens revoke`"}
	}
	verb := args[0]
	fs := flag.NewFlagSet("tokens "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f ports.TokenFilter
	fs.StringVar(&f.Email, "email", "", "subject email (any case)")
	fs.StringVar(&f.Issuer, "issuer", "", "subject issuer (default "+domain.AccountIssuer+": an account's tokens)")
	fs.StringVar(&f.AccountID, "account", "", "account id")
	fs.StringVar(&f.ID, "id", "", "token id")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return usageError{"tokens " + verb + ": expected --email E [--issuer I] | --account ID | --id ID"}
	}
	if f.Issuer != "" && f.Email == "" {
		return usageError{"tokens " + verb + ": --issuer goes with --email"}
	}
	named := 0
	for _, v := range []string{f.Email, f.AccountID, f.ID} {
		if v != "" {
			named++
		}
	}
	if named != 1 {
		return usageError{"tokens " + verb + ": name exactly one of --email, --account or --id"}
	}
	return withOffboard(ctx, cfg, log, func(_ *databaseDeps, off *app.Offboard) error {
		if verb == "list" {
			rows, err := off.List(ctx, f)
			if err != nil {
				return err
			}
			printTokens(stdout, rows)
			return nil
		}
		rows, err := off.Revoke(ctx, f, domain.ActorOperator)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %d tokens\n", len(rows))
		printTokens(stdout, rows)
		return nil
	})
}

// printTokens writes one line per row (never a hash).
func printTokens(w io.Writer, rows []domain.AccessToken) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no live tokens")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUBJECT\tISSUER\tCLIENT\tDEVICE\tCREATED\tLAST USED\tEXPIRES")
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%q\t%s\t%s\t%s\n", r.ID, r.SubjectEmail, r.SubjectIssuer, r.ClientID,
			r.DeviceLabel, at(r.CreatedAt), at(r.LastUsedAt), at(r.ExpiresAt))
	}
	_ = tw.Flush()
}
