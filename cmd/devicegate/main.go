package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `devicegate: OAuth 2.0 device authorization server

Usage:
  devicegate [serve]          run the service (the default)
  devicegate migrate          apply database migrations
  devicegate accounts create --email E --name N --workspace W [--password-stdin]
                              create a built-in account (and its workspace); the
                              password is prompted for on a terminal, or read from
                              stdin with --password-stdin (--password P still works,
                              with a warning)
  devicegate accounts disable --email E
                              disable an account: revoke its tokens, end its sessions
  devicegate accounts enable --email E
                              enable it again (revoked tokens stay revoked)
  devicegate accounts delete --email E --yes
                              delete an account (and revoke, end as disable does)
  devicegate tokens list --email E [--issuer I] | --account ID | --id ID
                              list a person's live tokens (issuer defaults to
                              dify:account, an account's tokens)
  devicegate tokens revoke --email E [--issuer I] | --account ID | --id ID
                              revoke them all, on every instance
  devicegate prune            delete token rows past the retention window
  devicegate healthcheck [--path /healthz|/readyz] [--url URL]
                              probe a running instance (exit 0 on 200); for
                              container health checks on the shell-less image
  devicegate version          print the build's version and commit
  devicegate help             show this text

Configuration comes from the environment; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runIO(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devicegate:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, "\n"+usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is runIO with an empty stdin (not a terminal), for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runIO(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

// runIO dispatches a subcommand; it is main without the process exits.
func runIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cmd == "version" || cmd == "--version" {
		printVersion(stdout) // needs no configuration
		return nil
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	for _, n := range cfg.notes {
		log.Warn("configuration corrected", "detail", n)
	}
	switch cmd {
	case "serve":
		if len(args) > 0 {
			return usageError{"serve takes no arguments"}
		}
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log, stdout)
	case "accounts":
		return accounts(ctx, cfg, log, args, stdin, stdout, stderr)
	case "prune":
		return prune(ctx, cfg, log, stdout)
	case "tokens":
		return tokens(ctx, cfg, log, args, stdout)
	case "healthcheck":
		return healthcheck(ctx, cfg, args, stdout)
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func accounts(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "disable" || args[0] == "enable" || args[0] == "delete") {
		return accountStatus(ctx, cfg, log, args, stdout)
	}
	if len(args) == 0 || args[0] != "create" {
		return usageError{"accounts: expected `accounts create|disable|enable|delete`"}
	}
	fs := flag.NewFlagSet("accounts create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "account email")
	name := fs.String("name", "", "display name")
	password := fs.String("password", "", "password (at least 8 characters); visible to other users: prefer --password-stdin")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from stdin")
	workspace := fs.String("workspace", "", "workspace to join (created when missing)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"accounts create: " + err.Error()}
	}
	if *email == "" || *name == "" || *workspace == "" {
		return usageError{"accounts create: --email, --name and --workspace are all required"}
	}
	pw, err := readPassword(*password, *passwordStdin, stdin, stderr)
	if err != nil {
		return err
	}
	return withDatabase(ctx, cfg, log, true, func(d *databaseDeps) error {
		acct, err := d.createAccount().Execute(ctx, createAccountInput(*email, *name, pw, *workspace))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created account %s <%s> (id %s) in workspace %q\n", acct.Name, acct.Email, acct.ID, *workspace)
		return nil
	})
}
