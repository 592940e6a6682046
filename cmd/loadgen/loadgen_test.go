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
	os.Exit(m.Run())
}

// TestSmokeEmbedded runs every scenario for one short round against the
// embedded default, so the harness cannot rot: it asserts that each scenario
// sent requests and none got an unexpected answer, never anything about speed.
func TestSmokeEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs devicegate")
	}
	bin := filepath.Join(t.TempDir(), "devicegate")
	build := exec.Command("go", "build", "-o", bin, "../devicegate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-devicegate", bin, "-backends", "embedded", "-rounds", "1", "-concurrency", "2",
		"-duration", "1s", "-warmup", "100ms", "-flows", "20", "-pool", "30"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, sc := range allScenarios {
		m := regexp.MustCompile(`(?m)^round 1 c=2 +embedded +` + sc + ` .* n=(\d+) errors=0$`).FindStringSubmatch(out.String())
		if m == nil {
			t.Errorf("%s: no error-free result line", sc)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n == 0 {
			t.Errorf("%s: sent no measured request", sc)
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
