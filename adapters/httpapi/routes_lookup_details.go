package httpapi

import (
	"errors"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// lookupDetails adds the request details of a pending flow to a lookup
// answer when, and only when, the caller holds a valid console session: the
// page's authorize view shows them to the approver (SPEC 8), and an anonymous
// caller keeps SPEC 2.4's answer. Networks are coarse (domain.CoarseNetwork);
// no address leaves the service. A session-store outage is an error (503),
// not a silently thinner answer.
func (s *server) lookupDetails(c echo.Context, out app.LookupOutput, body *lookupResponse) error {
	cookie := cookieValue(c, SessionCookie)
	if s.h.Console == nil || cookie == "" {
		return nil
	}
	if _, err := s.h.Console.Session(c.Request().Context(), cookie); err != nil {
		if errors.Is(err, domain.ErrNoSession) {
			return nil
		}
		return err
	}
	body.CreatedAt = wireTime(out.CreatedAt)
	body.RequestNetwork = out.RequestNetwork
	body.ApproverNetwork = domain.CoarseNetwork(c.RealIP())
	return nil
}
