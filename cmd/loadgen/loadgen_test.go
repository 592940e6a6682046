package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary serve as a floor subprocess, as loadgen's own binary does.
func TestMain(m *testing.M) {
	if kind := os.Getenv(floorEnv); kind != "" {
		if err := floorMain(kind); err != nil {
			os.Stderr.WriteString("floor: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built is devicegate built once for every smoke test.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
	out      []byte
}

func devicegateBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs devicegate")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "loadgen-test-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "devicegate")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, "../devicegate").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// noBadLines fails t for every scenario of backend without an error-free,
// non-empty result line for round 1 at concurrency 2.
func noBadLines(t *testing.T, out, backend string) {
	t.Helper()
	for _, sc := range allScenarios {
		m := regexp.MustCompile(`(?m)^round 1 c=2 +` + regexp.QuoteMeta(backend) + ` +` + sc + ` .* n=(\d+) errors=0$`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s %s: no error-free result line", backend, sc)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n == 0 {
			t.Errorf("%s %s: sent no measured request", backend, sc)
		}
	}
}

// TestSmokeEmbedded runs every scenario for one short round against the
// embedded default, so the harness cannot rot: it asserts that each scenario
// sent requests and none got an unexpected answer, never anything about speed.
func TestSmokeEmbedded(t *testing.T) {
	bin := devicegateBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-devicegate", bin, "-backends", "embedded", "-rounds", "1", "-concurrency", "2",
		"-duration", "1s", "-warmup", "100ms", "-flows", "20", "-pool", "30"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	noBadLines(t, out.String(), "embedded")
	// The embedded write paths are divided by the SQLite upsert floor.
	for _, line := range []string{`(?m)^round 1 c=2 +floor +sqlite .* errors=0$`, `(?m)^ +embedded +poll-approved +sqlite `, `(?m)^ +embedded +revoke +sqlite `} {
		if !regexp.MustCompile(line).MatchString(out.String()) {
			t.Errorf("no line matching %s", line)
		}
	}
}

// TestSmokeScale runs -scale with tiny stores: the +scale twin of the
// embedded default (and of Redis + Postgres when DEVICEGATE_TEST_POSTGRES
// and DEVICEGATE_TEST_REDIS name them) is seeded, runs every scenario
// without an unexpected answer, and the report has its scale section.
func TestSmokeScale(t *testing.T) {
	bin := devicegateBin(t)
	args := []string{"-devicegate", bin, "-rounds", "1", "-concurrency", "2",
		"-duration", "300ms", "-warmup", "50ms", "-flows", "20", "-pool", "30",
		"-scale", "-scale-tokens", "1000", "-scale-flows", "200", "-backends"}
	targets := []string{"embedded", "embedded+scale"}
	if pg, rd := os.Getenv("DEVICEGATE_TEST_POSTGRES"), os.Getenv("DEVICEGATE_TEST_REDIS"); pg != "" && rd != "" {
		args = append(args, "embedded,redis", "-postgres", pg, "-redis", rd)
		targets = append(targets, "redis", "redis+scale")
	} else {
		args = append(args, "embedded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var buf bytes.Buffer
	err := run(ctx, args, &buf)
	out := buf.String()
	t.Log(out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, b := range targets {
		noBadLines(t, out, b)
	}
	want := []string{
		"\nscale (-scale-tokens 1000 -scale-flows 200)",
		"embedded+scale seeded: 1000 live token rows in SQLite",
		"200 pending flows through HTTP issuance",
		"embedded+scale RSS: ",
		"scale/empty at concurrency 2",
	}
	if len(targets) > 2 {
		want = append(want, "redis+scale seeded: 1000 live token rows in Postgres",
			"redis+scale Redis (MEMORY USAGE key SAMPLES 0", "redis+scale Redis rate-limit log device_code", "redis+scale Redis INFO used_memory")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("report without %q", w)
		}
	}
	for _, b := range targets {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(b) + ` +[\d.]+ MiB`).MatchString(out) {
			t.Errorf("no RSS line for %s", b)
		}
		if strings.HasSuffix(b, "+scale") {
			for _, sc := range allScenarios {
				if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(b) + ` +` + sc + ` .*(pass|MISS)`).MatchString(out) {
					t.Errorf("no scale/empty line for %s %s", b, sc)
				}
			}
		}
	}
}

// TestDriveCountsUnexpected: a 5xx, a wrong status and a transport error are
// all counted, so a broken server cannot pass as a fast one.
func TestDriveCountsUnexpected(t *testing.T) {
	statuses := []int{200, 500, 404}
	var i atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(statuses[int(i.Add(1))%len(statuses)])
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		url  string
		kind string
	}{{"status", srv.URL, "5xx"}, {"transport", "http://127.0.0.1:1", "transport"}} {
		sc := scenario{name: tc.name, pooled: true,
			next:  func() (*http.Request, error) { return http.NewRequest(http.MethodGet, tc.url, nil) },
			check: expectStatus(200)}
		r := drive(context.Background(), sc, 1, 0, 300*time.Millisecond)
		if r.n == 0 || r.badByKind[tc.kind] == 0 {
			t.Errorf("%s: n=%d bad=%v, want some %s", tc.name, r.n, r.badByKind, tc.kind)
		}
	}
}
