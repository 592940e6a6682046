package domain

import "net/netip"

// CoarseNetwork is the network an address belongs to, as the page shows it
// to an approver (SPEC 8): its /24 for IPv4 and its /48 for IPv6, e.g.
// "203.0.113.0/24". It names a neighbourhood, never a host, so it can be
// shown without handing out the address. "" when ip is not an address.
func CoarseNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}
