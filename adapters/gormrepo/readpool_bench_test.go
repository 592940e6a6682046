package gormrepo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// BenchmarkSQLiteByHashDuringWrites is a cold token validation (ByHash) on
// the embedded database, alone and while another goroutine writes without
// pause: mints of new devices, or last-used flushes of 500 rows (the
// flusher's batch under load), by 16 goroutines per core.
func BenchmarkSQLiteByHashDuringWrites(b *testing.B) {
	for _, writes := range []string{"none", "mint", "flush"} {
		b.Run(writes, func(b *testing.B) {
			db, _ := openSQLite(b, false)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			seen := map[ports.TokenUse]time.Time{}
			hashes := make([]string, 500)
			for i := range hashes {
				tok := outageToken(now)
				if _, err := db.Mint(ctx, tok); err != nil {
					b.Fatal(err)
				}
				hashes[i] = tok.TokenHash
				seen[ports.TokenUse{ID: tok.ID, Hash: tok.TokenHash}] = now
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if writes != "none" {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var err error
						if writes == "mint" {
							_, err = db.Mint(ctx, outageToken(now))
						} else {
							for u := range seen {
								seen[u] = now.Add(time.Duration(i) * time.Millisecond)
							}
							err = db.TouchLastUsed(ctx, seen)
						}
						if err != nil {
							panic(fmt.Sprint(writes, ": ", err))
						}
					}
				})
			}
			b.SetParallelism(16) // 16 per core: the loadgen's concurrency 32 on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := db.ByHash(ctx, hashes[i%len(hashes)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
		})
	}
}
