package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestLookupDetailsOnlyForASession: with a valid console session, a pending
// lookup adds when the request was made and the coarse networks of the
// request and of the approver (SPEC 8); an anonymous caller, a bogus cookie
// and a non-pending code get SPEC 2.4's answer, and no answer holds an address.
func TestLookupDetailsOnlyForASession(t *testing.T) {
	s := newTestServer(t)
	created := s.clock.Now()
	_, uc := s.startFlow(fromRemote("203.0.113.77:5000"))
	s.clock.Advance(2 * time.Minute)
	path := "/openapi/v1/oauth/device/lookup?user_code=" + url.QueryEscape(uc)

	anon := wantStatus(t, s.get(path, fromRemote("198.51.100.9:1")), http.StatusOK)
	if len(anon) != 4 || anon["valid"] != true {
		t.Fatalf("anonymous pending lookup = %v, want SPEC 2.4's four fields", anon)
	}
	bogus := wantStatus(t, s.get(path, withCookies(&http.Cookie{Name: "devicegate_session", Value: "forged"})), http.StatusOK)
	if len(bogus) != 4 {
		t.Fatalf("forged-session lookup = %v, want SPEC 2.4's four fields", bogus)
	}

	l := s.login("alice@example.com")
	m := wantStatus(t, s.get(path, withCookies(l.cookies()...), fromRemote("198.51.100.9:1")), http.StatusOK)
	wantEqual(t, "created_at", m["created_at"], created.UTC().Format(time.RFC3339))
	wantEqual(t, "request_network", m["request_network"], "203.0.113.0/24")
	wantEqual(t, "approver_network", m["approver_network"], "198.51.100.0/24")
	wantEqual(t, "device_label", m["device_label"], "difyctl device")
	wantEqual(t, "fields", len(m), 7)

	v6 := wantStatus(t, s.get(path, withCookies(l.cookies()...), fromRemote("[2001:db8:abcd:12::1]:1")), http.StatusOK)
	wantEqual(t, "approver_network v6", v6["approver_network"], "2001:db8:abcd::/48")

	wantStatus(t, s.decide("deny", uc, l), http.StatusOK)
	done := wantStatus(t, s.get(path, withCookies(l.cookies()...)), http.StatusOK)
	if len(done) != 3 || done["valid"] != false {
		t.Fatalf("resolved lookup with a session = %v, want the three-field answer", done)
	}
}
