package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/devicegate/devicegate/docs"
	"github.com/devicegate/devicegate/docs/contracttest"
	"github.com/labstack/echo/v4"
	"go.uber.org/fx"
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

// TestContractCoversTheAssembledServer: the server the fx graph builds
// (enterprise edition, licensed, introspection on: every route there is)
// routes exactly the operations of docs/openapi.yaml, and serves the
// document it embeds.
func TestContractCoversTheAssembledServer(t *testing.T) {
	doc, err := contracttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	ent := newEnterprise(t)
	var e *echo.Echo
	in := startInstance(t, ssoVars(sqliteVars(t), ent), fx.Populate(&e))
	var routes []contracttest.Route
	for _, r := range e.Routes() {
		if r.Method != echo.RouteNotFound {
			routes = append(routes, contracttest.Route{Method: r.Method, Path: r.Path})
		}
	}
	for _, p := range contracttest.CompareRoutes(doc, routes) {
		t.Error(p)
	}
	resp, err := http.Get(in.Base + "/openapi/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, docs.OpenAPI) {
		t.Errorf("GET /openapi/v1/openapi.yaml: %d, %d bytes; want 200 and the embedded document", resp.StatusCode, len(body))
	}
}

// TestContractDocumentOffWithTheAPI: OPENAPI_ENABLED=false hides the
// document with every other /openapi/v1 path.
func TestContractDocumentOffWithTheAPI(t *testing.T) {
	vars := sqliteVars(t)
	vars["OPENAPI_ENABLED"] = "false"
	in := startInstance(t, vars)
	if code, _ := getStatus(t, in.Base+"/openapi/v1/openapi.yaml", "", ""); code != http.StatusNotFound {
		t.Errorf("GET /openapi/v1/openapi.yaml with OPENAPI_ENABLED=false: %d, want 404", code)
	}
}
