package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" database/sql driver
	"github.com/redis/rueidis"

	"github.com/devicegate/devicegate/domain"
)

// With -scale every selected backend gets a second devicegate, its "+scale"
// twin, whose stores are full before the rounds start: -scale-tokens live
// token rows in its database (one INSERT ... SELECT) and -scale-flows
// pending flows created through its real HTTP issuance. The twins run in the
// same interleaved rounds as the empty targets, and the scale section of the
// report divides each twin's figures by its empty target's in the same round.

// scaleWorkers issue the seeded flows (each from its own address, as the issue scenario does).
const scaleWorkers = 32

// scaleInfo is what seeding a +scale target measured.
type scaleInfo struct {
	tokens, flows int
	tokensTook    time.Duration // INSERT + ANALYZE
	flowsTook     time.Duration
	flowsAt       time.Time // when the last seeded flow was issued
	rssBefore     int       // KiB, just before the flows were issued
	rssAfter      int       // KiB, right after
	rssSettled    int       // KiB, settleAfterSeed later
	redis         *redisMemory
	tokensWhere   string // "Postgres" or "SQLite"
	tokensSkipped string // why no token rows were seeded, if none were
}

// settleAfterSeed is how long a +scale target rests after seeding before its RSS is read again.
const settleAfterSeed = 2 * time.Second

// scaleLabel is the label of backend's +scale twin with ACCESS_LOG setting.
func scaleLabel(label string) string {
	backend, setting, found := strings.Cut(label, "@")
	if found {
		return backend + "+scale@" + setting
	}
	return backend + "+scale"
}

// emptyLabel is the label of the empty target a +scale target is compared with.
func emptyLabel(label string) string { return strings.Replace(label, "+scale", "", 1) }

// seedTokens fills the token table of a database devicegate has migrated
// with n live account tokens: ten devices per subject (the unique live row
// is per subject, issuer, client and device), created over the last 13
// days, expiring 14 days after creation. kind is "postgres" (dsn a URL) or
// "sqlite" (dsn a file path).
func seedTokens(ctx context.Context, kind, dsn string, n int) error {
	driver, insert, analyze := "pgx", `INSERT INTO oauth_access_tokens
		(id, subject_email, subject_issuer, account_id, client_id, device_label, prefix, token_hash, created_at, expires_at)
		SELECT gen_random_uuid(), 'scale-' || (g / 10) || '@example.com', 'dify:account',
			('5ca1e000-0000-4000-8000-' || lpad((g / 10)::text, 12, '0'))::uuid,
			'difyctl', 'scale-' || (g % 10), 'dfoa_', encode(sha256(convert_to(s.tag || g, 'UTF8')), 'hex'),
			now() - (g % 18720) * interval '1 minute', now() - (g % 18720) * interval '1 minute' + interval '14 days'
		FROM generate_series(0, $1 - 1) AS g, (SELECT md5(random()::text) AS tag) AS s`, "VACUUM ANALYZE oauth_access_tokens"
	if kind == "sqlite" {
		// Times in the adapter's fixed-width text form; ids canonical lower-case UUIDs.
		driver, insert, analyze = "sqlite", `INSERT INTO oauth_access_tokens
			(id, subject_email, subject_issuer, account_id, client_id, device_label, prefix, token_hash, created_at, expires_at)
			WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < ? - 1)
			SELECT printf('5ca1e000-0000-4000-9000-%012d', n), 'scale-' || (n / 10) || '@example.com', 'dify:account',
				printf('5ca1e000-0000-4000-8000-%012d', n / 10), 'difyctl', 'scale-' || (n % 10), 'dfoa_', lower(hex(randomblob(32))),
				strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || (n % 18720) || ' minutes') || '.000000Z',
				strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || (n % 18720) || ' minutes', '+14 days') || '.000000Z'
			FROM g`, "ANALYZE"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the pragma below holds for the one connection
	if kind == "sqlite" {
		if _, err := db.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, insert, n); err != nil {
		return fmt.Errorf("seed %d token rows: %w", n, err)
	}
	// The rows' writes are flushed now, not by a checkpoint in the middle
	// of the rounds (Postgres: past max_wal_size; SQLite: the WAL the insert grew).
	for _, q := range []string{analyze, map[string]string{"pgx": "CHECKPOINT", "sqlite": "PRAGMA wal_checkpoint(TRUNCATE)"}[driver]} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// seedFlows issues the +scale target's pending flows and reads its memory around them.
func (t *target) seedFlows(ctx context.Context, o *options) error {
	s := t.scale
	var before int64
	if t.backend == "redis" {
		var err error
		if before, err = redisUsedMemory(ctx, o.redis); err != nil {
			return err
		}
	}
	s.rssBefore = t.srv.rssKiB()
	start := time.Now()
	flows, err := t.cl.flows(s.flows, false, "s", scaleWorkers)
	if err != nil {
		return fmt.Errorf("seed pending flows: %w", err)
	}
	s.flowsAt = time.Now()
	s.flowsTook = s.flowsAt.Sub(start)
	t.pending = flows
	s.rssAfter = t.srv.rssKiB()
	select {
	case <-time.After(settleAfterSeed):
	case <-ctx.Done():
		return ctx.Err()
	}
	s.rssSettled = t.srv.rssKiB()
	if t.backend == "redis" {
		if s.redis, err = measureRedis(ctx, o.redis, t.srv.prefix, 1000); err != nil {
			return err
		}
		s.redis.usedBefore = before
	}
	return nil
}

// flowsLeft says whether the seeded flows outlive one more run of dur: past
// domain.FlowLifetime a poll answers expired_token, which poll-pending does
// not expect.
func (s *scaleInfo) flowsLeft(dur time.Duration) error {
	if left := domain.FlowLifetime - time.Since(s.flowsAt) - dur - 10*time.Second; left < 0 {
		return fmt.Errorf("the %d seeded flows expire (%s after issuance) before this run ends: use fewer -rounds, -concurrency levels or -scenarios, or a shorter -duration",
			s.flows, domain.FlowLifetime)
	}
	return nil
}

// keyStat is MEMORY USAGE over a sample of one kind of key.
type keyStat struct {
	n     int
	bytes int64
}

func (k keyStat) mean() float64 {
	if k.n == 0 {
		return 0
	}
	return float64(k.bytes) / float64(k.n)
}

// redisMemory is Redis's memory for one +scale target's prefix.
type redisMemory struct {
	usedBefore, usedAfter int64               // INFO memory used_memory around the seeding
	flow, userCode        keyStat             // flow hash, user-code index entry
	rate                  map[string]*keyStat // rate-limit logs by bucket
}

// redisUsedMemory is INFO memory's used_memory.
func redisUsedMemory(ctx context.Context, addr string) (int64, error) {
	c, err := redisClient(addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return usedMemory(ctx, c)
}

func usedMemory(ctx context.Context, c rueidis.Client) (int64, error) {
	info, err := c.Do(ctx, c.B().Info().Section("memory").Build()).ToString()
	if err != nil {
		return 0, fmt.Errorf("redis INFO memory: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO memory: no used_memory")
}

// measureRedis reads used_memory and MEMORY USAGE (SAMPLES 0: every field
// of a hash, every member of a sorted set) of up to limit keys of each kind
// found by SCAN under prefix.
func measureRedis(ctx context.Context, addr, prefix string, limit int) (*redisMemory, error) {
	c, err := redisClient(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	m := &redisMemory{rate: map[string]*keyStat{}}
	if m.usedAfter, err = usedMemory(ctx, c); err != nil {
		return nil, err
	}
	for _, kind := range []string{"flow:", "uc:", "rl:"} {
		keys, err := scanKeys(ctx, c, prefix+kind+"*", limit)
		if err != nil {
			return nil, err
		}
		cmds := make(rueidis.Commands, len(keys))
		for i, k := range keys {
			cmds[i] = c.B().MemoryUsage().Key(k).Samples(0).Build()
		}
		for i, r := range c.DoMulti(ctx, cmds...) {
			n, err := r.AsInt64()
			if err != nil {
				return nil, fmt.Errorf("redis MEMORY USAGE %s: %w", keys[i], err)
			}
			st := &m.flow
			switch kind {
			case "uc:":
				st = &m.userCode
			case "rl:":
				bucket, _, _ := strings.Cut(strings.TrimPrefix(keys[i], prefix+kind), ":")
				if m.rate[bucket] == nil {
					m.rate[bucket] = &keyStat{}
				}
				st = m.rate[bucket]
			}
			st.n++
			st.bytes += n
		}
	}
	return m, nil
}

// scanKeys returns up to limit keys matching pattern.
func scanKeys(ctx context.Context, c rueidis.Client, pattern string, limit int) ([]string, error) {
	var keys []string
	err := scanEach(ctx, c, pattern, func(batch []string) bool {
		keys = append(keys, batch...)
		return len(keys) < limit
	})
	return keys[:min(len(keys), limit)], err
}

// rssLog samples a server's RSS once a second from its start to the end of
// the run, and keeps the readings the scale report names.
type rssLog struct {
	mu          sync.Mutex
	samples     []rssSample
	firstWindow rssSample // right after the target's first measured window
	// issuedAtFirst is the target's issued count when firstWindow was taken.
	issuedAtFirst int64
	round1        rssSample // after its first round
	stop          chan struct{}
	done          chan struct{}
}

type rssSample struct {
	at  time.Time
	kib int
}

func startRSSLog(srv *server) *rssLog {
	l := &rssLog{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				s := rssSample{time.Now(), srv.rssKiB()}
				l.mu.Lock()
				l.samples = append(l.samples, s)
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// end stops the sampling (once).
func (l *rssLog) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// markRSS records the server's RSS now into *at unless it is set already
// (called by the rounds' goroutine only, like the report that reads it).
func (t *target) markRSS(at *rssSample) {
	if at.at.IsZero() {
		*at = rssSample{time.Now(), t.srv.rssKiB()}
	}
}

// markFirstWindow records the RSS and the flows issued so far after the
// target's first measured window (once).
func (t *target) markFirstWindow() {
	if t.rss.firstWindow.at.IsZero() {
		t.markRSS(&t.rss.firstWindow)
		t.rss.issuedAtFirst = t.issued.Load()
	}
}

// maxSince is the highest sample taken at or after from.
func (l *rssLog) maxSince(from time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := 0
	for _, s := range l.samples {
		if !s.at.Before(from) {
			m = max(m, s.kib)
		}
	}
	return m
}

func mib(kib int) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// perFlow is the bytes per flow of an RSS growth in KiB.
func perFlow(fromKiB, toKiB, flows int) string {
	if flows == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f B", float64(toKiB-fromKiB)*1024/float64(flows))
}

// scaleReport prints the scale section: seeding, Redis bytes per flow, RSS
// over the run, and each +scale target's figures over its empty target's.
func scaleReport(out io.Writer, o *options, r *recorder, targets []*target, endKiB map[*target]int) {
	fmt.Fprintf(out, "\nscale (-scale-tokens %d -scale-flows %d): each +scale target ran with its stores full; poll-pending on a +scale target polls round robin over ALL its %d seeded flows, on an empty one over its -flows %d\n",
		o.scaleTokens, o.scaleFlows, o.scaleFlows, o.flows)
	for _, t := range targets {
		if n := t.polls.Load(); n > 0 {
			fmt.Fprintf(out, "  %s poll-pending: %d polls over the run (warm-ups included), %.0f%% answered slow_down (polled again within the interval), the rest authorization_pending\n",
				t.label, n, 100*float64(t.slowDowns.Load())/float64(n))
		}
	}
	for _, t := range targets {
		s := t.scale
		if s == nil {
			continue
		}
		tokens := fmt.Sprintf("%d live token rows in %s in %.1f s (one INSERT ... SELECT, then ANALYZE and a checkpoint)", s.tokens, s.tokensWhere, s.tokensTook.Seconds())
		if s.tokensSkipped != "" {
			tokens = "no token rows (" + s.tokensSkipped + ")"
		}
		fmt.Fprintf(out, "  %s seeded: %s; %d pending flows through HTTP issuance (%d workers, each flow from its own address) in %.1f s\n",
			t.label, tokens, s.flows, scaleWorkers, s.flowsTook.Seconds())
		if t.backend == "redis" {
			fmt.Fprintf(out, "  %s RSS: %s before the flows, %s after, %s %s later (the flows live in Redis)\n",
				t.label, mib(s.rssBefore), mib(s.rssAfter), mib(s.rssSettled), settleAfterSeed)
		} else {
			fmt.Fprintf(out, "  %s RSS: %s before the flows, %s after, %s %s later: %s per flow after, %s settled (the flow, its rate-limit log, and the heap the Go GC lets grow around them)\n",
				t.label, mib(s.rssBefore), mib(s.rssAfter), mib(s.rssSettled), settleAfterSeed,
				perFlow(s.rssBefore, s.rssAfter, s.flows), perFlow(s.rssBefore, s.rssSettled, s.flows))
		}
		if m := s.redis; m != nil {
			perFlowB := m.flow.mean() + m.userCode.mean()
			verdict := "pass"
			if perFlowB > 512 {
				verdict = "MISS"
			}
			fmt.Fprintf(out, "  %s Redis (MEMORY USAGE key SAMPLES 0, means over SCANned keys): flow hash %.0f B (%d keys) + user-code index %.0f B (%d keys) = %.0f B per pending flow (target <= 512 B: %s)\n",
				t.label, m.flow.mean(), m.flow.n, m.userCode.mean(), m.userCode.n, perFlowB, verdict)
			buckets := make([]string, 0, len(m.rate))
			for b := range m.rate {
				buckets = append(buckets, b)
			}
			slices.Sort(buckets)
			for _, b := range buckets {
				fmt.Fprintf(out, "  %s Redis rate-limit log %s: %.0f B per key (%d keys; one per client address, kept for the bucket's window)\n",
					t.label, b, m.rate[b].mean(), m.rate[b].n)
			}
			fmt.Fprintf(out, "  %s Redis INFO used_memory: %.1f MiB before the flows, %.1f MiB after: %.0f B per issuance (flow, index, rate-limit log and allocator overhead; the Redis is shared, so this is approximate)\n",
				t.label, float64(m.usedBefore)/(1<<20), float64(m.usedAfter)/(1<<20), float64(m.usedAfter-m.usedBefore)/float64(s.flows))
		}
	}
	fmt.Fprintf(out, "\n  RSS under load (sampled every second): after the first measured window, after round 1, at the end, the max after the first window;\n"+
		"  flows issued after the first window (issue and poll-approved's set-up: each stays live %s, in process on the embedded default) and the growth per such flow\n", domain.FlowLifetime)
	fmt.Fprintf(out, "  %-22s %12s %12s %12s %12s %9s %9s %10s\n", "target", "1st window", "round 1", "end", "max", "end/1st", "flows", "per flow")
	for _, t := range targets {
		l := t.rss
		first := l.firstWindow.kib
		ratio := 0.0
		if first > 0 {
			ratio = float64(endKiB[t]) / float64(first)
		}
		issued := int(t.issued.Load() - l.issuedAtFirst)
		fmt.Fprintf(out, "  %-22s %12s %12s %12s %12s %9.2f %9d %10s\n", t.label, mib(first), mib(l.round1.kib), mib(endKiB[t]),
			mib(l.maxSince(l.firstWindow.at)), ratio, issued, perFlow(first, endKiB[t], issued))
	}
	for _, c := range o.concurrency {
		fmt.Fprintf(out, "\n  scale/empty at concurrency %d (median over rounds of the +scale figure over the empty target's in the same round; within 20%% = req/s ratio >= 0.80 and p99 ratio <= 1.20)\n", c)
		fmt.Fprintf(out, "  %-22s %-20s %10s %10s %10s %10s  %s\n", "target", "scenario", "req/s", "req/s x", "p99", "p99 x", "within 20%")
		for _, k := range r.order {
			if k.conc != c || !strings.Contains(k.backend, "+scale") {
				continue
			}
			ek := key{c, emptyLabel(k.backend), k.name}
			var rps, p99, rpsX, p99X []float64
			for round, res := range r.res[k] {
				e, ok := r.res[ek][round]
				if res.n == 0 || !ok || e.n == 0 {
					continue
				}
				rps = append(rps, res.rps())
				p99 = append(p99, float64(res.pct(0.99)))
				rpsX = append(rpsX, res.rps()/e.rps())
				p99X = append(p99X, float64(res.pct(0.99))/float64(max(e.pct(0.99), 1)))
			}
			verdict := "pass"
			switch rx, px := median(rpsX), median(p99X); {
			case len(rpsX) == 0:
				verdict = "-"
			case rx < 0.8 && px > 1.2:
				verdict = "MISS (req/s and p99)"
			case rx < 0.8:
				verdict = "MISS (req/s)"
			case px > 1.2:
				verdict = "MISS (p99)"
			}
			fmt.Fprintf(out, "  %-22s %-20s %10.0f %10.2f %10s %10.2f  %s\n", k.backend, k.name, median(rps), median(rpsX),
				ms(time.Duration(median(p99))), median(p99X), verdict)
		}
	}
}
