package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/labstack/echo/v4"
)

// Access-log settings (ACCESS_LOG). Every setting logs every failure: an
// unexpected 4xx, every 5xx and every request whose client went away.
const (
	// AccessLogSampled (the default) also logs every state change in full
	// (a code issued, a decision, a token minted or revoked, a terminal poll
	// answer) and one in AccessLogSampleEvery routine answers: pending polls
	// (authorization_pending, slow_down) and successful reads and validations.
	AccessLogSampled = "sampled"
	// AccessLogAll logs one line per request.
	AccessLogAll = "all"
	// AccessLogErrors logs failures only.
	AccessLogErrors = "errors"
)

// AccessLogSampleEvery is how many routine answers share one line under
// AccessLogSampled; the line carries sampled=AccessLogSampleEvery so a
// reader can scale counts back up.
const AccessLogSampleEvery = 100

// StatusClientClosedRequest is the status logged (never sent: nobody is
// left to read it) for a request whose client went away before the answer,
// after nginx's 499.
const StatusClientClosedRequest = 499

// ParseAccessLog checks an ACCESS_LOG value; "" is the default, sampled.
func ParseAccessLog(v string) (string, error) {
	switch v {
	case "":
		return AccessLogSampled, nil
	case AccessLogSampled, AccessLogAll, AccessLogErrors:
		return v, nil
	}
	return "", fmt.Errorf("%q must be all, errors or sampled", v)
}

// accessLog answers errors through the error handler (so it sees the final
// status), hands every request to obs (metrics, tracing) when set, and logs
// the request as mode says: the route template, never the URL, whose query
// may hold a user code.
func accessLog(log *slog.Logger, mode string, routes *routeSet, obs RequestObserver) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			d := time.Since(start)
			route := routes.template(c.Path())
			if obs != nil {
				obs.ObserveRequest(c.Request().Context(), route, c.Request().Method, status, d)
			}
			sampled := 0
			switch {
			case status == StatusClientClosedRequest || mode == AccessLogAll:
			case routine(c, status):
				// Sampling needs no unpredictability: math/rand is enough.
				if mode != AccessLogSampled || rand.Uint32N(AccessLogSampleEvery) != 0 { //nolint:gosec // G404: a log sample, not a secret
					return nil
				}
				sampled = AccessLogSampleEvery
			case mode == AccessLogErrors && status < 400:
				return nil
			}
			req := c.Request()
			attrs := []slog.Attr{slog.String("method", req.Method), slog.String("route", route),
				slog.Int("status", status), slog.Int64("duration_ms", d.Milliseconds()),
				slog.String("ip", c.RealIP()), slog.String("request_id", app.RequestID(req.Context()))}
			if sampled > 0 {
				attrs = append(attrs, slog.Int("sampled", sampled))
			}
			msg := "http request"
			if status == StatusClientClosedRequest {
				msg = "http request: client went away"
			}
			// The request's context may be cancelled (client gone); the line is logged regardless.
			log.LogAttrs(context.WithoutCancel(req.Context()), slog.LevelInfo, msg, attrs...)
			return nil
		}
	}
}

// routine reports the answers a healthy fleet produces all day and that
// change nothing: pending polls, successful reads (GET, HEAD) and introspections.
func routine(c echo.Context, status int) bool {
	if status < 300 {
		m := c.Request().Method
		return m == http.MethodGet || m == http.MethodHead || c.Path() == APIPrefix+"/oauth/introspect"
	}
	code, _ := c.Get(ctxErrorCode).(string)
	return code == "authorization_pending" || code == "slow_down"
}
