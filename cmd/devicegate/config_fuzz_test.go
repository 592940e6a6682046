package main

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// fuzzedVars are the variables FuzzLoadConfig sets; the others keep
// fuzzBaseline's valid values, so any error must name a fuzzed one.
var fuzzedVars = []string{"TRUSTED_PROXIES", "PUBLIC_WEB_URL", "CONSOLE_API_URL", "ENTERPRISE_API_URL",
	"OAUTH_TTL_DAYS", "OAUTH_ACCESS_TOKEN_RETENTION_DAYS", "OPENAPI_RATE_LIMIT_PER_TOKEN",
	"DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR", "OPENAPI_CORS_ALLOW_ORIGINS", "OPENAPI_KNOWN_CLIENT_IDS",
	"OPENAPI_ENABLED", "ENABLE_OAUTH_BEARER", "EDITION", "REDIS_URL", "DATABASE_URL", "LISTEN_ADDR", "LOG_FORMAT",
	"INTROSPECTION_SECRET", "DEVICEGATE_ENV", "SECRET_KEY_PREVIOUS"}

var fuzzBaseline = map[string]string{"SECRET_KEY": "fuzz-secret-key-0123456789", "PUBLIC_WEB_URL": "https://auth.example",
	"ENTERPRISE_API_SECRET": "enterprise-secret"}

// FuzzLoadConfig: LoadConfig never panics, and either fails with a message
// naming a variable it was given a value for, or yields values within their
// documented bounds (README, Configuration).
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []struct {
		i uint8
		v string
	}{{0, "10.0.0.0/8, ::ffff:10.0.0.0/104"}, {0, "10.0.0.1/8"}, {0, "fe80::1%eth0"}, {1, "https://a.example/x/"},
		{1, "http://[::1"}, {2, "javascript:alert(1)"}, {4, "99999999999999999999"}, {5, "0"}, {6, "-1"},
		{8, "https://a.example, *"}, {9, "a b,c"}, {13, "rediss://x"}, {15, "localhost"}, {17, "short"}} {
		f.Add(s.i, s.v, uint8(0), "")
	}
	f.Fuzz(func(t *testing.T, i1 uint8, v1 string, i2 uint8, v2 string) {
		vars := map[string]string{}
		for k, v := range fuzzBaseline {
			vars[k] = v
		}
		n1, n2 := fuzzedVars[int(i1)%len(fuzzedVars)], fuzzedVars[int(i2)%len(fuzzedVars)]
		vars[n1], vars[n2] = v1, v2
		if n1 == n2 {
			vars[n1] = v1
		}
		c, err := LoadConfig(func(k string) string { return vars[k] })
		if err != nil {
			if !strings.Contains(err.Error(), n1) && !strings.Contains(err.Error(), n2) {
				t.Fatalf("%s=%q %s=%q: error names neither: %v", n1, v1, n2, v2, err)
			}
			return
		}
		checkConfigBounds(t, c)
	})
}

// checkConfigBounds fails t unless every value of c is within its documented bounds.
func checkConfigBounds(t *testing.T, c *Config) {
	t.Helper()
	within := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			t.Fatalf("%s = %d outside %d..%d", name, v, lo, hi)
		}
	}
	within("OAUTH_TTL_DAYS", c.TTLDays, 1, 365)
	within("OAUTH_ACCESS_TOKEN_RETENTION_DAYS", c.RetentionDays, 1, 3650)
	within("OPENAPI_RATE_LIMIT_PER_TOKEN", c.RateLimitPerToken, 0, 1_000_000)
	within("DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR", c.ApproveLimitPerHour, 1, 1_000_000)
	for name, v := range map[string]string{"PUBLIC_WEB_URL": c.PublicWebURL, "CONSOLE_API_URL": c.ConsoleAPIURL,
		"ENTERPRISE_API_URL": c.EnterpriseAPIURL, "issuer": c.Issuer} {
		if v == "" && name != "PUBLIC_WEB_URL" && name != "issuer" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(v, "/") {
			t.Fatalf("%s = %q is not an absolute http(s) URL without query, fragment or trailing slash", name, v)
		}
		if c.Production && name != "ENTERPRISE_API_URL" && u.Scheme != "https" {
			t.Fatalf("%s = %q in production", name, v)
		}
	}
	if len(c.KnownClientIDs) == 0 {
		t.Fatal("no known client id")
	}
	for id := range c.KnownClientIDs {
		if id == "" || len(id) > maxClientIDLength || strings.IndexFunc(id, notIDRune) >= 0 {
			t.Fatalf("client id %q", id)
		}
	}
	for _, o := range c.CORSAllowOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			t.Fatalf("CORS origin %q", o)
		}
	}
	for _, n := range c.TrustedProxies {
		checkProxyNet(t, n)
	}
	if c.Edition != "community" && c.Edition != "enterprise" || c.LogFormat != "text" && c.LogFormat != "json" {
		t.Fatalf("edition %q, log format %q", c.Edition, c.LogFormat)
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		t.Fatalf("REDIS_URL %q", c.RedisURL)
	}
	if p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok && p == "" ||
		!ok && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		t.Fatalf("DATABASE_URL %q", c.DatabaseURL)
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		t.Fatalf("LISTEN_ADDR %q", c.ListenAddr)
	}
	if c.IntrospectionSecret != "" && len(c.IntrospectionSecret) < 16 {
		t.Fatal("short INTROSPECTION_SECRET accepted")
	}
}

// checkProxyNet fails t unless n is a canonical network: IPv4 as 4 bytes,
// no host bits, and parsing its own string gives it back.
func checkProxyNet(t *testing.T, n *net.IPNet) {
	t.Helper()
	ones, bits := n.Mask.Size()
	if bits != len(n.IP)*8 || bits == 0 || !n.IP.Mask(n.Mask).Equal(n.IP) {
		t.Fatalf("trusted proxy %v: mask %d/%d, IP %d bytes, or host bits set", n, ones, bits, len(n.IP))
	}
	if a, ok := netip.AddrFromSlice(n.IP); !ok || a.Is4In6() {
		t.Fatalf("trusted proxy %v is IPv4-mapped", n)
	}
	again, _, errs := parseTrustedProxies(n.String())
	if len(errs) > 0 || len(again) != 1 || again[0].String() != n.String() {
		t.Fatalf("trusted proxy %v does not survive a round trip: %v %v", n, again, errs)
	}
}

// FuzzTrustedProxies: every non-empty entry yields exactly one network or
// one error quoting it; a bare address is trusted as itself (unmapped) and
// nothing else; every network is canonical.
func FuzzTrustedProxies(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.0.0.1", "::ffff:10.0.0.0/104", "10.0.0.1/8", "fe80::1%eth0",
		"010.0.0.1", "10.0.0.0/08", "::/0, 0.0.0.0/0", " , ,", "2001:db8::/32,192.0.2.7", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		nets, _, errs := parseTrustedProxies(raw)
		entries := 0
		for _, e := range strings.Split(raw, ",") {
			if strings.TrimSpace(e) != "" {
				entries++
			}
		}
		if len(nets)+len(errs) != entries {
			t.Fatalf("%q: %d entries but %d networks and %d errors", raw, entries, len(nets), len(errs))
		}
		for _, n := range nets {
			checkProxyNet(t, n)
		}
		if entries != 1 || len(nets) != 1 {
			return
		}
		entry := strings.TrimSpace(raw)
		if a, err := netip.ParseAddr(entry); err == nil && !strings.Contains(entry, "/") {
			ones, bits := nets[0].Mask.Size()
			if ip := net.IP(a.Unmap().AsSlice()); ones != bits || !nets[0].IP.Equal(ip) {
				t.Fatalf("bare address %q trusted as %v", entry, nets[0])
			}
		}
	})
}
