package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/ports"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// APIPrefix is where every product endpoint lives (SPEC 1).
const APIPrefix = "/openapi/v1"

// GetAndHead is the method list for read routes: HEAD is answered like GET
// (RFC 9110 section 9.3.2 asks general-purpose servers to support both;
// net/http drops the body of a HEAD answer). Adapters adding pages to the
// returned Echo should register them with e.Match(GetAndHead, ...) too.
var GetAndHead = []string{http.MethodGet, http.MethodHead}

// Cookie names of the console session API (SPEC 7.1).
const (
	SessionCookie = "devicegate_session"
	CSRFCookie    = "csrf_token"
)

// Config is the HTTP adapter's configuration.
type Config struct {
	// PublicWebURL is the externally visible base URL of the web pages; an
	// https URL turns on Secure cookies. Never derived from Host.
	PublicWebURL string
	// Issuer is the RFC 8414 issuer and the base of every advertised
	// endpoint URL; empty falls back to PublicWebURL.
	Issuer string
	// OpenAPIEnabled is OPENAPI_ENABLED: when false every /openapi/v1 path
	// (and the metadata advertising them) answers 404.
	OpenAPIEnabled bool
	// BearerEnabled is ENABLE_OAUTH_BEARER. The use cases enforce it
	// (app.Authenticator.Enabled, app.Decide.BearerEnabled); it is kept here
	// so the composition root has one place to read it from.
	BearerEnabled bool
	// CORSAllowOrigins lists exact origins allowed cross-origin; empty = CORS off.
	CORSAllowOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// Edition is "community" or "enterprise". The enterprise-only routes
	// (SPEC 1 rows 6-9) are gated by Handlers.SSO (license port), not by this field.
	Edition string
	// OpenAPIDocument is the published contract (docs.OpenAPI), served at
	// /openapi/v1/openapi.yaml while OpenAPIEnabled; empty leaves the route out.
	OpenAPIDocument []byte
	// SecureCookies forces the Secure attribute on cookies; it is also on
	// whenever PublicWebURL is https.
	SecureCookies bool
	// AccessLog is ACCESS_LOG (AccessLogSampled, AccessLogAll or
	// AccessLogErrors); "" is AccessLogSampled.
	AccessLog string
}

// Handlers are the use cases the routes call. A nil use case leaves its
// routes out (they answer 404), so partial graphs work in tests.
type Handlers struct {
	StartFlow  *app.StartFlow
	Poll       *app.Poll
	Lookup     *app.Lookup
	Decide     *app.Decide
	Console    *app.Console
	Auth       *app.Authenticator
	Sessions   *app.Sessions
	Me         *app.Me
	Introspect *app.Introspect
	// SSO is the external-SSO branch (SPEC 1 rows 6-9), gated by its own Available.
	SSO *app.SSO
	// Pingers are the backends /readyz checks.
	Pingers []ports.Pinger
	// Logger receives access and error logs; nil uses slog.Default().
	Logger *slog.Logger
	// Requests sees every answered request (metrics, tracing); optional.
	Requests RequestObserver
	// Metrics serves GET /metrics when set.
	Metrics http.Handler
	// Draining reports that the process is shutting down: /readyz then
	// answers 503 so load balancers stop sending traffic while in-flight
	// requests finish. Optional.
	Draining func() bool
}

// RequestObserver sees every answered request. route is the route template
// (c.Path(), never the URL, whose query may hold a user code), or
// UnmatchedRoute when no route matched; it must not block.
type RequestObserver interface {
	ObserveRequest(ctx context.Context, route, method string, status int, d time.Duration)
}

// UnmatchedRoute is the route a RequestObserver sees for a request no route matched.
const UnmatchedRoute = "unmatched"

// server holds what handlers share.
type server struct {
	cfg    Config
	h      Handlers
	log    *slog.Logger
	secure bool
	oauth  map[string]bool // paths of the OAuth-shaped routes (oauthPaths)
}

// New builds the Echo router with every route, the error handler and the
// middleware of SPEC 1. The caller may add routes (pages, enterprise SSO)
// to the returned Echo; they get the same middleware and error handling.
func New(cfg Config, h Handlers) *echo.Echo {
	s := &server{cfg: cfg, h: h, log: h.Logger, oauth: map[string]bool{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.cfg.Issuer == "" {
		s.cfg.Issuer = cfg.PublicWebURL
	}
	s.cfg.Issuer = strings.TrimRight(s.cfg.Issuer, "/")
	s.secure = cfg.SecureCookies || strings.HasPrefix(strings.ToLower(cfg.PublicWebURL), "https://")

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // everything worth logging goes through slog
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientIPExtractor(cfg.TrustedProxies)
	e.Use(requestID(), securityHeaders(), accessLog(s.log, cfg.AccessLog, newRouteSet(e), h.Requests), recoverPanic(), requestBounds())
	if len(cfg.CORSAllowOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  cfg.CORSAllowOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodDelete},
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "X-CSRF-Token", echo.HeaderXRequestID},
			ExposeHeaders: []string{echo.HeaderRetryAfter, echo.HeaderWWWAuthenticate, echo.HeaderXRequestID},
		}))
	}

	e.Match(GetAndHead, "/healthz", s.healthz)
	e.Match(GetAndHead, "/readyz", s.readyz)
	if h.Metrics != nil {
		e.Match(GetAndHead, "/metrics", echo.WrapHandler(h.Metrics))
	}
	s.consoleRoutes(e)
	if cfg.OpenAPIEnabled {
		e.Match(GetAndHead, "/.well-known/oauth-authorization-server", s.metadata)
		api := e.Group(APIPrefix)
		s.deviceRoutes(api)
		s.ssoRoutes(api)
		s.tokenRoutes(api)
		if len(cfg.OpenAPIDocument) > 0 {
			api.Match(GetAndHead, "/openapi.yaml", s.openAPIDocument)
		}
	}
	return e
}
