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
	PublicWebURL string
}

// StartFlowInput is the request of StartFlow.
type StartFlowInput struct {
	ClientID    string
	DeviceLabel string
	Scope       string
	IP          string
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
		err = u.Flows.Create(ctx, f)
		if errors.Is(err, domain.ErrUserCodeTaken) {
			continue
		}
		if err != nil {
			return StartFlowOutput{}, fmt.Errorf("store flow: %w", err)
		}
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
