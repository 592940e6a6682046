package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDatabaseURL || c.ListenAddr != ":8080" || c.PublicWebURL != "http://localhost:8080" ||
		c.Issuer != c.PublicWebURL || !c.KnownClientIDs["difyctl"] || c.TTLDays != 14 || c.RetentionDays != 30 ||
		c.RateLimitPerToken != 60 || c.ApproveLimitPerHour != 10 || !c.OpenAPIEnabled || !c.BearerEnabled || c.RedisURL != "" {
		t.Fatalf("defaults: %+v", c)
	}
	c, _ = LoadConfig(testEnv(map[string]string{"CONSOLE_API_URL": "https://api.example.com/"}))
	if c.Issuer != "https://api.example.com" {
		t.Fatalf("issuer %q", c.Issuer)
	}
}

func TestLoadConfigNamesTheBadVariable(t *testing.T) {
	for name, val := range map[string]string{
		"DATABASE_URL":                      "mysql://x",
		"REDIS_URL":                         "http://x",
		"PUBLIC_WEB_URL":                    "localhost:8080",
		"OPENAPI_ENABLED":                   "maybe",
		"ENABLE_OAUTH_BEARER":               "2",
		"OPENAPI_RATE_LIMIT_PER_TOKEN":      "-1",
		"TRUSTED_PROXIES":                   "10.0.0.0/33",
		"LISTEN_ADDR":                       "8080",
		"EDITION":                           "gold",
		"LOG_FORMAT":                        "xml",
		"ACCESS_LOG":                        "some",
		"OAUTH_ACCESS_TOKEN_RETENTION_DAYS": "soon",
		"OPENAPI_CORS_ALLOW_ORIGINS":        "not an origin",
		"INTROSPECTION_SECRET":              "short",
	} {
		_, err := LoadConfig(testEnv(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v must name the variable", name, val, err)
		}
	}
}

func TestAccessLogDefaultsToSampled(t *testing.T) {
	for raw, want := range map[string]string{"": "sampled", "ALL": "all", " errors ": "errors", "sampled": "sampled"} {
		c, err := LoadConfig(testEnv(map[string]string{"ACCESS_LOG": raw}))
		if err != nil || c.AccessLog != want {
			t.Errorf("ACCESS_LOG=%q: %q %v, want %q", raw, c.AccessLog, err, want)
		}
	}
}

func TestTTLDaysClampsAndLogs(t *testing.T) {
	for raw, want := range map[string]int{"": 14, "junk": 14, "0": 1, "500": 365, "30": 30} {
		c, err := LoadConfig(testEnv(map[string]string{"OAUTH_TTL_DAYS": raw}))
		if err != nil || c.TTLDays != want {
			t.Fatalf("OAUTH_TTL_DAYS=%q: %d %v", raw, c.TTLDays, err)
		}
		if (raw == "junk" || raw == "0" || raw == "500") != (len(c.notes) == 1) {
			t.Fatalf("OAUTH_TTL_DAYS=%q: notes %v", raw, c.notes)
		}
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"help"}, testEnv(map[string]string{"OAUTH_TTL_DAYS": "500"}), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "Usage") {
		t.Fatalf("help: %v", err)
	}
}

func TestTrustedProxiesAcceptsBareIPs(t *testing.T) {
	c, err := LoadConfig(testEnv(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1 ,::1"}))
	if err != nil || len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.168.1.1/32" {
		t.Fatalf("%v %v", c, err)
	}
}

func TestSecretKeyGeneratedOnceNextToTheDatabase(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "db", "devicegate.db")}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c1, _ := LoadConfig(testEnv(vars))
	if err := c1.ensureSecretKey(log, generateKey); err != nil {
		t.Fatal(err)
	}
	c2, _ := LoadConfig(testEnv(vars))
	if err := c2.ensureSecretKey(log, generateKey); err != nil {
		t.Fatal(err)
	}
	if c1.SecretKey == "" || c1.SecretKey != c2.SecretKey {
		t.Fatal("the generated key must be kept and reused")
	}
	st, err := os.Stat(filepath.Join(dir, "db", "secret_key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if strings.Contains(logs.String(), c1.SecretKey) || !strings.Contains(logs.String(), "SECRET_KEY") {
		t.Fatal("warn about the generated key without printing it")
	}
	vars["DEVICEGATE_ENV"] = "production"
	vars["PUBLIC_WEB_URL"] = "https://auth.example.com"
	c3, _ := LoadConfig(testEnv(vars))
	if err := c3.ensureSecretKey(log, generateKey); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf("production without SECRET_KEY: %v", err)
	}
}

func TestUnknownCommandIsAUsageError(t *testing.T) {
	err := run(t.Context(), []string{"frobnicate"}, testEnv(nil), io.Discard, io.Discard)
	if !errors.As(err, new(usageError)) {
		t.Fatalf("got %v", err)
	}
	err = run(t.Context(), []string{"accounts", "create", "--email", "x@y.z"}, testEnv(sqliteVars(t)), io.Discard, io.Discard)
	if !errors.As(err, new(usageError)) {
		t.Fatalf("missing flags: %v", err)
	}
}

// TestKnownClientIDsFitTheSchema: oauth_access_tokens.client_id is
// varchar(64) (SPEC 3.2), so a longer configured id would let a flow start,
// get approved, and then fail every poll's mint on Postgres. Whitespace or
// control characters inside an id are typos, not ids.
func TestKnownClientIDsFitTheSchema(t *testing.T) {
	for _, val := range []string{strings.Repeat("c", 65), "difyctl,my cli", "a\x00b"} {
		_, err := LoadConfig(testEnv(map[string]string{"OPENAPI_KNOWN_CLIENT_IDS": val}))
		if err == nil || !strings.Contains(err.Error(), "OPENAPI_KNOWN_CLIENT_IDS") {
			t.Errorf("OPENAPI_KNOWN_CLIENT_IDS=%q: %v", val, err)
		}
	}
	c, err := LoadConfig(testEnv(map[string]string{"OPENAPI_KNOWN_CLIENT_IDS": " difyctl , " + strings.Repeat("c", 64)}))
	if err != nil || len(c.KnownClientIDs) != 2 || !c.KnownClientIDs[strings.Repeat("c", 64)] {
		t.Fatalf("%v %v", c, err)
	}
}

// TestBlankSecretKeyIsUnset: a SECRET_KEY of only whitespace is no key; it is
// treated as unset (generated in development, an error in production)
// instead of signing with a few spaces.
func TestBlankSecretKeyIsUnset(t *testing.T) {
	vars := sqliteVars(t)
	vars["SECRET_KEY"] = "  \t "
	vars["DEVICEGATE_ENV"] = "production"
	vars["PUBLIC_WEB_URL"] = "https://auth.example.com"
	c, err := LoadConfig(testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ensureSecretKey(slog.New(slog.NewTextHandler(io.Discard, nil)), generateKey); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf("blank SECRET_KEY in production: %v", err)
	}
}

// TestPKCERequiredClientIDs: OPENAPI_PKCE_REQUIRED_CLIENT_IDS may list only
// known clients (a typo would silently leave PKCE optional for the real one).
func TestPKCERequiredClientIDs(t *testing.T) {
	_, err := LoadConfig(testEnv(map[string]string{"OPENAPI_PKCE_REQUIRED_CLIENT_IDS": "difyctl,difyct1"}))
	if err == nil || !strings.Contains(err.Error(), "OPENAPI_PKCE_REQUIRED_CLIENT_IDS") || !strings.Contains(err.Error(), "difyct1") {
		t.Fatalf("unknown client in OPENAPI_PKCE_REQUIRED_CLIENT_IDS: %v", err)
	}
	c, err := LoadConfig(testEnv(map[string]string{
		"OPENAPI_KNOWN_CLIENT_IDS": "difyctl,other", "OPENAPI_PKCE_REQUIRED_CLIENT_IDS": " other ,",
	}))
	if err != nil || len(c.PKCERequiredIDs) != 1 || !c.PKCERequiredIDs["other"] {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := LoadConfig(testEnv(nil)); err != nil || len(c.PKCERequiredIDs) != 0 {
		t.Fatalf("default: %+v %v", c, err)
	}
}

// TestTrustedProxiesMeanWhatTheySay: an IPv4-mapped entry is read as the
// IPv4 address or network it maps (it used to become ::/32, trusting the
// wrong peers), and an entry whose meaning would change on parsing (host
// bits set, a zone, leading zeros) fails start-up naming the variable.
func TestTrustedProxiesMeanWhatTheySay(t *testing.T) {
	for raw, want := range map[string]string{
		"::ffff:10.0.0.1":          "10.0.0.1/32",
		"::FFFF:10.0.0.1":          "10.0.0.1/32",
		"0:0:0:0:0:ffff:a00:1":     "10.0.0.1/32",
		"::ffff:10.0.0.0/104":      "10.0.0.0/8",
		"::ffff:10.0.0.1/128":      "10.0.0.1/32",
		"::ffff:0.0.0.0/96":        "0.0.0.0/0",
		"10.0.0.0/8":               "10.0.0.0/8",
		"2001:db8::/32":            "2001:db8::/32",
		"2001:db8::1":              "2001:db8::1/128",
		"192.168.1.1":              "192.168.1.1/32",
		" 172.16.0.0/12 ":          "172.16.0.0/12",
		"::ffff:192.168.0.0/112 ,": "192.168.0.0/16",
	} {
		c, err := LoadConfig(testEnv(map[string]string{"TRUSTED_PROXIES": raw}))
		if err != nil {
			t.Errorf("TRUSTED_PROXIES=%q: %v", raw, err)
			continue
		}
		if len(c.TrustedProxies) != 1 || c.TrustedProxies[0].String() != want {
			t.Errorf("TRUSTED_PROXIES=%q = %v, want [%s]", raw, c.TrustedProxies, want)
			continue
		}
		n := c.TrustedProxies[0]
		if strings.Contains(want, ".") && len(n.IP) != 4 {
			t.Errorf("TRUSTED_PROXIES=%q: an IPv4 network must be held in its 4-byte form, got %d bytes", raw, len(n.IP))
		}
		if mapped := strings.Contains(strings.ToLower(raw), "ffff"); mapped != (len(c.notes) == 1) {
			t.Errorf("TRUSTED_PROXIES=%q: notes %v (an unmapped reading is noted, nothing else)", raw, c.notes)
		}
	}
	c, _ := LoadConfig(testEnv(map[string]string{"TRUSTED_PROXIES": "::ffff:10.0.0.1"}))
	for ip, want := range map[string]bool{"10.0.0.1": true, "::ffff:10.0.0.1": true, "10.0.0.2": false, "::1": false, "::": false} {
		if got := c.TrustedProxies[0].Contains(net.ParseIP(ip)); got != want {
			t.Errorf("::ffff:10.0.0.1 trusts %s = %v, want %v", ip, got, want)
		}
	}
	for _, raw := range []string{
		"10.0.0.1/8",             // host bits set: 10.0.0.0/8 or 10.0.0.1/32?
		"::ffff:10.0.0.1/104",    // the same, mapped
		"::ffff:10.0.0.0/96",     // host bits beyond the mapped /0
		"2001:db8::1/32",         // IPv6 host bits
		"fe80::1%eth0",           // a zone
		"fe80::%eth0/64",         // a zone on a prefix
		"010.0.0.1",              // leading zeros (octal to some parsers)
		"10.0.0.0/08",            // a leading zero in the length
		"10.0.0.0/33",            // out of range
		"10.0.0",                 // short
		"10.0.0.0/8/8",           // junk
		"proxy.internal",         // a name
		"10.0.0.0/8, 10.0.0.1/8", // one bad entry fails the lot
	} {
		_, err := LoadConfig(testEnv(map[string]string{"TRUSTED_PROXIES": raw}))
		if err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
			t.Errorf("TRUSTED_PROXIES=%q: %v, want a start-up error naming the variable", raw, err)
		}
	}
}

// TestProductionNeedsAnHTTPSPublicURL: in production PUBLIC_WEB_URL must be
// set (the localhost default would put codes and cookies on the wrong host)
// and https, as must CONSOLE_API_URL when set; start-up fails naming the
// variable. A DEVICEGATE_ENV typo is an error, not development mode.
func TestProductionNeedsAnHTTPSPublicURL(t *testing.T) {
	prod := func(kv ...string) map[string]string {
		vars := map[string]string{"DEVICEGATE_ENV": "production", "SECRET_KEY": "production-test-secret-key-0123456789"}
		for i := 0; i < len(kv); i += 2 {
			vars[kv[i]] = kv[i+1]
		}
		return vars
	}
	for _, tc := range []struct {
		vars map[string]string
		name string
	}{
		{prod(), "PUBLIC_WEB_URL"},
		{prod("PUBLIC_WEB_URL", "   "), "PUBLIC_WEB_URL"},
		{prod("PUBLIC_WEB_URL", "http://auth.example.com"), "PUBLIC_WEB_URL"},
		{prod("PUBLIC_WEB_URL", "https://auth.example.com", "CONSOLE_API_URL", "http://api.example.com"), "CONSOLE_API_URL"},
		{map[string]string{"DEVICEGATE_ENV": "prod", "PUBLIC_WEB_URL": "https://auth.example.com"}, "DEVICEGATE_ENV"},
	} {
		_, err := LoadConfig(testEnv(tc.vars))
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%v: %v, want an error naming %s", tc.vars, err, tc.name)
		}
	}
	// serve refuses to start, before touching anything (were it to start, it
	// would serve until the context ends and answer nil).
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	vars := prod("PUBLIC_WEB_URL", "http://auth.example.com", "DATABASE_URL", sqliteVars(t)["DATABASE_URL"])
	err := run(ctx, []string{"serve"}, testEnv(vars), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PUBLIC_WEB_URL") {
		t.Fatalf("serve in production on http: %v", err)
	}
	for _, vars := range []map[string]string{
		prod("PUBLIC_WEB_URL", "https://auth.example.com"),
		prod("PUBLIC_WEB_URL", "HTTPS://auth.example.com/", "CONSOLE_API_URL", "https://api.example.com"),
		{"DEVICEGATE_ENV": "Development", "PUBLIC_WEB_URL": "http://localhost:8080"},
		{}, // development, the localhost default
	} {
		c, err := LoadConfig(testEnv(vars))
		if err != nil {
			t.Errorf("%v: %v", vars, err)
			continue
		}
		if c.Production != (vars["DEVICEGATE_ENV"] == "production") {
			t.Errorf("%v: Production = %v", vars, c.Production)
		}
	}
}
