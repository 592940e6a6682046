package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/devicegate/devicegate/domain"
)

// These tests show that a setting read from the environment reaches the
// service through the real fx graph: each one changes behaviour at the edge.

// getStatus does a GET with optional bearer token and X-Forwarded-For and
// returns the status and Retry-After.
func getStatus(t *testing.T, u, token, xff string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestRateLimitPerTokenReachesTheService: OPENAPI_RATE_LIMIT_PER_TOKEN=2
// makes the third bearer call of a minute a 429 (the default allows 60).
func TestRateLimitPerTokenReachesTheService(t *testing.T) {
	vars := sqliteVars(t)
	vars["OPENAPI_RATE_LIMIT_PER_TOKEN"] = "2"
	createAccount(t, vars, "grace@example.com", "correct horse battery", "Compilers")
	in := startInstance(t, vars)
	tok := deviceToken(t, in.Base, "grace@example.com", "correct horse battery")
	list := in.Base + "/openapi/v1/oauth/authorizations"
	for i := 1; i <= 2; i++ {
		if code, _ := getStatus(t, list, tok, ""); code != 200 {
			t.Fatalf("bearer call %d: %d, want 200", i, code)
		}
	}
	if code, retry := getStatus(t, list, tok, ""); code != 429 || retry == "" {
		t.Fatalf("third bearer call with OPENAPI_RATE_LIMIT_PER_TOKEN=2: %d Retry-After=%q, want 429", code, retry)
	}
}

// TestApproveLimitReachesTheService: DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR=1
// lets a session decide once an hour; its second decision (a deny, which
// shares the bucket) is a 429 (the default allows 10).
func TestApproveLimitReachesTheService(t *testing.T) {
	vars := sqliteVars(t)
	vars["DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR"] = "1"
	createAccount(t, vars, "grace@example.com", "correct horse battery", "Compilers")
	in := startInstance(t, vars)
	userCode := func() string {
		var dc map[string]any
		if code := postForm(t, in.Base+"/openapi/v1/oauth/device/code", url.Values{"client_id": {"difyctl"}}, &dc); code != 200 {
			t.Fatalf("device code: %d", code)
		}
		return dc["user_code"].(string)
	}
	first, second := userCode(), userCode()
	b := newBrowser(t, in.Base)
	b.login("grace@example.com", "correct horse battery")
	if code := b.decide(first, true); code != 200 {
		t.Fatalf("first approve: %d", code)
	}
	if code := b.decide(second, false); code != 429 {
		t.Fatalf("second decision with DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR=1: %d, want 429", code)
	}
}

// TestTrustedProxiesReachTheService: with TRUSTED_PROXIES naming the test's
// loopback peer (written IPv4-mapped, as a dual-stack operator might), the
// per-IP lookup limit keys on X-Forwarded-For, so one client's exhausted
// budget leaves another's whole; unset, the header is ignored and every
// request shares the socket address's budget.
func TestTrustedProxiesReachTheService(t *testing.T) {
	limit := domain.BucketLookup.Limit
	exhaust := func(base string) {
		t.Helper()
		lookup := base + "/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH"
		for i := 1; i <= limit; i++ {
			if code, _ := getStatus(t, lookup, "", "198.51.100.1"); code != 200 {
				t.Fatalf("lookup %d of %d: %d", i, limit, code)
			}
		}
		if code, _ := getStatus(t, lookup, "", "198.51.100.1"); code != 429 {
			t.Fatalf("lookup %d from one client: %d, want 429", limit+1, code)
		}
	}
	lookupFrom := func(base, xff string) int {
		code, _ := getStatus(t, base+"/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH", "", xff)
		return code
	}

	trusted := sqliteVars(t)
	trusted["TRUSTED_PROXIES"] = "::ffff:127.0.0.1"
	in := startInstance(t, trusted)
	exhaust(in.Base)
	if code := lookupFrom(in.Base, "198.51.100.2"); code != 200 {
		t.Fatalf("another client behind the trusted proxy: %d, want 200 (its own budget)", code)
	}

	untrusted := startInstance(t, sqliteVars(t))
	exhaust(untrusted.Base)
	if code := lookupFrom(untrusted.Base, "198.51.100.2"); code != 429 {
		t.Fatalf("without TRUSTED_PROXIES a forged X-Forwarded-For bought a fresh budget: %d, want 429", code)
	}
}
