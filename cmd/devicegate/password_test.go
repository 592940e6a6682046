package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// createArgs is `accounts create` for email without a password flag.
func createArgs(email string, extra ...string) []string {
	return append([]string{"accounts", "create", "--email", email, "--name", "Grace", "--workspace", "Compilers"}, extra...)
}

// TestAccountsCreatePasswordSources: --password-stdin reads the password
// from stdin (one line; the newline, or CRLF, is not part of it), the
// --password flag still works but warns on stderr, and a password is never
// taken from a non-terminal stdin unasked. The account signs in with exactly
// the password given.
func TestAccountsCreatePasswordSources(t *testing.T) {
	vars := sqliteVars(t)
	var stderr bytes.Buffer
	err := runIO(t.Context(), createArgs("piped@example.com", "--password-stdin"), testEnv(vars),
		strings.NewReader("piped horse battery\r\n"), io.Discard, &stderr)
	if err != nil {
		t.Fatalf("--password-stdin: %v", err)
	}
	if strings.Contains(stderr.String(), "WARNING") || strings.Contains(stderr.String(), "piped horse") {
		t.Fatalf("--password-stdin printed %q", stderr.String())
	}

	stderr.Reset()
	err = runIO(t.Context(), createArgs("flag@example.com", "--password", "flag horse battery"), testEnv(vars),
		strings.NewReader(""), io.Discard, &stderr)
	if err != nil {
		t.Fatalf("--password: %v", err)
	}
	if !strings.Contains(stderr.String(), "WARNING: --password") || !strings.Contains(stderr.String(), "--password-stdin") {
		t.Fatalf("--password must warn on stderr, got %q", stderr.String())
	}

	for name, tc := range map[string]struct {
		args  []string
		stdin string
		usage bool
	}{
		"stdin not asked for":  {createArgs("unasked@example.com"), "unasked horse battery\n", true},
		"both sources":         {createArgs("both@example.com", "--password", "x horse battery", "--password-stdin"), "y horse battery\n", true},
		"empty stdin":          {createArgs("empty@example.com", "--password-stdin"), "", false},
		"newline only":         {createArgs("empty@example.com", "--password-stdin"), "\n", false},
		"two lines":            {createArgs("lines@example.com", "--password-stdin"), "first horse battery\nsecond\n", false},
		"a file, not a secret": {createArgs("big@example.com", "--password-stdin"), strings.Repeat("x", maxPasswordBytes+1), false},
	} {
		err := runIO(t.Context(), tc.args, testEnv(vars), strings.NewReader(tc.stdin), io.Discard, io.Discard)
		var ue usageError
		if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), "password") {
			t.Errorf("%s: %v (want an error about the password, usage error %v)", name, err, tc.usage)
		}
	}
	// Nothing was created by the refused attempts: the emails are still free.
	if err := runIO(t.Context(), createArgs("unasked@example.com", "--password-stdin"), testEnv(vars),
		strings.NewReader("later horse battery\n"), io.Discard, io.Discard); err != nil {
		t.Fatalf("the refused create must not have created the account: %v", err)
	}

	in := startInstance(t, vars)
	newBrowser(t, in.Base).login("piped@example.com", "piped horse battery")
	newBrowser(t, in.Base).login("flag@example.com", "flag horse battery")
}
