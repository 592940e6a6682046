package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/echomw"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// TestTokenClientSuiteAgainstTheRealEndpoint runs tokenclient's middleware
// suite (net/http and Echo) against devicegate's own introspection endpoint:
// the real graph with INTROSPECTION_SECRET set, served by httptest behind
// tokenclienttest.Faults (which only injects the 429/503 cases), with an
// account token from a real device flow and an external-SSO token minted by
// the real Minter into the same store.
func TestTokenClientSuiteAgainstTheRealEndpoint(t *testing.T) {
	const secret = "real-introspection-secret-0123"
	vars := sqliteVars(t)
	vars["INTROSPECTION_SECRET"] = secret
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Analytics")
	var (
		e      *echo.Echo
		minter *app.Minter
	)
	in := startInstance(t, vars, fx.Invoke(func(ec *echo.Echo, env app.Env, tokens ports.TokenStore, cache ports.TokenCache,
		kinds *domain.KindRegistry, cfg *Config) {
		e = ec
		minter = &app.Minter{Env: env, Tokens: tokens, Cache: cache, Kinds: kinds, TTL: time.Duration(cfg.TTLDays) * 24 * time.Hour}
	}))
	account := deviceToken(t, in.Base, "ada@example.com", "correct horse battery")
	var me struct {
		Account struct {
			ID string `json:"id"`
		} `json:"account"`
	}
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"data"`
	}
	if getJSON(t, in.Base+"/openapi/v1/me", account, &me) != 200 || getJSON(t, in.Base+"/openapi/v1/oauth/authorizations", account, &list) != 200 ||
		len(list.Data) != 1 || !list.Data[0].Current || me.Account.ID == "" {
		t.Fatalf("account token: /me %+v, authorizations %+v", me, list)
	}
	external, err := minter.Mint(t.Context(), domain.Subject{Type: domain.SubjectExternalSSO, Email: "eve@corp.example",
		Issuer: "https://idp.corp.example"}, "difyctl", "sso laptop")
	if err != nil {
		t.Fatalf("mint external token: %v", err)
	}

	faults := tokenclienttest.NewFaults(e)
	srv := httptest.NewServer(faults)
	defer srv.Close()
	up := tokenclienttest.Upstream{URL: srv.URL, Secret: secret, AccountToken: account,
		AccountPrincipal: me.Account.ID + " " + list.Data[0].ID, ExternalToken: external.Token, Fail: faults.Fail}
	// The principals a resource server sees, straight from the real endpoint.
	c, err := tokenclient.New(tokenclient.Config{BaseURL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	pe, err := c.Validate(t.Context(), external.Token)
	if err != nil || pe.SubjectType != tokenclient.SubjectExternalSSO || pe.Email != "eve@corp.example" ||
		pe.Issuer != "https://idp.corp.example" || pe.AccountID != "" || pe.TokenID != external.Row.ID ||
		pe.ClientID != "difyctl" || !pe.HasScope("apps:run") || pe.HasScope("apps:admin") || !pe.ExpiresAt.Equal(external.Row.ExpiresAt.Truncate(time.Second)) {
		t.Fatalf("external principal %+v, %v", pe, err)
	}
	pa, err := c.Validate(t.Context(), account)
	if err != nil || pa.SubjectType != tokenclient.SubjectAccount || pa.Email != "ada@example.com" || pa.AccountID != me.Account.ID ||
		!pa.HasScope("apps:admin") {
		t.Fatalf("account principal %+v, %v", pa, err)
	}
	t.Run("net/http", func(t *testing.T) {
		tokenclienttest.TestMiddlewareAgainst(t, up, func(c *tokenclient.Client, scope string, next http.Handler) http.Handler {
			return tokenclient.Middleware(c, scope)(next)
		})
	})
	t.Run("echo", func(t *testing.T) {
		tokenclienttest.TestMiddlewareAgainst(t, up, func(c *tokenclient.Client, scope string, next http.Handler) http.Handler {
			ec := echo.New()
			ec.GET("/v1/things", echo.WrapHandler(next), echomw.Middleware(c, scope))
			return ec
		})
	})
}
