package tokenclient

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Sentinels returned by Validate and Authenticate; match them with errors.Is.
var (
	// ErrInactive reports a token devicegate does not accept: unknown,
	// malformed, expired or revoked. It is cached for Config.NegativeTTL.
	ErrInactive = errors.New("tokenclient: token is not active")
	// ErrUnavailable is matched by every *UnavailableError: devicegate gave
	// no usable answer, so nothing is known about the token. Never cached.
	ErrUnavailable = errors.New("tokenclient: introspection unavailable")
	// ErrMissingToken reports a request without a bearer token.
	ErrMissingToken = errors.New("tokenclient: no bearer token")
	// ErrInsufficientScope reports a valid token that lacks the required scope.
	ErrInsufficientScope = errors.New("tokenclient: insufficient scope")
)

// UnavailableError is the error for an introspection call that produced no
// verdict. errors.Is(err, ErrUnavailable) is true for it; Unwrap yields the
// cause (a transport error, a context error, a decode error, or nil).
type UnavailableError struct {
	// Status is the HTTP status devicegate answered, 0 if none arrived.
	// 401 means the introspection secret was rejected (a configuration
	// error on this side), 404 that introspection is disabled there.
	Status int
	// RetryAfter is devicegate's Retry-After hint, 0 when it sent none.
	RetryAfter time.Duration
	// Err is the underlying cause, if any.
	Err error
}

// Error describes the failure without the token or the secret.
func (e *UnavailableError) Error() string {
	msg := ErrUnavailable.Error()
	switch {
	case e.Status == http.StatusUnauthorized:
		msg += ": introspection secret rejected (401)"
	case e.Status == http.StatusNotFound:
		msg += ": introspection endpoint not found or disabled (404)"
	case e.Status != 0:
		msg += fmt.Sprintf(": status %d", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// scopeError carries the missing scope so WriteError can name it in
// WWW-Authenticate (RFC 6750 section 3).
type scopeError struct{ scope string }

func (e *scopeError) Error() string        { return ErrInsufficientScope.Error() + ": " + e.scope }
func (e *scopeError) Is(target error) bool { return target == ErrInsufficientScope }

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
