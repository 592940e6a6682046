package echomw

import (
	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/labstack/echo/v4"
)

// ContextKey is the echo.Context key the principal is stored under.
const ContextKey = "devicegate.principal"

// Middleware guards Echo routes exactly as tokenclient.Middleware does
// (401/403/503 with the canonical body and headers). It writes those
// answers itself and returns nil, rather than returning an error for the
// app's HTTPErrorHandler, so every app answers the same wire contract.
// On success the principal is in the echo.Context (PrincipalFrom) and in
// the request context (tokenclient.PrincipalFrom).
func Middleware(c *tokenclient.Client, requiredScope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			r := ec.Request()
			p, err := c.Authenticate(r.Context(), r.Header.Get(echo.HeaderAuthorization), requiredScope)
			if err != nil {
				tokenclient.WriteError(ec.Response(), err)
				return nil
			}
			ec.Set(ContextKey, p)
			ec.SetRequest(r.WithContext(tokenclient.ContextWithPrincipal(r.Context(), p)))
			return next(ec)
		}
	}
}

// PrincipalFrom returns the principal Middleware stored in ec, and false if
// the route is not behind Middleware.
func PrincipalFrom(ec echo.Context) (tokenclient.Principal, bool) {
	p, ok := ec.Get(ContextKey).(tokenclient.Principal)
	return p, ok
}
