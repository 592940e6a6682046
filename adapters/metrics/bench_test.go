package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/metrics"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

type allow struct{}

func (allow) Allow(context.Context, domain.RateBucket, string, time.Time) (domain.RateDecision, error) {
	return domain.RateDecision{Allowed: true}, nil
}

func (allow) Undo(context.Context, domain.RateBucket, string, time.Time) error { return nil }

// BenchmarkBearerHotPathCounters is what metrics add to one bearer
// validation on the memory backends: the validation counter and the
// refusal-counting limiter wrapper (compare with /bare, the limiter alone).
//
//	go test -run '^$' -bench BenchmarkBearerHotPathCounters -benchtime 200ms ./adapters/metrics/
func BenchmarkBearerHotPathCounters(b *testing.B) {
	m := metrics.New()
	now := time.Now()
	ctx := context.Background()
	b.Run("bare", func(b *testing.B) {
		var l ports.RateLimiter = allow{}
		for b.Loop() {
			_, _ = l.Allow(ctx, domain.BucketBearer, "k", now)
		}
	})
	b.Run("metrics", func(b *testing.B) {
		var o ports.Observer = m
		l := m.Limiter(allow{})
		for b.Loop() {
			_, _ = l.Allow(ctx, domain.BucketBearer, "k", now)
			o.BearerChecked(ports.BearerValid, ports.LayerLocal)
		}
	})
}
