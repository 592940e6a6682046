package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// IntrospectPath is where devicegate serves RFC 7662 introspection, under BaseURL.
const IntrospectPath = "/openapi/v1/oauth/introspect"

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout     = 3 * time.Second
	DefaultPositiveTTL = 30 * time.Second
	DefaultNegativeTTL = 5 * time.Second
	DefaultMaxEntries  = 10000
)

// maxTokenLen bounds what is sent upstream; devicegate tokens are 48 bytes,
// so anything this long is answered ErrInactive without a call.
const maxTokenLen = 4096

// Config configures a Client. Only BaseURL and Secret are required.
type Config struct {
	// BaseURL is devicegate's root URL, e.g. "https://auth.example.com".
	BaseURL string
	// Secret is devicegate's INTROSPECTION_SECRET, sent as a bearer credential.
	Secret string
	// HTTPClient makes the calls. Nil means a client that does not follow
	// redirects (a redirect is an error, so the secret never travels on).
	HTTPClient *http.Client
	// Timeout bounds one introspection call. Zero means DefaultTimeout.
	Timeout time.Duration
	// PositiveTTL is how long an active verdict is trusted, never beyond the
	// token's exp. Zero means DefaultPositiveTTL; negative disables it.
	// It is also how long a revocation can go unnoticed by this process.
	PositiveTTL time.Duration
	// NegativeTTL is how long an inactive verdict is cached. Zero means
	// DefaultNegativeTTL; negative disables it.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache; the oldest entry is evicted when full.
	// Zero or negative means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Client validates tokens against devicegate. It is safe for concurrent use;
// create one per process and share it.
type Client struct {
	endpoint string
	secret   string
	http     *http.Client
	timeout  time.Duration
	posTTL   time.Duration
	negTTL   time.Duration
	now      func() time.Time
	cache    *cache

	mu      sync.Mutex
	flights map[cacheKey]*flight
}

// flight is one introspection call shared by every concurrent Validate of
// the same token; done is closed after p and err are set.
type flight struct {
	done chan struct{}
	p    Principal
	err  error
	dups int // callers that joined instead of calling (tests)
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tokenclient: BaseURL must be an absolute http(s) URL, got %q", cfg.BaseURL)
	}
	if cfg.Secret == "" || strings.ContainsAny(cfg.Secret, "\r\n") {
		return nil, errors.New("tokenclient: Secret (devicegate's INTROSPECTION_SECRET) is required and must be one line")
	}
	c := &Client{
		endpoint: strings.TrimRight(cfg.BaseURL, "/") + IntrospectPath,
		secret:   cfg.Secret,
		http:     cfg.HTTPClient,
		timeout:  orDefault(cfg.Timeout, DefaultTimeout),
		posTTL:   orDefault(cfg.PositiveTTL, DefaultPositiveTTL),
		negTTL:   orDefault(cfg.NegativeTTL, DefaultNegativeTTL),
		now:      cfg.Now,
		flights:  make(map[cacheKey]*flight),
	}
	if c.timeout < 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if c.now == nil {
		c.now = time.Now
	}
	maxEntries := cfg.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	c.cache = newCache(maxEntries)
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Validate returns the principal of an active token, ErrInactive for a token
// devicegate does not accept (or an empty/oversized one, without a call), or
// an error matching ErrUnavailable when no verdict could be had, including
// when ctx ends first. Concurrent calls for one token share one upstream call,
// which runs to its own timeout even if the caller that started it gives up.
func (c *Client) Validate(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > maxTokenLen {
		return Principal{}, ErrInactive
	}
	k := keyOf(token)
	if p, hit, err := c.cache.get(k, c.now()); hit {
		return p, err
	}
	f, p, hit, err := c.join(ctx, k, token)
	if hit {
		return p, err
	}
	select {
	case <-f.done:
		if f.err != nil {
			return Principal{}, f.err
		}
		return f.p.clone(), nil
	case <-ctx.Done():
		return Principal{}, &UnavailableError{Err: ctx.Err()}
	}
}

// join attaches to the flight for k or starts one. The cache is checked
// again under the lock, because a flight that finished between the caller's
// miss and here has already stored its verdict and left the table.
func (c *Client) join(ctx context.Context, k cacheKey, token string) (f *flight, p Principal, hit bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[k]; ok {
		f.dups++
		return f, Principal{}, false, nil
	}
	if p, hit, err := c.cache.get(k, c.now()); hit {
		return nil, p, true, err
	}
	f = &flight{done: make(chan struct{})}
	c.flights[k] = f
	go c.fly(ctx, k, token, f)
	return f, Principal{}, false, nil
}

// fly makes the call, caches the verdict (never an unavailability) and
// releases the waiters. The call keeps ctx's values but not its
// cancellation, so one impatient caller does not fail the others.
func (c *Client) fly(ctx context.Context, k cacheKey, token string, f *flight) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	p, err := c.introspect(ctx, token)
	now := c.now()
	switch {
	case err == nil && !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt):
		// Active upstream but past exp by our clock: exp is final.
		p, err = Principal{}, ErrInactive
		c.cache.put(k, p, false, now.Add(c.negTTL), now)
	case err == nil:
		until := now.Add(c.posTTL)
		if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
			until = p.ExpiresAt
		}
		c.cache.put(k, p, true, until, now)
	case errors.Is(err, ErrInactive):
		c.cache.put(k, p, false, now.Add(c.negTTL), now)
	}
	f.p, f.err = p, err
	c.mu.Lock()
	delete(c.flights, k)
	c.mu.Unlock()
	close(f.done)
}
