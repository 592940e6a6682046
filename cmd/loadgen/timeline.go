package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// timeline runs issuance alone for o.timeline at the highest concurrency on
// each target, with the framework floor measured just before and just
// after, and prints req/s and RSS second by second: whether issuance stays
// flat as flows pile up. The ratios compare the first and the last 2 s with
// the floor measured next to each.
func timeline(ctx context.Context, o *options, floor *server, targets []*target, out io.Writer) int {
	c := o.concurrency[len(o.concurrency)-1]
	const edge = 2 * time.Second
	bad := 0
	for _, t := range targets {
		before := drive(ctx, floorScenario("framework", floor.base), c, o.warmup, edge)
		sc, err := t.scenario("issue")
		if err != nil {
			fmt.Fprintln(out, err)
			return 1
		}
		rss := make(chan []int, 1)
		stop := make(chan struct{})
		go func() {
			var samples []int
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					rss <- samples
					return
				case <-tick.C:
					samples = append(samples, t.srv.rssKiB())
				}
			}
		}()
		r := drive(ctx, sc, c, o.warmup, o.timeline)
		close(stop)
		samples := <-rss
		after := drive(ctx, floorScenario("framework", floor.base), c, o.warmup, edge)
		bad += r.bad + before.bad + after.bad
		if secs := int(o.timeline / time.Second); len(r.perSecond) > secs {
			r.perSecond = r.perSecond[:secs] // answers to requests sent just before the end
		}
		fmt.Fprintf(out, "\ntimeline %s issue c=%d for %s (errors %d%s)\n  second  req/s  RSS KiB\n", t.label, c, o.timeline, r.bad, badDetail(r))
		for i, n := range r.perSecond {
			k := 0
			if i < len(samples) {
				k = samples[i] // taken about 0.75 s into second i+1 (the ticker starts with the warm-up)
			}
			fmt.Fprintf(out, "  %6d %6d %8d\n", i+1, n, k)
		}
		sum := func(xs []int) float64 {
			s := 0
			for _, x := range xs {
				s += x
			}
			return float64(s)
		}
		if len(r.perSecond) >= 4 {
			first := sum(r.perSecond[:2]) / 2
			last := sum(r.perSecond[len(r.perSecond)-2:]) / 2
			fmt.Fprintf(out, "  first 2 s %.0f req/s = %.2f of the floor before (%.0f); last 2 s %.0f req/s = %.2f of the floor after (%.0f); %d flows issued\n",
				first, first/before.rps(), before.rps(), last, last/after.rps(), after.rps(), r.n)
		}
	}
	return bad
}
