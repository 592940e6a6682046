package httpapi

import (
	"context"
	"errors"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// lookupCaller finds who looks a code up: a valid console session's
// account, or an approval grant (SPEC 2.6, the SSO-verified person) for
// this very code. It decides which rate-limit budget the look-up answers to
// (app.Lookup) and whether the answer carries the request details. A
// session-store outage is an error (503), not a silently anonymous caller.
func (s *server) lookupCaller(c echo.Context) (app.LookupCaller, error) {
	var by app.LookupCaller
	if cookie := cookieValue(c, SessionCookie); s.h.Console != nil && cookie != "" {
		sess, err := s.h.Console.Session(c.Request().Context(), cookie)
		if err != nil && !errors.Is(err, domain.ErrNoSession) {
			return by, err
		}
		by.AccountID = sess.AccountID
	}
	if by.AccountID == "" {
		by.Granted = s.grantApprover(c.Request().Context(), cookieValue(c, GrantCookie), c.QueryParam("user_code"))
	}
	return by, nil
}

// lookupDetails adds the request details of a pending flow to the lookup
// answer of a signed-in approver (app.LookupCaller.Approver). The page's
// authorize views show them to the approver (SPEC 8); an anonymous caller
// keeps SPEC 2.4's answer. Networks are coarse (domain.CoarseNetwork); no
// address leaves the service.
func lookupDetails(c echo.Context, out app.LookupOutput, body *lookupResponse) {
	body.CreatedAt = wireTime(out.CreatedAt)
	body.RequestNetwork = out.RequestNetwork
	body.ApproverNetwork = domain.CoarseNetwork(c.RealIP())
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
