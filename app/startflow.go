package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// maxUserCodeTries bounds user-code collision retries (SPEC 2.1).
const maxUserCodeTries = 5

// StartFlow is POST /oauth/device/code (SPEC 2.2).
type StartFlow struct {
	Env
	Flows        ports.FlowStore
	Limiter      ports.RateLimiter
	KnownClients map[string]bool
	// PKCERequired lists the clients that must send a PKCE code_challenge
	// (OPENAPI_PKCE_REQUIRED_CLIENT_IDS).
	PKCERequired map[string]bool
	PublicWebURL string
}

// StartFlowInput is the request of StartFlow.
type StartFlowInput struct {
	ClientID    string
	DeviceLabel string
	Scope       string
	IP          string
	// CodeChallenge and CodeChallengeMethod are the optional PKCE fields
	// (RFC 7636); "" is absent.
	CodeChallenge       string
	CodeChallengeMethod string
}

// StartFlowOutput is the 200 answer of StartFlow.
type StartFlowOutput struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	ExpiresIn               int
	Interval                int
}

// Execute rate-limits, validates the client before any write, and stores a
// pending flow under a fresh device code and a collision-free user code.
func (u *StartFlow) Execute(ctx context.Context, in StartFlowInput) (StartFlowOutput, error) {
	now := u.now()
	if err := limit(ctx, u.Limiter, domain.BucketDeviceCode, domain.IPRateKey(in.IP), now); err != nil {
		return StartFlowOutput{}, err
	}
	if in.ClientID == "" {
		return StartFlowOutput{}, fmt.Errorf("%w: client_id is required", domain.ErrInvalidRequest)
	}
	if !u.KnownClients[in.ClientID] {
		return StartFlowOutput{}, domain.ErrUnsupportedClient
	}
	label := strings.TrimSpace(in.DeviceLabel)
	if label == "" {
		label = in.ClientID + " device"
	}
	if err := checkLabel(label); err != nil {
		return StartFlowOutput{}, err
	}
	if err := u.checkPKCE(in); err != nil {
		return StartFlowOutput{}, err
	}
	deviceCode, err := domain.NewDeviceCode(u.rand())
	if err != nil {
		return StartFlowOutput{}, err
	}
	for try := 0; try < maxUserCodeTries; try++ {
		userCode, err := domain.NewUserCode(u.rand())
		if err != nil {
			return StartFlowOutput{}, err
		}
		f := domain.NewFlow(domain.HashSecret(deviceCode), userCode, in.ClientID, label, in.IP, now)
		f.CodeChallenge = in.CodeChallenge
		err = u.Flows.Create(ctx, f)
		if errors.Is(err, domain.ErrUserCodeTaken) {
			continue
		}
		if err != nil {
			return StartFlowOutput{}, fmt.Errorf("store flow: %w", err)
		}
		u.observer().FlowStarted()
		base := strings.TrimRight(u.PublicWebURL, "/") + "/device"
		return StartFlowOutput{
			DeviceCode:              deviceCode,
			UserCode:                userCode,
			VerificationURI:         base,
			VerificationURIComplete: base + "?user_code=" + url.QueryEscape(userCode),
			ExpiresIn:               int(domain.FlowLifetime.Seconds()),
			Interval:                int(domain.DefaultInterval.Seconds()),
		}, nil
	}
	return StartFlowOutput{}, domain.ErrUserCodeExhausted
}

// checkPKCE accepts no PKCE (unless the client requires it) or an S256
// challenge. A challenge without a method would be "plain" by RFC 7636's
// default, which is refused like any method but S256.
func (u *StartFlow) checkPKCE(in StartFlowInput) error {
	switch {
	case in.CodeChallenge == "" && in.CodeChallengeMethod == "":
		if u.PKCERequired[in.ClientID] {
			return fmt.Errorf("%w: this client must send a PKCE code_challenge with code_challenge_method S256", domain.ErrInvalidRequest)
		}
		return nil
	case in.CodeChallengeMethod != domain.PKCEMethodS256:
		return fmt.Errorf("%w: code_challenge_method must be S256", domain.ErrInvalidRequest)
	case !domain.ValidCodeChallenge(in.CodeChallenge):
		return fmt.Errorf("%w: code_challenge must be the 43-character base64url SHA-256 of the code_verifier", domain.ErrInvalidRequest)
	}
	return nil
}

// checkLabel accepts printable UTF-8 of at most domain.MaxDeviceLabel
// characters. Control characters are refused: Postgres cannot store a NUL in
// text (the mint would fail on every poll after the user approved), and the
// label is shown on the /device page and in device listings.
func checkLabel(label string) error {
	if !utf8.ValidString(label) {
		return fmt.Errorf("%w: device_label must be valid UTF-8", domain.ErrInvalidRequest)
	}
	if utf8.RuneCountInString(label) > domain.MaxDeviceLabel {
		return fmt.Errorf("%w: device_label must be at most %d characters", domain.ErrInvalidRequest, domain.MaxDeviceLabel)
	}
	if strings.IndexFunc(label, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: device_label must not contain control characters", domain.ErrInvalidRequest)
	}
	return nil
}
