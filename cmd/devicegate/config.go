package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/domain"
)

// Config is the service configuration, read from the environment (SPEC 9).
type Config struct {
	OpsConfig // shutdown, tracing, audit sink (config_ops.go)

	SecretKey           string
	PublicWebURL        string
	ConsoleAPIURL       string
	Issuer              string
	KnownClientIDs      map[string]bool
	PKCERequiredIDs     map[string]bool // OPENAPI_PKCE_REQUIRED_CLIENT_IDS
	OpenAPIEnabled      bool
	BearerEnabled       bool
	TTLDays             int
	RetentionDays       int
	RateLimitPerToken   int
	ApproveLimitPerHour int
	// GuessLimitPer15Min is the deployment-wide ceiling on failed user-code
	// tries by anonymous callers (domain.BucketUserCodeGuess).
	GuessLimitPer15Min  int
	CORSAllowOrigins    []string
	TrustedProxies      []*net.IPNet
	Edition             string
	LicenseStatus       string
	EnterpriseAPIURL    string
	EnterpriseAPISecret string
	OIDC                OIDCConfig // the built-in OpenID Connect relay (config_sso.go)
	SecretKeyPrevious   string
	RedisURL            string
	RedisKeyPrefix      string
	DatabaseURL         string
	ListenAddr          string
	LogFormat           string
	AccessLog           string
	IntrospectionSecret string
	Production          bool
	notes               []string // corrections made while parsing, logged at start-up
}

// maxClientIDLength is the width of oauth_access_tokens.client_id (SPEC 3.2):
// a longer known id could start and approve flows whose mint then fails.
const maxClientIDLength = 64

// notIDRune reports characters no client id contains (spaces, controls).
func notIDRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// DefaultDatabaseURL is the embedded default.
const DefaultDatabaseURL = "sqlite:./data/devicegate.db"

// LoadConfig reads the configuration; the error names the offending variable.
func LoadConfig(getenv func(string) string) (*Config, error) {
	c := &Config{}
	var errs []string
	bad := func(name, why string) { errs = append(errs, name+": "+why) }
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	boolean := func(name string, def bool) bool {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(name, fmt.Sprintf("%q is not a boolean (use true or false)", v))
		}
		return b
	}
	integer := func(name string, def, lo, hi int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(name, fmt.Sprintf("%q must be a whole number in %d..%d", v, lo, hi))
		}
		return n
	}
	httpURL := func(name, def string) string {
		v := strings.TrimRight(str(name, def), "/")
		if v == "" {
			return ""
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad(name, fmt.Sprintf("%q must be an absolute http(s) URL without query or fragment", v))
		}
		return v
	}

	switch env := strings.ToLower(str("DEVICEGATE_ENV", "development")); env {
	case "development", "production":
		c.Production = env == "production"
	default: // a typo must not quietly mean development
		bad("DEVICEGATE_ENV", fmt.Sprintf("%q must be development or production", env))
	}
	c.SecretKey = getenv("SECRET_KEY")
	if strings.TrimSpace(c.SecretKey) == "" {
		c.SecretKey = "" // only whitespace is no key: unset, not a few spaces
	}
	c.PublicWebURL = httpURL("PUBLIC_WEB_URL", "http://localhost:8080")
	c.ConsoleAPIURL = httpURL("CONSOLE_API_URL", "")
	if c.Production {
		requireHTTPS(bad, "PUBLIC_WEB_URL", getenv("PUBLIC_WEB_URL"), true)
		requireHTTPS(bad, "CONSOLE_API_URL", c.ConsoleAPIURL, false)
	}
	c.Issuer = c.PublicWebURL
	if c.ConsoleAPIURL != "" {
		c.Issuer = c.ConsoleAPIURL
	}
	c.KnownClientIDs = map[string]bool{}
	for _, id := range strings.Split(str("OPENAPI_KNOWN_CLIENT_IDS", "difyctl"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			if len(id) > maxClientIDLength || strings.IndexFunc(id, notIDRune) >= 0 {
				bad("OPENAPI_KNOWN_CLIENT_IDS", fmt.Sprintf("%q must be 1-%d characters without spaces or control characters", id, maxClientIDLength))
			}
			c.KnownClientIDs[id] = true
		}
	}
	if len(c.KnownClientIDs) == 0 {
		bad("OPENAPI_KNOWN_CLIENT_IDS", "lists no client id")
	}
	c.PKCERequiredIDs = map[string]bool{}
	for _, id := range strings.Split(getenv("OPENAPI_PKCE_REQUIRED_CLIENT_IDS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			if !c.KnownClientIDs[id] {
				bad("OPENAPI_PKCE_REQUIRED_CLIENT_IDS", fmt.Sprintf("%q is not in OPENAPI_KNOWN_CLIENT_IDS", id))
			}
			c.PKCERequiredIDs[id] = true
		}
	}
	c.OpenAPIEnabled = boolean("OPENAPI_ENABLED", true)
	c.BearerEnabled = boolean("ENABLE_OAUTH_BEARER", true)
	ttl, note := domain.ClampTTLDays(getenv("OAUTH_TTL_DAYS"))
	c.TTLDays = ttl
	if note != "" {
		c.notes = append(c.notes, "OAUTH_TTL_DAYS: "+note)
	}
	c.RetentionDays = integer("OAUTH_ACCESS_TOKEN_RETENTION_DAYS", 30, 1, 3650)
	c.RateLimitPerToken = integer("OPENAPI_RATE_LIMIT_PER_TOKEN", 60, 0, 1_000_000)
	c.ApproveLimitPerHour = integer("DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR", 10, 1, 1_000_000)
	c.GuessLimitPer15Min = integer("USER_CODE_GUESS_LIMIT_PER_15MIN", domain.BucketUserCodeGuess.Limit, 1, 1_000_000)
	for _, o := range strings.Split(getenv("OPENAPI_CORS_ALLOW_ORIGINS"), ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
				bad("OPENAPI_CORS_ALLOW_ORIGINS", fmt.Sprintf("%q is not an origin (scheme://host[:port])", o))
			}
			c.CORSAllowOrigins = append(c.CORSAllowOrigins, o)
		}
	}
	proxies, notes, proxyErrs := parseTrustedProxies(getenv("TRUSTED_PROXIES"))
	c.TrustedProxies, c.notes = proxies, append(c.notes, notes...)
	for _, e := range proxyErrs {
		bad("TRUSTED_PROXIES", e)
	}
	c.Edition = strings.ToLower(str("EDITION", "community"))
	if c.Edition != "community" && c.Edition != "enterprise" {
		bad("EDITION", fmt.Sprintf("%q must be community or enterprise", c.Edition))
	}
	c.LicenseStatus = strings.ToUpper(str("LICENSE_STATUS", ""))
	c.EnterpriseAPIURL = httpURL("ENTERPRISE_API_URL", "")
	c.EnterpriseAPISecret = getenv("ENTERPRISE_API_SECRET")
	c.SecretKeyPrevious = strings.TrimSpace(getenv("SECRET_KEY_PREVIOUS"))
	errs = append(errs, c.checkSSO(getenv)...)
	c.RedisURL = str("REDIS_URL", "")
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("REDIS_URL", "must start with redis:// or rediss://")
	}
	c.RedisKeyPrefix = str("REDIS_KEY_PREFIX", "devicegate:")
	c.DatabaseURL = str("DATABASE_URL", DefaultDatabaseURL)
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		if strings.TrimPrefix(c.DatabaseURL, "sqlite:") == "" {
			bad("DATABASE_URL", "sqlite: needs a file path, e.g. sqlite:./data/devicegate.db")
		}
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
	default:
		bad("DATABASE_URL", "must be sqlite:PATH or postgres://...")
	}
	c.ListenAddr = str("LISTEN_ADDR", ":8080")
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR", fmt.Sprintf("%q is not host:port", c.ListenAddr))
	}
	c.LogFormat = strings.ToLower(str("LOG_FORMAT", "text"))
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "must be text or json")
	}
	var err error
	if c.AccessLog, err = httpapi.ParseAccessLog(strings.ToLower(strings.TrimSpace(getenv("ACCESS_LOG")))); err != nil {
		bad("ACCESS_LOG", err.Error())
	}
	c.IntrospectionSecret = getenv("INTROSPECTION_SECRET")
	if c.IntrospectionSecret != "" && len(c.IntrospectionSecret) < 16 {
		bad("INTROSPECTION_SECRET", "must be at least 16 characters")
	}
	c.loadOps(getenv, bad)
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}

// requireHTTPS is production's rule for a public URL: users type their
// password and receive cookies and codes there, so it is https, and the
// public one must be set rather than default to localhost.
func requireHTTPS(bad func(name, why string), name, value string, required bool) {
	value = strings.TrimSpace(value)
	switch {
	case value == "" && required:
		bad(name, "required when DEVICEGATE_ENV=production (the public https URL users open)")
	case value != "" && !strings.HasPrefix(strings.ToLower(value), "https://"):
		bad(name, fmt.Sprintf("%q must be an https URL when DEVICEGATE_ENV=production", value))
	}
}

// SQLitePath returns the database file for the embedded default ("" on Postgres).
func (c *Config) SQLitePath() string {
	if p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		return p
	}
	return ""
}

// ensureSecretKey fills an empty SECRET_KEY: in development on SQLite it is
// generated once and kept next to the database file, with a warning.
func (c *Config) ensureSecretKey(log *slog.Logger, gen func() (string, error)) error {
	if c.SecretKey != "" {
		return nil
	}
	path := c.SQLitePath()
	if c.Production || path == "" {
		return fmt.Errorf("invalid configuration:\n  SECRET_KEY: required (generate one with `openssl rand -base64 48`)")
	}
	keyFile := filepath.Join(filepath.Dir(path), "secret_key")
	if b, err := os.ReadFile(keyFile); err == nil && len(strings.TrimSpace(string(b))) > 0 { //nolint:gosec // G304: the operator's own SQLite folder
		c.SecretKey = strings.TrimSpace(string(b))
		log.Warn("SECRET_KEY not set; using the generated development key", "file", keyFile)
		return nil
	}
	k, err := gen()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return fmt.Errorf("SECRET_KEY: create %s: %w", filepath.Dir(keyFile), err)
	}
	if err := os.WriteFile(keyFile, []byte(k+"\n"), 0o600); err != nil {
		return fmt.Errorf("SECRET_KEY: write %s: %w", keyFile, err)
	}
	c.SecretKey = k
	log.Warn("SECRET_KEY not set; generated a development key (set SECRET_KEY in production)", "file", keyFile)
	return nil
}
