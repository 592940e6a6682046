package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/devicegate/devicegate/domain"
)

// consoleLogin is a signed-in browser: its two cookies and the CSRF token.
type consoleLogin struct {
	session, csrfCookie *http.Cookie
	csrf                string
}

// cookies returns both console cookies.
func (l consoleLogin) cookies() []*http.Cookie { return []*http.Cookie{l.session, l.csrfCookie} }

// startFlow runs POST /oauth/device/code for the test client.
func (s *testServer) startFlow(mods ...func(*req)) (deviceCode, userCode string) {
	s.t.Helper()
	m := wantStatus(s.t, s.postJSON("/openapi/v1/oauth/device/code", map[string]string{"client_id": testClient}, mods...), http.StatusOK)
	return m["device_code"].(string), m["user_code"].(string)
}

// login signs email in through the console API.
func (s *testServer) login(email string) consoleLogin {
	s.t.Helper()
	rec := s.postJSON("/console/api/login", map[string]string{"email": email, "password": testPassword})
	m := wantStatus(s.t, rec, http.StatusOK)
	var l consoleLogin
	for _, c := range rec.Result().Cookies() {
		switch c.Name {
		case "devicegate_session":
			l.session = &http.Cookie{Name: c.Name, Value: c.Value}
		case "csrf_token":
			l.csrfCookie = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	l.csrf, _ = m["csrf_token"].(string)
	if l.session == nil || l.csrfCookie == nil || l.csrf == "" || l.csrf != l.csrfCookie.Value {
		s.t.Fatalf("login did not set both cookies and the csrf token: %v", rec.Header())
	}
	return l
}

// decide posts approve or deny for userCode as l.
func (s *testServer) decide(action, userCode string, l consoleLogin) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.postJSON("/openapi/v1/oauth/device/"+action, map[string]string{"user_code": userCode},
		withCookies(l.cookies()...), withHeader("X-CSRF-Token", l.csrf))
}

// poll posts one poll.
func (s *testServer) poll(deviceCode, clientID string, mods ...func(*req)) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.postJSON("/openapi/v1/oauth/device/token", map[string]string{
		"device_code": deviceCode, "client_id": clientID, "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
	}, mods...)
}

// issueToken runs the whole account flow for email and returns the 200 poll body.
func (s *testServer) issueToken(email string) map[string]any {
	s.t.Helper()
	dc, uc := s.startFlow()
	wantStatus(s.t, s.decide("approve", uc, s.login(email)), http.StatusOK)
	rec := s.poll(dc, testClient)
	return wantStatus(s.t, rec, http.StatusOK)
}

// token runs the account flow and returns only the access token.
func (s *testServer) token(email string) string {
	s.t.Helper()
	return s.issueToken(email)["access_token"].(string)
}

// lookup calls GET /oauth/device/lookup with a raw user_code.
func (s *testServer) lookup(raw string) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.get("/openapi/v1/oauth/device/lookup?user_code=" + url.QueryEscape(raw))
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v (%T), want %v (%T)", what, got, got, want, want)
	}
}

// externalToken mints an external-SSO token directly, as the SSO branch would.
func (s *testServer) externalToken(email, issuer string) string {
	s.t.Helper()
	m, err := s.minter.Mint(context.Background(), domain.Subject{Type: domain.SubjectExternalSSO, Email: email, Issuer: issuer},
		testClient, "external device")
	if err != nil {
		s.t.Fatalf("mint external token: %v", err)
	}
	return m.Token
}

// basic encodes HTTP Basic credentials.
func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
