package echomw_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/echomw"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
	"github.com/labstack/echo/v4"
)

// TestMiddleware runs the shared conformance suite through a real Echo
// router (e.ServeHTTP), so Echo's own machinery sits in the path.
func TestMiddleware(t *testing.T) {
	tokenclienttest.TestMiddleware(t, func(c *tokenclient.Client, scope string, next http.Handler) http.Handler {
		e := echo.New()
		e.GET("/v1/things", echo.WrapHandler(next), echomw.Middleware(c, scope))
		return e
	})
}

func TestPrincipalInEchoContext(t *testing.T) {
	srv := tokenclienttest.NewServer("secret")
	defer srv.Close()
	srv.Add("dfoe_ok", tokenclienttest.External("tid-e", "e@corp.example", "https://idp", time.Now().Add(time.Hour)))
	c, err := tokenclient.New(tokenclient.Config{BaseURL: srv.URL, Secret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/apps", func(ec echo.Context) error {
		p, ok := echomw.PrincipalFrom(ec)
		if !ok {
			return ec.String(http.StatusTeapot, "no principal")
		}
		return ec.String(http.StatusOK, p.Email+" "+p.Issuer)
	}, echomw.Middleware(c, "apps:run"))
	e.GET("/open", func(ec echo.Context) error {
		_, ok := echomw.PrincipalFrom(ec)
		return ec.String(http.StatusOK, map[bool]string{true: "yes", false: "no"}[ok])
	})

	for _, tc := range []struct{ path, auth, want string }{
		{"/apps", "Bearer dfoe_ok", "e@corp.example https://idp"},
		{"/open", "", "no"},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != tc.want {
			t.Errorf("%s: %d %q, want 200 %q", tc.path, rec.Code, rec.Body, tc.want)
		}
	}
}
