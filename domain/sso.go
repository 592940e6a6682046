package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidSignedObject reports a signed object (SPEC 5) that does not
// verify: bad or foreign signature, wrong algorithm or kid, wrong audience,
// expired, issued in the future, or a claim missing or of the wrong shape.
var ErrInvalidSignedObject = errors.New("invalid signed object")

// Audiences of the three signed objects (SPEC 5): a contract with the
// enterprise service, never renamed.
const (
	AudStateEnvelope     = "api.sso.state_envelope"
	AudExternalAssertion = "api.device_flow.external_subject_assertion"
	AudApprovalGrant     = "api.device_flow.approval_grant"
)

// Lifetimes of the signed objects and of the nonce reservations (SPEC 5).
const (
	StateEnvelopeTTL     = 900 * time.Second
	ExternalAssertionTTL = 300 * time.Second
	ApprovalGrantTTL     = 300 * time.Second
	NonceReservationTTL  = 600 * time.Second
)

// IntentDeviceFlow is the only intent of a state envelope.
const IntentDeviceFlow = "device_flow"

// Claim bounds (SPEC 5), in characters.
const (
	MaxExternalEmail = 320
	minExternalEmail = 3
	MaxIssuer        = 255
	maxClaimUserCode = 32
	maxNonce         = 128
	maxCSRFToken     = 128
	maxURLClaim      = 2048
)

// StateEnvelope is the signed state handed to the SSO gateway at sso-initiate.
// Its redirect_url, app_code and return_to claims are always "" (the device
// flow uses none of them) and so are not fields.
type StateEnvelope struct {
	UserCode       string
	Nonce          string
	IdPCallbackURL string
	IssuedAt       time.Time
	ExpiresAt      time.Time
}

// ExternalAssertion is the external-subject assertion the SSO side signs after
// the person signed in at their identity provider.
type ExternalAssertion struct {
	Email     string
	Issuer    string
	UserCode  string
	Nonce     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// ApprovalGrant is the content of the device_approval_grant cookie: who may
// approve which user code, with the CSRF token approve-external must echo.
type ApprovalGrant struct {
	Issuer        string // CONSOLE_API_URL
	SubjectEmail  string
	SubjectIssuer string
	UserCode      string
	Nonce         string
	CSRFToken     string
	IssuedAt      time.Time
	ExpiresAt     time.Time
}

// NewStateEnvelope builds an envelope issued at now for StateEnvelopeTTL.
func NewStateEnvelope(userCode, nonce, callbackURL string, now time.Time) StateEnvelope {
	return StateEnvelope{UserCode: userCode, Nonce: nonce, IdPCallbackURL: callbackURL,
		IssuedAt: now, ExpiresAt: now.Add(StateEnvelopeTTL)}
}

// NewApprovalGrant builds a grant for the asserted subject issued at now for ApprovalGrantTTL.
func NewApprovalGrant(issuer string, a ExternalAssertion, nonce, csrf string, now time.Time) ApprovalGrant {
	return ApprovalGrant{Issuer: issuer, SubjectEmail: a.Email, SubjectIssuer: a.Issuer, UserCode: a.UserCode,
		Nonce: nonce, CSRFToken: csrf, IssuedAt: now, ExpiresAt: now.Add(ApprovalGrantTTL)}
}

// Subject returns the external subject the grant approves for.
func (g ApprovalGrant) Subject() Subject {
	return Subject{Type: SubjectExternalSSO, Email: g.SubjectEmail, Issuer: g.SubjectIssuer}
}

// Validate checks the envelope's claim shapes and lifetime.
func (s StateEnvelope) Validate() error {
	return firstErr(
		claimString("user_code", s.UserCode, 1, maxClaimUserCode),
		claimString("nonce", s.Nonce, 1, maxNonce),
		claimString("idp_callback_url", s.IdPCallbackURL, 1, maxURLClaim),
		checkLifetime(s.IssuedAt, s.ExpiresAt, StateEnvelopeTTL),
	)
}

// Validate checks the assertion's claim shapes and lifetime.
func (a ExternalAssertion) Validate() error {
	return firstErr(
		ValidExternalEmail(a.Email),
		claimString("issuer", a.Issuer, 1, MaxIssuer),
		claimString("user_code", a.UserCode, 1, maxClaimUserCode),
		claimString("nonce", a.Nonce, 1, maxNonce),
		checkLifetime(a.IssuedAt, a.ExpiresAt, ExternalAssertionTTL),
	)
}

// Validate checks the grant's claim shapes and lifetime.
func (g ApprovalGrant) Validate() error {
	return firstErr(
		claimString("iss", g.Issuer, 1, maxURLClaim),
		ValidExternalEmail(g.SubjectEmail),
		claimString("subject_issuer", g.SubjectIssuer, 1, MaxIssuer),
		claimString("user_code", g.UserCode, 1, maxClaimUserCode),
		claimString("nonce", g.Nonce, 1, maxNonce),
		claimString("csrf_token", g.CSRFToken, 1, maxCSRFToken),
		checkLifetime(g.IssuedAt, g.ExpiresAt, ApprovalGrantTTL),
	)
}

// ValidExternalEmail checks an external email: 3-320 characters, exactly one
// "@" with something on both sides, no spaces or control characters.
func ValidExternalEmail(email string) error {
	if err := claimString("email", email, minExternalEmail, MaxExternalEmail); err != nil {
		return err
	}
	at := strings.IndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.Count(email, "@") != 1 || strings.IndexFunc(email, unicode.IsSpace) >= 0 {
		return fmt.Errorf("%w: email must be local@domain", ErrInvalidSignedObject)
	}
	return nil
}

// claimString checks a string claim: valid UTF-8, lo..hi characters, no control characters.
func claimString(name, v string, lo, hi int) error {
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < lo || n > hi || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: claim %s must be %d-%d printable characters", ErrInvalidSignedObject, name, lo, hi)
	}
	return nil
}

// checkLifetime requires iat and exp, exp after iat, and a lifetime of at
// most ttl (a signer cannot mint a long-lived object of a short-lived kind).
func checkLifetime(iat, exp time.Time, ttl time.Duration) error {
	if iat.IsZero() || exp.IsZero() || !exp.After(iat) || exp.Sub(iat) > ttl {
		return fmt.Errorf("%w: iat/exp must span at most %s", ErrInvalidSignedObject, ttl)
	}
	return nil
}

// CheckTimes verifies an object's lifetime at now with no leeway: issued at
// or before now, and not yet expired.
func CheckTimes(iat, exp, now time.Time) error {
	if iat.After(now) {
		return fmt.Errorf("%w: issued in the future", ErrInvalidSignedObject)
	}
	if !now.Before(exp) {
		return fmt.Errorf("%w: expired", ErrInvalidSignedObject)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
