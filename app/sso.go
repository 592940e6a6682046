package app

import (
	"context"
	"strings"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// SSOCompletePath is where the identity-provider hop returns the browser
// (under CONSOLE_API_URL, never Host).
const SSOCompletePath = "/openapi/v1/oauth/device/sso-complete"

// SSOCallbackPath is where the organisation's OpenID provider returns the
// browser to the built-in relay (under CONSOLE_API_URL): the redirect URI an
// operator registers with the provider.
const SSOCallbackPath = "/openapi/v1/oauth/device/oidc-callback"

// Owner namespaces of the one-time nonces (SPEC 2.6): an assertion's nonce
// and a grant's nonce never share a reservation.
const (
	assertionNonceSpace = "sso-assertion:"
	stateNonceSpace     = "sso-state:"
	grantNonceSpace     = "sso-grant:"
)

// SSO is the external-SSO branch (SPEC 2.6): the gate and what its four
// endpoints share. The endpoints themselves are SSO's methods, one per file
// (sso_initiate.go, sso_complete.go, sso_approve.go).
type SSO struct {
	Env
	Flows    ports.FlowStore
	Accounts ports.AccountDirectory
	Limiter  ports.RateLimiter
	// GuessBucket is sso-initiate's share of the deployment-wide ceiling on
	// failed user-code tries (the same bucket as Lookup.GuessBucket).
	GuessBucket domain.RateBucket
	Nonces      ports.NonceStore
	Signer      ports.Signer
	// Gateway sends the person to their identity provider; nil when none is
	// configured (sso-initiate then answers 502 sso_initiate_failed).
	Gateway ports.SSOGateway
	// Relay is the return leg of a gateway that is its own SSO side (the
	// OpenID Connect relay); nil otherwise, and the callback route is absent.
	Relay ports.SSORelay
	// License gates the branch: on only for the enterprise edition with an
	// allowlisted status. Ungated is for a gateway that is the organisation's
	// own (the OpenID Connect relay), which no license governs.
	License ports.License
	Ungated bool
	// BearerEnabled is ENABLE_OAUTH_BEARER: off, approve-external answers
	// 503 bearer_auth_disabled, as the account branch's approve does (SPEC 7.3).
	BearerEnabled bool
	// ConsoleAPIURL is CONSOLE_API_URL: the base of the IdP callback and the
	// grant's iss ("" leaves sso-initiate answering 502 console_api_url_unset).
	ConsoleAPIURL string
}

// Available reports whether the SSO endpoints are on. A license port that
// fails is "not licensed" (logged): the endpoints then answer 404.
func (u *SSO) Available(ctx context.Context) bool {
	if u.Ungated {
		return true
	}
	if u.License == nil {
		return false
	}
	l, err := u.License.License(ctx)
	if err != nil {
		u.log().WarnContext(ctx, "license check failed; SSO endpoints are off", "err", err)
		return false
	}
	return l.AllowsEnterpriseSSO()
}

// Offered reports whether a person can take the SSO branch: its endpoints
// are on (Available) and a gateway is configured to send the person to their
// identity provider. The /device page offers the SSO choice exactly then
// (without a gateway sso-initiate could only answer 502). Nil-safe. The
// built-in OpenID Connect relay turns it on by setting Ungated and Gateway.
func (u *SSO) Offered(ctx context.Context) bool {
	return u != nil && u.Gateway != nil && u.Available(ctx)
}

// pendingFlow returns the pending flow holding the (raw) user code. Unknown,
// expired or malformed -> domain.ErrNotFound; not pending -> domain.ErrAlreadyResolved.
func (u *SSO) pendingFlow(ctx context.Context, raw string) (domain.Flow, error) {
	return u.pendingFlowUnder(ctx, raw, domain.RateBucket{}, u.now())
}

// pendingFlowUnder is pendingFlow with the look-up counted against guess,
// the deployment-wide ceiling on failed tries (guessFlow; a zero bucket is
// off), for callers that may be guessing.
func (u *SSO) pendingFlowUnder(ctx context.Context, raw string, guess domain.RateBucket, now time.Time) (domain.Flow, error) {
	code, ok := domain.NormalizeUserCode(raw)
	if !ok {
		return domain.Flow{}, domain.ErrNotFound
	}
	f, err := guessFlow(ctx, u.Limiter, guess, domain.GlobalRateKey, u.Flows, code, now)
	if err != nil {
		return domain.Flow{}, err
	}
	if f.Status != domain.FlowPending {
		return domain.Flow{}, domain.ErrAlreadyResolved
	}
	return f, nil
}

// emailKey is the approve-external rate-limit key of an email: its hash, so
// no email sits in the limiter's store, lower-cased like the account check.
func emailKey(email string) string { return domain.HashSecret(strings.ToLower(email)) }

// rejected audits an external email that belongs to an account.
func (u *SSO) rejected(ctx context.Context, email, issuer string, f domain.Flow) {
	u.emit(ctx, domain.AuditEvent{Name: domain.EventFlowRejected, SubjectType: domain.SubjectExternalSSO,
		SubjectEmail: email, SubjectIssuer: issuer, ClientID: f.ClientID, DeviceLabel: f.DeviceLabel,
		Detail: "email belongs to an account"})
}
