package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signInStatus posts one console sign-in and returns the status and body.
func signInStatus(t *testing.T, base, email, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Post(base+"/console/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRateLimitOutagePolicy: with Redis down and the database up, the bearer
// routes keep answering (the bearer and /me buckets fail open to this
// instance's own limiter, whose limit still holds: a canonical 429 with
// Retry-After), while sign-in, user-code lookup, approve/deny and device
// code answer 503 (their buckets fail closed). Bearer routes used to answer
// 503 too. When Redis returns, the shared limiter decides again.
func TestRateLimitOutagePolicy(t *testing.T) {
	rp := startRedisProcess(t)
	vars := map[string]string{"DATABASE_URL": postgresSchema(t), "REDIS_URL": "redis://" + rp.addr() + "/0",
		"SECRET_KEY": "outage-policy-secret-key-0123456789", "OPENAPI_RATE_LIMIT_PER_TOKEN": "5"}
	if err := run(t.Context(), []string{"migrate"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	createAccount(t, vars, "grace@example.com", "correct horse battery", "Compilers")
	in := startInstance(t, vars)
	api := in.Base + "/openapi/v1"

	var flow, tok map[string]any
	if code := postForm(t, api+"/oauth/device/code", url.Values{"client_id": {"difyctl"}}, &flow); code != 200 {
		t.Fatalf("device code: %d", code)
	}
	br := newBrowser(t, in.Base)
	br.login("grace@example.com", "correct horse battery")
	if c := br.decide(flow["user_code"].(string), true); c != 200 {
		t.Fatalf("approve: %d", c)
	}
	poll := url.Values{"client_id": {"difyctl"}, "device_code": {flow["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
	if code := postForm(t, api+"/oauth/device/token", poll, &tok); code != 200 {
		t.Fatalf("poll: %d %v", code, tok)
	}
	token := tok["access_token"].(string)

	rp.stop()
	for i, path := range []string{"/me", "/oauth/authorizations", "/me", "/oauth/authorizations", "/me"} {
		if code, _, body, _ := answer(t, "GET", api+path, token, nil); code != 200 {
			t.Fatalf("bearer request %d (%s) with Redis down: %d %s", i+1, path, code, body)
		}
	}
	code, retry, body, _ := answer(t, "GET", api+"/oauth/authorizations", token, nil)
	if code != 429 || retry == "" || retry == "0" || !strings.Contains(body, `"code":"rate_limited"`) || !strings.Contains(body, `"status":429`) {
		t.Fatalf("6th bearer request (limit 5) with Redis down: %d Retry-After=%q %s", code, retry, body)
	}

	code, body = signInStatus(t, in.Base, "grace@example.com", "correct horse battery")
	if code != 503 || !strings.Contains(body, `"status":503`) {
		t.Fatalf("sign-in with Redis down: %d %s, want 503 (fail closed)", code, body)
	}
	code, retry, body, took := answer(t, "GET", api+"/oauth/device/lookup?user_code=ABCD-EFGH", "", nil)
	expect503(t, "lookup", code, retry, body, took)
	code, retry, body, took = answer(t, "POST", api+"/oauth/device/code", "", url.Values{"client_id": {"difyctl"}})
	expect503(t, "device code", code, retry, body, took)
	if c := br.decide("ABCD-EFGH", false); c != 503 {
		t.Fatalf("deny with Redis down: %d, want 503 (fail closed)", c)
	}

	rp.start() // with the data it saved on the way down
	eventually(t, 15*time.Second, "sign-in after Redis returns", func() bool {
		code, _ := signInStatus(t, in.Base, "grace@example.com", "correct horse battery")
		return code == 200
	})
	eventually(t, 15*time.Second, "bearer on the shared limiter after Redis returns", func() bool {
		code, _, _, _ := answer(t, "GET", api+"/me", token, nil)
		return code == 200
	})
}
