package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// key names one figure: a floor ("floor", kind) or a scenario (backend, name) at a concurrency.
type key struct {
	conc          int
	backend, name string
}

// recorder keeps every round's result and prints the medians.
type recorder struct {
	res      map[key]map[int]result // by round
	order    []key
	firstBad string
}

func newRecorder() *recorder { return &recorder{res: map[key]map[int]result{}} }

func (r *recorder) add(out io.Writer, round, conc int, backend, name string, res result) {
	k := key{conc, backend, name}
	if r.res[k] == nil {
		r.res[k] = map[int]result{}
		r.order = append(r.order, k)
	}
	r.res[k][round] = res
	if res.bad > 0 && r.firstBad == "" {
		r.firstBad = fmt.Sprintf("%s/%s c=%d: %s", backend, name, conc, res.firstBad)
	}
	fmt.Fprintf(out, "round %d c=%-2d %-16s %-20s %9.0f req/s  p50 %7s  p99 %7s  n=%d errors=%d%s\n",
		round, conc, backend, name, res.rps(), ms(res.pct(0.50)), ms(res.pct(0.99)), res.n, res.bad, badDetail(res))
}

func badDetail(res result) string {
	if res.bad == 0 {
		return ""
	}
	return fmt.Sprintf(" %v first: %s", res.badByKind, res.firstBad)
}

func (r *recorder) badTotal() int {
	n := 0
	for _, byRound := range r.res {
		for _, res := range byRound {
			n += res.bad
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// table prints, per concurrency, every scenario's median throughput and
// latencies, and its ratios to its floor: the median over rounds of
// (scenario req/s / floor req/s) and of (scenario p99 / floor p99) within a round.
func (r *recorder) table(out io.Writer, o *options) {
	for _, c := range o.concurrency {
		fmt.Fprintf(out, "\nconcurrency %d (medians of %d rounds; ratio = req/s over the floor's in the same round, p99x = p99 over the floor's p99)\n", c, o.rounds)
		fmt.Fprintf(out, "  %-16s %-20s %-10s %9s %8s %8s %6s %6s %7s\n", "backend", "scenario", "floor", "req/s", "p50", "p99", "ratio", "p99x", "errors")
		for _, k := range r.order {
			if k.conc != c {
				continue
			}
			floor := k.name
			if k.backend != "floor" {
				floor = floorOf(k.backend, k.name)
			}
			fk := key{c, "floor", floor}
			var rps, p50, p99, ratio, p99x []float64
			bad := 0
			for round, res := range r.res[k] {
				bad += res.bad
				if res.n == 0 {
					continue
				}
				rps = append(rps, res.rps())
				p50 = append(p50, float64(res.pct(0.50)))
				p99 = append(p99, float64(res.pct(0.99)))
				if f, ok := r.res[fk][round]; ok && f.rps() > 0 && f.pct(0.99) > 0 {
					ratio = append(ratio, res.rps()/f.rps())
					p99x = append(p99x, float64(res.pct(0.99))/float64(f.pct(0.99)))
				}
			}
			fmt.Fprintf(out, "  %-16s %-20s %-10s %9.0f %8s %8s %6.2f %6.2f %7d\n", k.backend, k.name, floor,
				median(rps), ms(time.Duration(median(p50))), ms(time.Duration(median(p99))), median(ratio), median(p99x), bad)
		}
	}
}
