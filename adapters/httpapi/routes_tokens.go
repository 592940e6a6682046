package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// Paging of GET /oauth/authorizations.
const (
	defaultPage  = 1
	defaultLimit = 100
	maxPage      = 1_000_000 // keeps page*limit far from overflow
)

// tokenRoutes registers SPEC 1 rows 10-14 and RFC 7662 introspection.
// Bearer routes accept every token kind; the owner rule separates subjects.
func (s *server) tokenRoutes(api *echo.Group) {
	if s.h.Auth != nil {
		bearer := RequireBearer(s.h.Auth)
		if s.h.Me != nil {
			api.Match(GetAndHead, "/me", s.me, bearer)
		}
		if s.h.Sessions != nil {
			api.Match(GetAndHead, "/oauth/authorizations", s.listAuthorizations, bearer)
			api.DELETE("/oauth/authorizations/self", s.revokeSelf, bearer)
			api.DELETE("/oauth/authorizations/:id", s.revokeByID, bearer)
		}
	}
	if s.h.Sessions != nil {
		s.oauthPaths(api.POST("/oauth/revoke", s.revoke, oauthShape))
	}
	if s.h.Introspect != nil {
		api.POST("/oauth/introspect", s.introspect)
	}
}

// me is GET /me (SPEC 3.5).
func (s *server) me(c echo.Context) error {
	p, _ := PrincipalFrom(c)
	out, err := s.h.Me.Execute(c.Request().Context(), p)
	if err != nil {
		return err
	}
	body := meResponse{SubjectType: string(out.SubjectType), SubjectEmail: out.SubjectEmail, Workspaces: workspaces(out.Workspaces)}
	if out.Account != nil {
		body.Account = &accountDTO{ID: out.Account.ID, Email: out.Account.Email, Name: out.Account.Name}
		body.DefaultWorkspaceID = nullable(out.DefaultWorkspaceID)
	} else {
		body.SubjectIssuer = out.SubjectIssuer
	}
	return c.JSON(http.StatusOK, body)
}

// listAuthorizations is GET /oauth/authorizations?page=&limit= (SPEC 3.5).
func (s *server) listAuthorizations(c echo.Context) error {
	page, err := intParam(c, "page", defaultPage, 1, maxPage)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", defaultLimit, 1, app.MaxSessionPageLimit)
	if err != nil {
		return err
	}
	p, _ := PrincipalFrom(c)
	out, err := s.h.Sessions.List(c.Request().Context(), p, page, limit)
	if err != nil {
		return err
	}
	body := authorizationsResponse{Page: out.Page, Limit: out.Limit, Total: out.Total, HasMore: out.HasMore,
		Data: make([]authorizationDTO, 0, len(out.Rows))}
	for _, r := range out.Rows {
		body.Data = append(body.Data, authorizationDTO{
			ID: r.ID, Prefix: r.Prefix, ClientID: r.ClientID, DeviceLabel: r.DeviceLabel,
			CreatedAt: wireTime(r.CreatedAt), LastUsedAt: wireTimePtr(r.LastUsedAt), ExpiresAt: wireTime(r.ExpiresAt),
			Current: r.ID == out.CurrentID,
		})
	}
	return c.JSON(http.StatusOK, body)
}

// intParam parses an optional whole-number query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %s must be a whole number from %d to %d", domain.ErrInvalidRequest, name, lo, hi)
	}
	return n, nil
}

// revokeSelf is DELETE /oauth/authorizations/self.
func (s *server) revokeSelf(c echo.Context) error {
	p, _ := PrincipalFrom(c)
	if err := s.h.Sessions.RevokeSelf(c.Request().Context(), p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, statusResponse{Status: "revoked"})
}

// revokeByID is DELETE /oauth/authorizations/{id}: 404 unless the caller owns the row.
func (s *server) revokeByID(c echo.Context) error {
	id := c.Param("id")
	if !uuidShaped(id) {
		// Not an id we could have issued; don't hand a malformed uuid to the database.
		return domain.ErrNotFound
	}
	p, _ := PrincipalFrom(c)
	if err := s.h.Sessions.RevokeByID(c.Request().Context(), p, strings.ToLower(id)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, statusResponse{Status: "revoked"})
}

// uuidShaped reports whether id looks like 8-4-4-4-12 hex.
func uuidShaped(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if b != '-' {
				return false
			}
		case b >= '0' && b <= '9', b >= 'a' && b <= 'f', b >= 'A' && b <= 'F':
		default:
			return false
		}
	}
	return true
}

// revoke is RFC 7009 POST /oauth/revoke: 200 {} whether or not the token was valid.
func (s *server) revoke(c echo.Context) error {
	f, err := decodeFields(c, "token", "token_type_hint")
	if err != nil {
		return err
	}
	if f["token"] == "" {
		return fmt.Errorf("%w: token is required", domain.ErrInvalidRequest)
	}
	if err := s.h.Sessions.RevokeToken(c.Request().Context(), f["token"]); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// introspect is RFC 7662 POST /oauth/introspect for resource servers,
// authenticated with the introspection secret as a bearer credential or as
// the HTTP Basic password (any user name).
func (s *server) introspect(c echo.Context) error {
	req := c.Request()
	cred, ok := app.BearerToken(req.Header.Get(echo.HeaderAuthorization))
	if !ok {
		_, cred, _ = req.BasicAuth()
	}
	if err := s.h.Introspect.Authorize(cred); err != nil {
		if errors.Is(err, app.ErrIntrospectionDisabled) {
			return err
		}
		return errInvalidClient
	}
	f, err := decodeFields(c, "token", "token_type_hint")
	if err != nil {
		return err
	}
	if f["token"] == "" {
		return fmt.Errorf("%w: token is required", domain.ErrInvalidRequest)
	}
	res, err := s.h.Introspect.Execute(req.Context(), f["token"])
	if err != nil {
		return err
	}
	if !res.Active {
		return c.JSON(http.StatusOK, introspectionResponse{Active: false})
	}
	p := res.Principal
	sub := p.AccountID
	if sub == "" {
		sub = p.SubjectEmail
	}
	return c.JSON(http.StatusOK, introspectionResponse{
		Active: true, Scope: strings.Join(p.Kind.Scopes, " "), ClientID: p.ClientID, Username: p.SubjectEmail,
		TokenType: "Bearer", Exp: p.ExpiresAt.Unix(), Sub: sub, Iss: s.cfg.Issuer,
		SubjectType: string(p.Kind.Subject), SubjectIssuer: p.SubjectIssuer, TokenID: p.TokenID,
	})
}
