package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Clock tells the time; tests pass a fixed or stepping clock.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// AuditSink receives audit events. Emit must not fail the request: sinks log
// their own delivery errors.
type AuditSink interface {
	Emit(ctx context.Context, e domain.AuditEvent)
}

// Pinger reports whether a backend answers; /readyz calls every configured one.
type Pinger interface {
	// Name names the backend ("database", "redis").
	Name() string
	// Ping returns nil when the backend answers.
	Ping(ctx context.Context) error
}
