package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// parseTrustedProxies reads TRUSTED_PROXIES: a comma-separated list of IP
// addresses and CIDRs. An entry is accepted only when it means exactly what
// it says, because a misread entry silently trusts the wrong peers'
// X-Forwarded-For (and so hands them the per-IP rate-limit keys):
//
//   - a bare address is that one host (/32 or /128);
//   - an IPv4-mapped address or prefix (::ffff:10.0.0.1, ::ffff:10.0.0.0/104)
//     is read as the IPv4 one it maps (10.0.0.1/32, 10.0.0.0/8), since client
//     addresses are unmapped before they are compared; the reading is noted;
//   - a CIDR with host bits set (10.0.0.1/8) is refused: was 10.0.0.0/8 or
//     10.0.0.1/32 meant?
//   - IPv6 zones (fe80::1%eth0), leading zeros (010.0.0.1, /08) and anything
//     else net/netip does not parse strictly are refused.
//
// IPv6 prefixes match IPv6 clients only (::/0 does not trust IPv4 peers).
func parseTrustedProxies(raw string) (nets []*net.IPNet, notes, errs []string) {
	for _, entry := range strings.Split(raw, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		p, err := parseTrustedProxy(entry)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if p.Addr().Is4() && strings.Contains(entry, ":") { // written IPv4-mapped
			notes = append(notes, fmt.Sprintf("TRUSTED_PROXIES: %q read as the IPv4 %s", entry, p))
		}
		nets = append(nets, &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	return nets, notes, errs
}

// parseTrustedProxy parses one entry as described on parseTrustedProxies.
func parseTrustedProxy(entry string) (netip.Prefix, error) {
	if !strings.Contains(entry, "/") {
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR (no leading zeros)", entry)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has an IPv6 zone; zones are not allowed (a client address carries none)", entry)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(entry)
	if err != nil {
		if strings.Contains(entry, "%") {
			return netip.Prefix{}, fmt.Errorf("%q has an IPv6 zone; zones are not allowed (a client address carries none)", entry)
		}
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR (no leading zeros)", entry)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: write %s for the network or %s for the one host",
			entry, m, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
	}
	if a := p.Addr(); a.Is4In6() {
		// A masked mapped prefix is at least /96 (its ffff bits are set).
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96), nil
	}
	return p, nil
}
