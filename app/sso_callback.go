package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/devicegate/devicegate/domain"
)

// CallbackInput is the query the identity provider sends the relay's
// callback (OpenID Connect authorization response).
type CallbackInput struct {
	Code  string // code
	State string // state: the signed state envelope sso-initiate handed the relay
	Error string // error (access_denied, ...), set instead of code on refusal
}

// Callback is GET /oauth/device/oidc-callback, the built-in relay's return
// leg (SPEC 2.6, last paragraph). It never fails: it returns the URL to send
// the browser to, which is always sso-complete on CONSOLE_API_URL, with an
// external-subject assertion signed here (issuer = the provider's issuer)
// on success, or with sso_error=sso_failed (and the envelope's user code
// when the state verified) on any failure, so that every outcome ends on the
// /device page through sso-complete's one sanitiser. Details go to the log.
//
// The state is single-use: its envelope nonce is reserved before the code is
// redeemed, so a replayed callback (same state twice) fails even if the
// provider would accept the code again.
func (u *SSO) Callback(ctx context.Context, in CallbackInput) string {
	to, reason := u.callback(ctx, in)
	if reason != nil {
		u.log().InfoContext(ctx, "sso callback refused", "reason", reason.Error())
	}
	return to
}

func (u *SSO) callback(ctx context.Context, in CallbackInput) (string, error) {
	now := u.now()
	env, err := u.Signer.VerifyState(in.State, now)
	if err != nil {
		return u.callbackFailed(""), fmt.Errorf("state: %w", err)
	}
	failed := u.callbackFailed(env.UserCode)
	fresh, err := u.Nonces.Reserve(ctx, stateNonceSpace+env.Nonce, RequestID(ctx)+"state", domain.NonceReservationTTL)
	if err != nil {
		return failed, err
	}
	if !fresh {
		return failed, errors.New("state replayed")
	}
	if in.Error != "" {
		// Only the provider's error code is logged, bounded: it is the
		// provider's text, not ours.
		return failed, fmt.Errorf("%w: provider answered error=%.64q", domain.ErrSSOFailed, in.Error)
	}
	if u.Relay == nil {
		return failed, fmt.Errorf("%w: no relay is configured", domain.ErrSSOFailed)
	}
	if in.Code == "" {
		return failed, fmt.Errorf("%w: no code in the callback", domain.ErrSSOFailed)
	}
	id, err := u.Relay.Redeem(ctx, in.Code, env)
	if err != nil {
		return failed, err
	}
	a := domain.ExternalAssertion{Email: id.Email, Issuer: id.Issuer, UserCode: env.UserCode, Nonce: env.Nonce,
		IssuedAt: now, ExpiresAt: now.Add(domain.ExternalAssertionTTL)}
	token, err := u.Signer.SignAssertion(a)
	if err != nil {
		return failed, fmt.Errorf("assertion: %w", err)
	}
	return env.IdPCallbackURL + "?" + url.Values{"sso_assertion": {token}}.Encode(), nil
}

// callbackFailed is sso-complete with sso_error=sso_failed; sso-complete
// relays userCode only when it has the shape of a user code.
func (u *SSO) callbackFailed(userCode string) string {
	q := ssoError(SSOErrFailed, userCode).Query
	return u.ConsoleAPIURL + SSOCompletePath + "?" + q.Encode()
}
