package main

import (
	"io"
	"net/url"
	"sync"
	"testing"
)

// TestScaleOutThreeInstances runs three service instances on one Postgres
// and one Redis and checks that they behave as one.
func TestScaleOutThreeInstances(t *testing.T) {
	dbURL := postgresSchema(t)
	rURL, prefix := redisURL(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": rURL, "REDIS_KEY_PREFIX": prefix,
		"SECRET_KEY": "scale-out-test-secret-key-0123456789", "OPENAPI_RATE_LIMIT_PER_TOKEN": "0"}
	if err := run(t.Context(), []string{"migrate"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	createAccount(t, vars, "grace@example.com", "correct horse battery", "Compilers")
	a, b, c := startInstance(t, vars), startInstance(t, vars), startInstance(t, vars)
	all := []*instance{a, b, c}

	signIn := func(label string) (string, string) {
		var dc struct{ DeviceCode, UserCode string }
		var raw map[string]any
		if code := postForm(t, a.Base+"/openapi/v1/oauth/device/code", url.Values{"client_id": {"difyctl"}, "device_label": {label}}, &raw); code != 200 {
			t.Fatalf("device code: %d", code)
		}
		dc.DeviceCode, dc.UserCode = raw["device_code"].(string), raw["user_code"].(string)
		br := newBrowser(t, b.Base) // approve through B
		br.login("grace@example.com", "correct horse battery")
		if code := br.decide(dc.UserCode, true); code != 200 {
			t.Fatalf("approve: %d", code)
		}
		// 200 concurrent polls spread over the three instances: exactly one token.
		var mu sync.Mutex
		var tokens []string
		var tokenID string
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(in *instance) {
				defer wg.Done()
				var body map[string]any
				code := postForm(t, in.Base+"/openapi/v1/oauth/device/token", url.Values{
					"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"difyctl"}, "device_code": {dc.DeviceCode}}, &body)
				if code == 200 {
					mu.Lock()
					tokens = append(tokens, body["access_token"].(string))
					tokenID = body["token_id"].(string)
					mu.Unlock()
				} else if code != 400 || (body["error"] != "slow_down" && body["error"] != "authorization_pending" && body["error"] != "expired_token") {
					t.Errorf("poll: %d %v", code, body)
				}
			}(all[i%3])
		}
		wg.Wait()
		if len(tokens) != 1 {
			t.Fatalf("%d polls received a token, want exactly 1", len(tokens))
		}
		return tokens[0], tokenID
	}

	tok, id := signIn("shared laptop")
	for _, in := range all {
		if code := getJSON(t, in.Base+"/openapi/v1/me", tok, nil); code != 200 {
			t.Fatalf("/me on %s: %d", in.Base, code)
		}
	}

	// Rotation through A (same device signs in again) kills the old token on B and C.
	tok2, id2 := signIn("shared laptop")
	if id2 != id {
		t.Fatalf("rotation must keep token_id: %s != %s", id2, id)
	}
	for _, in := range []*instance{b, c} {
		if code := getJSON(t, in.Base+"/openapi/v1/me", tok, nil); code != 401 {
			t.Fatalf("old token after rotation on %s: %d, want 401", in.Base, code)
		}
		if code := getJSON(t, in.Base+"/openapi/v1/me", tok2, nil); code != 200 {
			t.Fatalf("new token on %s: %d", in.Base, code)
		}
	}
	var list struct {
		Total int `json:"total"`
	}
	if code := getJSON(t, c.Base+"/openapi/v1/oauth/authorizations", tok2, &list); code != 200 || list.Total != 1 {
		t.Fatalf("one live row expected: %d total=%d", code, list.Total)
	}

	// Revocation through A is refused by B and C on their next request.
	if code := postForm(t, a.Base+"/openapi/v1/oauth/revoke", url.Values{"token": {tok2}}, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	for _, in := range []*instance{b, c} {
		if code := getJSON(t, in.Base+"/openapi/v1/me", tok2, nil); code != 401 {
			t.Fatalf("revoked token on %s: %d, want 401", in.Base, code)
		}
	}
}
