package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/fx"
)

// TestEveryBackendCombinationWires proves the graph is complete for each
// choice of database and state backend (nothing is dialled: ValidateApp
// runs no constructor).
func TestEveryBackendCombinationWires(t *testing.T) {
	for _, vars := range []map[string]string{
		{},
		{"REDIS_URL": "redis://127.0.0.1:6379/0"},
		{"DATABASE_URL": "postgres://u@127.0.0.1/db"},
		{"DATABASE_URL": "postgres://u@127.0.0.1/db", "REDIS_URL": "rediss://127.0.0.1:6380/0"},
	} {
		cfg, err := LoadConfig(testEnv(vars))
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.ValidateApp(serveOptions(cfg, slog.New(slog.DiscardHandler))); err != nil {
			t.Errorf("%v: %v", vars, err)
		}
	}
}

func TestPruneCommand(t *testing.T) {
	vars := sqliteVars(t)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"prune"}, testEnv(vars), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pruned 0 token rows older than 30 days") {
		t.Fatalf("output %q", out.String())
	}
}

func TestServeRefusesAnOutdatedPostgresSchema(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": postgresSchema(t), "SECRET_KEY": "outdated-schema-test-key-0123456789"}
	err := run(t.Context(), []string{"serve"}, testEnv(vars), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "devicegate migrate") {
		t.Fatalf("serve on an empty schema: %v", err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate"}, testEnv(vars), &out, io.Discard); err != nil || !strings.Contains(out.String(), "postgres") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
}

func TestAccountsCreateIsIdempotentlyRefusedOnDuplicates(t *testing.T) {
	vars := sqliteVars(t)
	createAccount(t, vars, "dup@example.com", "correct horse battery", "W")
	err := run(t.Context(), []string{"accounts", "create", "--email", "DUP@example.com", "--name", "x",
		"--password", "correct horse battery", "--workspace", "W"}, testEnv(vars), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("a second account with the same email must be refused")
	}
	err = run(t.Context(), []string{"accounts", "create", "--email", "x@example.com", "--name", "x",
		"--password", "short", "--workspace", "W"}, testEnv(vars), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("short password: %v", err)
	}
}
