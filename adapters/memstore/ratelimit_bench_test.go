package memstore_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/domain"
)

// BenchmarkRateLimiterLiveKeys measures one Allow with n live logs in steady
// state: every call counts a fresh key (a junk client) while the clock moves
// one window per n calls, so as many logs leave the window as arrive and the
// limiter always holds about n. The cost per call must not grow with n:
//
//	go test -run '^$' -bench RateLimiterLiveKeys -benchtime 200000x ./adapters/memstore/
func BenchmarkRateLimiterLiveKeys(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(strconv.Itoa(n/1000)+"k", func(b *testing.B) {
			l, ctx := memstore.NewRateLimiter(), context.Background()
			bucket := domain.RateBucket{Name: "bench", Limit: 60, Window: time.Minute}
			step := bucket.Window / time.Duration(n)
			t0 := time.Now()
			buf := make([]byte, 0, 32)
			key := func(prefix byte, i int) string {
				buf = strconv.AppendInt(append(buf[:0], prefix), int64(i), 10)
				return string(buf)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range n { // n logs spread over the window that ends at t0
				if _, err := l.Allow(ctx, bucket, key('p', i), t0.Add(-bucket.Window+time.Duration(i+1)*step)); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				d, err := l.Allow(ctx, bucket, key('k', i), t0.Add(time.Duration(i+1)*step))
				if err != nil || !d.Allowed {
					b.Fatal(d, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heapB/livekey")
			if live := l.Len(); live > 2*n {
				b.Fatalf("%d live logs after the run, want about %d", live, n)
			}
		})
	}
}
