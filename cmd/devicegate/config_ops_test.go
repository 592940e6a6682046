package main

import (
	"strings"
	"testing"
	"time"
)

// TestOpsConfig covers the operations variables: defaults, the OTLP
// endpoint rules of the OpenTelemetry specification, and errors that name
// the variable.
func TestOpsConfig(t *testing.T) {
	cfg, err := LoadConfig(testEnv(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownTimeout != 10*time.Second || cfg.ShutdownDelay != 0 || cfg.AuditSink != "log" ||
		cfg.TracesEndpoint != "" || cfg.ServiceName != "devicegate" {
		t.Fatalf("defaults: %+v", cfg.OpsConfig)
	}
	cfg, err = LoadConfig(testEnv(map[string]string{"SHUTDOWN_TIMEOUT": "30", "SHUTDOWN_DELAY": "5s",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/", "AUDIT_SINK": "both", "OTEL_SERVICE_NAME": "gate-eu"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownTimeout != 30*time.Second || cfg.ShutdownDelay != 5*time.Second ||
		cfg.TracesEndpoint != "http://collector:4318/v1/traces" || cfg.LogsEndpoint != "http://collector:4318/v1/logs" ||
		cfg.ServiceName != "gate-eu" || cfg.AuditSink != "both" {
		t.Fatalf("set: %+v", cfg.OpsConfig)
	}
	cfg, err = LoadConfig(testEnv(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/otlp"}))
	if err != nil || cfg.TracesEndpoint != "https://traces.example/otlp" {
		t.Fatalf("the signal's own endpoint is used as is: %v %q", err, cfg.TracesEndpoint)
	}
	cfg, err = LoadConfig(testEnv(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}))
	if err != nil || cfg.TracesEndpoint != "" {
		t.Fatalf("OTEL_SDK_DISABLED keeps tracing off: %v %q", err, cfg.TracesEndpoint)
	}
	for name, vars := range map[string]map[string]string{
		"SHUTDOWN_TIMEOUT":            {"SHUTDOWN_TIMEOUT": "soon"},
		"SHUTDOWN_DELAY":              {"SHUTDOWN_DELAY": "-1s"},
		"AUDIT_SINK":                  {"AUDIT_SINK": "otlp"},
		"OTEL_EXPORTER_OTLP_PROTOCOL": {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"OTEL_EXPORTER_OTLP_ENDPOINT": {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
	} {
		if _, err := LoadConfig(testEnv(vars)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", vars, err, name)
		}
	}
	if _, err := LoadConfig(testEnv(map[string]string{"AUDIT_SINK": "kafka"})); err == nil || !strings.Contains(err.Error(), "AUDIT_SINK") {
		t.Errorf("AUDIT_SINK=kafka: %v", err)
	}
}
