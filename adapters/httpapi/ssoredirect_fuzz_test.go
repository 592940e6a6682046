package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/ports/porttest"
)

const fuzzSSOKey = "fuzz-sso-secret-key-0123456789"

// relayedUserCode is the only user_code shape sso-complete passes on (SPEC 2.6).
var relayedUserCode = regexp.MustCompile(`^[A-Z0-9-]{1,16}$`)

// FuzzSSOCompleteRedirect drives GET sso-complete with arbitrary query
// strings, on a deployment whose page shares the API's origin and on one
// where it does not. Whatever the query: a 302 with no body to the /device
// page of PUBLIC_WEB_URL (a path, never "//host", when same-origin; else
// exactly PUBLIC_WEB_URL's scheme and host), no fragment, and only the
// sanitised parameters: sso_verified=1 alone (and then the grant cookie), or
// sso_error from the two relayed codes with at most a user_code of the
// relayed shape.
func FuzzSSOCompleteRedirect(f *testing.F) {
	same := newTestServer(f, func(s *setup) { s.ssoKey = fuzzSSOKey })
	cross := newTestServer(f, func(s *setup) { s.ssoKey, s.ssoAPIURL = fuzzSSOKey, "https://api.devicegate.example" })
	for _, s := range []*testServer{same, cross} {
		_, userCode := s.startFlow()
		ok := porttest.ForgeAssertion(f, fuzzSSOKey, "ext@corp.example", "https://idp", userCode, "fuzz-nonce", s.clock.Now())
		f.Add("sso_assertion="+url.QueryEscape(ok), s == cross)
		f.Add("sso_error=email_belongs_to_dify_account&user_code="+userCode, s == cross)
	}
	for _, q := range []string{"", "sso_error=x&user_code=%2F%2Fevil.example", "sso_error=sso_failed&sso_verified=1",
		"sso_assertion=a.b.c&return_to=https://evil.example", "user_code=ABCD-EFGH&sso_error=sso_failed%0d%0aLocation:x",
		"sso_error=sso_failed&user_code=ABCD-EFGH&user_code=//x", "%zz", "sso_error=sso_failed&user_code=ABCD-EFGH%23frag"} {
		f.Add(q, false)
		f.Add(q, true)
	}
	web, _ := url.Parse(testWebURL)
	f.Fuzz(func(t *testing.T, rawQuery string, crossOrigin bool) {
		s := same
		if crossOrigin {
			s = cross
		}
		hr := httptest.NewRequest(http.MethodGet, "/openapi/v1/oauth/device/sso-complete", nil)
		hr.URL.RawQuery = rawQuery
		hr.RemoteAddr = testRemote
		rec := httptest.NewRecorder()
		s.e.ServeHTTP(rec, hr)
		if rec.Code != http.StatusFound || strings.Contains(rec.Body.String(), `"code"`) {
			t.Fatalf("?%s: %d %s, want a bare 302", rawQuery, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		u, err := url.Parse(loc)
		if err != nil || u.Path != "/device" || u.Fragment != "" || u.User != nil || strings.ContainsAny(loc, "\r\n#") {
			t.Fatalf("?%s: Location %q is not the /device page", rawQuery, loc)
		}
		if crossOrigin && (u.Scheme != web.Scheme || u.Host != web.Host) {
			t.Fatalf("?%s: Location %q leaves PUBLIC_WEB_URL", rawQuery, loc)
		}
		if !crossOrigin && (u.Scheme != "" || u.Host != "" || !strings.HasPrefix(loc, "/device")) {
			t.Fatalf("?%s: Location %q is not a same-origin path", rawQuery, loc)
		}
		checkSanitisedQuery(t, rawQuery, u.Query(), grantSet(rec))
	})
}

// checkSanitisedQuery fails t unless q is one of sso-complete's outcomes.
func checkSanitisedQuery(t *testing.T, rawQuery string, q url.Values, grant bool) {
	t.Helper()
	for k, vs := range q {
		if len(vs) != 1 || k != "sso_error" && k != "sso_verified" && k != "user_code" {
			t.Fatalf("?%s: parameter %s=%q passed on", rawQuery, k, vs)
		}
	}
	switch {
	case q.Has("sso_verified"):
		if len(q) != 1 || q.Get("sso_verified") != "1" || !grant {
			t.Fatalf("?%s: success query %v, grant cookie %v", rawQuery, q, grant)
		}
	case q.Get("sso_error") == "sso_failed" || q.Get("sso_error") == "email_belongs_to_dify_account":
		if grant || q.Has("user_code") && !relayedUserCode.MatchString(q.Get("user_code")) {
			t.Fatalf("?%s: failure query %v, grant cookie %v", rawQuery, q, grant)
		}
	default:
		t.Fatalf("?%s: query %v is no sso-complete outcome", rawQuery, q)
	}
}

// grantSet reports whether rec sets (not clears) the approval-grant cookie.
func grantSet(rec *httptest.ResponseRecorder) bool {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "device_approval_grant" && c.Value != "" && c.MaxAge > 0 {
			return true
		}
	}
	return false
}
