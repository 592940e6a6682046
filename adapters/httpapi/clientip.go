package httpapi

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// clientIPExtractor returns the client IP rule of SPEC 4: the socket peer,
// unless the peer is inside one of trusted, in which case X-Forwarded-For is
// walked from the right and the first address that is not itself a trusted
// proxy is the client. X-Forwarded-For from an untrusted peer is ignored, so
// a client cannot pick its own rate-limit key. Echo's fallback (no extractor)
// would trust the left-most XFF entry from anyone, so New always sets this.
func clientIPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	inTrusted := func(ip net.IP) bool {
		for _, n := range trusted {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer := peerIP(r.RemoteAddr)
		if peer == nil {
			return ""
		}
		if len(trusted) == 0 || !inTrusted(peer) {
			return peer.String()
		}
		hops := strings.Split(strings.Join(r.Header.Values(echo.HeaderXForwardedFor), ","), ",")
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			hop := strings.TrimSpace(hops[i])
			if hop == "" {
				continue
			}
			ip := parseHop(hop)
			if ip == nil {
				// Garbage in the chain: the nearest address we could vouch for wins.
				return client.String()
			}
			client = ip
			if !inTrusted(ip) {
				return ip.String()
			}
		}
		// Every hop is a trusted proxy: the furthest one is the best we know.
		return client.String()
	}
}

// peerIP parses the socket address ("host:port" or a bare IP).
func peerIP(remoteAddr string) net.IP {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return parseHop(host)
}

// parseHop parses one X-Forwarded-For entry: an IP, possibly bracketed or
// with a port ("[::1]:443", "1.2.3.4:80"); IPv6 zones are dropped.
func parseHop(s string) net.IP {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	ip := net.ParseIP(s)
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}
