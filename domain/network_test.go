package domain

import "testing"

func TestCoarseNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.77":             "203.0.113.0/24",
		"::ffff:198.51.100.9":      "198.51.100.0/24",
		"2001:db8:abcd:12::1":      "2001:db8:abcd::/48",
		"fe80::1%eth0":             "fe80::/48",
		"127.0.0.1":                "127.0.0.0/24",
		"":                         "",
		"not-an-ip":                "",
		"203.0.113.77/32":          "",
		"2001:db8:abcd:ffff::ffff": "2001:db8:abcd::/48",
	} {
		if got := CoarseNetwork(ip); got != want {
			t.Errorf("CoarseNetwork(%q) = %q, want %q", ip, got, want)
		}
	}
}
