package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// GrantCookie is the approval-grant cookie of SPEC 2.6.
const (
	GrantCookie     = "device_approval_grant"
	grantCookiePath = APIPrefix + "/oauth/device"
)

// ssoRoutes registers SPEC 1 rows 6-9 (canonical error shape) behind the
// edition gate, which runs before anything else, rate limits included. Every
// method is routed through the gate, so while the branch is off even a wrong
// method answers the bare 404 of an unknown path (never a telling 405).
func (s *server) ssoRoutes(api *echo.Group) {
	if s.h.SSO == nil {
		return
	}
	// sso-initiate and sso-complete are GET only: their effects (a gateway
	// call, a consumed nonce) must not be triggered by a HEAD.
	s.ssoRoute(api, "/oauth/device/sso-initiate", map[string]echo.HandlerFunc{http.MethodGet: s.ssoInitiate})
	s.ssoRoute(api, "/oauth/device/sso-complete", map[string]echo.HandlerFunc{http.MethodGet: s.ssoComplete})
	s.ssoRoute(api, "/oauth/device/approval-context",
		map[string]echo.HandlerFunc{http.MethodGet: s.approvalContext, http.MethodHead: s.approvalContext})
	s.ssoRoute(api, "/oauth/device/approve-external", map[string]echo.HandlerFunc{http.MethodPost: s.approveExternal})
	if s.h.SSO.Relay != nil {
		// The built-in OpenID Connect relay's callback (app.SSOCallbackPath),
		// GET only: it redeems a one-time code and consumes the state.
		s.ssoRoute(api, strings.TrimPrefix(app.SSOCallbackPath, APIPrefix), map[string]echo.HandlerFunc{http.MethodGet: s.ssoCallback})
	}
}

// ssoRoute routes every method of path through the gate to its handler.
func (s *server) ssoRoute(api *echo.Group, path string, byMethod map[string]echo.HandlerFunc) {
	api.Any(path, func(c echo.Context) error {
		h, ok := byMethod[c.Request().Method]
		if !ok {
			return echo.ErrMethodNotAllowed
		}
		return h(c)
	}, s.ssoGate)
}

// ssoGate answers exactly as an unknown path does (a bare 404) while the
// SSO branch is off, so its endpoints cannot be told from absent ones.
func (s *server) ssoGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.h.SSO.Available(c.Request().Context()) {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// grantCookie builds the approval-grant cookie: value for 300 s, or a clearing one when value is "".
func (s *server) grantCookie(value string) *http.Cookie {
	ck := &http.Cookie{Name: GrantCookie, Value: value, Path: grantCookiePath, HttpOnly: true, //nolint:gosec // G124: Secure follows PUBLIC_WEB_URL (https); plain-http dev could not send it back
		SameSite: http.SameSiteLaxMode, Secure: s.secure, MaxAge: int(domain.ApprovalGrantTTL / time.Second)}
	if value == "" {
		ck.MaxAge = -1 // Max-Age=0 on the wire
	}
	return ck
}

// ssoInitiate is GET /oauth/device/sso-initiate (SPEC 2.6 step 1). Any old
// grant cookie is cleared whatever the outcome.
func (s *server) ssoInitiate(c echo.Context) error {
	c.SetCookie(s.grantCookie(""))
	to, err := s.h.SSO.Initiate(c.Request().Context(), c.QueryParam("user_code"), c.RealIP())
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
}

// ssoComplete is GET /oauth/device/sso-complete (SPEC 2.6 step 2): always a
// 302 to the /device page; the grant cookie is set on success only.
func (s *server) ssoComplete(c echo.Context) error {
	res := s.h.SSO.Complete(c.Request().Context(), app.CompleteInput{
		Assertion: c.QueryParam("sso_assertion"), SSOError: c.QueryParam("sso_error"), UserCode: c.QueryParam("user_code"),
	})
	if res.Grant != "" {
		c.SetCookie(s.grantCookie(res.Grant))
	}
	return c.Redirect(http.StatusFound, s.devicePage(res.Query))
}

// ssoCallback is the relay's callback: always a 302 to sso-complete (with a
// signed assertion, or sso_error), never an error body or provider details.
func (s *server) ssoCallback(c echo.Context) error {
	q := c.QueryParams()
	to := s.h.SSO.Callback(c.Request().Context(), app.CallbackInput{Code: q.Get("code"), State: q.Get("state"), Error: q.Get("error")})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, to)
}

// devicePage is the /device page on PUBLIC_WEB_URL with query q: a path
// when the page shares the API's origin (CONSOLE_API_URL), else absolute.
func (s *server) devicePage(q url.Values) string {
	web, err := url.Parse(s.cfg.PublicWebURL)
	if err != nil {
		web = &url.URL{}
	}
	page := *web
	page.Path = strings.TrimRight(web.Path, "/") + "/device"
	page.RawPath, page.RawQuery, page.Fragment = "", q.Encode(), ""
	if api, err := url.Parse(s.h.SSO.ConsoleAPIURL); err == nil && s.h.SSO.ConsoleAPIURL != "" &&
		strings.EqualFold(api.Scheme, web.Scheme) && strings.EqualFold(api.Host, web.Host) {
		page.Scheme, page.Host, page.User = "", "", nil
	}
	return page.String()
}

// approvalContextResponse is the 200 body of approval-context.
type approvalContextResponse struct {
	SubjectEmail  string `json:"subject_email"`
	SubjectIssuer string `json:"subject_issuer"`
	UserCode      string `json:"user_code"`
	CSRFToken     string `json:"csrf_token"`
	ExpiresAt     string `json:"expires_at"`
}

// approvalContext is GET /oauth/device/approval-context (SPEC 2.6 step 3).
func (s *server) approvalContext(c echo.Context) error {
	g, err := s.h.SSO.Grant(c.Request().Context(), cookieValue(c, GrantCookie))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, approvalContextResponse{SubjectEmail: g.SubjectEmail, SubjectIssuer: g.SubjectIssuer,
		UserCode: g.UserCode, CSRFToken: g.CSRFToken, ExpiresAt: wireTime(g.ExpiresAt)})
}

// approveExternal is POST /oauth/device/approve-external (SPEC 2.6 step 4):
// admission (grant, per-email limit, CSRF) before the body is read; the
// cookie is cleared on success only, and no error response touches it.
func (s *server) approveExternal(c echo.Context) error {
	ctx := c.Request().Context()
	g, err := s.h.SSO.AdmitExternal(ctx, cookieValue(c, GrantCookie), c.Request().Header.Get(HeaderCSRF))
	if err != nil {
		return err
	}
	f, err := decodeFields(c, "user_code")
	if err != nil {
		return err
	}
	if err := s.h.SSO.ApproveExternal(ctx, g, f["user_code"]); err != nil {
		return err
	}
	c.SetCookie(s.grantCookie(""))
	return c.JSON(http.StatusOK, statusResponse{Status: "approved"})
}
