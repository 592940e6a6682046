package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// offboardSecret is the introspection secret of the offboarding tests.
const offboardSecret = "offboard-introspection-secret"

// offboardBackend is one deployment shape: the embedded default, whose
// memory cache a CLI process cannot reach, or Postgres + Redis, whose shared
// cache it can.
type offboardBackend struct {
	name   string
	shared bool // the token cache is shared (Redis): revocation is seen at once
	vars   func(t *testing.T) map[string]string
}

func offboardBackends() []offboardBackend {
	return []offboardBackend{
		{"sqlite+memory", false, func(t *testing.T) map[string]string { return sqliteVars(t) }},
		{"postgres+redis", true, func(t *testing.T) map[string]string { return postgresRedisVars(t) }},
	}
}

func offboardVars(t *testing.T, b offboardBackend) map[string]string {
	vars := b.vars(t)
	vars["SECRET_KEY"] = "offboard-test-secret-key-0123456789"
	vars["INTROSPECTION_SECRET"] = offboardSecret
	vars["OPENAPI_RATE_LIMIT_PER_TOKEN"] = "0" // the tests poll
	vars["LOG_FORMAT"] = "json"
	return vars
}

// cli runs one devicegate subcommand the way an operator does, next to the
// running server, and returns its stdout and its log (the audit events).
func cli(t *testing.T, vars map[string]string, args ...string) (string, string) {
	t.Helper()
	var out, log bytes.Buffer
	if err := run(context.Background(), args, testEnv(vars), &out, &log); err != nil {
		t.Fatalf("devicegate %s: %v\n%s", strings.Join(args, " "), err, log.String())
	}
	return out.String(), log.String()
}

// introspectActive asks the introspection endpoint about token.
func introspectActive(t *testing.T, base, token string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/openapi/v1/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+offboardSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil {
		t.Fatalf("introspect: %d", resp.StatusCode)
	}
	return body.Active
}

// refusedWithin is the bound on a revocation reaching a running server:
// at once with a shared cache; with the embedded memory cache, one poll of
// the revocation feed (app.RevocationPollEvery) with generous slack for a
// loaded machine, still well inside the minute a cached entry would otherwise live.
func refusedWithin(shared bool) time.Duration {
	if shared {
		return 0
	}
	return 20 * app.RevocationPollEvery
}

// wantRefused checks that every token is refused by the bearer routes and
// introspection, at once (bound 0) or polled within bound.
func wantRefused(t *testing.T, base string, bound time.Duration, tokens ...string) {
	t.Helper()
	refused := func() bool {
		for _, tok := range tokens {
			if getJSON(t, base+"/openapi/v1/oauth/authorizations", tok, nil) != 401 || introspectActive(t, base, tok) {
				return false
			}
		}
		return true
	}
	if bound == 0 {
		if !refused() {
			t.Fatal("a revoked token is still accepted right after the revocation")
		}
	} else {
		eventually(t, bound, "refusing the revoked tokens", refused)
	}
	for _, tok := range tokens {
		if code := getJSON(t, base+"/openapi/v1/me", tok, nil); code != 401 {
			t.Fatalf("/me with a revoked token: %d, want 401", code)
		}
	}
}

// auditActors returns the actor of every audit event named name in a JSON log.
func auditActors(log, name string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["audit"] == true && rec["event"] == name {
			a, _ := rec["actor"].(string)
			out = append(out, a)
		}
	}
	return out
}

// offboardPassword is every offboarding test account's password.
const offboardPassword = "correct horse battery"

// offboardServer starts one instance on b with an account for email, signs
// a "laptop" in, and warms the instance's cache with a positive entry for
// its token (one bearer call, one introspection).
func offboardServer(t *testing.T, b offboardBackend, email string) (map[string]string, *instance, string) {
	t.Helper()
	vars := offboardVars(t, b)
	createAccount(t, vars, email, offboardPassword, "Team of "+email)
	in := startInstance(t, vars)
	tok := signInDevice(t, in.Base, email, offboardPassword, "laptop")
	if code := getJSON(t, in.Base+"/openapi/v1/oauth/authorizations", tok, nil); code != 200 || !introspectActive(t, in.Base, tok) {
		t.Fatalf("fresh token: %d", code)
	}
	return vars, in, tok
}

func TestAccountsDisableEndsTokensAndSessionsEverywhere(t *testing.T) {
	for _, b := range offboardBackends() {
		t.Run(b.name, func(t *testing.T) {
			const email, pw = "ada@example.com", offboardPassword
			vars, in, tok := offboardServer(t, b, email)
			console := newBrowser(t, in.Base)
			console.login(email, pw)
			if code := getJSON(t, in.Base+"/console/api/account/profile", "", nil); code != 401 {
				t.Fatalf("profile without a session: %d", code)
			}

			out, log := cli(t, vars, "accounts", "disable", "--email", "ADA@Example.com")
			if !strings.Contains(out, "revoked 1 tokens, ended 2 console sessions") {
				t.Fatalf("disable said %q", out)
			}
			if got := auditActors(log, domain.EventTokenRevoked); len(got) != 1 || got[0] != domain.ActorOperator {
				t.Fatalf("token_revoked events of the CLI: actors %v, want [operator]", got)
			}
			wantRefused(t, in.Base, refusedWithin(b.shared), tok)
			resp, err := console.client.Get(in.Base + "/console/api/account/profile")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("console session after disable: %d, want 401", resp.StatusCode)
			}

			// A token minted in a race with the disable (its row committed
			// after the revoke) is refused on first use and revoked.
			raced := mintDirect(t, vars["DATABASE_URL"], email, domain.AccountIssuer, "raced laptop")
			if code := getJSON(t, in.Base+"/openapi/v1/oauth/authorizations", raced, nil); code != 401 || introspectActive(t, in.Base, raced) {
				t.Fatalf("raced token of a disabled account: %d", code)
			}
			if out, _ := cli(t, vars, "tokens", "list", "--email", email); !strings.Contains(out, "no live tokens") {
				t.Fatalf("the raced token is still live:\n%s", out)
			}
			if got := auditActors(in.logs.String(), domain.EventTokenRevoked); len(got) != 1 || got[0] != domain.ActorSystem {
				t.Fatalf("token_revoked events of the server: actors %v, want [system]", got)
			}

			if out, _ := cli(t, vars, "accounts", "enable", "--email", email); !strings.Contains(out, "enabled account ada@example.com") {
				t.Fatalf("enable said %q", out)
			}
			newBrowser(t, in.Base).login(email, pw)
			wantRefused(t, in.Base, 0, tok, raced)
		})
	}
}

func TestTokensRevokeReachesARunningServer(t *testing.T) {
	for _, b := range offboardBackends() {
		t.Run(b.name, func(t *testing.T) {
			vars := offboardVars(t, b)
			const email, pw = "grace@example.com", offboardPassword
			createAccount(t, vars, email, pw, "Compilers")
			createAccount(t, vars, "bystander@example.com", pw, "Compilers")
			in := startInstance(t, vars)
			laptop := signInDevice(t, in.Base, email, pw, "laptop")
			ci := signInDevice(t, in.Base, email, pw, "ci runner")
			other := signInDevice(t, in.Base, "bystander@example.com", pw, "laptop")
			// An external SSO identity with the same email is another person.
			const idp = "https://idp.example"
			ext := mintDirect(t, vars["DATABASE_URL"], email, idp, "sso laptop")
			for _, tok := range []string{laptop, ci, other, ext} {
				if code := getJSON(t, in.Base+"/openapi/v1/oauth/authorizations", tok, nil); code != 200 {
					t.Fatalf("fresh token: %d", code)
				}
			}
			out, _ := cli(t, vars, "tokens", "list", "--email", "Grace@example.com")
			if !strings.Contains(out, `"laptop"`) || !strings.Contains(out, `"ci runner"`) || strings.Count(out, "\n") != 3 {
				t.Fatalf("tokens list:\n%s", out)
			}

			out, log := cli(t, vars, "tokens", "revoke", "--email", "grace@example.com")
			if !strings.HasPrefix(out, "revoked 2 tokens") {
				t.Fatalf("tokens revoke said %q", out)
			}
			if got := auditActors(log, domain.EventTokenRevoked); len(got) != 2 || got[0] != domain.ActorOperator || got[1] != domain.ActorOperator {
				t.Fatalf("token_revoked events: actors %v, want two by the operator", got)
			}
			wantRefused(t, in.Base, refusedWithin(b.shared), laptop, ci)
			for _, tok := range []string{other, ext} {
				if code := getJSON(t, in.Base+"/openapi/v1/oauth/authorizations", tok, nil); code != 200 {
					t.Fatalf("another person's token after the revoke: %d, want 200", code)
				}
			}
			if out, _ := cli(t, vars, "tokens", "list", "--email", email, "--issuer", idp); !strings.Contains(out, `"sso laptop"`) {
				t.Fatalf("tokens list of the external identity:\n%s", out)
			}
			if out, _ := cli(t, vars, "tokens", "revoke", "--email", email, "--issuer", idp); !strings.HasPrefix(out, "revoked 1 tokens") {
				t.Fatalf("revoke of the external identity said %q", out)
			}
			wantRefused(t, in.Base, refusedWithin(b.shared), ext)
			if out, _ := cli(t, vars, "tokens", "revoke", "--email", "grace@example.com"); !strings.HasPrefix(out, "revoked 0 tokens") {
				t.Fatalf("second revoke said %q", out)
			}
			for _, args := range [][]string{
				{"tokens", "revoke"}, {"tokens", "revoke", "--issuer", "https://idp"},
				{"tokens", "revoke", "--email", email, "--id", "x"}, {"tokens", "purge"}, {"accounts", "disable"},
			} {
				var ue usageError
				if err := run(context.Background(), args, testEnv(vars), &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ue) {
					t.Errorf("devicegate %v: %v, want a usage error", args, err)
				}
			}
		})
	}
}

// signInDevice signs a device in through the device flow (code, console
// approval, one poll) and returns its access token.
func signInDevice(tb testing.TB, base, email, password, label string) string {
	tb.Helper()
	var dc map[string]any
	if code := postForm(tb, base+"/openapi/v1/oauth/device/code", url.Values{"client_id": {"difyctl"}, "device_label": {label}}, &dc); code != 200 {
		tb.Fatalf("device code: %d", code)
	}
	br := newBrowser(tb, base)
	br.login(email, password)
	if code := br.decide(dc["user_code"].(string), true); code != 200 {
		tb.Fatalf("approve: %d", code)
	}
	var tok map[string]any
	if code := postForm(tb, base+"/openapi/v1/oauth/device/token", url.Values{"client_id": {"difyctl"},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc["device_code"].(string)}}, &tok); code != 200 {
		tb.Fatalf("poll: %d %v", code, tok["error"])
	}
	return tok["access_token"].(string)
}

// mintDirect writes a live token row straight into the database and returns
// the token: for the account with email when issuer is the account sentinel
// (as a mint that committed after an account's tokens were revoked leaves
// it), else for the external SSO identity (email, issuer).
func mintDirect(t *testing.T, databaseURL, email, issuer, label string) string {
	t.Helper()
	ctx := context.Background()
	db, err := gormrepo.Open(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kind, accountID := domain.ExternalTokenKind, ""
	if issuer == domain.AccountIssuer {
		acct, _, err := db.PasswordHashByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		kind, accountID = domain.AccountTokenKind, acct.ID
	}
	tok, err := kind.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := domain.NewUUID(rand.Reader)
	now := time.Now().UTC()
	_, err = db.Mint(ctx, domain.AccessToken{ID: id, SubjectEmail: email, SubjectIssuer: issuer,
		AccountID: accountID, ClientID: "difyctl", DeviceLabel: label, Prefix: kind.Prefix,
		TokenHash: domain.HashSecret(tok), CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
