package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// options are loadgen's flags.
type options struct {
	devicegate  string
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	concurrency []int
	scenarios   []string
	backends    []string
	flows       int
	pool        int
	redis       string
	postgres    string
	accessLogs  []string // one devicegate per backend and setting ("" = its default)
	serverLog   string
	timeline    time.Duration
	scale       bool
	scaleTokens int
	scaleFlows  int
}

func main() {
	if kind := os.Getenv(floorEnv); kind != "" {
		if err := floorMain(kind); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.devicegate, "devicegate", "bin/devicegate", "the devicegate binary to run (make build)")
	fs.DurationVar(&o.duration, "duration", time.Second, "measured time per scenario, concurrency and round")
	fs.DurationVar(&o.warmup, "warmup", 250*time.Millisecond, "unmeasured warm-up before each measurement")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds; figures are medians over rounds")
	conc := fs.String("concurrency", "1,4,32", "comma-separated worker counts")
	scs := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios")
	bes := fs.String("backends", "embedded,redis", "embedded (SQLite + memory) and/or redis (Postgres + Redis)")
	fs.IntVar(&o.flows, "flows", 2000, "live pending flows polled by poll-pending")
	fs.IntVar(&o.pool, "pool", 1500, "approved flows prepared for each poll-approved run (it stops early when they run out)")
	fs.StringVar(&o.redis, "redis", envOr("LOADGEN_REDIS", "127.0.0.1:6379"), "Redis host:port (backend redis and the poll floor)")
	fs.StringVar(&o.postgres, "postgres", envOr("LOADGEN_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "Postgres DSN (backend redis and the mint floor)")
	logs := fs.String("access-log", os.Getenv("ACCESS_LOG"), "ACCESS_LOG for devicegate (empty: its default); a comma-separated list runs one devicegate per setting, interleaved, to measure their cost")
	fs.StringVar(&o.serverLog, "server-log", "", "file for devicegate's log (default: /dev/null)")
	fs.DurationVar(&o.timeline, "timeline", 0, "instead of the rounds: issuance alone for this long at the highest concurrency, second by second (e.g. 12s)")
	fs.BoolVar(&o.scale, "scale", false, "also run, for each backend, a +scale twin whose stores are full (-scale-tokens, -scale-flows) and report its figures over the empty one's")
	fs.IntVar(&o.scaleTokens, "scale-tokens", 1_000_000, "with -scale: live token rows seeded into the twin's database")
	fs.IntVar(&o.scaleFlows, "scale-flows", 100_000, "with -scale: pending flows the twin holds (issued over HTTP before the rounds; poll-pending polls them all)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, c := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-concurrency: %q is not a positive number", c)
		}
		o.concurrency = append(o.concurrency, n)
	}
	for _, s := range strings.Split(*scs, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(allScenarios, s) {
			return nil, fmt.Errorf("-scenarios: unknown %q (known: %s)", s, strings.Join(allScenarios, ","))
		}
		o.scenarios = append(o.scenarios, s)
	}
	o.accessLogs = strings.Split(*logs, ",")
	for _, b := range strings.Split(*bes, ",") {
		if b = strings.TrimSpace(b); b != "embedded" && b != "redis" {
			return nil, fmt.Errorf("-backends: unknown %q", b)
		}
		o.backends = append(o.backends, b)
	}
	if o.rounds < 1 || o.duration <= 0 || o.flows < 1 || o.pool < 1 {
		return nil, errors.New("-rounds, -duration, -flows and -pool must be positive")
	}
	if o.scaleTokens < 0 || o.scaleFlows < 1 {
		return nil, errors.New("-scale-tokens must be >= 0 and -scale-flows positive")
	}
	return o, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// run starts the floors and devicegates, runs every round and prints the table.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// devicegate writes its log straight into a file (/dev/null by default):
	// the writes cost it what they would in production, and no pipe through
	// this process adds work to the generator.
	logPath := os.DevNull
	if o.serverLog != "" {
		logPath = o.serverLog
	}
	logTo, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logTo.Close()

	floors := map[string]*server{}
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.rss.end()
			t.srv.stop()
		}
		for _, f := range floors {
			f.stop()
		}
	}()
	need := map[string]bool{"framework": true}
	for _, b := range o.backends {
		for _, s := range o.scenarios {
			need[floorOf(b, s)] = true
		}
	}
	for _, kind := range floorKinds {
		if need[kind] {
			f, err := startFloor(ctx, o, kind)
			if err != nil {
				return err
			}
			floors[kind] = f
		}
	}
	var ips atomic.Uint64
	// The +scale twins start last: their seeded flows live 15 minutes from issuance.
	scales := []bool{false}
	if o.scale {
		scales = append(scales, true)
	}
	for _, scale := range scales {
		for _, b := range o.backends {
			for _, setting := range o.accessLogs {
				t, err := startTarget(ctx, o, b, setting, scale, tmp, logTo, &ips)
				if t != nil {
					targets = append(targets, t)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "started %s on %s (pid %d, RSS %d KiB)\n", t.label, t.srv.base, t.srv.cmd.Process.Pid, t.srv.rssKiB())
			}
		}
	}

	if o.timeline > 0 {
		if n := timeline(ctx, o, floors["framework"], targets, out); n > 0 {
			return fmt.Errorf("%d unexpected answers", n)
		}
		return nil
	}
	rec := newRecorder()
	for round := 1; round <= o.rounds; round++ {
		for _, c := range o.concurrency {
			for _, kind := range floorKinds {
				if f := floors[kind]; f != nil {
					r := drive(ctx, floorScenario(kind, f.base), c, o.warmup, o.duration)
					rec.add(out, round, c, "floor", kind, r)
				}
			}
			for _, t := range targets {
				for _, name := range o.scenarios {
					sc, err := t.scenario(name)
					if err != nil {
						return fmt.Errorf("%s/%s: %w", t.label, name, err)
					}
					r := drive(ctx, sc, c, o.warmup, o.duration)
					rec.add(out, round, c, t.label, name, r)
					t.markFirstWindow()
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		for _, t := range targets {
			t.markRSS(&t.rss.round1)
		}
	}
	endKiB := map[*target]int{}
	for _, t := range targets {
		t.rss.end()
		endKiB[t] = t.srv.rssKiB()
		fmt.Fprintf(out, "%s: RSS %d KiB at the end\n", t.label, endKiB[t])
	}
	rec.table(out, o)
	if o.scale {
		scaleReport(out, o, rec, targets, endKiB)
	}
	if n := rec.badTotal(); n > 0 {
		return fmt.Errorf("%d unexpected answers (first: %s)", n, rec.firstBad)
	}
	return nil
}

// startTarget starts one devicegate on backend with ACCESS_LOG=setting (its
// +scale twin with scale: stores seeded first) and prepares what its
// scenarios share; the target it returns (even with an error) must be stopped.
func startTarget(ctx context.Context, o *options, backend, setting string, scale bool, tmp string, logTo io.Writer, ips *atomic.Uint64) (*target, error) {
	label := backend
	if len(o.accessLogs) > 1 {
		label = backend + "@" + setting
	}
	var seed func(ctx context.Context, kind, dsn string) error
	var s *scaleInfo
	if scale {
		label = scaleLabel(label)
		s = &scaleInfo{tokens: o.scaleTokens, flows: o.scaleFlows}
		seed = func(ctx context.Context, kind, dsn string) error {
			s.tokensWhere = map[string]string{"postgres": "Postgres", "sqlite": "SQLite"}[kind]
			if s.tokens == 0 {
				s.tokensSkipped = "-scale-tokens 0"
				return nil
			}
			start := time.Now()
			err := seedTokens(ctx, kind, dsn, s.tokens)
			s.tokensTook = time.Since(start)
			return err
		}
	}
	srv, err := startDevicegate(ctx, o, backend, setting, tmp, logTo, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	t := &target{backend: backend, label: label, srv: srv, pool: o.pool, scale: s, rss: startRSSLog(srv),
		runTime: o.warmup + o.duration}
	if t.cl, err = newClient(srv.base, ips); err != nil {
		return t, fmt.Errorf("%s: %w", t.label, err)
	}
	if t.hot, err = t.cl.token("hot"); err != nil {
		return t, fmt.Errorf("%s: hot token: %w", t.label, err)
	}
	switch {
	case scale:
		if err := t.seedFlows(ctx, o); err != nil {
			return t, fmt.Errorf("%s: %w", t.label, err)
		}
	case slices.Contains(o.scenarios, "poll-pending") && o.timeline == 0:
		if t.pending, err = t.cl.flows(o.flows, false, "p", 8); err != nil {
			return t, fmt.Errorf("%s: pending flows: %w", t.label, err)
		}
	}
	return t, nil
}
