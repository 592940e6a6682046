package memstore

import (
	"context"
	"time"
)

// runJanitor calls sweep every interval until ctx is done.
func runJanitor(ctx context.Context, interval time.Duration, sweep func()) {
	if interval <= 0 {
		interval = time.Minute
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			sweep()
		}
	}
}
