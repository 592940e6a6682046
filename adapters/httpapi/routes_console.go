package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"

	"github.com/labstack/echo/v4"
)

// consoleRoutes registers the built-in console session API (SPEC 7.1).
func (s *server) consoleRoutes(e *echo.Echo) {
	if s.h.Console == nil {
		return
	}
	e.POST("/console/api/login", s.login)
	e.POST("/console/api/logout", s.logout)
	e.Match(GetAndHead, "/console/api/account/profile", s.profile)
}

// login verifies email + password and sets the session cookie (HttpOnly)
// and the csrf_token cookie (readable by the page, for the double submit).
// The body is JSON only (see decodeJSONFields).
func (s *server) login(c echo.Context) error {
	f, err := decodeJSONFields(c, "email", "password")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in, err := s.h.Console.Login(ctx, f["email"], f["password"], c.RealIP())
	if err != nil {
		return err
	}
	// A new sign-in ends the session this browser held before, if any.
	if old := cookieValue(c, SessionCookie); old != "" {
		if err := s.h.Console.Logout(ctx, old); err != nil {
			s.log.WarnContext(ctx, "ending the previous console session failed", "err", err)
		}
	}
	maxAge := int(in.Session.ExpiresAt.Sub(in.Session.CreatedAt) / time.Second)
	c.SetCookie(s.cookie(SessionCookie, in.ID, maxAge, true))
	c.SetCookie(s.cookie(CSRFCookie, in.CSRFToken, maxAge, false))
	return c.JSON(http.StatusOK, loginResponse{
		Result: "success", CSRFToken: in.CSRFToken,
		Account: accountDTO{ID: in.Account.ID, Email: in.Account.Email, Name: in.Account.Name},
	})
}

// logout ends the session (if any) and clears both cookies. A live session
// is ended only with the CSRF header (403 csrf_mismatch otherwise, nothing
// changed), so another site cannot sign the person out; without a live
// session there is nothing to protect and the answer is 200.
func (s *server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if id := cookieValue(c, SessionCookie); id != "" {
		sess, err := s.h.Console.Session(ctx, id)
		switch {
		case err == nil:
			if err := checkCSRF(c, sess); err != nil {
				return err
			}
			if err := s.h.Console.Logout(ctx, id); err != nil {
				return err
			}
		case !errors.Is(err, domain.ErrNoSession):
			return err
		}
	}
	c.SetCookie(s.cookie(SessionCookie, "", -1, true))
	c.SetCookie(s.cookie(CSRFCookie, "", -1, false))
	return c.JSON(http.StatusOK, map[string]string{"result": "success"})
}

// checkCSRF is the console's CSRF admission: the X-CSRF-Token header must
// equal the csrf_token cookie when one is sent (double submit) and, always,
// the session's own CSRF secret (a planted cookie cannot pass), both
// compared in constant time.
func checkCSRF(c echo.Context, sess domain.ConsoleSession) error {
	header := c.Request().Header.Get(HeaderCSRF)
	if ck, err := c.Cookie(CSRFCookie); err == nil && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(header)) != 1 {
		return domain.ErrCSRFMismatch
	}
	return app.CheckCSRF(sess, header)
}

// profile is the signed-in account with its workspaces (401 no_session otherwise).
func (s *server) profile(c echo.Context) error {
	ctx := c.Request().Context()
	sess, err := s.h.Console.Session(ctx, cookieValue(c, SessionCookie))
	if err != nil {
		return err
	}
	p, err := s.h.Console.Profile(ctx, sess)
	if err != nil {
		return err
	}
	body := profileResponse{ID: p.Account.ID, Email: p.Account.Email, Name: p.Account.Name,
		Workspaces: make([]profileWorkspaceDTO, 0, len(p.Workspaces)), DefaultWorkspaceID: nullable(p.DefaultWorkspaceID)}
	for _, w := range p.Workspaces {
		body.Workspaces = append(body.Workspaces, profileWorkspaceDTO{ID: w.ID, Name: w.Name, Role: w.Role, Current: w.Current})
	}
	return c.JSON(http.StatusOK, body)
}

// cookie builds a console cookie. maxAge < 0 clears it (sent as Max-Age=0).
func (s *server) cookie(name, value string, maxAge int, httpOnly bool) *http.Cookie {
	return &http.Cookie{ //nolint:gosec // G124: Secure follows PUBLIC_WEB_URL (https), HttpOnly is off only for the CSRF cookie the page reads
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	}
}
