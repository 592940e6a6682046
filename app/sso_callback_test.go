package app_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// fakeRelay answers Redeem with id or err and records its calls.
type fakeRelay struct {
	id    domain.SSOIdentity
	err   error
	calls []string
}

func (f *fakeRelay) Redeem(_ context.Context, code string, env domain.StateEnvelope) (domain.SSOIdentity, error) {
	f.calls = append(f.calls, code+"|"+env.Nonce)
	return f.id, f.err
}

// brokenNonces is a nonce store that is down.
type brokenNonces struct{}

func (brokenNonces) Reserve(context.Context, string, string, time.Duration) (bool, error) {
	return false, domain.Unavailable("test", errors.New("down"))
}
func (brokenNonces) Release(context.Context, string, string) error { return nil }

const failedWithCode = "https://api.example/openapi/v1/oauth/device/sso-complete?sso_error=sso_failed&user_code=ABCD-EFGH"

// TestCallback: a verified state and identity become sso-complete with an
// assertion for the envelope's user code and nonce; every failure is
// sso-complete with sso_failed (and the user code once the state verified),
// and the relay is asked only for a fresh state with a code.
func TestCallback(t *testing.T) {
	rig := newSSORig(t)
	env := domain.NewStateEnvelope("ABCD-EFGH", "env-nonce", "https://api.example"+app.SSOCompletePath, rig.now)
	state, err := rig.sso.Signer.SignState(env)
	if err != nil {
		t.Fatal(err)
	}
	relay := &fakeRelay{id: domain.SSOIdentity{Email: "Person@Corp.Example", Issuer: "https://idp.example/"}}
	rig.sso.Relay = relay

	to := rig.sso.Callback(t.Context(), app.CallbackInput{Code: "the-code", State: state})
	u, _ := url.Parse(to)
	if !strings.HasPrefix(to, env.IdPCallbackURL+"?") || len(relay.calls) != 1 || relay.calls[0] != "the-code|env-nonce" {
		t.Fatalf("Callback = %q, relay calls %v", to, relay.calls)
	}
	a, err := rig.sso.Signer.VerifyAssertion(u.Query().Get("sso_assertion"), rig.now)
	if err != nil || a.Email != "Person@Corp.Example" || a.Issuer != "https://idp.example/" || a.UserCode != "ABCD-EFGH" || a.Nonce != "env-nonce" {
		t.Fatalf("assertion %+v, %v", a, err)
	}
	if to := rig.sso.Callback(t.Context(), app.CallbackInput{Code: "the-code", State: state}); to != failedWithCode || len(relay.calls) != 1 {
		t.Fatalf("replayed state: %q, relay calls %d", to, len(relay.calls))
	}

	fresh := func(nonce string) string {
		s, err := rig.sso.Signer.SignState(domain.NewStateEnvelope("ABCD-EFGH", nonce, env.IdPCallbackURL, rig.now))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	failedNoCode := "https://api.example/openapi/v1/oauth/device/sso-complete?sso_error=sso_failed"
	for _, tc := range []struct {
		name   string
		in     app.CallbackInput
		relay  *fakeRelay
		want   string
		redeem bool
	}{
		{"provider error", app.CallbackInput{Error: "access_denied", State: fresh("n1")}, &fakeRelay{}, failedWithCode, false},
		{"no code", app.CallbackInput{State: fresh("n2")}, &fakeRelay{}, failedWithCode, false},
		{"relay refuses", app.CallbackInput{Code: "c", State: fresh("n3")}, &fakeRelay{err: domain.ErrSSOFailed}, failedWithCode, true},
		{"email of no shape", app.CallbackInput{Code: "c", State: fresh("n4")},
			&fakeRelay{id: domain.SSOIdentity{Email: "no-at-sign", Issuer: "https://idp"}}, failedWithCode, true},
		{"no state", app.CallbackInput{Code: "c"}, &fakeRelay{}, failedNoCode, false},
		{"state of another kind", app.CallbackInput{Code: "c", State: u.Query().Get("sso_assertion")}, &fakeRelay{}, failedNoCode, false},
	} {
		rig.sso.Relay = tc.relay
		if to := rig.sso.Callback(t.Context(), tc.in); to != tc.want || (len(tc.relay.calls) > 0) != tc.redeem {
			t.Errorf("%s: %q (relay called %d times), want %q", tc.name, to, len(tc.relay.calls), tc.want)
		}
	}

	rig.sso.Relay, rig.sso.Nonces = relay, brokenNonces{}
	if to := rig.sso.Callback(t.Context(), app.CallbackInput{Code: "c", State: fresh("n5")}); to != failedWithCode || len(relay.calls) != 1 {
		t.Fatalf("nonce store down: %q, relay calls %d", to, len(relay.calls))
	}
}

// TestCallbackExpiredState: a state past its 900 s is refused with no user code.
func TestCallbackExpiredState(t *testing.T) {
	rig := newSSORig(t)
	rig.sso.Relay = &fakeRelay{id: domain.SSOIdentity{Email: "a@b.c", Issuer: "https://idp"}}
	state, err := rig.sso.Signer.SignState(domain.NewStateEnvelope("ABCD-EFGH", "n", "https://api.example"+app.SSOCompletePath,
		rig.now.Add(-domain.StateEnvelopeTTL)))
	if err != nil {
		t.Fatal(err)
	}
	if to := rig.sso.Callback(t.Context(), app.CallbackInput{Code: "c", State: state}); !strings.HasSuffix(to, "?sso_error=sso_failed") {
		t.Fatalf("expired state: %q", to)
	}
}
