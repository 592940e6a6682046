package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// Context keys set by this package's middleware.
const (
	ctxOAuthShape = "devicegate.oauth_shape"
	ctxPrincipal  = "devicegate.principal"
	ctxErrorCode  = "devicegate.error_code"
)

// Bounds on the request line and headers, checked before routing work (the
// body's is maxBody). The server's MaxHeaderBytes bounds all headers
// together before the handler runs at all; these are tighter bounds on the
// parts the service reads.
const (
	// MaxHeaderBytes is the http.Server's bound on the request line and
	// headers together: over it (plus net/http's 4 KiB slack) the server
	// answers 431 itself, before any handler.
	MaxHeaderBytes = 16 << 10
	// MaxQueryBytes bounds the raw query string (a user code is 9
	// characters; the longest legitimate query, sso-complete's signed state,
	// is under 1 KiB): longer is 414 uri_too_long.
	MaxQueryBytes = 4 << 10
	// MaxCookieBytes bounds the Cookie headers together (the service sets
	// three cookies, under 1 KiB in all): larger is 431.
	MaxCookieBytes = 8 << 10
)

// requestBounds refuses a query string over MaxQueryBytes (414) and Cookie
// headers over MaxCookieBytes (431) before anything parses them, in the
// canonical error shape.
func requestBounds() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if len(req.URL.RawQuery) > MaxQueryBytes {
				return errURITooLong
			}
			n := 0
			for _, v := range req.Header.Values("Cookie") {
				n += len(v)
			}
			if n > MaxCookieBytes {
				return errHeadersTooLarge
			}
			return next(c)
		}
	}
}

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

// routeSet knows the registered route templates, so that a request no route
// matched (whose c.Path() may be a partial path of the router's tree) is
// reported as UnmatchedRoute: metrics labels stay a finite set.
type routeSet struct {
	e     *echo.Echo
	once  sync.Once
	paths map[string]bool
}

func newRouteSet(e *echo.Echo) *routeSet { return &routeSet{e: e} }

// template returns path if it is a registered route template, else
// UnmatchedRoute. The set is read on first use, when every route (the
// caller's pages included) has been added.
func (r *routeSet) template(path string) string {
	r.once.Do(func() {
		r.paths = map[string]bool{}
		for _, rt := range r.e.Routes() {
			r.paths[rt.Path] = true
		}
	})
	if path == "" || !r.paths[path] {
		return UnmatchedRoute
	}
	return path
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
