package tokenclient_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
)

func TestMiddleware(t *testing.T) {
	tokenclienttest.TestMiddleware(t, func(c *tokenclient.Client, scope string, next http.Handler) http.Handler {
		return tokenclient.Middleware(c, scope)(next)
	})
}

func TestMiddlewareWithoutScopeAdmitsExternalTokens(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{})
	srv.Add("dfoe_ok", tokenclienttest.External("tid-e", "e@corp.example", "https://idp", time.Now().Add(time.Hour)))
	h := tokenclient.Middleware(c, "")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := tokenclient.PrincipalFrom(r.Context())
		_, _ = w.Write([]byte(p.Email))
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer dfoe_ok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "e@corp.example" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER  abc ": "abc",
		"": "", "Bearer": "", "Bearer ": "", "Basic abc": "", "Bearerabc": "",
	} {
		got, ok := tokenclient.BearerToken(in)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
