package main

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/devicegate/devicegate/docs/contracttest"
)

// TestMain checks every response the end-to-end tests of this package
// receive through http.DefaultTransport (the real server, real backends,
// golang.org/x/oauth2 as the client) against docs/openapi.yaml, and fails
// the run on any violation.
func TestMain(m *testing.M) {
	var mu sync.Mutex
	var violations []error
	http.DefaultTransport = &contracttest.Transport{Base: http.DefaultTransport, Report: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		violations = append(violations, err)
	}}
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	for _, err := range violations {
		fmt.Fprintln(os.Stderr, "contract violation:", err)
	}
	if len(violations) > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}
