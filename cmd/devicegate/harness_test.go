package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
)

// instance is one running devicegate built from the real fx graph.
type instance struct {
	t    testing.TB
	Base string
	app  *fx.App
	logs *syncWriter
}

// testEnv returns a getenv over vars, with the listener on a free loopback port.
func testEnv(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		if k == "LISTEN_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	}
}

// sqliteVars returns the embedded-default configuration in a temp directory.
func sqliteVars(t testing.TB) map[string]string {
	return map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "data", "devicegate.db")}
}

// startInstance starts the service graph for vars (plus opts, e.g. an
// fx.Invoke reaching into the graph), logging at debug level into a buffer
// the test can read, and stops it at cleanup.
func startInstance(t testing.TB, vars map[string]string, opts ...fx.Option) *instance {
	t.Helper()
	sw := &syncWriter{}
	in := startInstanceLog(t, vars, slog.New(slog.NewJSONHandler(sw, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	in.logs = sw
	return in
}

// startInstanceLog is startInstance logging to log (the instance keeps no logs).
func startInstanceLog(t testing.TB, vars map[string]string, log *slog.Logger, opts ...fx.Option) *instance {
	t.Helper()
	cfg, err := LoadConfig(testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ensureSecretKey(log, generateKey); err != nil {
		t.Fatal(err)
	}
	var l *Listener
	a := fx.New(serveOptions(cfg, log), fx.Populate(&l), fx.Options(opts...))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	return &instance{t: t, Base: "http://" + l.Addr.String(), app: a}
}

// createAccount runs `devicegate accounts create` against vars.
func createAccount(t testing.TB, vars map[string]string, email, password, workspace string) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), []string{"accounts", "create", "--email", email, "--name", "Test User",
		"--password", password, "--workspace", workspace}, testEnv(vars), &out, io.Discard)
	if err != nil {
		t.Fatalf("accounts create: %v", err)
	}
}

// browser is a console user with a cookie jar.
type browser struct {
	t      testing.TB
	base   string
	client *http.Client
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (b *browser) login(email, password string) {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := b.client.Post(b.base+"/console/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		b.t.Fatalf("login: %d %s", resp.StatusCode, msg)
	}
}

func (b *browser) csrf() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "csrf_token" {
			return c.Value
		}
	}
	b.t.Fatal("no csrf_token cookie")
	return ""
}

// decide approves or denies userCode and returns the status code.
func (b *browser) decide(userCode string, approve bool) int {
	b.t.Helper()
	path := "/openapi/v1/oauth/device/deny"
	if approve {
		path = "/openapi/v1/oauth/device/approve"
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(url.Values{"user_code": {userCode}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", b.csrf())
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// getJSON does an authenticated GET and decodes the body.
func getJSON(t testing.TB, url, token string, into any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		_ = json.NewDecoder(resp.Body).Decode(into)
	}
	return resp.StatusCode
}

// postForm posts a form and decodes the JSON answer.
func postForm(t testing.TB, url string, form url.Values, into any) int {
	t.Helper()
	resp, err := http.PostForm(url, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		_ = json.NewDecoder(resp.Body).Decode(into)
	}
	return resp.StatusCode
}
