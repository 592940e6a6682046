package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// errPoolEmpty is returned by a scenario's next when it has no more work
// (its prepared flows or tokens are used up): the worker stops early.
var errPoolEmpty = fmt.Errorf("pool empty")

// scenario is one request shape under load.
type scenario struct {
	name string
	// next builds the next request; it is called from many workers at once.
	next func() (*http.Request, error)
	// check returns "" for an expected answer, else what was wrong.
	check func(status int, body []byte) string
	// pooled scenarios use each prepared item once: they skip the warm-up,
	// which would otherwise spend the pool before the measurement.
	pooled bool
}

// result is one measured run of a scenario at one concurrency.
type result struct {
	n, bad    int
	elapsed   time.Duration
	lat       []time.Duration // sorted
	firstBad  string
	badByKind map[string]int
	perSecond []int // measured answers by the second of the window they came in
}

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i]
}

// newTransport is a keep-alive transport holding one connection per worker.
func newTransport(conc int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout:     30 * time.Second,
	}
}

// drive runs sc with conc workers: warm-up first (answers checked, not
// timed), then the measured window of dur. A worker stops early when the
// scenario's pool is empty; elapsed then ends at the last answer.
func drive(ctx context.Context, sc scenario, conc int, warmup, dur time.Duration) result {
	tr := newTransport(conc)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	if sc.pooled {
		warmup = 0
	}
	start := time.Now()
	measureFrom := start.Add(warmup)
	deadline := measureFrom.Add(dur)
	var (
		mu       sync.Mutex
		res      = result{badByKind: map[string]int{}}
		lastEnd  atomic.Int64
		wg       sync.WaitGroup
		firstBad atomic.Value
	)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			bad := map[string]int{}
			var secs []int
			n := 0
			buf := bytes.NewBuffer(make([]byte, 0, 2048))
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				req, err := sc.next()
				if errors.Is(err, errPoolEmpty) {
					break
				}
				var msg string
				if err != nil {
					msg = "build: " + err.Error()
				} else {
					resp, err := client.Do(req)
					if err != nil {
						msg = "transport: " + err.Error()
					} else {
						buf.Reset()
						_, err = io.Copy(buf, resp.Body)
						resp.Body.Close()
						if err != nil {
							msg = "read body: " + err.Error()
						} else {
							msg = sc.check(resp.StatusCode, buf.Bytes())
						}
					}
				}
				t1 := time.Now()
				if t0.Before(measureFrom) {
					if msg != "" { // a warm-up error is still an error
						bad[kindOf(msg)]++
						firstBad.CompareAndSwap(nil, msg)
					}
					continue
				}
				n++
				lat = append(lat, t1.Sub(t0))
				sec := int(t1.Sub(measureFrom) / time.Second)
				for len(secs) <= sec {
					secs = append(secs, 0)
				}
				secs[sec]++
				if msg != "" {
					bad[kindOf(msg)]++
					firstBad.CompareAndSwap(nil, msg)
				}
				if e := t1.UnixNano(); e > lastEnd.Load() {
					lastEnd.Store(e) // racy max is fine: it only bounds elapsed
				}
			}
			mu.Lock()
			res.n += n
			res.lat = append(res.lat, lat...)
			for i, v := range secs {
				for len(res.perSecond) <= i {
					res.perSecond = append(res.perSecond, 0)
				}
				res.perSecond[i] += v
			}
			for k, v := range bad {
				res.badByKind[k] += v
				res.bad += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	end := time.Now()
	if end.After(deadline) {
		end = deadline
	}
	if le := lastEnd.Load(); le > 0 && time.Unix(0, le).Before(end) {
		end = time.Unix(0, le)
	}
	res.elapsed = end.Sub(measureFrom)
	slices.Sort(res.lat)
	if v, ok := firstBad.Load().(string); ok {
		res.firstBad = v
	}
	return res
}

// kindOf groups error messages for the summary: "5xx", "transport", "status".
func kindOf(msg string) string {
	switch {
	case len(msg) >= 10 && msg[:10] == "transport:":
		return "transport"
	case len(msg) >= 4 && msg[:4] == "5xx:":
		return "5xx"
	default:
		return "other"
	}
}

// expectStatus checks the status and, when substrs are given, that the body
// holds one of them (e.g. authorization_pending or slow_down).
func expectStatus(want int, substrs ...string) func(int, []byte) string {
	return func(status int, body []byte) string {
		if status >= 500 {
			return fmt.Sprintf("5xx: %d %.200s", status, body)
		}
		if status != want {
			return fmt.Sprintf("status %d (want %d): %.200s", status, want, body)
		}
		if len(substrs) == 0 {
			return ""
		}
		for _, s := range substrs {
			if bytes.Contains(body, []byte(s)) {
				return ""
			}
		}
		return fmt.Sprintf("status %d without %q: %.200s", status, substrs, body)
	}
}
