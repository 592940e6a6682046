package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/devicegate/devicegate/app"
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
	// The relay's callback is routed only with the relay, which excludes
	// the enterprise gateway: take it from a relay instance.
	var relayed *echo.Echo
	startInstance(t, oidcVars(sqliteVars(t), newOIDCProvider(t)), fx.Populate(&relayed))
	for _, r := range relayed.Routes() {
		if r.Path == app.SSOCallbackPath {
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

// TestContractSSOTour drives the external-SSO answers the other tests do
// not reach, each asserted here and validated against docs/openapi.yaml by
// the transport TestMain installs: wrong methods (the gate's dispatcher),
// a malformed and an oversized approve-external body, a flow that is gone,
// bearer auth switched off, and CONSOLE_API_URL unset.
func TestContractSSOTour(t *testing.T) {
	ent := newEnterprise(t)
	vars := ssoVars(sqliteVars(t), ent)
	createAccount(t, vars, "owner@example.com", "correct horse battery", "Owners")
	in := startInstance(t, vars)
	b := newSSOBrowser(t, in.Base)
	code := func(body []byte) string {
		var e struct{ Code string }
		_ = json.Unmarshal(body, &e)
		return e.Code
	}
	for _, p := range []string{"sso-initiate", "sso-complete", "approval-context", "approve-external"} {
		for _, m := range []string{http.MethodPut, http.MethodDelete} {
			if resp, body := b.do(m, in.Base+"/openapi/v1/oauth/device/"+p, nil, nil); resp.StatusCode != 405 || code(body) != "method_not_allowed" {
				t.Errorf("%s %s: %d %s, want 405 method_not_allowed", m, p, resp.StatusCode, body)
			}
		}
	}
	if resp, _ := b.do(http.MethodHead, in.Base+"/openapi/v1/oauth/device/sso-initiate?user_code=x", nil, nil); resp.StatusCode != 405 {
		t.Errorf("HEAD sso-initiate: %d, want 405 (its effects must not follow a HEAD)", resp.StatusCode)
	}

	deviceCode, userCode := startDeviceFlow(t, in.Base, "tour")
	b.signIn(userCode)
	_, raw := b.get(in.Base + "/openapi/v1/oauth/device/approval-context")
	csrf := jsonField(t, raw, "csrf_token")
	post := func(body string) (*http.Response, []byte) {
		return b.do(http.MethodPost, in.Base+"/openapi/v1/oauth/device/approve-external", []byte(body),
			map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf})
	}
	if resp, body := post(`{"user_code":`); resp.StatusCode != 400 || code(body) != "invalid_request" {
		t.Errorf("approve-external with a malformed body: %d %s, want 400 invalid_request", resp.StatusCode, body)
	}
	if resp, body := post(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`); resp.StatusCode != 413 || code(body) != "request_too_large" {
		t.Errorf("approve-external with a 64 KiB body: %d %s, want 413 request_too_large", resp.StatusCode, body)
	}
	// The account owner denies the flow and the CLI's poll collects the denial, which deletes the flow.
	owner := newBrowser(t, in.Base)
	owner.login("owner@example.com", "correct horse battery")
	if st := owner.decide(userCode, false); st != 200 {
		t.Fatalf("deny: %d", st)
	}
	var poll map[string]any
	if st := postForm(t, in.Base+"/openapi/v1/oauth/device/token", url.Values{"client_id": {"difyctl"}, "device_code": {deviceCode},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, &poll); st != 400 || poll["error"] != "access_denied" {
		t.Fatalf("poll after deny: %d %v", st, poll)
	}
	if resp, body := post(`{"user_code":"` + userCode + `"}`); resp.StatusCode != 404 || code(body) != "expired_or_unknown" {
		t.Errorf("approve-external for a flow that is gone: %d %s, want 404 expired_or_unknown", resp.StatusCode, body)
	}

	offVars := maps.Clone(vars)
	offVars["ENABLE_OAUTH_BEARER"] = "false"
	off := startInstance(t, offVars)
	ob := newSSOBrowser(t, off.Base)
	_, uc := startDeviceFlow(t, off.Base, "tour off")
	ob.signIn(uc)
	_, raw = ob.get(off.Base + "/openapi/v1/oauth/device/approval-context")
	resp, body := ob.approve(jsonField(t, raw, "csrf_token"), uc)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("approve-external with ENABLE_OAUTH_BEARER=false: %d %v, want 503 with Retry-After", resp.StatusCode, body)
	}

	noAPI := maps.Clone(vars)
	delete(noAPI, "CONSOLE_API_URL")
	na := startInstance(t, noAPI)
	_, uc = startDeviceFlow(t, na.Base, "tour no api")
	nb := newSSOBrowser(t, na.Base)
	if resp, body := nb.get(na.Base + "/openapi/v1/oauth/device/sso-initiate?user_code=" + uc); resp.StatusCode != 502 || code(body) != "console_api_url_unset" {
		t.Errorf("sso-initiate without CONSOLE_API_URL: %d %s, want 502 console_api_url_unset", resp.StatusCode, body)
	}
}
