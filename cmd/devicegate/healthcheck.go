package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckTimeout bounds one `devicegate healthcheck` probe.
const healthcheckTimeout = 5 * time.Second

// healthcheck is `devicegate healthcheck [--path /healthz] [--url URL]`:
// one GET, success only on 200. It exists for container health checks on the
// distroless image, which has no shell and no curl: the exec form
// HEALTHCHECK CMD ["devicegate", "healthcheck"] needs neither.
func healthcheck(ctx context.Context, cfg *Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("path", "/healthz", "path to probe on LISTEN_ADDR (/healthz: alive, /readyz: backends answer)")
	target := fs.String("url", "", "full URL to probe instead")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError{"healthcheck takes [--path /healthz|/readyz] [--url URL]"}
	}
	u := *target
	if u == "" {
		host, port, err := net.SplitHostPort(cfg.ListenAddr)
		if err != nil {
			return fmt.Errorf("healthcheck: LISTEN_ADDR %q: %w", cfg.ListenAddr, err)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1" // listening on every address: probe loopback
		}
		u = "http://" + net.JoinHostPort(host, port) + *path
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: %s", u, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
