package jwssigner

import (
	"encoding/json"
	"math"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Wire forms of the three objects (SPEC 5). iat and exp are NumericDates in
// whole seconds; aud is a single string, as the reference writes it.
type stateClaims struct {
	Aud            string `json:"aud"`
	Iat            int64  `json:"iat"`
	Exp            int64  `json:"exp"`
	Intent         string `json:"intent"`
	UserCode       string `json:"user_code"`
	Nonce          string `json:"nonce"`
	IdPCallbackURL string `json:"idp_callback_url"`
	RedirectURL    string `json:"redirect_url"`
	AppCode        string `json:"app_code"`
	ReturnTo       string `json:"return_to"`
}

type assertionClaims struct {
	Aud      string `json:"aud"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	SubType  string `json:"sub_type"`
	Email    string `json:"email"`
	Issuer   string `json:"issuer"`
	UserCode string `json:"user_code"`
	Nonce    string `json:"nonce"`
}

type grantClaims struct {
	Aud           string `json:"aud"`
	Iat           int64  `json:"iat"`
	Exp           int64  `json:"exp"`
	Iss           string `json:"iss"`
	SubjectEmail  string `json:"subject_email"`
	SubjectIssuer string `json:"subject_issuer"`
	UserCode      string `json:"user_code"`
	Nonce         string `json:"nonce"`
	CSRFToken     string `json:"csrf_token"`
}

// SignState signs an SSO state envelope.
func (s *Signer) SignState(e domain.StateEnvelope) (string, error) {
	e.IssuedAt, e.ExpiresAt = e.IssuedAt.Truncate(time.Second), e.ExpiresAt.Truncate(time.Second)
	if err := e.Validate(); err != nil {
		return "", err
	}
	return s.sign(stateClaims{Aud: domain.AudStateEnvelope, Iat: e.IssuedAt.Unix(), Exp: e.ExpiresAt.Unix(),
		Intent: domain.IntentDeviceFlow, UserCode: e.UserCode, Nonce: e.Nonce, IdPCallbackURL: e.IdPCallbackURL})
}

// VerifyState verifies an SSO state envelope at now.
func (s *Signer) VerifyState(token string, now time.Time) (domain.StateEnvelope, error) {
	r, err := s.read(token, domain.AudStateEnvelope, now)
	if err != nil {
		return domain.StateEnvelope{}, err
	}
	e := domain.StateEnvelope{UserCode: r.str("user_code"), Nonce: r.str("nonce"),
		IdPCallbackURL: r.str("idp_callback_url"), IssuedAt: r.iat, ExpiresAt: r.exp}
	r.equal("intent", domain.IntentDeviceFlow)
	for _, empty := range []string{"redirect_url", "app_code", "return_to"} {
		r.equal(empty, "")
	}
	return e, r.done(e.Validate)
}

// SignAssertion signs an external-subject assertion.
func (s *Signer) SignAssertion(a domain.ExternalAssertion) (string, error) {
	a.IssuedAt, a.ExpiresAt = a.IssuedAt.Truncate(time.Second), a.ExpiresAt.Truncate(time.Second)
	if err := a.Validate(); err != nil {
		return "", err
	}
	return s.sign(assertionClaims{Aud: domain.AudExternalAssertion, Iat: a.IssuedAt.Unix(), Exp: a.ExpiresAt.Unix(),
		SubType: string(domain.SubjectExternalSSO), Email: a.Email, Issuer: a.Issuer, UserCode: a.UserCode, Nonce: a.Nonce})
}

// VerifyAssertion verifies an external-subject assertion at now.
func (s *Signer) VerifyAssertion(token string, now time.Time) (domain.ExternalAssertion, error) {
	r, err := s.read(token, domain.AudExternalAssertion, now)
	if err != nil {
		return domain.ExternalAssertion{}, err
	}
	r.equal("sub_type", string(domain.SubjectExternalSSO))
	a := domain.ExternalAssertion{Email: r.str("email"), Issuer: r.str("issuer"), UserCode: r.str("user_code"),
		Nonce: r.str("nonce"), IssuedAt: r.iat, ExpiresAt: r.exp}
	return a, r.done(a.Validate)
}

// SignGrant signs an approval grant.
func (s *Signer) SignGrant(g domain.ApprovalGrant) (string, error) {
	g.IssuedAt, g.ExpiresAt = g.IssuedAt.Truncate(time.Second), g.ExpiresAt.Truncate(time.Second)
	if err := g.Validate(); err != nil {
		return "", err
	}
	return s.sign(grantClaims{Aud: domain.AudApprovalGrant, Iat: g.IssuedAt.Unix(), Exp: g.ExpiresAt.Unix(),
		Iss: g.Issuer, SubjectEmail: g.SubjectEmail, SubjectIssuer: g.SubjectIssuer, UserCode: g.UserCode,
		Nonce: g.Nonce, CSRFToken: g.CSRFToken})
}

// VerifyGrant verifies an approval grant at now.
func (s *Signer) VerifyGrant(token string, now time.Time) (domain.ApprovalGrant, error) {
	r, err := s.read(token, domain.AudApprovalGrant, now)
	if err != nil {
		return domain.ApprovalGrant{}, err
	}
	g := domain.ApprovalGrant{Issuer: r.str("iss"), SubjectEmail: r.str("subject_email"),
		SubjectIssuer: r.str("subject_issuer"), UserCode: r.str("user_code"), Nonce: r.str("nonce"),
		CSRFToken: r.str("csrf_token"), IssuedAt: r.iat, ExpiresAt: r.exp}
	return g, r.done(g.Validate)
}

// claimReader reads typed claims and keeps the first shape error.
type claimReader struct {
	claims   map[string]json.RawMessage
	iat, exp time.Time
	err      error
}

// read verifies token, then its audience and lifetime at now (no leeway).
func (s *Signer) read(token, aud string, now time.Time) (*claimReader, error) {
	claims, err := s.verify(token)
	if err != nil {
		return nil, err
	}
	r := &claimReader{claims: claims}
	r.audience(aud)
	r.iat, r.exp = r.time("iat"), r.time("exp")
	if r.err != nil {
		return nil, r.err
	}
	if err := domain.CheckTimes(r.iat, r.exp, now); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *claimReader) fail(name, why string) {
	if r.err == nil {
		r.err = invalid("claim %s %s", name, why)
	}
}

// str returns a string claim; missing or not a string is a shape error.
func (r *claimReader) str(name string) string {
	v, ok := jsonString(r.claims[name])
	if !ok {
		r.fail(name, "must be a string")
	}
	return v
}

// equal requires a string claim equal to want.
func (r *claimReader) equal(name, want string) {
	if v := r.str(name); r.err == nil && v != want {
		r.fail(name, "has the wrong value")
	}
}

// audience requires aud to be want: a string, or (RFC 7519 allows an array)
// an array holding want alone. An object meant for several audiences is
// refused, since one key signs all three kinds.
func (r *claimReader) audience(want string) {
	raw := r.claims["aud"]
	if len(raw) > 0 && raw[0] == '[' {
		var auds []string
		if json.Unmarshal(raw, &auds) != nil || len(auds) != 1 || auds[0] != want {
			r.fail("aud", "has the wrong value")
		}
		return
	}
	r.equal("aud", want)
}

// maxNumericDate bounds NumericDates to years before 5000.
const maxNumericDate = 95617584000

// time reads a NumericDate (RFC 7519: seconds, fractions allowed).
func (r *claimReader) time(name string) time.Time {
	raw := r.claims[name]
	var f float64
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || f <= 0 || f > maxNumericDate {
		r.fail(name, "must be a NumericDate")
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// done returns the first shape error, else validate's verdict.
func (r *claimReader) done(validate func() error) error {
	if r.err != nil {
		return r.err
	}
	return validate()
}
