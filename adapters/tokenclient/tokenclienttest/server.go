package tokenclienttest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
)

// Token is what the fake knows about one token; it answers active:true
// with these fields while Exp is zero or in the future (by time.Now).
type Token struct {
	Scope         string // space-separated, e.g. "full"
	ClientID      string
	Username      string // subject email
	Sub           string // account id, or email for external subjects
	SubjectType   string // "account" or "external_sso"
	SubjectIssuer string
	TokenID       string
	Exp           time.Time
}

// Account returns an account token (scope "full", client "difyctl").
func Account(tokenID, accountID, email string, exp time.Time) Token {
	return Token{Scope: tokenclient.ScopeFull, ClientID: "difyctl", Username: email, Sub: accountID,
		SubjectType: tokenclient.SubjectAccount, SubjectIssuer: "dify:account", TokenID: tokenID, Exp: exp}
}

// External returns an external-SSO token with devicegate's external scopes.
func External(tokenID, email, issuer string, exp time.Time) Token {
	return Token{Scope: "apps:run apps:read:permitted-external", ClientID: "difyctl", Username: email, Sub: email,
		SubjectType: tokenclient.SubjectExternalSSO, SubjectIssuer: issuer, TokenID: tokenID, Exp: exp}
}

// Server is a running fake introspection endpoint. Close it when done.
type Server struct {
	// URL is the base URL to put in tokenclient.Config.BaseURL.
	URL string
	// Issuer is sent as iss.
	Issuer string

	srv    *httptest.Server
	secret string
	calls  atomic.Int64

	mu         sync.Mutex
	tokens     map[string]Token
	failStatus int
	retryAfter string
	gate       chan struct{}
}

// NewServer starts a fake that accepts secret as a bearer credential or
// as the password of HTTP Basic.
func NewServer(secret string) *Server {
	s := &Server{secret: secret, tokens: make(map[string]Token)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL, s.Issuer = s.srv.URL, s.srv.URL
	return s
}

// Close releases any held requests and shuts the server down.
func (s *Server) Close() {
	s.release()
	s.srv.Close()
}

// Add makes token active with t (replacing what was there).
func (s *Server) Add(token string, t Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = t
}

// Revoke makes token inactive.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// Fail makes every authorised call answer status with the canonical error
// body and, if retryAfter is not "", a Retry-After header. Fail(0, "") heals.
func (s *Server) Fail(status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.retryAfter = status, retryAfter
}

// Hold makes calls wait (after being counted) until release is called or
// the server closes; release is idempotent.
func (s *Server) Hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
	return s.release
}

func (s *Server) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// Calls reports how many requests reached the server.
func (s *Server) Calls() int { return int(s.calls.Load()) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if r.URL.Path != tokenclient.IntrospectPath {
		writeError(w, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use POST.")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="devicegate"`)
		writeError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	s.mu.Lock()
	status, retryAfter := s.failStatus, s.retryAfter
	s.mu.Unlock()
	if status != 0 {
		writeFailure(w, status, retryAfter)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "token is required.")
		return
	}
	s.answer(w, r.PostForm.Get("token"))
}

func (s *Server) authorized(r *http.Request) bool {
	got := ""
	if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	} else if scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		got = rest
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.secret)) == 1
}

func (s *Server) answer(w http.ResponseWriter, token string) {
	s.mu.Lock()
	t, ok := s.tokens[token]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok || (!t.Exp.IsZero() && !time.Now().Before(t.Exp)) {
		_, _ = w.Write([]byte(`{"active":false}`))
		return
	}
	body := map[string]any{
		"active": true, "scope": t.Scope, "client_id": t.ClientID, "username": t.Username,
		"token_type": "Bearer", "sub": t.Sub, "iss": s.Issuer, "subject_type": t.SubjectType,
		"subject_issuer": t.SubjectIssuer, "token_id": t.TokenID,
	}
	if !t.Exp.IsZero() {
		body["exp"] = t.Exp.Unix()
	}
	_ = json.NewEncoder(w).Encode(body)
}

// writeFailure answers like a devicegate that is rate limiting (429) or
// down (503 and the rest): canonical body, Retry-After when given.
func writeFailure(w http.ResponseWriter, status int, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	code, message := "service_unavailable", "Internal Server Error"
	if status == http.StatusTooManyRequests {
		code, message = "rate_limited", "Too many requests; retry later."
	}
	writeError(w, status, code, message)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": message, "status": status})
}
