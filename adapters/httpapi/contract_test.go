package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/docs"
	"github.com/devicegate/devicegate/docs/contracttest"
	"github.com/labstack/echo/v4"
)

// allRoutes builds the router with every use case present (the zero values
// are never called: only the route table is read), so every route the
// service can serve under /openapi/v1 is registered.
func allRoutes() *echo.Echo {
	return httpapi.New(httpapi.Config{PublicWebURL: testWebURL, OpenAPIEnabled: true, OpenAPIDocument: docs.OpenAPI},
		httpapi.Handlers{StartFlow: &app.StartFlow{}, Poll: &app.Poll{}, Lookup: &app.Lookup{}, Decide: &app.Decide{},
			Console: &app.Console{}, Auth: &app.Authenticator{}, Sessions: &app.Sessions{}, Me: &app.Me{},
			Introspect: &app.Introspect{}, SSO: &app.SSO{}})
}

// TestContractCoversEveryRoute: every (method, path) registered under
// /openapi/v1 is an operation of docs/openapi.yaml and every operation is a
// registered route (cmd/devicegate checks the assembled graph the same way).
func TestContractCoversEveryRoute(t *testing.T) {
	doc, err := contracttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	var routes []contracttest.Route
	for _, r := range allRoutes().Routes() {
		if r.Method != echo.RouteNotFound {
			routes = append(routes, contracttest.Route{Method: r.Method, Path: r.Path})
		}
	}
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered; the route walk is broken", len(routes))
	}
	for _, p := range contracttest.CompareRoutes(doc, routes) {
		t.Error(p)
	}
}

// TestContractDocumentServed: GET /openapi/v1/openapi.yaml answers the
// embedded document; with OPENAPI_ENABLED=false it is a 404 like every
// other /openapi/v1 path.
func TestContractDocumentServed(t *testing.T) {
	s := newTestServer(t, func(st *setup) { st.cfg.OpenAPIDocument = docs.OpenAPI })
	rec := s.serve(req{method: http.MethodGet, path: "/openapi/v1/openapi.yaml"})
	wantEqual(t, "status", rec.Code, http.StatusOK)
	wantEqual(t, "content type", rec.Header().Get("Content-Type"), "application/yaml")
	wantEqual(t, "body", rec.Body.String(), string(docs.OpenAPI))

	off := newTestServer(t, func(st *setup) { st.cfg.OpenAPIDocument, st.cfg.OpenAPIEnabled = docs.OpenAPI, false })
	rec = off.serve(req{method: http.MethodGet, path: "/openapi/v1/openapi.yaml"})
	wantEqual(t, "status when disabled", rec.Code, http.StatusNotFound)
}

// TestContractRejectsUndocumentedResponses proves the checker every
// response of this suite goes through can fail: a served answer with a
// status, body or header the document does not allow is reported.
func TestContractRejectsUndocumentedResponses(t *testing.T) {
	post := httptest.NewRequest(http.MethodPost, "/openapi/v1/oauth/device/token", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	for name, c := range map[string]struct {
		r      *http.Request
		status int
		header http.Header
		body   string
	}{
		"undocumented code":     {post, 400, json, `{"error":"not_a_code"}`},
		"code of another route": {post, 400, json, `{"error":"unsupported_client"}`},
		"wrong shape":           {post, 400, json, `{"code":"slow_down","message":"x","status":400}`},
		"undocumented status":   {post, 418, json, `{"error":"invalid_request"}`},
		"429 without Retry-After": {httptest.NewRequest(http.MethodGet, "/openapi/v1/oauth/device/lookup?user_code=x", nil),
			429, json, `{"code":"rate_limited","message":"x","status":429}`},
		"missing field": {httptest.NewRequest(http.MethodGet, "/openapi/v1/oauth/device/lookup?user_code=x", nil),
			200, json, `{"valid":true}`},
		"undocumented path": {httptest.NewRequest(http.MethodGet, "/openapi/v1/nope", nil), 200, json, `{}`},
	} {
		if err := contracttest.Check(c.r, c.status, c.header, []byte(c.body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	if err := contracttest.Check(post, 400, ok, []byte(`{"error":"slow_down","error_description":"x"}`)); err != nil {
		t.Errorf("a documented answer was refused: %v", err)
	}
}
