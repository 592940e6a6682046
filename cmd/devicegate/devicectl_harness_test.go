package main

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ctlcli "github.com/devicegate/devicegate/cmd/devicectl/cli"
)

// devicectl drives the reference CLI in-process (cli.Run, what main runs)
// as one device: its own token folder, its own environment.
type devicectl struct {
	t   *testing.T
	env map[string]string
}

func newDevicectl(t *testing.T, extra map[string]string) *devicectl {
	env := map[string]string{"DEVICECTL_CONFIG_DIR": filepath.Join(t.TempDir(), "devicectl")}
	for k, v := range extra {
		env[k] = v
	}
	return &devicectl{t: t, env: env}
}

func (d *devicectl) dir() string { return d.env["DEVICECTL_CONFIG_DIR"] }

func (d *devicectl) cliEnv() ctlcli.Env {
	return ctlcli.Env{
		Getenv:   func(k string) string { return d.env[k] },
		Hostname: func() (string, error) { return "test-host", nil },
		GOOS:     "linux",
	}
}

// run runs one command to the end: exit code, stdout, stderr.
func (d *devicectl) run(args ...string) (int, string, string) {
	d.t.Helper()
	var out, errOut syncWriter
	code := ctlcli.Run(context.Background(), args, d.cliEnv(), &out, &errOut)
	return code, out.String(), errOut.String()
}

// pendingLogin is a `devicectl login --json` waiting for approval.
type pendingLogin struct {
	UserCode, URIComplete string
	PKCE                  bool
	out, errOut           *syncWriter
	done                  chan int
	cancel                context.CancelFunc
}

// startLogin starts `login --json` and returns once it printed its code.
func (d *devicectl) startLogin(args ...string) *pendingLogin {
	d.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &pendingLogin{out: &syncWriter{}, errOut: &syncWriter{}, done: make(chan int, 1), cancel: cancel}
	d.t.Cleanup(cancel)
	go func() {
		p.done <- ctlcli.Run(ctx, append([]string{"login", "--json"}, args...), d.cliEnv(), p.out, p.errOut)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		line, _, _ := strings.Cut(p.out.String(), "\n")
		var ev struct {
			Event       string `json:"event"`
			UserCode    string `json:"user_code"`
			URIComplete string `json:"verification_uri_complete"`
			PKCE        bool   `json:"pkce"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "device_code" {
			p.UserCode, p.URIComplete, p.PKCE = ev.UserCode, ev.URIComplete, ev.PKCE
			return p
		}
		select {
		case code := <-p.done:
			d.t.Fatalf("login ended (%d) before printing a code: %s %s", code, p.out.String(), p.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	d.t.Fatalf("login printed no code: %s", p.out.String())
	return nil
}

// wait returns the exit code and the last JSON line of stdout, decoded.
func (p *pendingLogin) wait(t *testing.T) (int, map[string]any) {
	t.Helper()
	var code int
	select {
	case code = <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("login did not finish")
	}
	return code, lastJSON(t, p.out.String())
}

// lastJSON decodes the last line of out, failing unless every line is JSON.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		last = nil
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Fatalf("--json printed a line that is not JSON: %q", line)
		}
	}
	return last
}

// approveVia signs in to the console as email, looks the code up as the
// /device page does, and approves (or denies) it.
func approveVia(t *testing.T, base, email, userCode, wantLabel string, approve bool) {
	t.Helper()
	b := newBrowser(t, base)
	b.login(email, "correct horse battery")
	var lookup struct {
		Valid       bool   `json:"valid"`
		DeviceLabel string `json:"device_label"`
		ClientID    string `json:"client_id"`
	}
	if code := getJSON(t, base+"/openapi/v1/oauth/device/lookup?user_code="+url.QueryEscape(userCode), "", &lookup); code != 200 ||
		!lookup.Valid || lookup.DeviceLabel != wantLabel || lookup.ClientID != "difyctl" {
		t.Fatalf("lookup: %d %+v (want label %q)", code, lookup, wantLabel)
	}
	if code := b.decide(userCode, approve); code != 200 {
		t.Fatalf("decide: %d", code)
	}
}

// freeLoopbackAddr returns a loopback address with a port free right now,
// so the server can be told its own URL (the CLI checks the issuer).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// ctlVars is the embedded default serving at its own address, with PKCE
// required of difyctl (so a login that did not use PKCE fails).
func ctlVars(t *testing.T) (map[string]string, string) {
	addr := freeLoopbackAddr(t)
	vars := sqliteVars(t)
	vars["LISTEN_ADDR"] = addr
	vars["PUBLIC_WEB_URL"] = "http://" + addr
	vars["OPENAPI_PKCE_REQUIRED_CLIENT_IDS"] = "difyctl"
	return vars, "http://" + addr
}

// dirState lists a folder's files with their modes and contents.
func dirState(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		info, _ := e.Info()
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out = append(out, e.Name()+" "+info.Mode().String()+" "+string(b))
	}
	sort.Strings(out)
	return out
}
