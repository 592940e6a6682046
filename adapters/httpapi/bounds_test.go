package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/adapters/httpapi"
)

// TestRequestBounds: a query string over MaxQueryBytes is 414 and Cookie
// headers over MaxCookieBytes are 431, both canonical, on every kind of
// route, while requests at exactly the bounds are served.
func TestRequestBounds(t *testing.T) {
	s := newTestServer(t)
	const lookupPath = "/openapi/v1/oauth/device/lookup"
	// A user code padded with spaces (normalisation drops them) to an exact query length.
	query := func(n int) string {
		q := "user_code=ABCD-EFGH"
		return q + strings.Repeat("+", n-len(q))
	}
	rec := wantStatus(t, s.serve(req{method: http.MethodGet, path: lookupPath + "?" + query(httpapi.MaxQueryBytes)}), 200)
	if rec["valid"] != false {
		t.Errorf("lookup at the query bound: %v", rec)
	}
	wantCanonical(t, s.serve(req{method: http.MethodGet, path: lookupPath + "?" + query(httpapi.MaxQueryBytes+1)}), 414, "uri_too_long")
	wantCanonical(t, s.serve(req{method: http.MethodGet, path: "/healthz?" + strings.Repeat("a", httpapi.MaxQueryBytes+1)}), 414, "uri_too_long")

	// Cookie headers: "pad=" + value, one header or several, counted together.
	cookie := func(n int) string { return "pad=" + strings.Repeat("x", n-len("pad=")) }
	withCookies := func(path string, cs ...string) req {
		return req{method: http.MethodGet, path: path, header: http.Header{"Cookie": cs}}
	}
	wantStatus(t, s.serve(withCookies(lookupPath+"?user_code=ABCD-EFGH", cookie(httpapi.MaxCookieBytes))), 200)
	for _, path := range []string{lookupPath + "?user_code=ABCD-EFGH", "/healthz", "/console/api/me"} {
		wantCanonical(t, s.serve(withCookies(path, cookie(httpapi.MaxCookieBytes+1))), 431, "request_header_fields_too_large")
		half := httpapi.MaxCookieBytes / 2
		wantCanonical(t, s.serve(withCookies(path, cookie(half), cookie(half+1))), 431, "request_header_fields_too_large")
	}
}
