package httpapi

import (
	"net"
	"net/http/httptest"
	"testing"
)

func TestClientIPExtractor(t *testing.T) {
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	_, v6, _ := net.ParseCIDR("fd00::/8")
	trusted := []*net.IPNet{proxies, v6}
	// The same proxies written IPv4-mapped, as net.ParseCIDR keeps them (16 bytes).
	_, mappedNet, _ := net.ParseCIDR("::ffff:10.0.0.0/104")
	mapped := []*net.IPNet{mappedNet}
	cases := []struct {
		name    string
		trusted []*net.IPNet
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies ignores XFF", nil, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"untrusted peer ignores XFF", trusted, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer, one hop", trusted, "10.1.1.1:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins", trusted, "10.1.1.1:1234", []string{"1.1.1.1, 198.51.100.1, 10.2.2.2"}, "198.51.100.1"},
		{"spoofed left entries ignored", trusted, "10.1.1.1:1234", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},
		{"all trusted -> furthest", trusted, "10.1.1.1:1234", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"trusted peer, no XFF", trusted, "10.1.1.1:1234", nil, "10.1.1.1"},
		{"garbage hop stops at nearest trusted", trusted, "10.1.1.1:1234", []string{"1.1.1.1, nonsense, 10.2.2.2"}, "10.2.2.2"},
		{"hop with port", trusted, "10.1.1.1:1234", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"ipv6 peer and hop", trusted, "[fd00::1]:443", []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"ipv4-mapped peer", nil, "[::ffff:203.0.113.5]:1", nil, "203.0.113.5"},
		// A dual-stack listener hands IPv4 peers over IPv4-mapped; proxies
		// may write mapped hops. Both must match IPv4 proxies, and the
		// client is reported unmapped (one rate-limit key per address).
		{"ipv4-mapped trusted peer", trusted, "[::ffff:10.1.1.1]:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"ipv4-mapped client hop", trusted, "10.1.1.1:1234", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"ipv4-mapped trusted hop skipped", trusted, "10.1.1.1:1234", []string{"198.51.100.1, [::ffff:10.2.2.2]:80"}, "198.51.100.1"},
		{"ipv4-mapped untrusted peer ignores XFF", trusted, "[::ffff:203.0.113.5]:1", []string{"198.51.100.1"}, "203.0.113.5"},
		{"mapped network, ipv4 peer", mapped, "10.1.1.1:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"mapped network, mapped peer", mapped, "[::ffff:10.1.1.1]:1234", []string{"::ffff:10.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"mapped network, outside peer", mapped, "[::ffff:11.1.1.1]:1234", []string{"198.51.100.1"}, "11.1.1.1"},
		{"bare remote addr", nil, "203.0.113.5", nil, "203.0.113.5"},
		{"unparseable remote", nil, "pipe", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIPExtractor(tc.trusted)(r); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidRequestID(t *testing.T) {
	long := make([]byte, maxRequestID+1)
	for i := range long {
		long[i] = 'a'
	}
	for id, want := range map[string]bool{
		"abc-123_X.y": true, "": false, "has space": false, "a\nb": false, "ü": false,
		string(long[:maxRequestID]): true, string(long): false,
	} {
		if got := validRequestID(id); got != want {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}
