package tokenclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
)

func TestValidateMapsAccountAndCaches(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{})
	exp := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	srv.Add("dfoa_tok", tokenclienttest.Account("tid-1", "acc-1", "a@example.com", exp))

	p, err := c.Validate(context.Background(), "dfoa_tok")
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := tokenclient.Principal{TokenID: "tid-1", SubjectType: "account", Email: "a@example.com",
		Issuer: "dify:account", AccountID: "acc-1", ClientID: "difyctl", Scopes: []string{"full"}, ExpiresAt: exp}
	if !equalPrincipal(p, want) {
		t.Fatalf("principal = %+v, want %+v", p, want)
	}
	p.Scopes[0] = "mutated" // must not reach the cache
	p2, err := c.Validate(context.Background(), "dfoa_tok")
	if err != nil || !equalPrincipal(p2, want) {
		t.Fatalf("cached Validate = %+v, %v; want %+v", p2, err, want)
	}
	if n := srv.Calls(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1 (second Validate is a cache hit)", n)
	}
}

func TestValidateMapsExternalSubject(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{})
	srv.Add("dfoe_tok", tokenclienttest.External("tid-2", "x@corp.example", "https://idp.example", time.Now().Add(time.Hour)))
	p, err := c.Validate(context.Background(), "dfoe_tok")
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if p.AccountID != "" || p.Email != "x@corp.example" || p.Issuer != "https://idp.example" || p.SubjectType != "external_sso" {
		t.Fatalf("principal = %+v", p)
	}
	if !p.HasScope("apps:run") || p.HasScope("full") || p.HasScope("admin") || !p.HasScope("") {
		t.Fatalf("HasScope wrong for scopes %v", p.Scopes)
	}
	if !(tokenclient.Principal{Scopes: []string{"full"}}).HasScope("anything") {
		t.Fatal(`"full" must satisfy every scope`)
	}
}

func TestNegativeVerdictIsCachedForNegativeTTL(t *testing.T) {
	c, srv, clk := setup(t, tokenclient.Config{})
	for range 3 {
		if _, err := c.Validate(context.Background(), "dfoa_unknown"); !errors.Is(err, tokenclient.ErrInactive) {
			t.Fatalf("err = %v, want ErrInactive", err)
		}
	}
	if n := srv.Calls(); n != 1 {
		t.Fatalf("calls = %d, want 1 within NegativeTTL", n)
	}
	clk.Advance(tokenclient.DefaultNegativeTTL + time.Second)
	srv.Add("dfoa_unknown", tokenclienttest.Account("t", "a", "a@x", time.Now().Add(time.Hour)))
	if _, err := c.Validate(context.Background(), "dfoa_unknown"); err != nil {
		t.Fatalf("after NegativeTTL: %v, want active", err)
	}
	if n := srv.Calls(); n != 2 {
		t.Fatalf("calls = %d, want 2 after NegativeTTL", n)
	}
}

func TestPositiveTTLLapseSeesRevocation(t *testing.T) {
	c, srv, clk := setup(t, tokenclient.Config{PositiveTTL: 10 * time.Second})
	srv.Add("dfoa_tok", tokenclienttest.Account("t", "a", "a@x", time.Now().Add(time.Hour)))
	if _, err := c.Validate(context.Background(), "dfoa_tok"); err != nil {
		t.Fatal(err)
	}
	srv.Revoke("dfoa_tok")
	clk.Advance(9 * time.Second)
	if _, err := c.Validate(context.Background(), "dfoa_tok"); err != nil {
		t.Fatalf("within PositiveTTL the cached verdict stands, got %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, err := c.Validate(context.Background(), "dfoa_tok"); !errors.Is(err, tokenclient.ErrInactive) {
		t.Fatalf("after PositiveTTL: %v, want ErrInactive (revoked upstream)", err)
	}
	if n := srv.Calls(); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}

func TestCachedEntryPastExpIsInactiveWithoutCall(t *testing.T) {
	c, srv, clk := setup(t, tokenclient.Config{PositiveTTL: time.Minute})
	// The fake keeps saying active (it uses the real clock); only the
	// client's clock passes exp, so an upstream call would answer active.
	srv.Add("dfoa_tok", tokenclienttest.Account("t", "a", "a@x", clk.Now().Add(10*time.Second)))
	if _, err := c.Validate(context.Background(), "dfoa_tok"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(11 * time.Second)
	if _, err := c.Validate(context.Background(), "dfoa_tok"); !errors.Is(err, tokenclient.ErrInactive) {
		t.Fatalf("past exp: %v, want ErrInactive", err)
	}
	if n := srv.Calls(); n != 1 {
		t.Fatalf("calls = %d, want 1 (exp is checked on the cached entry)", n)
	}
}

func TestFreshActiveAnswerPastLocalExpIsInactive(t *testing.T) {
	c, srv, clk := setup(t, tokenclient.Config{})
	srv.Add("dfoa_tok", tokenclienttest.Account("t", "a", "a@x", time.Now().Add(time.Hour)))
	clk.Advance(2 * time.Hour) // our clock is past exp; devicegate's is not
	if _, err := c.Validate(context.Background(), "dfoa_tok"); !errors.Is(err, tokenclient.ErrInactive) {
		t.Fatalf("err = %v, want ErrInactive", err)
	}
}

func TestCacheIsBoundedAndEvictsOldest(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{MaxEntries: 2})
	for _, tok := range []string{"dfoa_1", "dfoa_2", "dfoa_3"} {
		srv.Add(tok, tokenclienttest.Account(tok, "a", "a@x", time.Now().Add(time.Hour)))
		if _, err := c.Validate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.CacheLen(); n != 2 {
		t.Fatalf("cache holds %d entries, want 2", n)
	}
	_, _ = c.Validate(context.Background(), "dfoa_3")
	if n := srv.Calls(); n != 3 {
		t.Fatalf("calls = %d, want 3 (newest entry still cached)", n)
	}
	_, _ = c.Validate(context.Background(), "dfoa_1")
	if n := srv.Calls(); n != 4 {
		t.Fatalf("calls = %d, want 4 (oldest entry was evicted)", n)
	}
}

func TestEmptyOrOversizedTokenNeedsNoCall(t *testing.T) {
	c, srv, _ := setup(t, tokenclient.Config{})
	for _, tok := range []string{"", strings.Repeat("x", 5000)} {
		if _, err := c.Validate(context.Background(), tok); !errors.Is(err, tokenclient.ErrInactive) {
			t.Fatalf("len %d: err = %v, want ErrInactive", len(tok), err)
		}
	}
	if n := srv.Calls(); n != 0 {
		t.Fatalf("calls = %d, want 0", n)
	}
}

func TestRequestShape(t *testing.T) {
	got := make(chan *http.Request, 1)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r
		_, _ = w.Write([]byte(`{"active":false}`))
	}))
	defer fake.Close()
	c, err := tokenclient.New(tokenclient.Config{BaseURL: fake.URL + "/", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Validate(context.Background(), "dfoa_tok")
	r := <-got
	if r.Method != http.MethodPost || r.URL.Path != tokenclient.IntrospectPath {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if r.Header.Get("Authorization") != "Bearer "+secret {
		t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if r.PostForm.Get("token") != "dfoa_tok" || r.PostForm.Get("token_type_hint") != "access_token" {
		t.Errorf("form = %v", r.PostForm)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []tokenclient.Config{
		{BaseURL: "", Secret: secret},
		{BaseURL: "auth.example.com", Secret: secret},
		{BaseURL: "ftp://auth.example.com", Secret: secret},
		{BaseURL: "https://auth.example.com", Secret: ""},
		{BaseURL: "https://auth.example.com", Secret: "two\nlines"},
	} {
		if _, err := tokenclient.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want error", cfg)
		}
	}
}

func equalPrincipal(a, b tokenclient.Principal) bool {
	return slices.Equal(a.Scopes, b.Scopes) && a.ExpiresAt.Equal(b.ExpiresAt) &&
		a.TokenID == b.TokenID && a.SubjectType == b.SubjectType && a.Email == b.Email &&
		a.Issuer == b.Issuer && a.AccountID == b.AccountID && a.ClientID == b.ClientID
}
