package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the real binary once per test, with version and commit set as `make build` does.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "devicegate")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7-test -X main.commit=0123abc", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running devicegate whose JSON log lines the test reads.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []map[string]any
	more  chan struct{}
	done  chan error
}

func startProc(t *testing.T, bin string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, more: make(chan struct{}, 1), done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				rec = map[string]any{"msg": sc.Text()}
			}
			p.mu.Lock()
			p.lines = append(p.lines, rec)
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
		p.done <- cmd.Wait()
	}()
	return p
}

// waitLog returns the first log record whose msg contains msg, waiting up to d.
func (p *proc) waitLog(msg string, d time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if s, _ := l["msg"].(string); strings.Contains(s, msg) {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-p.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			p.t.Fatalf("no log line %q within %s; got %v", msg, d, p.lines)
		}
	}
}

// index is the position of the first record with msg (-1 if none).
func (p *proc) index(msg string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, l := range p.lines {
		if s, _ := l["msg"].(string); strings.Contains(s, msg) {
			return i
		}
	}
	return -1
}

// exit waits up to d for the process to end and returns its exit code.
func (p *proc) exit(d time.Duration) int {
	p.t.Helper()
	select {
	case err := <-p.done:
		if err == nil {
			return 0
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		p.t.Fatalf("wait: %v", err)
	case <-time.After(d):
		p.t.Fatalf("the process did not exit within %s", d)
	}
	return -1
}

func lifecycleEnv(t *testing.T, dbURL string, extra ...string) []string {
	return append([]string{"DATABASE_URL=" + dbURL,
		"LISTEN_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "SECRET_KEY=lifecycle-test-secret-key-0123456789",
		"REDIS_URL=", "DEVICEGATE_ENV=development", "AUDIT_SINK=", "OTEL_EXPORTER_OTLP_ENDPOINT=",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}, extra...)
}

// slowRequest starts a device-code request that stays in flight: it sends
// the headers with Expect: 100-continue and waits for the server's
// "100 Continue", which net/http sends when the handler starts reading the
// body; the handler then waits for the body, which the caller sends later
// (or never). It returns the connection, its reader and the body.
func slowRequest(t *testing.T, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body := "client_id=difyctl&device_label=slow"
	fmt.Fprintf(conn, "POST /openapi/v1/oauth/device/code HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue (the handler reading the body), got %q %v", line, err)
	}
	if blank, err := r.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q %v", blank, err)
	}
	return conn, r, body
}

// TestSIGTERMDrainsThenExitsZero runs the built binary, starts a request
// that is still uploading its body, sends SIGTERM, and proves the order:
// /readyz answers 503 first, then the listener closes while the in-flight
// request still completes with its 200, then the background workers stop
// (the last-used flush writes the token's use), then the process exits 0.
func TestSIGTERMDrainsThenExitsZero(t *testing.T) {
	bin := buildBinary(t)
	vars := sqliteVars(t)
	createAccount(t, vars, "sig@example.com", "correct horse battery", "Drain")
	p := startProc(t, bin, lifecycleEnv(t, vars["DATABASE_URL"], "SHUTDOWN_DELAY=4s", "SHUTDOWN_TIMEOUT=60s")...)
	started := p.waitLog("devicegate started", 60*time.Second)
	for _, k := range []string{"version", "commit", "addr", "database", "state", "edition", "sso_gateway"} {
		if _, ok := started[k]; !ok {
			t.Errorf("the start-up line lacks %q: %v", k, started)
		}
	}
	if started["version"] != "v9.8.7-test" || started["database"] != "sqlite" || started["state"] != "memory" || started["edition"] != "community" {
		t.Errorf("start-up line %v", started)
	}
	addr := started["addr"].(string)
	base := "http://" + addr
	if code := getJSON(t, base+"/readyz", "", nil); code != 200 {
		t.Fatalf("/readyz before SIGTERM: %d", code)
	}
	// A use of a token, whose last_used_at the flusher writes only every 10 s: at the latest on the way out.
	token := signInDevice(t, base, "sig@example.com", "correct horse battery", "drain laptop")
	if code := getJSON(t, base+"/openapi/v1/me", token, nil); code != 200 {
		t.Fatalf("/me: %d", code)
	}
	conn, reader, rest := slowRequest(t, addr)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog("draining: /readyz answers 503", 30*time.Second)
	var ready map[string]any
	if code := getJSON(t, base+"/readyz", "", &ready); code != 503 || ready["code"] != "draining" {
		t.Fatalf("/readyz while draining: %d %v", code, ready)
	}
	p.waitLog("no longer accepting connections", 30*time.Second)
	// The listener closes right after that line; the in-flight request holds the drain open meanwhile.
	for refused, deadline := false, time.Now().Add(30*time.Second); !refused; {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if refused = err != nil; !refused {
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("the listener still accepts connections while draining")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := io.WriteString(conn, rest); err != nil {
		t.Fatalf("finishing the in-flight request: %v", err)
	}
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the in-flight request answered %d", resp.StatusCode)
	}
	if code := p.exit(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0; log:\n%v", code, p.lines)
	}
	drained, stopped := p.index("drained: every in-flight request finished"), p.index("devicegate stopped")
	if drained < 0 || stopped < drained {
		t.Fatalf("want drained then stopped in the log; got %d, %d", drained, stopped)
	}
	out, _ := cli(t, vars, "tokens", "list", "--email", "sig@example.com")
	if lastUsedUnset(out) {
		t.Fatalf("the token's use was not flushed before exit:\n%s", out)
	}
}

// lastUsedUnset reports whether the one row of `tokens list` shows no LAST USED time.
func lastUsedUnset(list string) bool {
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 {
		return true
	}
	header, row := lines[0], lines[1]
	col := strings.Index(header, "LAST USED")
	return col < 0 || col >= len(row) || row[col] == '-'
}

// TestSIGTERMDrainIsBounded proves SHUTDOWN_TIMEOUT bounds the drain: a
// request that never finishes uploading is cut off and the process still exits 0.
func TestSIGTERMDrainIsBounded(t *testing.T) {
	bin := buildBinary(t)
	p := startProc(t, bin, lifecycleEnv(t, sqliteVars(t)["DATABASE_URL"], "SHUTDOWN_TIMEOUT=1s")...)
	addr := p.waitLog("devicegate started", 60*time.Second)["addr"].(string)
	slowRequest(t, addr)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.exit(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0; log:\n%v", code, p.lines)
	}
	if p.index("drain timed out") < 0 {
		t.Fatalf("no log line says the drain timed out; log:\n%v", p.lines)
	}
}

// TestVersionCommand proves `devicegate version` prints what the build set.
func TestVersionCommand(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v %s", err, out)
	}
	if !strings.Contains(string(out), "v9.8.7-test") || !strings.Contains(string(out), "0123abc") {
		t.Fatalf("version printed %q", out)
	}
}

// TestSignalDuringStartupIsACleanStop proves a SIGTERM that arrives while
// the app is still starting ends serve without an error (exit 0), not as a
// failed start (exit 1): the context is already cancelled when serve starts.
func TestSignalDuringStartupIsACleanStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	vars := sqliteVars(t)
	vars["SECRET_KEY"] = "startup-signal-secret-key-0123456789"
	if err := run(ctx, []string{"serve"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		t.Fatalf("serve stopped by a signal during start-up: %v", err)
	}
}
