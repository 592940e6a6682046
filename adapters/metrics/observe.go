package metrics

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// FlowStarted counts a stored device flow.
func (m *Metrics) FlowStarted() { m.flows[flowStarted].Inc() }

// PollAnswered counts a poll; an expired one also counts the flow as expired.
func (m *Metrics) PollAnswered(o ports.PollOutcome) {
	if o >= ports.PollOutcomes {
		o = ports.PollError
	}
	m.polls[o].Inc()
	if o == ports.PollExpired {
		m.flows[flowExpired].Inc()
	}
}

// BearerChecked counts a bearer validation.
func (m *Metrics) BearerChecked(o ports.BearerOutcome, l ports.CacheLayer) {
	if o >= ports.BearerOutcomes {
		o = ports.BearerError
	}
	if l >= ports.CacheLayers {
		l = ports.LayerNone
	}
	m.bearer[o][l].Inc()
}

// Pruned counts deleted rows.
func (m *Metrics) Pruned(rows int64) { m.pruned.Add(float64(rows)) }

// auditSink counts audit events before handing them on.
type auditSink struct {
	m    *Metrics
	next ports.AuditSink
}

// AuditSink returns next with every event counted: by name, and as the
// flow and token counters of the events that are also those outcomes.
func (m *Metrics) AuditSink(next ports.AuditSink) ports.AuditSink {
	return &auditSink{m: m, next: next}
}

// Emit counts e and hands it on.
func (s *auditSink) Emit(ctx context.Context, e domain.AuditEvent) {
	m := s.m
	c, ok := m.audit[e.Name]
	if !ok {
		c = m.audit[other]
	}
	c.Inc()
	switch e.Name {
	case domain.EventFlowApproved:
		m.flows[flowApproved].Inc()
	case domain.EventFlowDenied:
		m.flows[flowDenied].Inc()
	case domain.EventFlowRejected:
		m.flows[flowRejected].Inc()
	case domain.EventTokenIssued:
		pair, ok := m.issued[e.SubjectType]
		if !ok {
			pair = m.issued[other]
		}
		if e.Rotated != nil && *e.Rotated {
			pair[1].Inc()
		} else {
			pair[0].Inc()
		}
	case domain.EventTokenRevoked:
		m.revoked.Inc()
	case domain.EventTokenExpired:
		m.expired.Inc()
	}
	s.next.Emit(ctx, e)
}

// limiter counts refusals by bucket.
type limiter struct {
	m    *Metrics
	next ports.RateLimiter
}

// Limiter returns next with every refusal counted by bucket name.
func (m *Metrics) Limiter(next ports.RateLimiter) ports.RateLimiter {
	return &limiter{m: m, next: next}
}

// Allow asks next and counts a refusal.
func (l *limiter) Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	d, err := l.next.Allow(ctx, b, key, now)
	if err == nil && !d.Allowed {
		c, ok := l.m.limited[b.Name]
		if !ok {
			c = l.m.limited[other]
		}
		c.Inc()
	}
	return d, err
}

// Unwrap returns the limiter whose refusals l counts.
func (l *limiter) Unwrap() ports.RateLimiter { return l.next }

// Undo passes through: a taken-back count is not a refusal.
func (l *limiter) Undo(ctx context.Context, b domain.RateBucket, key string, now time.Time) error {
	return l.next.Undo(ctx, b, key, now)
}
