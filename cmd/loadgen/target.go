package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/redis/rueidis"
)

const (
	loadEmail    = "load@example.com"
	loadPassword = "correct horse battery staple"
	introSecret  = "loadgen-introspection-secret-0123"
	grantType    = "urn:ietf:params:oauth:grant-type:device_code"
)

// server is one subprocess listening on a loopback port (devicegate or a floor).
type server struct {
	name string
	base string
	cmd  *exec.Cmd
	// exited receives the subprocess's Wait result once.
	exited chan error
	// cleanup undoes what start created (a Postgres schema, Redis keys).
	cleanup []func()
	// prefix is a devicegate's REDIS_KEY_PREFIX ("" on the embedded default).
	prefix string
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// baseEnv is what every subprocess inherits: no DATABASE_URL or REDIS_URL
// from the caller's shell leaks into a measurement.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// startProcess starts bin with args and env, stderr to logTo, and waits
// until GET base+readyPath answers 200.
func startProcess(ctx context.Context, name, bin string, args, env []string, addr, readyPath string, logTo io.Writer) (*server, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logTo, logTo
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &server{name: name, base: "http://" + addr, cmd: cmd, exited: exited}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(60 * time.Second)
	for {
		resp, err := http.Get(s.base + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("%s exited before ready: %w", name, err)
		case <-timeout:
			s.stop()
			return nil, fmt.Errorf("%s: not ready after 60 s", name)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// stop ends the subprocess (SIGTERM, then a kill after 10 s) and runs its cleanups.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

// rssKiB reads the subprocess's resident set size from /proc (0 if unknown).
func (s *server) rssKiB() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

// devicegateEnv is the configuration shared by both backends: bench-only
// settings that keep a run measuring the path rather than 429s.
func devicegateEnv(addr, accessLog string) []string {
	env := append(baseEnv(),
		"LISTEN_ADDR="+addr,
		"SECRET_KEY=loadgen-secret-key-"+randomHex(16),
		"TRUSTED_PROXIES=127.0.0.1/32",
		"OPENAPI_RATE_LIMIT_PER_TOKEN=0",
		"DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR=1000000",
		"INTROSPECTION_SECRET="+introSecret,
	)
	if accessLog != "" {
		env = append(env, "ACCESS_LOG="+accessLog)
	}
	return env
}

// startDevicegate starts bin on backend "embedded" (SQLite file + memory) or
// "redis" (Postgres in a fresh schema + Redis under a fresh key prefix),
// with one account, and returns it. A non-nil seed is called with the
// migrated database ("postgres" and its DSN, or "sqlite" and its file)
// before devicegate serves.
func startDevicegate(ctx context.Context, o *options, backend, accessLog, tmp string, logTo io.Writer,
	seed func(ctx context.Context, kind, dsn string) error) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := devicegateEnv(addr, accessLog)
	var cleanup []func()
	var prefix string
	seedAfterAccounts := func() error { return nil }
	switch backend {
	case "embedded":
		dir, err := os.MkdirTemp(tmp, "embedded-")
		if err != nil {
			return nil, err
		}
		file := filepath.Join(dir, "devicegate.db")
		env = append(env, "DATABASE_URL=sqlite:"+file)
		if seed != nil { // accounts create migrates SQLite
			seedAfterAccounts = func() error { return seed(ctx, "sqlite", file) }
		}
	case "redis":
		dsn, drop, err := pgSchema(ctx, o.postgres, "loadgen_dg_")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, drop)
		prefix = "loadgen-" + randomHex(6) + ":"
		cleanup = append(cleanup, func() { dropRedisPrefix(o.redis, prefix) })
		env = append(env, "DATABASE_URL="+dsn, "REDIS_URL=redis://"+o.redis, "REDIS_KEY_PREFIX="+prefix)
		if out, err := runCmd(ctx, o.devicegate, env, "migrate"); err != nil {
			runAll(cleanup)
			return nil, fmt.Errorf("migrate: %w: %s", err, out)
		}
		if seed != nil {
			if err := seed(ctx, "postgres", dsn); err != nil {
				runAll(cleanup)
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unknown backend %q", backend)
	}
	if out, err := runCmd(ctx, o.devicegate, env, "accounts", "create", "--email", loadEmail, "--name", "Load",
		"--password", loadPassword, "--workspace", "Load"); err != nil {
		runAll(cleanup)
		return nil, fmt.Errorf("accounts create: %w: %s", err, out)
	}
	if err := seedAfterAccounts(); err != nil {
		runAll(cleanup)
		return nil, err
	}
	s, err := startProcess(ctx, "devicegate-"+backend, o.devicegate, []string{"serve"}, env, addr, "/readyz", logTo)
	if err != nil {
		runAll(cleanup)
		return nil, err
	}
	s.cleanup, s.prefix = cleanup, prefix
	return s, nil
}

func runAll(fs []func()) {
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func runCmd(ctx context.Context, bin string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	return cmd.CombinedOutput()
}

// pgSchema creates a fresh schema and returns a DSN whose search_path is it.
func pgSchema(ctx context.Context, dsn, prefix string) (string, func(), error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	schema := prefix + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("postgres: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// dropRedisPrefix deletes every key under prefix (flows live 15 min and
// rate-limit logs 1 h: a run must not leave them in a shared Redis).
func dropRedisPrefix(addr, prefix string) {
	c, err := redisClient(addr)
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_ = scanEach(ctx, c, prefix+"*", func(keys []string) bool {
		return c.Do(ctx, c.B().Unlink().Key(keys...).Build()).Error() == nil
	})
}

func redisClient(addr string) (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
}

// scanEach calls fn with every non-empty batch of keys matching pattern
// (SCAN), until the scan ends or fn returns false.
func scanEach(ctx context.Context, c rueidis.Client, pattern string, fn func(keys []string) bool) error {
	for cursor := uint64(0); ; {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
		if err != nil {
			return fmt.Errorf("redis SCAN: %w", err)
		}
		if len(e.Elements) > 0 && !fn(e.Elements) {
			return nil
		}
		if cursor = e.Cursor; cursor == 0 {
			return nil
		}
	}
}

// client is the set-up side of a devicegate: a console session that approves
// flows, and a counter that gives every new flow its own forwarded address.
type client struct {
	base    string
	http    *http.Client
	console *http.Client
	csrf    string
	ips     *atomic.Uint64
}

func newClient(base string, ips *atomic.Uint64) (*client, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, ips: ips,
		http:    &http.Client{Transport: newTransport(16), Timeout: 30 * time.Second},
		console: &http.Client{Transport: newTransport(16), Jar: jar, Timeout: 30 * time.Second}}
	body, _ := json.Marshal(map[string]string{"email": loadEmail, "password": loadPassword})
	resp, err := c.console.Post(base+"/console/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("login: %d %s", resp.StatusCode, msg)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "csrf_token" {
			c.csrf = ck.Value
		}
	}
	if c.csrf == "" {
		return nil, fmt.Errorf("login: no csrf_token cookie")
	}
	return c, nil
}

// nextIP is a fresh client address, as a fleet of devices behind a proxy looks.
func nextIP(ips *atomic.Uint64) string {
	i := ips.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i))
}

// codeRequest is POST /oauth/device/code from a fresh address.
func codeRequest(base, label string, ips *atomic.Uint64) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/openapi/v1/oauth/device/code",
		strings.NewReader(url.Values{"client_id": {"difyctl"}, "device_label": {label}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", nextIP(ips))
	return req
}

// pollRequest is POST /oauth/device/token for deviceCode.
func pollRequest(base, deviceCode string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/openapi/v1/oauth/device/token",
		strings.NewReader("client_id=difyctl&grant_type="+url.QueryEscape(grantType)+"&device_code="+url.QueryEscape(deviceCode)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

type flowCodes struct {
	DeviceCode string `json:"device_code"`
	UserCode   string `json:"user_code"`
}

// newFlow starts one flow; with approve, the console approves it too.
func (c *client) newFlow(label string, approve bool) (flowCodes, error) {
	var f flowCodes
	if err := c.doJSON(c.http, codeRequest(c.base, label, c.ips), &f); err != nil {
		return f, fmt.Errorf("device code: %w", err)
	}
	if !approve {
		return f, nil
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+"/openapi/v1/oauth/device/approve",
		strings.NewReader(url.Values{"user_code": {f.UserCode}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.csrf)
	if err := c.doJSON(c.console, req, nil); err != nil {
		return f, fmt.Errorf("approve: %w", err)
	}
	return f, nil
}

func (c *client) doJSON(hc *http.Client, req *http.Request, into any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%d %s", resp.StatusCode, body)
	}
	if into != nil {
		return json.Unmarshal(body, into)
	}
	return nil
}

// flows starts n flows with that many set-up workers (labels unique per
// flow, so each approved flow mints its own token row rather than rotating one).
func (c *client) flows(n int, approve bool, tag string, workers int) ([]flowCodes, error) {
	out := make([]flowCodes, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || firstErr.Load() != nil {
					return
				}
				f, err := c.newFlow(fmt.Sprintf("load-%s-%d", tag, i), approve)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				out[i] = f
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return nil, err
	}
	return out, nil
}

// token mints one token: a flow approved and polled once.
func (c *client) token(label string) (string, error) {
	f, err := c.newFlow(label, true)
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.doJSON(c.http, pollRequest(c.base, f.DeviceCode), &tok); err != nil {
		return "", fmt.Errorf("poll: %w", err)
	}
	return tok.AccessToken, nil
}
