package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/jwssigner"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// noAccounts is a directory where no email is an account's.
type noAccounts struct{}

func (noAccounts) Account(context.Context, string) (domain.Account, error) {
	return domain.Account{}, domain.ErrNotFound
}
func (noAccounts) Workspaces(context.Context, string) ([]domain.Workspace, error) { return nil, nil }
func (noAccounts) ActiveAccountByEmail(context.Context, string) (bool, error)     { return false, nil }

// flakyFlows fails the next Decide calls with an outage.
type flakyFlows struct {
	*memstore.Flows
	failures atomic.Int32
}

func (f *flakyFlows) Decide(ctx context.Context, code string, d domain.Decision, now time.Time) (domain.Flow, error) {
	if f.failures.Add(-1) >= 0 {
		return domain.Flow{}, domain.Unavailable("test", errors.New("down"))
	}
	return f.Flows.Decide(ctx, code, d, now)
}

type staticLicense struct {
	l   domain.License
	err error
}

func (s staticLicense) License(context.Context) (domain.License, error) { return s.l, s.err }

type ssoRig struct {
	sso   *app.SSO
	flows *flakyFlows
	now   time.Time
}

func newSSORig(t *testing.T) *ssoRig {
	signer, err := jwssigner.New("app-sso-test-secret-0123456789", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	flows := &flakyFlows{Flows: memstore.NewFlows()}
	return &ssoRig{flows: flows, now: now, sso: &app.SSO{
		Env: app.Env{Clock: &fakeClock{now: now}, Audit: &recordingAudit{}}, Flows: flows, Accounts: noAccounts{},
		Nonces: memstore.NewNonceStore(), Signer: signer, ConsoleAPIURL: "https://api.example",
		License:       staticLicense{l: domain.License{Edition: "enterprise", Status: "ACTIVE"}},
		BearerEnabled: true,
	}}
}

func (r *ssoRig) pending(t *testing.T, userCode string) {
	f := domain.NewFlow(domain.HashSecret("dc-"+userCode), userCode, "difyctl", "dev", "192.0.2.1", r.now)
	if err := r.flows.Create(t.Context(), f); err != nil {
		t.Fatal(err)
	}
}

func (r *ssoRig) grant(t *testing.T, userCode string) domain.ApprovalGrant {
	a := domain.ExternalAssertion{Email: "ext@corp.example", Issuer: "https://idp", UserCode: userCode, Nonce: "a"}
	g := domain.NewApprovalGrant(r.sso.ConsoleAPIURL, a, "grant-nonce-"+userCode, "csrf", r.now)
	return g
}

// TestApproveExternalGivesTheNonceBackOnAnOutage: a decision that fails for
// a backend outage releases the grant's nonce, so the person's retry with
// the same cookie succeeds; once it succeeded, the nonce is spent.
func TestApproveExternalGivesTheNonceBackOnAnOutage(t *testing.T) {
	r := newSSORig(t)
	r.pending(t, "ABCD-EFGH")
	r.pending(t, "BCDE-FGHJ")
	g := r.grant(t, "ABCD-EFGH")
	r.flows.failures.Store(1)
	if err := r.sso.ApproveExternal(t.Context(), g, "abcd efgh"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("first try: %v, want the outage", err)
	}
	if err := r.sso.ApproveExternal(t.Context(), g, "ABCD-EFGH"); err != nil {
		t.Fatalf("retry after the outage: %v", err)
	}
	g2 := r.grant(t, "BCDE-FGHJ")
	g2.Nonce = g.Nonce
	if err := r.sso.ApproveExternal(t.Context(), g2, "BCDE-FGHJ"); !errors.Is(err, domain.ErrSessionConsumed) {
		t.Fatalf("a spent nonce: %v, want session_already_consumed", err)
	}
}

// TestSSOAvailable: a failing license port is "not licensed"; Ungated (a
// relay of the organisation's own) is on whatever the license.
func TestSSOAvailable(t *testing.T) {
	r := newSSORig(t)
	if !r.sso.Available(t.Context()) {
		t.Fatal("licensed enterprise: off")
	}
	r.sso.License = staticLicense{err: errors.New("license server down")}
	if r.sso.Available(t.Context()) {
		t.Fatal("a failing license port turned SSO on")
	}
	r.sso.License = nil
	if r.sso.Available(t.Context()) {
		t.Fatal("no license port turned SSO on")
	}
	r.sso.Ungated = true
	if !r.sso.Available(t.Context()) {
		t.Fatal("ungated: off")
	}
}

// urlGateway is an SSO gateway that always answers its URL.
type urlGateway string

func (g urlGateway) Initiate(context.Context, domain.SSOInitiation) (string, error) {
	return string(g), nil
}

// TestSSOOffered: the page's SSO choice needs the endpoints on (the license,
// or Ungated) and a gateway; a nil SSO is off.
func TestSSOOffered(t *testing.T) {
	var none *app.SSO
	if none.Offered(t.Context()) {
		t.Fatal("nil SSO offered")
	}
	r := newSSORig(t)
	if r.sso.Offered(t.Context()) {
		t.Fatal("licensed without a gateway: offered (sso-initiate could only answer 502)")
	}
	r.sso.Gateway = urlGateway("https://idp.example/login")
	if !r.sso.Offered(t.Context()) {
		t.Fatal("licensed with a gateway: not offered")
	}
	r.sso.License = staticLicense{l: domain.License{Edition: "community"}}
	if r.sso.Offered(t.Context()) {
		t.Fatal("community with a gateway: offered")
	}
	r.sso.Ungated = true
	if !r.sso.Offered(t.Context()) {
		t.Fatal("ungated relay with a gateway: not offered")
	}
}

// TestInitiateWithoutGatewayOrConsoleURL: the user code is checked first,
// then CONSOLE_API_URL, then the gateway.
func TestInitiateWithoutGatewayOrConsoleURL(t *testing.T) {
	r := newSSORig(t)
	r.pending(t, "ABCD-EFGH")
	if _, err := r.sso.Initiate(t.Context(), "ABCD-EFGH", "192.0.2.9"); !errors.Is(err, domain.ErrSSOInitiateFailed) {
		t.Fatalf("no gateway: %v", err)
	}
	r.sso.ConsoleAPIURL = ""
	if _, err := r.sso.Initiate(t.Context(), "ABCD-EFGH", "192.0.2.9"); !errors.Is(err, domain.ErrConsoleAPIURLUnset) {
		t.Fatalf("no CONSOLE_API_URL: %v", err)
	}
	if _, err := r.sso.Initiate(t.Context(), "ZZZZ-ZZZZ", "192.0.2.9"); !errors.Is(err, domain.ErrInvalidUserCode) {
		t.Fatalf("unknown code: %v", err)
	}
}

// TestAdmitExternalBearerSwitch: with ENABLE_OAUTH_BEARER off, an admitted
// approve-external answers bearer_auth_disabled (after the CSRF check, as approve does).
func TestAdmitExternalBearerSwitch(t *testing.T) {
	r := newSSORig(t)
	r.pending(t, "ABCD-EFGH")
	cookie, err := r.sso.Signer.SignGrant(r.grant(t, "ABCD-EFGH"))
	if err != nil {
		t.Fatal(err)
	}
	r.sso.BearerEnabled = false
	if _, err := r.sso.AdmitExternal(t.Context(), cookie, "wrong"); !errors.Is(err, domain.ErrCSRFMismatch) {
		t.Fatalf("wrong CSRF with bearer off: %v, want csrf_mismatch first", err)
	}
	if _, err := r.sso.AdmitExternal(t.Context(), cookie, "csrf"); !errors.Is(err, domain.ErrBearerDisabled) {
		t.Fatalf("bearer off: %v, want bearer_auth_disabled", err)
	}
	r.sso.BearerEnabled = true
	if _, err := r.sso.AdmitExternal(t.Context(), cookie, "csrf"); err != nil {
		t.Fatalf("bearer on: %v", err)
	}
}

// TestUserCodeCeilingSharedByLookupAndInitiate: lookup and sso-initiate
// count failed user-code tries in one deployment-wide bucket; tries of a
// pending code are not counted; once full, both refuse every try.
func TestUserCodeCeilingSharedByLookupAndInitiate(t *testing.T) {
	r := newSSORig(t)
	r.sso.Gateway = urlGateway("https://idp.example/login")
	r.pending(t, "ABCD-EFGH")
	limiter := memstore.NewRateLimiter()
	ceiling := domain.BucketUserCodeGuess
	ceiling.Limit = 4
	r.sso.Limiter, r.sso.GuessBucket = limiter, ceiling
	lookup := &app.Lookup{Env: r.sso.Env, Flows: r.flows, Limiter: limiter, GuessBucket: ceiling}
	ip := 0
	addr := func() string { ip++; return fmt.Sprintf("198.51.100.%d", ip) }
	real := func() {
		t.Helper()
		for range 10 {
			if _, err := r.sso.Initiate(t.Context(), "abcd efgh", addr()); err != nil {
				t.Fatalf("initiate, pending code: %v", err)
			}
			if out, err := lookup.Execute(t.Context(), "ABCD-EFGH", addr(), app.LookupCaller{}); err != nil || !out.Valid {
				t.Fatalf("lookup, pending code: %+v %v", out, err)
			}
		}
	}
	real()
	for i := range 4 {
		var err error
		if i%2 == 0 {
			_, err = r.sso.Initiate(t.Context(), fmt.Sprintf("YYYY-YYY%d", i+3), addr())
			if !errors.Is(err, domain.ErrInvalidUserCode) {
				t.Fatalf("failed try %d (initiate): %v", i, err)
			}
		} else if _, err = lookup.Execute(t.Context(), fmt.Sprintf("YYYY-YYY%d", i+3), addr(), app.LookupCaller{}); err != nil {
			t.Fatalf("failed try %d (lookup): %v", i, err)
		}
		if i == 1 {
			real() // between failures: still not counted
		}
	}
	var rl *domain.RateLimitedError
	if _, err := r.sso.Initiate(t.Context(), "ABCD-EFGH", addr()); !errors.As(err, &rl) || rl.Bucket != ceiling.Name {
		t.Fatalf("initiate past the ceiling: %v", err)
	}
	if _, err := lookup.Execute(t.Context(), "YYYY-YYYA", addr(), app.LookupCaller{}); !errors.As(err, &rl) || rl.Bucket != ceiling.Name {
		t.Fatalf("lookup past the ceiling: %v", err)
	}
}
