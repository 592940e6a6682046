package deviceclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// Sentinels a caller maps to messages and exit codes (test with errors.Is).
var (
	// ErrDenied: the user declined the request in the browser.
	ErrDenied = errors.New("the request was denied in the browser")
	// ErrExpired: the code expired before anyone approved it.
	ErrExpired = errors.New("the code expired before it was approved")
	// ErrUnauthorized: no stored token, or the server refused it (revoked, expired, invalid).
	ErrUnauthorized = errors.New("not signed in")
	// ErrUnreachable: the server could not be reached or is unavailable (502/503/504).
	ErrUnreachable = errors.New("server unreachable")
)

// APIError is a non-2xx answer of the server, in either of its error shapes
// ({"code","message","status"} or OAuth's {"error","error_description"}).
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("server answered %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is makes a 401 match ErrUnauthorized and a 502/503/504 match ErrUnreachable.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == 401
	case ErrUnreachable:
		return e.Status == 502 || e.Status == 503 || e.Status == 504
	}
	return false
}

// unreachableError wraps a transport failure (refused, DNS, TLS, timeout).
type unreachableError struct{ err error }

func (e unreachableError) Error() string   { return e.err.Error() }
func (e unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// transportError classifies an error of http.Client.Do: a cancelled context
// stays itself (the caller was interrupted), anything else is unreachable.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return unreachableError{err: ue.Err}
	}
	return unreachableError{err: err}
}

func isURLError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}
