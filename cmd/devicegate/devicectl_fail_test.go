package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ctlcli "github.com/devicegate/devicegate/cmd/devicectl/cli"
	"github.com/devicegate/devicegate/cmd/devicectl/deviceclient"
	"github.com/devicegate/devicegate/ports"
	"go.uber.org/fx"
)

// TestDevicectlFailures proves the CLI's distinct exit codes and --json
// errors against a real server: denied (4), expired (5), unreachable (6),
// interrupted (130, leaving the token folder exactly as it was), a server
// whose metadata names another issuer (1), and that no browser is started
// on a headless session.
func TestDevicectlFailures(t *testing.T) {
	vars, base := ctlVars(t)
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Analytics")
	// The server's clock, which the test moves past a code's lifetime.
	var skew atomic.Int64
	startInstance(t, vars, fx.Decorate(func(ports.Clock) ports.Clock {
		return ports.ClockFunc(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	}))

	// A browser that records what it was asked to open; headless (no
	// DISPLAY, or SSH) means it must never run.
	opened := filepath.Join(t.TempDir(), "opened")
	browser := filepath.Join(t.TempDir(), "browser.sh")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\necho \"$1\" >> "+opened+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}

	t.Run("denied", func(t *testing.T) {
		d := newDevicectl(t, map[string]string{"BROWSER": browser})
		p := d.startLogin("--server", base, "--label", "kiosk")
		approveVia(t, base, "ada@example.com", p.UserCode, "kiosk", false)
		code, e := p.wait(t)
		if code != ctlcli.ExitDenied || e["error"] != "access_denied" || e["exit_code"] != float64(4) {
			t.Fatalf("denied: %d %v", code, e)
		}
		if len(dirState(t, d.dir())) != 0 {
			t.Fatalf("a denied login wrote %v", dirState(t, d.dir()))
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		d := newDevicectl(t, map[string]string{"BROWSER": browser, "DISPLAY": ":0", "SSH_CONNECTION": "10.0.0.1 22 10.0.0.2 22"})
		// A token of another server is already there: it must stay as it was.
		store := deviceclient.Store{Dir: d.dir()}
		if err := store.Save(&deviceclient.Token{Server: "https://other.example", AccessToken: "dfoa_x"}); err != nil {
			t.Fatal(err)
		}
		before := dirState(t, d.dir())
		p := d.startLogin("--server", base)
		p.cancel() // Ctrl-C while polling
		code, e := p.wait(t)
		if code != ctlcli.ExitInterrupted || e["error"] != "interrupted" {
			t.Fatalf("interrupted: %d %v", code, e)
		}
		if after := dirState(t, d.dir()); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Fatalf("the token folder changed:\n%v\n%v", before, after)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		closed := "http://" + freeLoopbackAddr(t)
		d := newDevicectl(t, nil)
		code, out, _ := d.run("login", "--server", closed, "--json")
		if e := lastJSON(t, out); code != ctlcli.ExitUnreachable || e["error"] != "unreachable" {
			t.Fatalf("login to a closed port: %d %v", code, e)
		}
		// Signed in to a server that has gone away.
		store := deviceclient.Store{Dir: d.dir()}
		if err := store.Save(&deviceclient.Token{Server: closed, APIBase: closed + "/openapi/v1", AccessToken: "dfoa_x"}); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"whoami"}, {"sessions"}, {"sessions", "revoke", "x"}, {"logout"}} {
			if code, _, errOut := d.run(args...); code != ctlcli.ExitUnreachable || !strings.Contains(errOut, "cannot reach "+closed) {
				t.Fatalf("%v: %d %q", args, code, errOut)
			}
		}
		if _, err := store.Load(closed); err != nil {
			t.Fatalf("logout forgot a token it could not revoke: %v", err)
		}
		if code, out, _ := d.run("logout", "--force", "--json"); code != 0 || lastJSON(t, out)["revoked"] != false {
			t.Fatalf("logout --force: %d %q", code, out)
		}
		if _, err := store.Load(closed); err == nil {
			t.Fatal("logout --force kept the token")
		}
	})

	t.Run("issuer mismatch", func(t *testing.T) {
		// Same server, another name: its metadata says it is base.
		other := strings.Replace(base, "127.0.0.1", "localhost", 1)
		code, _, errOut := newDevicectl(t, nil).run("login", "--server", other)
		if code != ctlcli.ExitError || !strings.Contains(errOut, "--server "+base) {
			t.Fatalf("issuer mismatch: %d %q", code, errOut)
		}
	})

	t.Run("usage", func(t *testing.T) {
		d := newDevicectl(t, nil)
		for _, args := range [][]string{{}, {"nope"}, {"login"}, {"login", "--server", "ftp://x"}, {"login", "--server", "http://auth.example.com"}, {"sessions", "revoke"}, {"whoami", "extra"}} {
			if code, _, _ := d.run(args...); code != ctlcli.ExitUsage {
				t.Fatalf("%v: exit %d, want %d", args, code, ctlcli.ExitUsage)
			}
		}
		code, out, _ := d.run("help")
		if code != 0 || !strings.Contains(out, "130  interrupted") {
			t.Fatalf("help: %d %q", code, out)
		}
	})

	t.Run("expired", func(t *testing.T) {
		d := newDevicectl(t, nil)
		p := d.startLogin("--server", base)
		skew.Store(int64(16 * time.Minute)) // the server now sees the code as expired
		code, e := p.wait(t)
		if code != ctlcli.ExitExpired || e["error"] != "expired_token" {
			t.Fatalf("expired: %d %v", code, e)
		}
		if len(dirState(t, d.dir())) != 0 {
			t.Fatalf("an expired login wrote %v", dirState(t, d.dir()))
		}
	})

	if b, err := os.ReadFile(opened); err == nil {
		t.Fatalf("a browser was started on a headless session: %q", bytes.TrimSpace(b))
	}
}
