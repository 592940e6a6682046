package domain

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels that cross layers. Adapters translate library errors into these
// once, at their edge; only adapters/httpapi maps them to statuses.
var (
	// ErrNotFound reports that the addressed flow, token, account or session does not exist (or expired).
	ErrNotFound = errors.New("not found")
	// ErrExpiredToken reports an unknown or expired device code at poll time (RFC 8628 expired_token).
	ErrExpiredToken = errors.New("expired_token")
	// ErrInvalidGrant reports a poll whose client_id differs from the flow's.
	ErrInvalidGrant = errors.New("invalid_grant")
	// ErrSlowDown reports a poll sooner than the flow's interval (RFC 8628 slow_down).
	ErrSlowDown = errors.New("slow_down")
	// ErrAuthorizationPending reports a flow not yet approved, or claimed by another poll.
	ErrAuthorizationPending = errors.New("authorization_pending")
	// ErrAccessDenied reports a flow the user denied.
	ErrAccessDenied = errors.New("access_denied")
	// ErrExpiredOrUnknown reports a decision or lookup on a user code that names no live flow.
	ErrExpiredOrUnknown = errors.New("expired_or_unknown")
	// ErrMissingToken reports a request to a bearer route without an Authorization header.
	ErrMissingToken = errors.New("missing bearer token")
	// ErrAlreadyResolved reports a decision on a flow that is no longer pending.
	ErrAlreadyResolved = errors.New("already resolved")
	// ErrClaimLost reports a finish or release whose claim was taken over or is gone.
	ErrClaimLost = errors.New("claim lost")
	// ErrUserCodeTaken reports a user-code collision when storing a new flow.
	ErrUserCodeTaken = errors.New("user code taken")
	// ErrUserCodeExhausted reports that every fresh user code collided.
	ErrUserCodeExhausted = errors.New("user_code_exhausted")
	// ErrUnsupportedClient reports a client_id outside the known-client list.
	ErrUnsupportedClient = errors.New("unsupported_client")
	// ErrUnsupportedGrantType reports a grant_type other than the device-code grant.
	ErrUnsupportedGrantType = errors.New("unsupported_grant_type")
	// ErrInvalidRequest reports a missing or malformed request field.
	ErrInvalidRequest = errors.New("invalid_request")
	// ErrStateLost reports that the approving account vanished or was disabled.
	ErrStateLost = errors.New("state_lost")
	// ErrInvalidToken reports a bearer token that is unknown, revoked or malformed.
	ErrInvalidToken = errors.New("invalid_token")
	// ErrTokenExpired reports a bearer token past its expires_at.
	ErrTokenExpired = errors.New("token_expired")
	// ErrInsufficientScope reports a token whose scopes do not cover the route.
	ErrInsufficientScope = errors.New("insufficient_scope")
	// ErrNoSession reports a request without a valid console session.
	ErrNoSession = errors.New("no_session")
	// ErrCSRFMismatch reports a missing or wrong CSRF header.
	ErrCSRFMismatch = errors.New("csrf_mismatch")
	// ErrInvalidCredentials reports a failed password sign-in (unknown email or wrong password alike).
	ErrInvalidCredentials = errors.New("invalid_credentials")
	// ErrBearerDisabled reports that ENABLE_OAUTH_BEARER is off.
	ErrBearerDisabled = errors.New("bearer_auth_disabled")
	// ErrConflict reports a uniqueness violation (e.g. an email already registered).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable reports that a backend (database, Redis) cannot be reached; it maps to 503.
	ErrUnavailable = errors.New("backend unavailable")
)

// ErrVerifierMismatch reports a poll whose PKCE code_verifier is missing or
// does not match the flow's code_challenge; it is an ErrInvalidGrant.
var ErrVerifierMismatch = fmt.Errorf("%w: code_verifier does not match the code_challenge", ErrInvalidGrant)

// RateLimitedError reports a request refused by a rate-limit bucket.
type RateLimitedError struct {
	Bucket     string
	RetryAfter time.Duration
}

// Error names the bucket and the wait; it carries no key, so it is safe to log.
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited (%s), retry after %s", e.Bucket, e.RetryAfter)
}

// UnavailableError wraps a backend failure with the backend's name; it matches ErrUnavailable.
type UnavailableError struct {
	Backend string
	Err     error
}

// Error names the backend and the cause.
func (e *UnavailableError) Error() string { return e.Backend + " unavailable: " + e.Err.Error() }

// Unwrap exposes the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unavailable wraps err as a backend outage of the named backend.
func Unavailable(backend string, err error) error {
	return &UnavailableError{Backend: backend, Err: err}
}
