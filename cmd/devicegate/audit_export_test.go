package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/domain"
)

// otlpReceiver plays an OpenTelemetry collector's OTLP/HTTP logs endpoint
// and keeps every request body it receives.
type otlpReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		raw, _ := io.ReadAll(body)
		r.mu.Lock()
		r.bodies = append(r.bodies, raw)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(200)
	}))
	t.Cleanup(r.Close)
	return r
}

// events decodes every export and returns the records' event names (with
// their event attribute and body, which must agree) and the raw bytes.
func (r *otlpReceiver) events(t *testing.T) ([]string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	var all []byte
	for _, b := range r.bodies {
		all = append(all, b...)
		var req collogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			t.Fatalf("an export is not an OTLP logs request: %v", err)
		}
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, lr := range sl.GetLogRecords() {
					attrs := map[string]string{}
					for _, kv := range lr.GetAttributes() {
						attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
					}
					if attrs["event"] != lr.GetEventName() || lr.GetBody().GetStringValue() != "audit "+lr.GetEventName() {
						t.Errorf("record event name %q, attribute %q, body %q disagree", lr.GetEventName(), attrs["event"], lr.GetBody())
					}
					names = append(names, lr.GetEventName())
				}
			}
		}
	}
	return names, all
}

// mintExpired writes a token row that expired a minute ago and returns the token.
func mintExpired(t *testing.T, databaseURL, email string) string {
	t.Helper()
	ctx := context.Background()
	db, err := gormrepo.Open(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct, _, err := db.PasswordHashByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := domain.AccountTokenKind.NewToken(rand.Reader)
	id, _ := domain.NewUUID(rand.Reader)
	now := time.Now().UTC()
	if _, err := db.Mint(ctx, domain.AccessToken{ID: id, SubjectEmail: email, SubjectIssuer: domain.AccountIssuer,
		AccountID: acct.ID, ClientID: "difyctl", DeviceLabel: "expired", Prefix: domain.AccountTokenKind.Prefix,
		TokenHash: domain.HashSecret(tok), CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAuditExportCarriesNoSecret runs AUDIT_SINK=both against a local OTLP
// receiver, drives the flow outcomes (account approve and rotation, deny,
// flow expiry, hard token expiry, revoke, SSO approval and rejection, and
// failures: bad password, bad CSRF, replaced token, wrong client), and
// proves every audit event reached both sinks under its unchanged name
// while no device code, user code, token, token hash, cookie, CSRF token,
// assertion or password appears in any log line or exported record.
func TestAuditExportCarriesNoSecret(t *testing.T) {
	recv := newOTLPReceiver(t)
	ent := newEnterprise(t)
	vars := ssoVars(sqliteVars(t), ent)
	vars["AUDIT_SINK"] = "both"
	vars["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] = recv.URL + "/v1/logs"
	const password = "correct horse battery"
	createAccount(t, vars, "mia@example.com", password, "Audit")
	in := startInstance(t, vars)
	api := in.Base + "/openapi/v1"
	var secrets []string
	keep := func(s ...string) {
		for _, v := range s {
			if v == "" {
				t.Fatal("test bug: an empty secret")
			}
			secrets = append(secrets, v)
		}
	}
	keepToken := func(tok string) { keep(tok, domain.HashSecret(tok)) }
	keep(password)

	// Account approval, then the same device again: a rotation.
	first := signInDevice(t, in.Base, "mia@example.com", password, "audit laptop")
	second := signInDevice(t, in.Base, "mia@example.com", password, "audit laptop")
	keepToken(first)
	keepToken(second)
	// Deny.
	device, user := startDeviceFlow(t, in.Base, "denied laptop")
	keep(device, user, strings.ReplaceAll(user, "-", ""))
	br := newBrowser(t, in.Base)
	br.login("mia@example.com", password)
	u, _ := url.Parse(in.Base)
	for _, c := range br.client.Jar.Cookies(u) {
		keep(c.Value) // the session cookie and the CSRF cookie
	}
	if code := br.decide(user, false); code != 200 {
		t.Fatalf("deny: %d", code)
	}
	poll := url.Values{"client_id": {"difyctl"}, "device_code": {device}, "grant_type": {domain.GrantTypeDevice}}
	postForm(t, api+"/oauth/device/token", poll, nil)
	// Failures: wrong client, unknown (expired) flow, bad password, bad CSRF, a replaced token.
	poll.Set("client_id", "other")
	postForm(t, api+"/oauth/device/token", poll, nil)
	postForm(t, api+"/oauth/device/token", url.Values{"client_id": {"difyctl"}, "device_code": {"dc_" + strings.Repeat("Z", 43)},
		"grant_type": {domain.GrantTypeDevice}}, nil)
	keep("dc_" + strings.Repeat("Z", 43))
	bad := newBrowser(t, in.Base)
	body, _ := json.Marshal(map[string]string{"email": "mia@example.com", "password": "wrong password 123"})
	if resp, err := bad.client.Post(in.Base+"/console/api/login", "application/json", bytes.NewReader(body)); err == nil {
		resp.Body.Close()
	}
	keep("wrong password 123")
	req, _ := http.NewRequest(http.MethodPost, api+"/oauth/device/approve", strings.NewReader("user_code="+user))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", "forged-csrf-token-value")
	if resp, err := br.client.Do(req); err == nil {
		resp.Body.Close()
	}
	keep("forged-csrf-token-value")
	if code := getJSON(t, api+"/me", first, nil); code != 401 {
		t.Fatalf("/me with a rotated-away token: %d", code)
	}
	// Hard expiry, then revoke.
	expired := mintExpired(t, vars["DATABASE_URL"], "mia@example.com")
	keepToken(expired)
	if code := getJSON(t, api+"/me", expired, nil); code != 401 {
		t.Fatalf("/me with an expired token: %d", code)
	}
	revoke, _ := http.NewRequest(http.MethodDelete, api+"/oauth/authorizations/self", nil)
	revoke.Header.Set("Authorization", "Bearer "+second)
	if resp, err := http.DefaultClient.Do(revoke); err != nil || resp.StatusCode != 200 {
		t.Fatalf("self-revoke: %v", err)
	} else {
		resp.Body.Close()
	}

	// SSO: an external approval and poll, then a rejection (the email is an account's).
	ent.set("ext@corp.example", "")
	device, user = startDeviceFlow(t, in.Base, "sso laptop")
	keep(device, user)
	b := newSSOBrowser(t, in.Base)
	if loc := b.signIn(user); loc != "/device?sso_verified=1" {
		t.Fatalf("sso-complete: %q", loc)
	}
	keep(b.grantCookie(), ent.lastAssertion())
	_, ctxBody := b.get(api + "/oauth/device/approval-context")
	var actx map[string]string
	_ = json.Unmarshal(ctxBody, &actx)
	keep(actx["csrf_token"])
	if resp, out := b.approve(actx["csrf_token"], user); resp.StatusCode != 200 {
		t.Fatalf("approve-external: %d %v", resp.StatusCode, out)
	}
	var tok map[string]any
	poll = url.Values{"client_id": {"difyctl"}, "device_code": {device}, "grant_type": {domain.GrantTypeDevice}}
	if code := postForm(t, api+"/oauth/device/token", poll, &tok); code != 200 {
		t.Fatalf("SSO poll: %d %v", code, tok)
	}
	keepToken(tok["access_token"].(string))
	ent.set("mia@example.com", "")
	_, user = startDeviceFlow(t, in.Base, "rejected laptop")
	keep(user)
	rb := newSSOBrowser(t, in.Base)
	rb.signIn(user)
	keep(ent.lastAssertion())

	if err := in.app.Stop(t.Context()); err != nil { // flushes the batched exports
		t.Fatal(err)
	}
	names, exported := recv.events(t)
	logs := in.logs.String()
	for _, ev := range []string{domain.EventFlowApproved, domain.EventFlowDenied, domain.EventFlowRejected,
		domain.EventTokenIssued, domain.EventTokenExpired, domain.EventTokenRevoked} {
		n := 0
		for _, got := range names {
			if got == ev {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no exported record for %s (exported %v)", ev, names)
		}
		if c := strings.Count(logs, `"event":"`+ev+`"`); c != n {
			t.Errorf("%s: %d log lines but %d exported records: both sinks get every event", ev, c, n)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a log line contains the secret %q", s)
		}
		if bytes.Contains(exported, []byte(s)) {
			t.Errorf("an exported record contains the secret %q", s)
		}
	}
}
