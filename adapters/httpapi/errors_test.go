package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// TestErrorTable drives every row of the error table through the real error
// handler, wrapped as the app layer wraps them, in both body shapes.
func TestErrorTable(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
		header string // header that must be present
		value  string // its exact value ("" = any)
	}{
		{domain.ErrInvalidRequest, 400, "invalid_request", "", ""},
		{domain.ErrUnsupportedClient, 400, "unsupported_client", "", ""},
		{domain.ErrUnsupportedGrantType, 400, "unsupported_grant_type", "", ""},
		{domain.ErrExpiredToken, 400, "expired_token", "", ""},
		{domain.ErrInvalidGrant, 400, "invalid_grant", "", ""},
		{domain.ErrVerifierMismatch, 400, "invalid_grant", "", ""},
		{domain.ErrSlowDown, 400, "slow_down", "", ""},
		{domain.ErrAuthorizationPending, 400, "authorization_pending", "", ""},
		{domain.ErrAccessDenied, 400, "access_denied", "", ""},
		{domain.ErrExpiredOrUnknown, 404, "expired_or_unknown", "", ""},
		{domain.ErrAlreadyResolved, 409, "already_resolved", "", ""},
		{domain.ErrStateLost, 409, "state_lost", "", ""},
		{domain.ErrNoSession, 401, "no_session", "", ""},
		{domain.ErrCSRFMismatch, 403, "csrf_mismatch", "", ""},
		{domain.ErrBearerDisabled, 503, "bearer_auth_disabled", "Retry-After", ""},
		{domain.ErrUserCodeExhausted, 503, "user_code_exhausted", "Retry-After", "1"},
		{domain.ErrMissingToken, 401, "unauthorized", "WWW-Authenticate", `Bearer realm="devicegate"`},
		{domain.ErrInvalidToken, 401, "invalid_token", "WWW-Authenticate", `Bearer realm="devicegate", error="invalid_token"`},
		{domain.ErrTokenExpired, 401, "token_expired", "WWW-Authenticate",
			`Bearer realm="devicegate", error="invalid_token", error_description="token expired"`},
		{domain.ErrInsufficientScope, 403, "insufficient_scope", "WWW-Authenticate", `Bearer realm="devicegate", error="insufficient_scope"`},
		{domain.ErrNotFound, 404, "not_found", "", ""},
		{domain.ErrInvalidCredentials, 401, "invalid_credentials", "", ""},
		{domain.ErrConflict, 409, "conflict", "", ""},
		{&domain.RateLimitedError{Bucket: "x", RetryAfter: 1500 * time.Millisecond}, 429, "rate_limited", "Retry-After", "2"},
		{&domain.RateLimitedError{Bucket: "x", RetryAfter: 0}, 429, "rate_limited", "Retry-After", "1"},
		{domain.Unavailable("database", errors.New("connection refused")), 503, "service_unavailable", "Retry-After", "2"},
		{errTooLarge, 413, "request_too_large", "", ""},
		{&http.MaxBytesError{Limit: 10}, 413, "request_too_large", "", ""},
		{errInvalidClient, 401, "invalid_client", "WWW-Authenticate", `Basic realm="devicegate"`},
		{app.ErrIntrospectionDisabled, 404, "not_found", "", ""},
		{echo.ErrNotFound, 404, "not_found", "", ""},
		{echo.ErrMethodNotAllowed, 405, "method_not_allowed", "", ""},
		{echo.ErrStatusRequestEntityTooLarge, 413, "request_too_large", "", ""},
		{echo.ErrUnsupportedMediaType, 415, "unsupported_media_type", "", ""},
		{echo.ErrInternalServerError, 500, "internal_error", "", ""},
		{errors.New("boom: secret detail"), 500, "internal_error", "", ""},
	}
	e := New(Config{}, Handlers{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for i, tc := range cases {
		err := fmt.Errorf("layer %d: %w", i, tc.err)
		e.GET("/canonical/"+strconv.Itoa(i), func(echo.Context) error { return err })
		e.GET("/oauth/"+strconv.Itoa(i), func(echo.Context) error { return err }, oauthShape)
	}
	for i, tc := range cases {
		for _, shape := range []string{"canonical", "oauth"} {
			t.Run(fmt.Sprintf("%s/%s/%d", tc.code, shape, i), func(t *testing.T) {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+shape+"/"+strconv.Itoa(i), nil))
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
				}
				if rec.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("Cache-Control %q", rec.Header().Get("Cache-Control"))
				}
				if tc.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
					t.Fatal("a 503 without Retry-After")
				}
				if tc.header != "" {
					if got := rec.Header().Get(tc.header); got == "" || (tc.value != "" && got != tc.value) {
						t.Fatalf("%s = %q, want %q", tc.header, got, tc.value)
					}
				}
				var body map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				canonical := shape == "canonical" || tc.status == 429 || tc.status == 503
				msgKey := "error_description"
				if canonical {
					msgKey = "message"
					if body["code"] != tc.code || body["status"] != float64(tc.status) || len(body) != 3 {
						t.Fatalf("canonical body %s, want code %q", rec.Body, tc.code)
					}
				} else if body["error"] != tc.code || len(body) != 2 {
					t.Fatalf("oauth body %s, want error %q", rec.Body, tc.code)
				}
				msg, _ := body[msgKey].(string)
				if msg == "" || (tc.status >= 500) != (msg == internalMessage) {
					t.Fatalf("message %q for status %d", msg, tc.status)
				}
			})
		}
	}
}

// TestInvalidRequestDetail keeps the app's explanation and drops everything else.
func TestInvalidRequestDetail(t *testing.T) {
	w := classify(fmt.Errorf("%w: client_id is required", domain.ErrInvalidRequest))
	if w.message != "client_id is required" {
		t.Fatalf("message %q", w.message)
	}
	w = classify(fmt.Errorf("outer: %w", domain.ErrInvalidRequest))
	if w.message != "The request is missing a field or is malformed." {
		t.Fatalf("message %q", w.message)
	}
}

// TestRetrySeconds rounds up to whole seconds, at least one.
func TestRetrySeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Hour: 3600} {
		if got := retrySeconds(d); got != want {
			t.Errorf("retrySeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
