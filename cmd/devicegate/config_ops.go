package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OpsConfig is the operations part of the configuration: shutdown,
// tracing and the audit sink.
type OpsConfig struct {
	// ShutdownTimeout (SHUTDOWN_TIMEOUT) bounds the drain of in-flight
	// requests after SIGTERM; past it the remaining connections are closed.
	ShutdownTimeout time.Duration
	// ShutdownDelay (SHUTDOWN_DELAY) is how long /readyz answers 503 while
	// the server still serves, before the drain starts, so load balancers
	// stop sending new traffic first (Kubernetes: a few seconds).
	ShutdownDelay time.Duration
	// AuditSink (AUDIT_SINK) is log, otlp or both.
	AuditSink string
	// TracesEndpoint is the OTLP/HTTP traces URL; "" leaves tracing off.
	TracesEndpoint string
	// LogsEndpoint is the OTLP/HTTP logs URL the otlp audit sink exports to.
	LogsEndpoint string
	// ServiceName (OTEL_SERVICE_NAME) names the service in traces and logs.
	ServiceName string
}

// Audit sink choices.
const (
	auditLog  = "log"
	auditOTLP = "otlp"
	auditBoth = "both"
)

// loadOps reads the operations variables, reporting bad values through bad.
func (c *Config) loadOps(getenv func(string) string, bad func(name, why string)) {
	duration := func(name string, def, hi time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if n, nerr := strconv.Atoi(v); nerr == nil { // plain seconds
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil || d < 0 || d > hi {
			bad(name, fmt.Sprintf("%q must be a duration such as 10s (0 to %s)", v, hi))
		}
		return d
	}
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", 10*time.Second, 10*time.Minute)
	c.ShutdownDelay = duration("SHUTDOWN_DELAY", 0, time.Minute)

	c.ServiceName = strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	if c.ServiceName == "" {
		c.ServiceName = "devicegate"
	}
	disabled := strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true")
	if p := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_PROTOCOL")); p != "" && p != "http/protobuf" {
		bad("OTEL_EXPORTER_OTLP_PROTOCOL", fmt.Sprintf("%q is not supported (only http/protobuf)", p))
	}
	// Each variable is read by its literal name (the README's configuration
	// table is checked against the names read here).
	base := strings.TrimRight(strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")), "/")
	endpoint := func(name, u, path string) string {
		if u == "" && base != "" {
			// the base endpoint gets the signal's path (OTLP exporter specification)
			name, u = "OTEL_EXPORTER_OTLP_ENDPOINT", base+path
		}
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			bad(name, fmt.Sprintf("%q must be an http(s) URL", u))
		}
		return u
	}
	traces := endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")), "/v1/traces")
	logs := endpoint("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")), "/v1/logs")
	if !disabled && !strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		c.TracesEndpoint = traces
	}
	c.AuditSink = strings.ToLower(strings.TrimSpace(getenv("AUDIT_SINK")))
	switch c.AuditSink {
	case "":
		c.AuditSink = auditLog
	case auditLog:
	case auditOTLP, auditBoth:
		if logs == "" {
			bad("AUDIT_SINK", c.AuditSink+" needs OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT")
		}
		c.LogsEndpoint = logs
	default:
		bad("AUDIT_SINK", fmt.Sprintf("%q must be log, otlp or both", c.AuditSink))
	}
}
