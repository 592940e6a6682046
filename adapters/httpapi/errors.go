package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// Errors this package raises itself; everything else comes from domain or app.
var (
	// errTooLarge reports a request body over maxBody.
	errTooLarge = errors.New("request_too_large")
	// errURITooLong reports a query string over MaxQueryBytes.
	errURITooLong = errors.New("uri_too_long")
	// errHeadersTooLarge reports Cookie headers over MaxCookieBytes.
	errHeadersTooLarge = errors.New("request_header_fields_too_large")
	// errInvalidClient reports a failed client authentication (introspection
	// secret, or a secret sent by a public client).
	errInvalidClient = errors.New("invalid_client")
)

// internalMessage is the only message a status >= 500 ever carries (SPEC 1.1).
const internalMessage = "Internal Server Error"

// wireError is how one error is answered.
type wireError struct {
	status  int
	code    string
	message string
	header  func(h http.Header)
}

// errorTable is the one mapping from sentinels to answers (SPEC 1.1, 2, 3).
// It is walked in order with errors.Is; *domain.RateLimitedError,
// *echo.HTTPError and *http.MaxBytesError are matched with errors.As first.
var errorTable = []struct {
	target error
	wire   wireError
}{
	{domain.ErrUnavailable, wireError{http.StatusServiceUnavailable, "service_unavailable", "", retryAfter(2 * time.Second)}},
	{domain.ErrInvalidRequest, wireError{http.StatusBadRequest, "invalid_request", "The request is missing a field or is malformed.", nil}},
	{errTooLarge, wireError{http.StatusRequestEntityTooLarge, "request_too_large", "The request body is larger than 64 KiB.", nil}},
	{errURITooLong, wireError{http.StatusRequestURITooLong, "uri_too_long", "The query string is longer than 4 KiB.", nil}},
	{errHeadersTooLarge, wireError{http.StatusRequestHeaderFieldsTooLarge, "request_header_fields_too_large", "The Cookie header is larger than 8 KiB.", nil}},
	{domain.ErrUnsupportedClient, wireError{http.StatusBadRequest, "unsupported_client", "The client_id is not a known client.", nil}},
	{domain.ErrUnsupportedGrantType, wireError{http.StatusBadRequest, "unsupported_grant_type", "Only the device_code grant type is supported.", nil}},
	{domain.ErrExpiredToken, wireError{http.StatusBadRequest, "expired_token", "The device code is unknown or has expired.", nil}},
	{domain.ErrVerifierMismatch, wireError{http.StatusBadRequest, "invalid_grant", "The code_verifier is missing or does not match the code_challenge of this device code.", nil}},
	{domain.ErrInvalidGrant, wireError{http.StatusBadRequest, "invalid_grant", "The device code was not issued to this client.", nil}},
	{domain.ErrSlowDown, wireError{http.StatusBadRequest, "slow_down", "Polling too fast; wait longer between polls.", nil}},
	{domain.ErrAuthorizationPending, wireError{http.StatusBadRequest, "authorization_pending", "The user has not yet approved this device.", nil}},
	{domain.ErrAccessDenied, wireError{http.StatusBadRequest, "access_denied", "The user denied the request.", nil}},
	{domain.ErrExpiredOrUnknown, wireError{http.StatusNotFound, "expired_or_unknown", "The code is unknown or has expired.", nil}},
	{domain.ErrAlreadyResolved, wireError{http.StatusConflict, "already_resolved", "The request was already approved or denied.", nil}},
	{domain.ErrStateLost, wireError{http.StatusConflict, "state_lost", "The signed-in account is no longer available.", nil}},
	{domain.ErrNoSession, wireError{http.StatusUnauthorized, "no_session", "Sign in first.", nil}},
	{domain.ErrCSRFMismatch, wireError{http.StatusForbidden, "csrf_mismatch", "The CSRF token is missing or wrong.", nil}},
	// A feature switched off by the operator: nothing changes within seconds.
	{domain.ErrBearerDisabled, wireError{http.StatusServiceUnavailable, "bearer_auth_disabled", "", retryAfter(time.Minute)}},
	// Every fresh user code collided: a retry draws new ones at once.
	{domain.ErrUserCodeExhausted, wireError{http.StatusServiceUnavailable, "user_code_exhausted", "", retryAfter(time.Second)}},
	{domain.ErrMissingToken, wireError{http.StatusUnauthorized, "unauthorized", "A bearer token is required.",
		setHeader("WWW-Authenticate", `Bearer realm="devicegate"`)}},
	{domain.ErrInvalidToken, wireError{http.StatusUnauthorized, "invalid_token", "The bearer token is invalid or revoked.",
		setHeader("WWW-Authenticate", `Bearer realm="devicegate", error="invalid_token"`)}},
	{domain.ErrTokenExpired, wireError{http.StatusUnauthorized, "token_expired", "The bearer token has expired.",
		setHeader("WWW-Authenticate", `Bearer realm="devicegate", error="invalid_token", error_description="token expired"`)}},
	{domain.ErrInsufficientScope, wireError{http.StatusForbidden, "insufficient_scope", "The token does not grant this operation.",
		setHeader("WWW-Authenticate", `Bearer realm="devicegate", error="insufficient_scope"`)}},
	{domain.ErrNotFound, wireError{http.StatusNotFound, "not_found", "Not found.", nil}},
	{domain.ErrInvalidCredentials, wireError{http.StatusUnauthorized, "invalid_credentials", "Wrong email or password.", nil}},
	{domain.ErrConflict, wireError{http.StatusConflict, "conflict", "The resource already exists.", nil}},
	{errInvalidClient, wireError{http.StatusUnauthorized, "invalid_client", "Client authentication failed.",
		setHeader("WWW-Authenticate", `Basic realm="devicegate"`)}},
	{app.ErrIntrospectionDisabled, wireError{http.StatusNotFound, "not_found", "Not found.", nil}},
	// The external-SSO branch (SPEC 2.6).
	{domain.ErrInvalidUserCode, wireError{http.StatusBadRequest, "invalid_user_code", "The code is unknown, expired or already used.", nil}},
	{domain.ErrConsoleAPIURLUnset, wireError{http.StatusBadGateway, "console_api_url_unset", "", nil}},
	{domain.ErrSSOInitiateFailed, wireError{http.StatusBadGateway, "sso_initiate_failed", "", nil}},
	{domain.ErrSSOMissingURL, wireError{http.StatusBadGateway, "sso_initiate_missing_url", "", nil}},
	{domain.ErrInvalidSession, wireError{http.StatusUnauthorized, "invalid_session", "The SSO approval session is missing or expired.", nil}},
	{domain.ErrUserCodeMismatch, wireError{http.StatusBadRequest, "user_code_mismatch", "The code differs from the one signed in for.", nil}},
	{domain.ErrUserCodeNotPending, wireError{http.StatusConflict, "user_code_not_pending", "The request was already approved or denied.", nil}},
	{domain.ErrEmailBelongsToAccount, wireError{http.StatusForbidden, "email_belongs_to_dify_account", "This email belongs to an account; sign in with it instead.", nil}},
	{domain.ErrSessionConsumed, wireError{http.StatusUnauthorized, "session_already_consumed", "This SSO approval session was already used.", nil}},
}

// classify finds the answer for err; unknown errors are a 500.
func classify(err error) wireError {
	var rl *domain.RateLimitedError
	if errors.As(err, &rl) {
		return wireError{http.StatusTooManyRequests, "rate_limited", "Too many requests; retry later.", retryAfter(rl.RetryAfter)}
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return classify(errTooLarge)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromEcho(he)
	}
	for _, row := range errorTable {
		if errors.Is(err, row.target) {
			w := row.wire
			if errors.Is(row.target, domain.ErrInvalidRequest) {
				w.message = requestDetail(err, w.message)
			}
			return w
		}
	}
	return wireError{status: http.StatusInternalServerError, code: "internal_error"}
}

// requestDetail keeps the explanation of an invalid_request built as
// fmt.Errorf("%w: detail", domain.ErrInvalidRequest) (app and decode.go
// never put secrets in it); anything else gets the generic message.
func requestDetail(err error, fallback string) string {
	if d, ok := strings.CutPrefix(err.Error(), domain.ErrInvalidRequest.Error()+": "); ok && d != "" {
		return d
	}
	return fallback
}

// fromEcho maps Echo's own errors (routing 404/405, body limits, ...).
func fromEcho(he *echo.HTTPError) wireError {
	switch he.Code {
	case http.StatusNotFound:
		return wireError{status: he.Code, code: "not_found", message: "Not found."}
	case http.StatusMethodNotAllowed:
		return wireError{status: he.Code, code: "method_not_allowed", message: "Method not allowed."}
	case http.StatusRequestEntityTooLarge:
		return classify(errTooLarge)
	case http.StatusTooManyRequests:
		return wireError{status: he.Code, code: "rate_limited", message: "Too many requests; retry later.", header: retryAfter(time.Second)}
	}
	if he.Code >= 400 && he.Code < 500 {
		text := http.StatusText(he.Code)
		return wireError{status: he.Code, code: strings.ReplaceAll(strings.ToLower(text), " ", "_"), message: text + "."}
	}
	return wireError{status: http.StatusInternalServerError, code: "internal_error"}
}

// setHeader returns a header hook setting one header.
func setHeader(name, value string) func(http.Header) {
	return func(h http.Header) { h.Set(name, value) }
}

// retryAfter returns a hook setting Retry-After in whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) func(http.Header) {
	return setHeader("Retry-After", strconv.Itoa(retrySeconds(d)))
}

func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// canonicalError is the canonical error body of SPEC 1.1.
type canonicalError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// oauthError is the OAuth error body of SPEC 1.1 (endpoints 1-5 and 14).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// handleError is Echo's HTTPErrorHandler: every error any handler or
// middleware returns is answered here, from the table, in the route's shape.
func (s *server) handleError(err error, c echo.Context) {
	req := c.Request()
	if c.Response().Committed {
		s.log.WarnContext(req.Context(), "error after the response was committed", "route", c.Path(), "err", err)
		return
	}
	if errors.Is(req.Context().Err(), context.Canceled) {
		// The client went away (its connection closed) while we worked: a
		// backend call failing with the cancelled context is no server
		// error. Nothing is written; the access log records a 499 at INFO.
		c.Response().Status = StatusClientClosedRequest
		return
	}
	w := classify(err)
	c.Set(ctxErrorCode, w.code)
	if w.status >= 500 {
		// Details go to the log only; err texts never carry secrets (codes and
		// tokens are hashed before they reach any layer that could fail).
		s.log.ErrorContext(req.Context(), "request failed", "route", c.Path(), "status", w.status, "code", w.code,
			"request_id", app.RequestID(req.Context()), "err", err)
		w.message = internalMessage
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	if w.header != nil {
		w.header(h)
	}
	if w.status == http.StatusServiceUnavailable && h.Get(echo.HeaderRetryAfter) == "" {
		// Every 503 tells the client when to come back (SPEC 1.1).
		retryAfter(2 * time.Second)(h)
	}
	var body any = canonicalError{Code: w.code, Message: w.message, Status: w.status}
	wrongMethod := w.status == http.StatusMethodNotAllowed && s.oauth[c.Path()]
	if wrongMethod {
		// RFC 6749 section 5.2 has no code of its own for a wrong method.
		w.code = "invalid_request"
	}
	if (isOAuthRoute(c) || wrongMethod) && w.status != http.StatusTooManyRequests && w.status != http.StatusServiceUnavailable {
		body = oauthError{Error: w.code, Description: w.message}
	}
	if werr := c.JSON(w.status, body); werr != nil {
		s.log.WarnContext(req.Context(), "writing the error response failed", "err", werr)
	}
}

// panicError is a recovered panic, answered as a 500.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", p.value, p.stack) }
