package memstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports/porttest"
)

// BenchmarkFlowsCreate is code issuance's write into a store already
// holding `live` pending flows: with expiry work independent of how many
// flows are live, ns/op is the same for every size.
func BenchmarkFlowsCreate(b *testing.B) {
	for _, live := range []int{0, 10_000, 100_000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			s, ctx, now := memstore.NewFlows(), b.Context(), time.Now()
			for i := 0; i < live; i++ {
				if err := s.Create(ctx, porttest.NewFlow(b, now)); err != nil {
					b.Fatal(err)
				}
			}
			flows := make([]domain.Flow, 0, b.N)
			for i := 0; i < b.N; i++ {
				flows = append(flows, porttest.NewFlow(b, now))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Create(ctx, flows[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
