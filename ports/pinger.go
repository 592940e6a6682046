package ports

import "context"

// Pinger reports whether a backend answers; /readyz calls every configured one.
type Pinger interface {
	// Name names the backend ("database", "redis").
	Name() string
	// Ping returns nil when the backend answers.
	Ping(ctx context.Context) error
}
