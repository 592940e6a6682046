package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/adapters/jwssigner"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/adapters/passwordhash"
	"github.com/devicegate/devicegate/adapters/slogaudit"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
	"github.com/labstack/echo/v4"
)

// Test fixtures.
const (
	testClient   = "difyctl"
	testWebURL   = "https://devicegate.example"
	testIssuer   = "https://auth.example"
	testSecret   = "introspection-secret-for-tests"
	testPassword = "correct horse battery"
	testRemote   = "192.0.2.1:40000"
)

// setup tweaks the graph before it is built.
type setup struct {
	cfg        httpapi.Config
	bearerOff  bool
	introspect string // secret; "" disables introspection
	pingers    []ports.Pinger
	pkce       map[string]bool // clients that must send a PKCE challenge
	// ssoKey, when set, wires the external-SSO branch (ungated, signing
	// with this key, CONSOLE_API_URL = cfg.PublicWebURL unless ssoAPIURL).
	ssoKey    string
	ssoAPIURL string
	// pollFlows wraps the flow store the poll use case sees (e.g. to slow it down).
	pollFlows func(ports.FlowPoller) ports.FlowPoller
}

// stepClock is a controllable ports.Clock.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// switchableAccounts lets a test disable an account (state_lost) without a
// directory API for it; everything else is the real SQL directory.
type switchableAccounts struct {
	ports.AccountDirectory
	mu       sync.Mutex
	disabled map[string]bool
}

func (s *switchableAccounts) Account(ctx context.Context, id string) (domain.Account, error) {
	a, err := s.AccountDirectory.Account(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.disabled[id] {
		a.Active = false
	}
	return a, err
}

func (s *switchableAccounts) disable(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[id] = true
}

// testServer is the real handler graph: memstore flows and rate limits,
// gormrepo on a temp SQLite file, the app use cases, and httpapi.New.
type testServer struct {
	t        testing.TB
	e        *echo.Echo
	clock    *stepClock
	logs     *lockedBuffer
	db       *gormrepo.DB
	accounts *switchableAccounts
	minter   *app.Minter
	auth     *app.Authenticator
	alice    domain.Account
	bob      domain.Account
}

func newTestServer(t testing.TB, opts ...func(*setup)) *testServer {
	t.Helper()
	st := setup{
		cfg: httpapi.Config{
			PublicWebURL: testWebURL, Issuer: testIssuer, OpenAPIEnabled: true, BearerEnabled: true,
		},
		introspect: testSecret,
	}
	for _, o := range opts {
		o(&st)
	}
	ctx := context.Background()
	db, err := gormrepo.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "devicegate.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := &stepClock{now: time.Now().UTC().Truncate(time.Second)}
	env := app.Env{Clock: clock, Audit: slogaudit.New(log), Logger: log}
	flows, limiter, cache := memstore.NewFlows(), memstore.NewRateLimiter(), memstore.NewTokenCache()
	kinds := domain.DefaultKinds()
	accounts := &switchableAccounts{AccountDirectory: db, disabled: map[string]bool{}}
	// The real argon2id hasher at its smallest cost, to keep the suite fast under -race.
	hasher := &passwordhash.Hasher{Params: passwordhash.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}

	var poller ports.FlowPoller = flows
	if st.pollFlows != nil {
		poller = st.pollFlows(flows)
	}
	minter := &app.Minter{Env: env, Tokens: db, Cache: cache, Kinds: kinds, TTL: 14 * 24 * time.Hour}
	auth := &app.Authenticator{Env: env, Kinds: kinds, Tokens: db, Expirer: db, Cache: cache, Limiter: limiter,
		Bucket: domain.BucketBearer, Touch: &app.LastUsed{Env: env, Tokens: db}, Enabled: !st.bearerOff}
	h := httpapi.Handlers{
		StartFlow: &app.StartFlow{Env: env, Flows: flows, Limiter: limiter,
			KnownClients: map[string]bool{testClient: true}, PKCERequired: st.pkce, PublicWebURL: testWebURL},
		Poll:   &app.Poll{Env: env, Flows: poller, Minter: minter},
		Lookup: &app.Lookup{Env: env, Flows: flows, Limiter: limiter},
		Decide: &app.Decide{Env: env, Flows: flows, Accounts: accounts, Limiter: limiter,
			BearerEnabled: !st.bearerOff, Bucket: domain.BucketDecision},
		Console:    &app.Console{Env: env, Admin: db, Accounts: accounts, Sessions: db, Hasher: hasher, Limiter: limiter},
		Auth:       auth,
		Sessions:   &app.Sessions{Env: env, Tokens: db, Cache: cache, Kinds: kinds},
		Me:         &app.Me{Env: env, Accounts: accounts, Limiter: limiter},
		Introspect: &app.Introspect{Auth: auth, Secret: st.introspect},
		Pingers:    append([]ports.Pinger{db}, st.pingers...),
		Logger:     log,
	}
	if st.ssoKey != "" {
		signer, err := jwssigner.New(st.ssoKey, "")
		if err != nil {
			t.Fatal(err)
		}
		apiURL := st.ssoAPIURL
		if apiURL == "" {
			apiURL = st.cfg.PublicWebURL
		}
		h.SSO = &app.SSO{Env: env, Flows: flows, Accounts: accounts, Limiter: limiter, Nonces: memstore.NewNonceStore(),
			Signer: signer, Ungated: true, BearerEnabled: !st.bearerOff, ConsoleAPIURL: apiURL}
	}
	st.cfg.BearerEnabled = !st.bearerOff
	s := &testServer{t: t, e: httpapi.New(st.cfg, h), clock: clock, logs: logs, db: db, accounts: accounts, minter: minter, auth: auth}
	create := &app.CreateAccount{Env: env, Admin: db, Hasher: hasher}
	s.alice = s.createAccount(create, "alice@example.com", "Alice", "Alice's team")
	s.bob = s.createAccount(create, "bob@example.com", "Bob", "Bob's team")
	return s
}

func (s *testServer) createAccount(u *app.CreateAccount, email, name, ws string) domain.Account {
	s.t.Helper()
	a, err := u.Execute(context.Background(), app.CreateAccountInput{Email: email, Name: name, Password: testPassword, Workspace: ws})
	if err != nil {
		s.t.Fatalf("create account %s: %v", email, err)
	}
	return a
}
