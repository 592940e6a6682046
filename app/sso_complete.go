package app

import (
	"context"
	"errors"
	"net/url"
	"regexp"

	"github.com/devicegate/devicegate/domain"
)

// SSO error codes relayed to the /device page (SPEC 2.6); nothing else passes.
const (
	SSOErrFailed         = "sso_failed"
	SSOErrEmailIsAccount = "email_belongs_to_dify_account"
)

// relayUserCode is what an inbound user_code must look like to be relayed.
var relayUserCode = regexp.MustCompile(`^[A-Z0-9-]{1,16}$`)

// CompleteInput is the query of sso-complete.
type CompleteInput struct {
	Assertion string // sso_assertion
	SSOError  string // sso_error, from the SSO side
	UserCode  string // user_code accompanying sso_error
}

// CompleteResult is where sso-complete sends the browser: the /device query
// (sanitised) and, on success only, the signed approval grant for the cookie.
type CompleteResult struct {
	Query url.Values
	Grant string
}

// Complete is GET /oauth/device/sso-complete (SPEC 2.6 step 2). It never
// fails: every outcome is a redirect to /device, and failures only say
// sso_failed (details go to the log).
func (u *SSO) Complete(ctx context.Context, in CompleteInput) CompleteResult {
	if in.SSOError != "" {
		code := SSOErrFailed
		if in.SSOError == SSOErrEmailIsAccount {
			code = SSOErrEmailIsAccount
		}
		return ssoError(code, in.UserCode)
	}
	res, reason := u.complete(ctx, in.Assertion)
	if reason != nil {
		u.log().InfoContext(ctx, "sso-complete refused", "reason", reason.Error())
	}
	return res
}

func (u *SSO) complete(ctx context.Context, token string) (CompleteResult, error) {
	failed := ssoError(SSOErrFailed, "")
	now := u.now()
	a, err := u.Signer.VerifyAssertion(token, now)
	if err != nil {
		return failed, err
	}
	fresh, err := u.Nonces.Reserve(ctx, assertionNonceSpace+a.Nonce, RequestID(ctx)+"assertion", domain.NonceReservationTTL)
	if err != nil {
		return failed, err
	}
	if !fresh {
		return failed, errors.New("assertion replayed")
	}
	f, err := u.pendingFlow(ctx, a.UserCode)
	if err != nil {
		return failed, err
	}
	taken, err := u.Accounts.ActiveAccountByEmail(ctx, a.Email)
	if err != nil {
		return failed, err
	}
	if taken {
		u.rejected(ctx, a.Email, a.Issuer, f)
		return ssoError(SSOErrEmailIsAccount, f.UserCode), errors.New("email belongs to an account")
	}
	if u.ConsoleAPIURL == "" {
		return failed, domain.ErrConsoleAPIURLUnset
	}
	nonce, err := domain.NewNonce(u.rand())
	if err != nil {
		return failed, err
	}
	csrf, err := domain.NewNonce(u.rand())
	if err != nil {
		return failed, err
	}
	a.UserCode = f.UserCode // normalised
	grant, err := u.Signer.SignGrant(domain.NewApprovalGrant(u.ConsoleAPIURL, a, nonce, csrf, now))
	if err != nil {
		return failed, err
	}
	return CompleteResult{Query: url.Values{"sso_verified": {"1"}}, Grant: grant}, nil
}

// ssoError is the redirect query for an SSO failure; userCode is added only
// when it has the shape of a user code.
func ssoError(code, userCode string) CompleteResult {
	q := url.Values{"sso_error": {code}}
	if relayUserCode.MatchString(userCode) {
		q.Set("user_code", userCode)
	}
	return CompleteResult{Query: q}
}
