package tokenclient

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// defaultRetryAfter is sent on a 503 when devicegate gave no hint.
const defaultRetryAfter = 2 * time.Second

// BearerToken extracts the token from an Authorization header value
// ("Bearer <token>", scheme case-insensitive). ok is false when there is no
// bearer token at all.
func BearerToken(authorization string) (token string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(rest)
	return token, token != ""
}

// Authenticate is the middleware's decision, for frameworks other than
// net/http and Echo: it reads the Authorization header value, validates the
// token and checks requiredScope ("" checks none). Errors match
// ErrMissingToken, ErrInactive, ErrInsufficientScope or ErrUnavailable;
// WriteError answers each.
func (c *Client) Authenticate(ctx context.Context, authorization, requiredScope string) (Principal, error) {
	token, ok := BearerToken(authorization)
	if !ok {
		return Principal{}, ErrMissingToken
	}
	p, err := c.Validate(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	if !p.HasScope(requiredScope) {
		return Principal{}, &scopeError{scope: requiredScope}
	}
	return p, nil
}

// Middleware guards a handler with devicegate bearer tokens: 401 (with
// WWW-Authenticate) for a missing or inactive token, 403 for a token without
// requiredScope ("" requires none), 503 with Retry-After when devicegate
// cannot answer. Otherwise the principal is in the request context
// (PrincipalFrom) and next runs.
func Middleware(c *Client, requiredScope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := c.Authenticate(r.Context(), r.Header.Get("Authorization"), requiredScope)
			if err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(ContextWithPrincipal(r.Context(), p)))
		})
	}
}

// errorBody is devicegate's canonical error shape.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// WriteError answers an Authenticate error with the canonical body
// {"code","message","status"}, Cache-Control: no-store, and the RFC 6750
// WWW-Authenticate header. Errors it does not know are a 500.
func WriteError(w http.ResponseWriter, err error) {
	h := w.Header()
	var (
		status        int
		code, message string
		scopeErr      *scopeError
		unavailable   *UnavailableError
	)
	switch {
	case errors.Is(err, ErrMissingToken):
		status, code, message = http.StatusUnauthorized, "unauthorized", "A bearer token is required."
		h.Set("WWW-Authenticate", "Bearer")
	case errors.Is(err, ErrInactive):
		status, code, message = http.StatusUnauthorized, "invalid_token", "The bearer token is invalid, expired or revoked."
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case errors.Is(err, ErrInsufficientScope):
		status, code, message = http.StatusForbidden, "insufficient_scope", "The token does not grant this operation."
		challenge := `Bearer error="insufficient_scope"`
		if errors.As(err, &scopeErr) && !strings.ContainsAny(scopeErr.scope, "\"\\") {
			challenge += `, scope="` + scopeErr.scope + `"`
		}
		h.Set("WWW-Authenticate", challenge)
	case errors.Is(err, ErrUnavailable):
		// Not the caller's fault and not a verdict on the token: retry later.
		status, code, message = http.StatusServiceUnavailable, "service_unavailable", "Internal Server Error"
		wait := defaultRetryAfter
		if errors.As(err, &unavailable) && unavailable.RetryAfter > 0 {
			wait = unavailable.RetryAfter
		}
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	default:
		status, code, message = http.StatusInternalServerError, "internal_error", "Internal Server Error"
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Code: code, Message: message, Status: status})
}
