package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ctlcli "github.com/devicegate/devicegate/cmd/devicectl/cli"
	"github.com/devicegate/devicegate/cmd/devicectl/deviceclient"
)

// TestDevicectlEndToEnd runs the reference CLI against a real listening
// server, approving through the console API: login with PKCE on two
// devices, whoami, sessions, one device revoking the other (which then gets
// the unauthorised exit code), logout (self-revoke, forget), and logout of a
// token the server already refused. Every --json line parses, and the token
// file is 0600 in a 0700 folder.
func TestDevicectlEndToEnd(t *testing.T) {
	vars, base := ctlVars(t)
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Analytics")
	in := startInstance(t, vars)

	laptop := newDevicectl(t, nil)
	p := laptop.startLogin("--server", base+"/", "--label", "laptop")
	if !p.PKCE || !strings.HasPrefix(p.URIComplete, base+"/device?user_code=") {
		t.Fatalf("device_code event: pkce %v, %q", p.PKCE, p.URIComplete)
	}
	approveVia(t, base, "ada@example.com", p.UserCode, "laptop", true)
	code, done := p.wait(t)
	if code != ctlcli.ExitOK || done["event"] != "signed_in" || done["subject_email"] != "ada@example.com" || done["device_label"] != "laptop" {
		t.Fatalf("login: %d %v (stderr %s)", code, done, p.errOut.String())
	}
	// Only the owner can read the token, or list the folder.
	tokenFile := done["token_file"].(string)
	if filepath.Dir(tokenFile) != laptop.dir() {
		t.Fatalf("token file %s outside %s", tokenFile, laptop.dir())
	}
	assertMode(t, laptop.dir(), 0o700)
	assertMode(t, tokenFile, 0o600)
	var stored deviceclient.Token
	if b, err := os.ReadFile(tokenFile); err != nil || json.Unmarshal(b, &stored) != nil || !strings.HasPrefix(stored.AccessToken, "dfoa_") || stored.Server != base {
		t.Fatalf("token file: %v %+v", err, stored)
	}
	for _, f := range dirState(t, laptop.dir()) {
		if strings.Contains(f, ".tmp") {
			t.Fatalf("a temporary file was left behind: %s", f)
		}
	}
	if strings.Contains(p.out.String(), stored.AccessToken) || strings.Contains(in.logs.String(), stored.AccessToken) {
		t.Fatal("the token was printed or logged")
	}

	// whoami, without --server: the last login's server.
	code, out, _ := laptop.run("whoami", "--json")
	me := lastJSON(t, out)
	if code != 0 || me["subject_type"] != "account" || me["subject_email"] != "ada@example.com" || me["server"] != base {
		t.Fatalf("whoami --json: %d %v", code, me)
	}
	if code, out, _ := laptop.run("whoami"); code != 0 || !strings.Contains(out, "Test User <ada@example.com>") || !strings.Contains(out, "workspace Analytics (owner, default)") {
		t.Fatalf("whoami: %d %q", code, out)
	}

	// A second device signs in.
	desktop := newDevicectl(t, nil)
	p = desktop.startLogin("--server", base, "--label", "desktop")
	approveVia(t, base, "ada@example.com", p.UserCode, "desktop", true)
	if code, done = p.wait(t); code != 0 {
		t.Fatalf("second login: %d %v", code, done)
	}
	desktopID := done["token_id"].(string)

	code, out, _ = laptop.run("sessions", "--json")
	var list struct {
		Sessions []deviceclient.Session `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Sessions) != 2 {
		t.Fatalf("sessions --json: %d %v %q", code, err, out)
	}
	for _, s := range list.Sessions {
		if s.Current != (s.DeviceLabel == "laptop") {
			t.Fatalf("current flag wrong: %+v", s)
		}
	}
	if code, out, _ := laptop.run("sessions"); code != 0 || !strings.Contains(out, "2 signed-in devices") ||
		!strings.Contains(out, desktopID) || !strings.Contains(out, "desktop") {
		t.Fatalf("sessions: %d %q", code, out)
	}

	// The laptop signs the desktop out; the desktop's token is refused.
	if code, out, _ := laptop.run("sessions", "revoke", desktopID, "--json"); code != 0 || lastJSON(t, out)["signed_out"] != false {
		t.Fatalf("sessions revoke: %d %q", code, out)
	}
	code, out, _ = desktop.run("whoami", "--json")
	if e := lastJSON(t, out); code != ctlcli.ExitUnauthorized || e["error"] != "unauthorized" || e["exit_code"] != float64(3) {
		t.Fatalf("whoami with a token revoked elsewhere: %d %v", code, e)
	}
	if code, _, errOut := desktop.run("whoami"); code != ctlcli.ExitUnauthorized || !strings.Contains(errOut, "devicectl login --server "+base) {
		t.Fatalf("whoami with a token revoked elsewhere: %d %q", code, errOut)
	}
	if code, _, errOut := laptop.run("sessions", "revoke", "00000000-0000-4000-8000-000000000000"); code != ctlcli.ExitError || !strings.Contains(errOut, "no session") {
		t.Fatalf("revoking a session that is not ours: %d %q", code, errOut)
	}
	// The desktop forgets its dead token: logout succeeds locally.
	if code, out, _ := desktop.run("logout", "--json"); code != 0 || lastJSON(t, out)["revoked"] != false || len(dirState(t, desktop.dir())) != 0 {
		t.Fatalf("logout of a refused token: %d %q %v", code, out, dirState(t, desktop.dir()))
	}

	// A phone signs in and revokes its own session: that signs it out.
	phone := newDevicectl(t, nil)
	p = phone.startLogin("--server", base, "--label", "phone")
	approveVia(t, base, "ada@example.com", p.UserCode, "phone", true)
	if code, done = p.wait(t); code != 0 {
		t.Fatalf("phone login: %d %v", code, done)
	}
	if code, out, _ := phone.run("sessions", "revoke", done["token_id"].(string), "--json"); code != 0 || lastJSON(t, out)["signed_out"] != true || len(dirState(t, phone.dir())) != 0 {
		t.Fatalf("revoking this device's own session: %d %q %v", code, out, dirState(t, phone.dir()))
	}

	// The laptop logs out: the server revokes the token, the file is gone.
	if code, out, _ := laptop.run("logout"); code != 0 || !strings.Contains(out, "token revoked") {
		t.Fatalf("logout: %d %q", code, out)
	}
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Fatalf("token file still there: %v", err)
	}
	if code := getJSON(t, base+"/openapi/v1/me", stored.AccessToken, nil); code != 401 {
		t.Fatalf("/me with the logged-out token: %d, want 401", code)
	}
	if code, out, _ := laptop.run("whoami", "--server", base, "--json"); code != ctlcli.ExitUnauthorized || lastJSON(t, out)["error"] != "unauthorized" {
		t.Fatalf("whoami after logout: %d %q", code, out)
	}
	if code, out, _ := laptop.run("logout", "--server", base, "--json"); code != 0 || lastJSON(t, out)["status"] != "not_signed_in" {
		t.Fatalf("logout twice: %d %q", code, out)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != want {
		t.Fatalf("%s has mode %v, want %v", path, info.Mode().Perm(), want)
	}
}
