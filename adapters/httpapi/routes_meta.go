package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// readyTimeout bounds each backend ping of /readyz.
const readyTimeout = 2 * time.Second

// healthz answers 200 while the process serves requests.
func (s *server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz pings every configured backend concurrently; any failure is a 503
// naming the backends (causes go to the log only).
func (s *server) readyz(c echo.Context) error {
	if s.h.Draining != nil && s.h.Draining() {
		c.Response().Header().Set(echo.HeaderRetryAfter, "2")
		return c.JSON(http.StatusServiceUnavailable, notReadyResponse{
			canonicalError: canonicalError{Code: "draining", Message: internalMessage, Status: http.StatusServiceUnavailable},
			Backends:       map[string]string{},
		})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	states := make(map[string]string, len(s.h.Pingers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ready := true
	for _, p := range s.h.Pingers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.Ping(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ready = false
				states[p.Name()] = "down"
				s.log.WarnContext(ctx, "readiness check failed", "backend", p.Name(), "err", err)
				return
			}
			states[p.Name()] = "up"
		}()
	}
	wg.Wait()
	if ready {
		return c.JSON(http.StatusOK, readyResponse{Status: "ready", Backends: states})
	}
	c.Response().Header().Set(echo.HeaderRetryAfter, "2")
	return c.JSON(http.StatusServiceUnavailable, notReadyResponse{
		canonicalError: canonicalError{Code: "not_ready", Message: internalMessage, Status: http.StatusServiceUnavailable},
		Backends:       states,
	})
}

// metadata is the RFC 8414 document; every URL is built from the configured
// issuer, never from the request's Host.
func (s *server) metadata(c echo.Context) error {
	base := s.cfg.Issuer + APIPrefix
	m := metadataResponse{
		Issuer:                            s.cfg.Issuer,
		DeviceAuthorizationEndpoint:       base + "/oauth/device/code",
		TokenEndpoint:                     base + "/oauth/device/token",
		RevocationEndpoint:                base + "/oauth/revoke",
		GrantTypesSupported:               []string{domain.GrantTypeDevice},
		TokenEndpointAuthMethodsSupported: []string{"none"},
		ResponseTypesSupported:            []string{},
		RevocationEndpointAuthMethods:     []string{"none"},
		CodeChallengeMethodsSupported:     []string{domain.PKCEMethodS256},
	}
	if s.h.Introspect != nil && s.h.Introspect.Secret != "" {
		m.IntrospectionEndpoint = base + "/oauth/introspect"
	}
	return c.JSON(http.StatusOK, m)
}

// openAPIDocument is GET /openapi/v1/openapi.yaml: the contract the binary
// was built with (RFC 9512 media type).
func (s *server) openAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", s.cfg.OpenAPIDocument)
}
