package ports

import (
	"context"

	"github.com/devicegate/devicegate/domain"
)

// AuditSink receives audit events. Emit must not fail the request: sinks log
// their own delivery errors.
type AuditSink interface {
	Emit(ctx context.Context, e domain.AuditEvent)
}
