package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/devicegate/devicegate/adapters/metrics"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

type nopSink struct{}

func (nopSink) Emit(context.Context, domain.AuditEvent) {}

type refuse struct{}

func (refuse) Allow(context.Context, domain.RateBucket, string, time.Time) (domain.RateDecision, error) {
	return domain.RateDecision{RetryAfter: time.Second}, nil
}

func (refuse) Undo(context.Context, domain.RateBucket, string, time.Time) error { return nil }

func count(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	n, err := testutil.GatherAndCount(m.Registry(), name)
	if err != nil {
		t.Fatal(err)
	}
	return float64(n)
}

// TestOutOfSetValuesFoldIntoFixedLabels proves values outside the known sets
// never mint a new series: an unknown bucket or event counts as "other", an
// out-of-range enumeration as its fallback.
func TestOutOfSetValuesFoldIntoFixedLabels(t *testing.T) {
	m := metrics.New()
	before := count(t, m, metrics.NameRateLimited) + count(t, m, metrics.NameAudit) +
		count(t, m, metrics.NamePolls) + count(t, m, metrics.NameBearer)
	_, _ = m.Limiter(refuse{}).Allow(t.Context(), domain.RateBucket{Name: "user@example.com"}, "k", time.Now())
	m.AuditSink(nopSink{}).Emit(t.Context(), domain.AuditEvent{Name: "oauth.something_new"})
	m.PollAnswered(ports.PollOutcome(200))
	m.BearerChecked(ports.BearerOutcome(200), ports.CacheLayer(200))
	after := count(t, m, metrics.NameRateLimited) + count(t, m, metrics.NameAudit) +
		count(t, m, metrics.NamePolls) + count(t, m, metrics.NameBearer)
	if after != before {
		t.Fatalf("series %v -> %v: an unknown value created a series", before, after)
	}
}

// TestIssuedTokensByKindAndRotation counts oauth.token_issued by kind and rotated.
func TestIssuedTokensByKindAndRotation(t *testing.T) {
	m := metrics.New()
	sink := m.AuditSink(nopSink{})
	yes := true
	sink.Emit(t.Context(), domain.AuditEvent{Name: domain.EventTokenIssued, SubjectType: domain.SubjectExternalSSO, Rotated: &yes})
	sink.Emit(t.Context(), domain.AuditEvent{Name: domain.EventTokenIssued, SubjectType: domain.SubjectAccount})
	body := `
# HELP devicegate_tokens_issued_total Tokens delivered to a polling client, by kind and whether a live token was rotated.
# TYPE devicegate_tokens_issued_total counter
devicegate_tokens_issued_total{kind="account",rotated="false"} 1
devicegate_tokens_issued_total{kind="account",rotated="true"} 0
devicegate_tokens_issued_total{kind="external_sso",rotated="false"} 0
devicegate_tokens_issued_total{kind="external_sso",rotated="true"} 1
devicegate_tokens_issued_total{kind="other",rotated="false"} 0
devicegate_tokens_issued_total{kind="other",rotated="true"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(body), metrics.NameTokensIssued); err != nil {
		t.Fatal(err)
	}
}
