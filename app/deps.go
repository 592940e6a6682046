package app

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Env is what every use case needs from the world besides its ports: time,
// randomness, the audit sink and a logger. Zero fields take safe defaults.
type Env struct {
	Clock  ports.Clock
	Rand   io.Reader
	Audit  ports.AuditSink
	Logger *slog.Logger
	// Observe counts outcomes for metrics (nil counts nothing).
	Observe ports.Observer
}

func (e Env) observer() ports.Observer {
	if e.Observe == nil {
		return ports.NopObserver{}
	}
	return e.Observe
}

func (e Env) now() time.Time {
	if e.Clock == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return e.Clock.Now().UTC().Truncate(time.Microsecond)
}

func (e Env) rand() io.Reader {
	if e.Rand == nil {
		return rand.Reader
	}
	return e.Rand
}

func (e Env) log() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}

func (e Env) emit(ctx context.Context, ev domain.AuditEvent) {
	if e.Audit == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = e.now()
	}
	if ev.RequestID == "" {
		ev.RequestID = RequestID(ctx)
	}
	e.Audit.Emit(ctx, ev)
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id used in audit events.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx ("" when none).
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

// limit counts one request against b for key and turns a refusal into a
// *domain.RateLimitedError.
func limit(ctx context.Context, l ports.RateLimiter, b domain.RateBucket, key string, now time.Time) error {
	if l == nil || b.Limit <= 0 {
		return nil
	}
	d, err := l.Allow(ctx, b, key, now)
	if err != nil {
		return err
	}
	if !d.Allowed {
		// RetryAfter >= 1 s is the port's contract, proven by TestRateLimiter.
		return &domain.RateLimitedError{Bucket: b.Name, RetryAfter: d.RetryAfter}
	}
	return nil
}

// guessFlow looks up a normalised user code for a caller who may be
// guessing (RFC 8628 5.1), under the bucket b of failed tries, keyed key:
// for an anonymous caller the deployment-wide ceiling (domain.GlobalRateKey),
// for a signed-in one its account's budget. Only failed tries stay counted:
// the try is counted before the look-up, so concurrent guessers cannot
// overshoot the bucket, and taken back when the code named a flow (or the
// store failed, which revealed nothing), so people entering their real codes
// do not fill it. While the bucket is full every try under it is refused,
// real codes included: answering a real code while refusing unknown ones
// would be the very oracle the bucket bounds.
func guessFlow(ctx context.Context, l ports.RateLimiter, b domain.RateBucket, key string, flows ports.FlowStore, code string, now time.Time) (domain.Flow, error) {
	if err := limit(ctx, l, b, key, now); err != nil {
		return domain.Flow{}, err
	}
	f, err := flows.ByUserCode(ctx, code, now)
	if errors.Is(err, domain.ErrNotFound) || l == nil || b.Limit <= 0 {
		return f, err
	}
	if uerr := uncountAll(ctx, l, []rateCount{{b, key}}, now); uerr != nil && err == nil {
		return domain.Flow{}, uerr
	}
	return f, err
}
