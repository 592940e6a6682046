package ssogateway_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/ssogateway"
	"github.com/devicegate/devicegate/domain"
)

const secret = "enterprise-inner-secret"

func initiation() domain.SSOInitiation {
	return domain.SSOInitiation{State: "header.payload.sig", Envelope: domain.StateEnvelope{UserCode: "ABCD-EFGH"}}
}

// TestEnterpriseInitiate: the request is the enterprise contract (POST to
// the inner path, JSON {"state"}, the secret header) and the answer's url is returned.
func TestEnterpriseInitiate(t *testing.T) {
	var got struct {
		method, path, secret, ctype string
		body                        map[string]string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.secret, got.ctype = r.Method, r.URL.Path, r.Header.Get(ssogateway.SecretHeader), r.Header.Get("Content-Type")
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		_, _ = io.WriteString(w, `{"url": "https://idp.example/authorize?x=1"}`)
	}))
	defer srv.Close()
	u, err := ssogateway.NewEnterprise(srv.URL+"/", secret).Initiate(t.Context(), initiation())
	if err != nil || u != "https://idp.example/authorize?x=1" {
		t.Fatalf("Initiate = %q, %v", u, err)
	}
	if got.method != http.MethodPost || got.path != "/inner/api/device-flow/sso/initiate" || got.secret != secret ||
		got.ctype != "application/json" || len(got.body) != 1 || got.body["state"] != "header.payload.sig" {
		t.Fatalf("request = %+v", got)
	}
}

// TestEnterpriseFailures: every failure is sso_initiate_failed or
// sso_initiate_missing_url, never carrying the secret or the state.
func TestEnterpriseFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"server error", 500, `{"url":"https://idp"}`, domain.ErrSSOInitiateFailed},
		{"unauthorised", 401, `{}`, domain.ErrSSOInitiateFailed},
		{"redirect is not followed", 302, ``, domain.ErrSSOInitiateFailed},
		{"not JSON", 200, `<html>`, domain.ErrSSOInitiateFailed},
		{"no url", 200, `{"other":"x"}`, domain.ErrSSOMissingURL},
		{"empty url", 200, `{"url":""}`, domain.ErrSSOMissingURL},
		{"null url", 200, `{"url":null}`, domain.ErrSSOMissingURL},
		{"relative url", 200, `{"url":"/authorize"}`, domain.ErrSSOMissingURL},
		{"javascript url", 200, `{"url":"javascript:alert(1)"}`, domain.ErrSSOMissingURL},
		{"url with credentials", 200, `{"url":"https://u:p@idp/"}`, domain.ErrSSOMissingURL},
		{"url not a string", 200, `{"url":5}`, domain.ErrSSOInitiateFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == 302 {
					http.Redirect(w, r, "/elsewhere", http.StatusFound)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			_, err := ssogateway.NewEnterprise(srv.URL, secret).Initiate(t.Context(), initiation())
			checkErr(t, err, tc.want)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		_, err := ssogateway.NewEnterprise(srv.URL, secret).Initiate(t.Context(), initiation())
		checkErr(t, err, domain.ErrSSOInitiateFailed)
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		g := ssogateway.NewEnterprise(srv.URL, secret)
		g.SetTimeout(50 * time.Millisecond)
		_, err := g.Initiate(t.Context(), initiation())
		checkErr(t, err, domain.ErrSSOInitiateFailed)
	})
}

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "header.payload.sig") {
		t.Fatalf("error text leaks the secret or the state: %v", err)
	}
}
