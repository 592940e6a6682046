package ssogateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Timeout bounds one initiate call (SPEC 2.6).
const Timeout = 5 * time.Second

// InitiatePath is the enterprise service's initiate endpoint under ENTERPRISE_API_URL.
const InitiatePath = "/inner/api/device-flow/sso/initiate"

// SecretHeader carries ENTERPRISE_API_SECRET.
const SecretHeader = "Enterprise-Api-Secret-Key"

// maxAnswer bounds the answer read from the enterprise service.
const maxAnswer = 64 << 10

// Enterprise is the ports.SSOGateway of the enterprise service.
type Enterprise struct {
	endpoint string
	secret   string
	timeout  time.Duration
	client   *http.Client
}

// NewEnterprise returns the gateway for baseURL (ENTERPRISE_API_URL) and
// secret (ENTERPRISE_API_SECRET). Redirects are not followed: the secret
// header must never travel to another address.
func NewEnterprise(baseURL, secret string) *Enterprise {
	return &Enterprise{
		endpoint: strings.TrimRight(baseURL, "/") + InitiatePath,
		secret:   secret,
		timeout:  Timeout,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// Initiate posts {"state": envelope} and returns the answer's url. A
// transport failure, a timeout, a non-2xx status or an unreadable answer is
// domain.ErrSSOInitiateFailed; an answer without an absolute http(s) url is
// domain.ErrSSOMissingURL. Errors never carry the secret or the envelope.
func (g *Enterprise) Initiate(ctx context.Context, in domain.SSOInitiation) (string, error) {
	body, err := json.Marshal(map[string]string{"state": in.State})
	if err != nil {
		return "", fmt.Errorf("%w: %w", domain.ErrSSOInitiateFailed, err)
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: %w", domain.ErrSSOInitiateFailed, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(SecretHeader, g.secret)
	resp, err := g.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %s", domain.ErrSSOInitiateFailed, transportReason(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return "", fmt.Errorf("%w: enterprise service answered %d", domain.ErrSSOInitiateFailed, resp.StatusCode)
	}
	var answer struct {
		URL *string `json:"url"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&answer); err != nil {
		return "", fmt.Errorf("%w: unreadable answer", domain.ErrSSOInitiateFailed)
	}
	if answer.URL == nil || !absoluteHTTP(*answer.URL) {
		return "", domain.ErrSSOMissingURL
	}
	return *answer.URL, nil
}

// absoluteHTTP reports whether s is an absolute http(s) URL with a host: the
// only kind of place sso-initiate redirects a browser to.
func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// transportReason describes a client error without its URL (which is
// configuration, but the error text is all the log needs).
func transportReason(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err.Error()
	}
	if ue.Timeout() {
		return "timed out"
	}
	return ue.Err.Error()
}
