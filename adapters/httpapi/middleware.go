package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// Context keys set by this package's middleware.
const (
	ctxOAuthShape = "devicegate.oauth_shape"
	ctxPrincipal  = "devicegate.principal"
)

// maxRequestID bounds an inbound X-Request-Id.
const maxRequestID = 128

// requestID takes a well-formed X-Request-Id (1-128 characters of
// [A-Za-z0-9._-]) or generates one, echoes it on the response and puts it in
// the request context for audit events and logs.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			id := req.Header.Get(echo.HeaderXRequestID)
			if !validRequestID(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.SetRequest(req.WithContext(app.WithRequestID(req.Context(), id)))
			return next(c)
		}
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// noStorePrefixes are the paths whose answers may carry tokens, codes or
// session data and must never be cached (SPEC 1.1).
var noStorePrefixes = []string{"/openapi/", "/console/", "/healthz", "/readyz"}

// securityHeaders sets the anti-framing and hardening headers of SPEC 1.2
// on every response (before the handler runs, so errors carry them too).
func securityHeaders() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderXFrameOptions, "DENY")
			h.Set(echo.HeaderContentSecurityPolicy, "frame-ancestors 'none'")
			h.Set(echo.HeaderXContentTypeOptions, "nosniff")
			h.Set(echo.HeaderReferrerPolicy, "no-referrer")
			path := c.Request().URL.Path
			for _, p := range noStorePrefixes {
				if strings.HasPrefix(path, p) {
					h.Set(echo.HeaderCacheControl, "no-store")
					break
				}
			}
			return next(c)
		}
	}
}

// accessLog answers errors through the error handler (so it sees the final
// status) and logs one line per request: the route pattern, never the URL,
// whose query may hold a user code.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req := c.Request()
			log.InfoContext(req.Context(), "http request",
				"method", req.Method, "route", c.Path(), "status", c.Response().Status,
				"duration_ms", time.Since(start).Milliseconds(), "ip", c.RealIP(),
				"request_id", app.RequestID(req.Context()))
			return nil
		}
	}
}

// recoverPanic turns a panic into an error answered as a 500, so no panic
// reaches a client. http.ErrAbortHandler keeps its meaning.
func recoverPanic() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler { //nolint:errorlint // the panic value itself, compared as net/http does
						panic(r)
					}
					err = &panicError{value: r, stack: debug.Stack()}
				}
			}()
			return next(c)
		}
	}
}

// oauthShape marks a route whose errors use the OAuth body shape
// (endpoints 1-5 and 14); 429 and 503 stay canonical regardless.
func oauthShape(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxOAuthShape, true)
		return next(c)
	}
}

func isOAuthRoute(c echo.Context) bool {
	v, _ := c.Get(ctxOAuthShape).(bool)
	return v
}

// oauthPaths records the paths of routes registered with oauthShape: a 405
// on such a path runs no route middleware, yet is answered in the OAuth
// shape too (see handleError).
func (s *server) oauthPaths(routes ...*echo.Route) {
	for _, r := range routes {
		s.oauth[r.Path] = true
	}
}

// RequireBearer authenticates the Authorization header with auth and stores
// the domain.Principal in the context (read it with PrincipalFrom). Its
// errors (missing, invalid, expired token, bearer disabled, rate limited)
// are answered by the error table.
func RequireBearer(auth *app.Authenticator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			p, err := auth.Authenticate(req.Context(), req.Header.Get(echo.HeaderAuthorization))
			if err != nil {
				return err
			}
			c.Set(ctxPrincipal, p)
			return next(c)
		}
	}
}

// RequireScope answers 403 insufficient_scope unless the principal stored by
// RequireBearer grants scope (domain.ScopeFull grants every scope). Without a
// principal it answers as RequireBearer would for a missing token.
func RequireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := PrincipalFrom(c)
			if !ok {
				return domain.ErrMissingToken
			}
			if err := app.RequireScope(p, scope); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// PrincipalFrom returns the principal RequireBearer stored in c.
func PrincipalFrom(c echo.Context) (domain.Principal, bool) {
	p, ok := c.Get(ctxPrincipal).(domain.Principal)
	return p, ok
}
