package ports

import (
	"time"

	"github.com/devicegate/devicegate/domain"
)

// The signed objects of SPEC 5 are compact JWS (HS256 over a key set). Each
// Sign method checks the object's Validate first and signs exactly what it is
// given (iat and exp included); each Verify method checks the signature, the
// algorithm, the kid, the audience, the lifetime at now (no leeway) and every
// claim's shape, and returns domain.ErrInvalidSignedObject (wrapped) on any failure.

// StateSigner signs SSO state envelopes (and verifies them, for a gateway
// that must bind its own state to the envelope).
type StateSigner interface {
	SignState(s domain.StateEnvelope) (string, error)
	VerifyState(token string, now time.Time) (domain.StateEnvelope, error)
}

// AssertionSigner verifies external-subject assertions (and signs them, for a
// gateway that is its own SSO side, such as an OpenID Connect relay).
type AssertionSigner interface {
	SignAssertion(a domain.ExternalAssertion) (string, error)
	VerifyAssertion(token string, now time.Time) (domain.ExternalAssertion, error)
}

// GrantSigner signs and verifies approval-grant cookies.
type GrantSigner interface {
	SignGrant(g domain.ApprovalGrant) (string, error)
	VerifyGrant(token string, now time.Time) (domain.ApprovalGrant, error)
}

// Signer is what one signing adapter provides.
type Signer interface {
	StateSigner
	AssertionSigner
	GrantSigner
}
