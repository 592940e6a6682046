package httpapi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// HeaderCSRF carries the CSRF token on approve and deny (SPEC 2.5).
const HeaderCSRF = "X-CSRF-Token"

// deviceRoutes registers SPEC 1 rows 1-5 (OAuth error shape).
func (s *server) deviceRoutes(api *echo.Group) {
	if s.h.StartFlow != nil {
		s.oauthPaths(api.POST("/oauth/device/code", s.deviceCode, oauthShape))
	}
	if s.h.Poll != nil {
		s.oauthPaths(api.POST("/oauth/device/token", s.deviceToken, oauthShape))
	}
	if s.h.Lookup != nil {
		s.oauthPaths(api.Match(GetAndHead, "/oauth/device/lookup", s.lookup, oauthShape)...)
	}
	if s.h.Decide != nil && s.h.Console != nil {
		s.oauthPaths(api.POST("/oauth/device/approve", s.decide(true), oauthShape))
		s.oauthPaths(api.POST("/oauth/device/deny", s.decide(false), oauthShape))
	}
}

// deviceCode is POST /oauth/device/code (SPEC 2.2).
func (s *server) deviceCode(c echo.Context) error {
	f, err := decodeFields(c, "client_id", "device_label", "scope", "code_challenge", "code_challenge_method")
	if err != nil {
		return err
	}
	if err := basicClientID(c, f); err != nil {
		return err
	}
	out, err := s.h.StartFlow.Execute(c.Request().Context(), app.StartFlowInput{
		ClientID: f["client_id"], DeviceLabel: f["device_label"], Scope: f["scope"], IP: c.RealIP(),
		CodeChallenge: f["code_challenge"], CodeChallengeMethod: f["code_challenge_method"],
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deviceCodeResponse{
		DeviceCode: out.DeviceCode, UserCode: out.UserCode, VerificationURI: out.VerificationURI,
		VerificationURIComplete: out.VerificationURIComplete, ExpiresIn: out.ExpiresIn, Interval: out.Interval,
	})
}

// deviceToken is POST /oauth/device/token, the poll (SPEC 2.3).
func (s *server) deviceToken(c echo.Context) error {
	f, err := decodeFields(c, "device_code", "client_id", "grant_type", "code_verifier")
	if err != nil {
		return err
	}
	if err := basicClientID(c, f); err != nil {
		return err
	}
	if gt, given := f["grant_type"]; gt == "" {
		switch {
		case isForm(c):
			// Optional only in JSON, for the reference CLI (SPEC 2.3); a form
			// poll is a standard RFC 8628 token request, where it is REQUIRED
			// (and an empty value counts as absent, RFC 6749 section 3.1).
			return fmt.Errorf("%w: grant_type is required", domain.ErrInvalidRequest)
		case given:
			// A JSON grant_type that is present but empty names no grant type.
			return domain.ErrUnsupportedGrantType
		}
	}
	g, err := s.h.Poll.Execute(c.Request().Context(), app.PollInput{
		DeviceCode: f["device_code"], ClientID: f["client_id"], GrantType: f["grant_type"], IP: c.RealIP(),
		CodeVerifier: f["code_verifier"],
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, tokenBody(g))
}

// basicClientID accepts the client id of a public client sent as HTTP Basic
// credentials with an empty password (RFC 6749 section 2.3.1), which many
// OAuth libraries try first (golang.org/x/oauth2 does). A secret is refused:
// every client here is public, so a secret is a failed client
// authentication (RFC 6749 section 5.2: 401 invalid_client). A Basic id that
// is malformed or contradicts the body's is refused as invalid_request.
func basicClientID(c echo.Context, f map[string]string) error {
	user, pass, ok := c.Request().BasicAuth()
	if !ok {
		return nil
	}
	if pass != "" {
		return errInvalidClient
	}
	id, err := url.QueryUnescape(user)
	if err != nil {
		return fmt.Errorf("%w: the Basic client id is not form-encoded", domain.ErrInvalidRequest)
	}
	if body, given := f["client_id"]; given && body != id {
		return fmt.Errorf("%w: client_id differs from the Basic credentials", domain.ErrInvalidRequest)
	}
	f["client_id"] = id
	return nil
}

// tokenBody builds the 200 poll body. expires_in counts from the mint,
// which happened during this request.
func tokenBody(g app.Grant) tokenResponse {
	row := g.Row
	body := tokenResponse{
		AccessToken: g.Token, TokenType: "Bearer", Token: g.Token,
		ExpiresIn: int64(row.ExpiresAt.Sub(row.CreatedAt).Seconds()), ExpiresAt: wireTime(row.ExpiresAt),
		TokenID: row.ID, SubjectType: string(g.Subject.Type), Workspaces: []workspaceDTO{},
	}
	if g.Subject.Type == domain.SubjectAccount {
		body.Account = &accountDTO{ID: g.Subject.AccountID, Email: g.Subject.Email, Name: g.Subject.AccountName}
		body.Workspaces = workspaces(g.Subject.Workspaces)
		body.DefaultWorkspaceID = nullable(g.Subject.DefaultWorkspaceID)
		return body
	}
	body.SubjectEmail, body.SubjectIssuer = g.Subject.Email, g.Subject.Issuer
	return body
}

// lookup is GET /oauth/device/lookup (SPEC 2.4).
func (s *server) lookup(c echo.Context) error {
	by, err := s.lookupCaller(c)
	if err != nil {
		return err
	}
	out, err := s.h.Lookup.Execute(c.Request().Context(), c.QueryParam("user_code"), c.RealIP(), by)
	if err != nil {
		return err
	}
	body := lookupResponse{Valid: out.Valid, ExpiresRemaining: out.ExpiresRemaining, ClientID: nullable(out.ClientID)}
	if out.Valid {
		body.DeviceLabel = out.DeviceLabel
		if by.Approver() {
			lookupDetails(c, out, &body)
		}
	}
	return c.JSON(http.StatusOK, body)
}

// decide is POST /oauth/device/approve and /deny (SPEC 2.5). Admission order:
// a console session (401), the double-submit CSRF cookie when present and
// the header against the session (403), all before the body is read; then
// app.Decide (feature switch, rate limit, the decision).
func (s *server) decide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		sess, err := s.h.Console.Session(ctx, cookieValue(c, SessionCookie))
		if err != nil {
			return err
		}
		if err := checkCSRF(c, sess); err != nil {
			return err
		}
		header := c.Request().Header.Get(HeaderCSRF)
		f, err := decodeFields(c, "user_code")
		if err != nil {
			return err
		}
		if _, err := s.h.Decide.Execute(ctx, app.DecideInput{
			Session: sess, CSRFHeader: header, UserCode: f["user_code"], Approve: approve,
		}); err != nil {
			return err
		}
		status := "denied"
		if approve {
			status = "approved"
		}
		return c.JSON(http.StatusOK, statusResponse{Status: status})
	}
}

// cookieValue returns the named cookie's value ("" when absent).
func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}
