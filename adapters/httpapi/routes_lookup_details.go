package httpapi

import (
	"context"
	"errors"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// lookupDetails adds the request details of a pending flow to a lookup
// answer when, and only when, the caller is a signed-in approver: a valid
// console session, or an approval grant (SPEC 2.6, the SSO-verified person)
// for this very code. The page's authorize views show them to the approver
// (SPEC 8), and an anonymous caller keeps SPEC 2.4's answer. Networks are
// coarse (domain.CoarseNetwork); no address leaves the service. A
// session-store outage is an error (503), not a silently thinner answer.
func (s *server) lookupDetails(c echo.Context, out app.LookupOutput, body *lookupResponse) error {
	ok, err := s.consoleApprover(c)
	if err != nil {
		return err
	}
	if !ok && !s.grantApprover(c.Request().Context(), cookieValue(c, GrantCookie), c.QueryParam("user_code")) {
		return nil
	}
	body.CreatedAt = wireTime(out.CreatedAt)
	body.RequestNetwork = out.RequestNetwork
	body.ApproverNetwork = domain.CoarseNetwork(c.RealIP())
	return nil
}

// consoleApprover reports whether the caller holds a valid console session.
func (s *server) consoleApprover(c echo.Context) (bool, error) {
	cookie := cookieValue(c, SessionCookie)
	if s.h.Console == nil || cookie == "" {
		return false, nil
	}
	if _, err := s.h.Console.Session(c.Request().Context(), cookie); err != nil {
		if errors.Is(err, domain.ErrNoSession) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// grantApprover reports whether cookie is a valid approval grant for the
// looked-up code while the SSO branch is on. A grant for another code
// reveals nothing about this one.
func (s *server) grantApprover(ctx context.Context, cookie, rawCode string) bool {
	if s.h.SSO == nil || cookie == "" || !s.h.SSO.Available(ctx) {
		return false
	}
	code, ok := domain.NormalizeUserCode(rawCode)
	if !ok {
		return false
	}
	g, err := s.h.SSO.Grant(ctx, cookie)
	return err == nil && g.UserCode == code
}
