package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/redis/rueidis"
)

// Bounds that turn an outage into an error within about two seconds instead
// of a hang (SPEC: /readyz and every request fail fast with 503).
const (
	dialTimeout  = time.Second
	connTimeout  = 1500 * time.Millisecond
	maxRetries   = 2
	opTimeout    = 2 * time.Second
	retryBackoff = 50 * time.Millisecond
)

// ClientOptions parses a redis:// or rediss:// URL (rueidis.ParseURL) and
// applies the package's bounded timeouts and retry policy, leaving
// client-side caching on, with one connection per Redis node.
//
// Redis Cluster: list further seed nodes in repeated addr query parameters,
// each as host:port (redis://h1:6379?addr=h2:6379&addr=h3:6379; an addr
// without a port would take the URL's host); rueidis.NewClient then detects
// the cluster by itself. A comma list in the host part (redis://h1,h2) is
// NOT supported by rueidis.ParseURL. The URL's own dial_timeout and
// write_timeout parameters win over the defaults.
func ClientOptions(redisURL string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		return rueidis.ClientOption{}, fmt.Errorf("redis url: %w", err)
	}
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = dialTimeout
	}
	if opt.ConnWriteTimeout == 0 {
		opt.ConnWriteTimeout = connTimeout
	}
	opt.DisableCache = false
	opt.RetryDelay = boundedRetry
	// One auto-pipelined connection per node (rueidis' cluster default; a
	// standalone client would otherwise open several and spread writes over
	// them at random): a write then travels the connection that caches its
	// key, which TokenCache needs to read its own invalidations.
	opt.PipelineMultiplex = -1
	return opt, nil
}

// NewClient connects to the Redis (standalone or cluster) named by redisURL;
// see ClientOptions for the accepted forms. It fails if Redis cannot be
// reached now.
func NewClient(redisURL string) (rueidis.Client, error) {
	opt, err := ClientOptions(redisURL)
	if err != nil {
		return nil, err
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, wrapErr(err)
	}
	return c, nil
}

// boundedRetry retries read-only commands a couple of times after a dropped
// connection, where a fresh dial may well succeed at once. It never retries
// a timeout (an unresponsive server would only time out again) and never
// more than maxRetries times: rueidis' default retries until the context
// ends, which turns an outage into a hang for callers without a deadline.
func boundedRetry(attempts int, _ rueidis.Completed, err error) time.Duration {
	if attempts > maxRetries || isTimeout(err) {
		return -1
	}
	return time.Duration(attempts) * retryBackoff
}

// isTimeout reports a deadline error: the caller's, rueidis' connection
// timeouts, or a net timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// bounded caps one adapter call (all its round trips) at opTimeout, unless
// the caller's own deadline is sooner. rueidis only notices an unresponsive
// server after a keep-alive PING times out (up to about twice
// ConnWriteTimeout); the cap keeps every call under the bound regardless.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, opTimeout)
}

// Pinger reports whether Redis answers (ports.Pinger, for /readyz).
type Pinger struct {
	c rueidis.Client
}

// NewPinger returns a Pinger on c.
func NewPinger(c rueidis.Client) *Pinger { return &Pinger{c: c} }

// Name returns "redis".
func (p *Pinger) Name() string { return "redis" }

// Ping returns nil when Redis answers PING, else a domain.ErrUnavailable.
func (p *Pinger) Ping(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return wrapErr(p.c.Do(ctx, p.c.B().Ping().Build()).Error())
}
