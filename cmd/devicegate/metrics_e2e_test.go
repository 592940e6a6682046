package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/fx"
)

// metricsFlow drives a server through every counted outcome and returns
// the secrets it saw (codes, the token, the email, the client IP).
func metricsFlow(t *testing.T, base string) []string {
	t.Helper()
	api := base + "/openapi/v1"
	token := signInDevice(t, base, "mia@example.com", "correct horse battery", "metrics laptop") // started, approved, issued
	secrets := []string{token, "mia@example.com", "127.0.0.1", "correct horse battery"}
	start := func() (string, string) {
		var dc map[string]any
		if code := postForm(t, api+"/oauth/device/code", url.Values{"client_id": {"difyctl"}}, &dc); code != 200 {
			t.Fatalf("device code: %d", code)
		}
		d, u := dc["device_code"].(string), dc["user_code"].(string)
		secrets = append(secrets, d, u)
		return d, u
	}
	poll := func(device string) string {
		var out map[string]any
		postForm(t, api+"/oauth/device/token", url.Values{"client_id": {"difyctl"}, "device_code": {device}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, &out)
		e, _ := out["error"].(string)
		return e
	}
	pending, _ := start()
	if e := poll(pending); e != "authorization_pending" {
		t.Fatalf("first poll: %q", e)
	}
	if e := poll(pending); e != "slow_down" {
		t.Fatalf("second poll: %q", e)
	}
	denied, userCode := start()
	br := newBrowser(t, base)
	br.login("mia@example.com", "correct horse battery")
	if code := br.decide(userCode, false); code != 200 {
		t.Fatalf("deny: %d", code)
	}
	if e := poll(denied); e != "access_denied" {
		t.Fatalf("poll of a denied flow: %q", e)
	}
	if e := poll("dc_unknown"); e != "expired_token" {
		t.Fatalf("poll of an unknown code: %q", e)
	}
	getJSON(t, api+"/oauth/device/lookup?user_code="+url.QueryEscape(userCode), "", nil)
	// OPENAPI_RATE_LIMIT_PER_TOKEN=4: the database answers the first, memory the next three, the limiter the fifth.
	for i, want := range []int{200, 200, 200, 200, 429} {
		if code := getJSON(t, api+"/me", token, nil); code != want {
			t.Fatalf("/me #%d: %d, want %d", i+1, code, want)
		}
	}
	if code := getJSON(t, api+"/me", "dfoa_"+strings.Repeat("A", 43), nil); code != 401 {
		t.Fatalf("/me with an unknown token: %d", code)
	}
	if code := postForm(t, api+"/oauth/revoke", url.Values{"token": {token}}, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	getJSON(t, base+"/no/such/"+userCode, "", nil)
	return secrets
}

// scrape fetches /metrics and parses it as Prometheus would.
func scrape(t *testing.T, base string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams, string(body)
}

// value returns the counter value (or histogram count) of name with labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// backendOps are the operation names the instrument decorators report.
var backendOps = strings.Fields(`flow_create flow_by_user_code flow_decide flow_poll flow_finish_claim
	flow_release_claim token_mint token_by_hash token_by_id token_revoke token_expire_hard token_list_live
	token_touch_last_used token_prune revocations_after cache_get cache_put cache_invalidate ratelimit_allow ratelimit_undo
	nonce_reserve nonce_release account_get account_workspaces account_by_email session_create session_get
	session_delete sso_initiate`)

// allowedLabels lists, per label name, every value a devicegate metric may carry.
func allowedLabels(routes []string) map[string]map[string]bool {
	set := func(vs ...string) map[string]bool {
		m := map[string]bool{}
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	return map[string]map[string]bool{
		"route":   set(append(routes, "unmatched")...),
		"method":  set("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"),
		"backend": set("memory", "redis", "sqlite", "postgres", "enterprise"),
		"op":      set(backendOps...),
		"outcome": set("ok", "answer", "error", "pending", "slow_down", "denied", "expired", "issued", "invalid",
			"valid", "rate_limited"),
		"layer":   set("none", "local", "shared", "database"),
		"kind":    set("account", "external_sso", "other"),
		"rotated": set("true", "false"),
		"bucket": set("device_code", "lookup", "sso_initiate", "decision", "approve_external", "me", "bearer",
			"login_ip", "login_email", "login_email_ip", "user_code_guess", "other"),
		"event": set("started", "approved", "denied", "rejected", "expired", "other", "oauth.device_flow_approved",
			"oauth.device_flow_denied", "oauth.device_flow_rejected", "oauth.device_code_cross_ip_poll",
			"oauth.token_issued", "oauth.token_expired", "oauth.token_revoked"),
	}
}

var statusLabel = regexp.MustCompile(`^[1-5][0-9][0-9]$`)

// TestMetricsCountAFullFlowWithBoundedLabels drives every counted outcome
// through a real server on the embedded default (SQLite + memory) and on
// Postgres + Redis, scrapes /metrics, and proves the counts and that every
// label value of every devicegate metric is from a known finite set (no
// code, email, id or IP), and that no secret appears in the scrape.
func TestMetricsCountAFullFlowWithBoundedLabels(t *testing.T) {
	t.Run("sqlite-memory", func(t *testing.T) { metricsCase(t, sqliteVars(t), "sqlite", "") })
	t.Run("postgres-redis", func(t *testing.T) { metricsCase(t, postgresRedisVars(t), "postgres", "redis") })
}

// metricsCase runs the flow on vars; db and state name the backends whose
// calls are timed (state "" for memory, which is not).
func metricsCase(t *testing.T, vars map[string]string, db, state string) {
	vars["OPENAPI_RATE_LIMIT_PER_TOKEN"] = "4"
	createAccount(t, vars, "mia@example.com", "correct horse battery", "Metrics")
	var e *echo.Echo
	in := startInstance(t, vars, fx.Populate(&e))
	secrets := metricsFlow(t, in.Base)
	fams, body := scrape(t, in.Base)

	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("the scrape contains a secret or identifier %q", s)
		}
	}
	var routes []string
	for _, r := range e.Routes() {
		routes = append(routes, r.Path)
	}
	allowed := allowedLabels(routes)
	for name, f := range fams {
		if !strings.HasPrefix(name, "devicegate_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				ok := allowed[l.GetName()][l.GetValue()] || (l.GetName() == "status" && statusLabel.MatchString(l.GetValue()))
				if !ok {
					t.Errorf("%s: label %s=%q is outside its known set", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	type want struct {
		name   string
		labels map[string]string
		want   float64
	}
	wants := []want{
		{"devicegate_flows_total", map[string]string{"event": "started"}, 3},
		{"devicegate_flows_total", map[string]string{"event": "approved"}, 1},
		{"devicegate_flows_total", map[string]string{"event": "denied"}, 1},
		{"devicegate_flows_total", map[string]string{"event": "expired"}, 1},
		{"devicegate_polls_total", map[string]string{"outcome": "issued"}, 1},
		{"devicegate_polls_total", map[string]string{"outcome": "pending"}, 1},
		{"devicegate_polls_total", map[string]string{"outcome": "slow_down"}, 1},
		{"devicegate_polls_total", map[string]string{"outcome": "denied"}, 1},
		{"devicegate_polls_total", map[string]string{"outcome": "expired"}, 1},
		{"devicegate_tokens_issued_total", map[string]string{"kind": "account", "rotated": "false"}, 1},
		{"devicegate_tokens_revoked_total", nil, 1},
		{"devicegate_bearer_validations_total", map[string]string{"outcome": "valid", "layer": "database"}, 1},
		{"devicegate_bearer_validations_total", map[string]string{"outcome": "valid"}, 4},
		{"devicegate_bearer_validations_total", map[string]string{"outcome": "rate_limited"}, 1}, // counted after the lookup: any layer
		{"devicegate_rate_limit_refusals_total", map[string]string{"bucket": "bearer"}, 1},
		{"devicegate_audit_events_total", map[string]string{"event": "oauth.token_issued"}, 1},
		{"devicegate_backend_call_duration_seconds", map[string]string{"backend": db, "op": "token_mint", "outcome": "ok"}, 1},
		{"devicegate_backend_call_duration_seconds", map[string]string{"backend": "memory"}, 0},
		{"devicegate_http_request_duration_seconds", map[string]string{"route": "/openapi/v1/oauth/device/token", "method": "POST", "status": "400"}, 4},
		{"devicegate_http_request_duration_seconds", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
	}
	if state == "" {
		// The memory cache answers every validation after the first from this process.
		wants = append(wants, want{"devicegate_bearer_validations_total", map[string]string{"outcome": "valid", "layer": "local"}, 3})
	} else {
		wants = append(wants, want{"devicegate_backend_call_duration_seconds", map[string]string{"backend": state, "op": "flow_poll", "outcome": "answer"}, 4})
		local := value(fams, "devicegate_bearer_validations_total", map[string]string{"outcome": "valid", "layer": "local"})
		shared := value(fams, "devicegate_bearer_validations_total", map[string]string{"outcome": "valid", "layer": "shared"})
		if local+shared != 3 || shared < 1 {
			t.Errorf("Redis-cached validations: local %v + shared %v, want 3 with at least one round trip", local, shared)
		}
	}
	for _, w := range wants {
		if got := value(fams, w.name, w.labels); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
	if got := value(fams, "devicegate_bearer_validations_total", map[string]string{"outcome": "invalid"}); got < 1 {
		t.Errorf("invalid validations = %v, want >= 1", got)
	}
}

// dashboardMetric finds the metric names a PromQL expression reads.
var dashboardMetric = regexp.MustCompile(`\bdevicegate_[a-z_]+`)

// TestGrafanaDashboardQueriesExistingMetrics proves every metric the
// dashboard in deploy/ queries is exposed after a flow.
func TestGrafanaDashboardQueriesExistingMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(dash)
	if len(exprs) < 8 {
		t.Fatalf("the dashboard has %d queries; want a panel per metric family", len(exprs))
	}
	vars := sqliteVars(t)
	vars["OPENAPI_RATE_LIMIT_PER_TOKEN"] = "4"
	createAccount(t, vars, "mia@example.com", "correct horse battery", "Metrics")
	in := startInstance(t, vars)
	metricsFlow(t, in.Base)
	fams, _ := scrape(t, in.Base)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range dashboardMetric.FindAllString(e, -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && fams[b] != nil && fams[b].GetType() == dto.MetricType_HISTOGRAM {
					base = b
				}
			}
			if fams[base] == nil {
				t.Errorf("the dashboard queries %s (in %q), which the service does not expose", name, e)
			}
			used[base] = true
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "devicegate_") && !used[name] {
			t.Errorf("metric %s is on no dashboard panel", name)
		}
	}
}
