//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ctlcli "github.com/devicegate/devicegate/cmd/devicectl/cli"
)

// TestDevicectlOnATerminal runs `devicectl login` with a real terminal as
// stdout and a desktop session: it draws the QR code (half blocks, black on
// white), opens the browser at verification_uri_complete through $BROWSER,
// keeps a live status line while it polls, and erases it when approved.
func TestDevicectlOnATerminal(t *testing.T) {
	vars, base := ctlVars(t)
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Analytics")
	startInstance(t, vars)

	opened := filepath.Join(t.TempDir(), "opened")
	browser := filepath.Join(t.TempDir(), "browser.sh")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+opened+".tmp && mv "+opened+".tmp "+opened+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	d := newDevicectl(t, map[string]string{"BROWSER": browser, "DISPLAY": ":0"})

	master, slave := openPTY(t)
	var screen syncWriter
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	done := make(chan int, 1)
	go func() {
		done <- ctlcli.Run(context.Background(), []string{"login", "--server", base, "--label", "terminal"}, d.cliEnv(), slave, slave)
	}()

	codeRE := regexp.MustCompile(`confirm the code\s+([A-Z3-9]{4}-[A-Z3-9]{4})`)
	var userCode string
	waitFor(t, func() bool {
		m := codeRE.FindStringSubmatch(screen.String())
		if m != nil {
			userCode = m[1]
		}
		return m != nil && strings.Contains(screen.String(), "Waiting for approval of "+userCode)
	}, &screen)
	out := screen.String()
	if !strings.Contains(out, "\x1b[30;107m") || !strings.ContainsAny(out, "▀▄█") || !strings.Contains(out, "scan this code") {
		t.Fatalf("no QR code on the terminal:\n%s", out)
	}
	waitFor(t, func() bool { b, _ := os.ReadFile(opened); return len(b) > 0 }, &screen)
	if b, _ := os.ReadFile(opened); string(b) != base+"/device?user_code="+userCode {
		t.Fatalf("browser opened %q", b)
	}

	approveVia(t, base, "ada@example.com", userCode, "terminal", true)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("login: exit %d\n%s", code, screen.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("login did not finish")
	}
	waitFor(t, func() bool {
		return strings.Contains(screen.String(), "Signed in to "+base+" as Test User <ada@example.com>")
	}, &screen)
	final := screen.String()
	if i, j := strings.LastIndex(final, "Waiting for approval"), strings.LastIndex(final, "\r\x1b[2KSigned in"); i < 0 || j < i {
		t.Fatalf("the status line was not erased before the result:\n%q", final[max(0, len(final)-400):])
	}
}

// waitFor polls cond for up to 30 s (a bound far above what the steps take).
func waitFor(t *testing.T, cond func() bool, screen *syncWriter) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out; the terminal shows:\n%s", screen.String())
}
