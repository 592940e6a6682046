package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheckCommand: `devicegate healthcheck` succeeds against a
// running instance (liveness and readiness) and fails on a non-200 answer
// and on a closed port, so a container health check sees each.
func TestHealthcheckCommand(t *testing.T) {
	vars := sqliteVars(t)
	in := startInstance(t, vars)
	for _, path := range []string{"/healthz", "/readyz"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"healthcheck", "--url", in.Base + path}, testEnv(vars), &out, io.Discard); err != nil {
			t.Fatalf("healthcheck %s: %v", path, err)
		}
		if strings.TrimSpace(out.String()) != "ok" {
			t.Errorf("healthcheck %s printed %q", path, out.String())
		}
	}
	// The default target is LISTEN_ADDR, probed on loopback when it names every address.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(in.Base, "http://"))
	vars["LISTEN_ADDR"] = ":" + port
	if err := run(context.Background(), []string{"healthcheck", "--path", "/readyz"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck on LISTEN_ADDR: %v", err)
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	if err := run(context.Background(), []string{"healthcheck", "--url", down.URL + "/readyz"}, testEnv(vars), io.Discard, io.Discard); err == nil {
		t.Error("healthcheck passed on a 503")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	if err := run(context.Background(), []string{"healthcheck", "--url", "http://" + closed + "/healthz"}, testEnv(vars), io.Discard, io.Discard); err == nil {
		t.Error("healthcheck passed on a closed port")
	}
}
