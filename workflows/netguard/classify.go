package netguard

import "net/netip"

// Class names the kind of address a refused address is; the empty Class is a
// public address.
type Class string

// The classes of refused addresses.
const (
	ClassPublic      Class = ""
	ClassMetadata    Class = "metadata"
	ClassUnspecified Class = "unspecified"
	ClassLoopback    Class = "loopback"
	ClassLinkLocal   Class = "link-local"
	ClassPrivate     Class = "private"
	ClassCGNAT       Class = "CGNAT"
	ClassMulticast   Class = "multicast"
	ClassBroadcast   Class = "broadcast"
	ClassReserved    Class = "reserved"
)

// metadataAddrs are the cloud providers' instance metadata services: AWS,
// GCP, Azure and most others on 169.254.169.254, AWS over IPv6 on
// fd00:ec2::254, Alibaba Cloud on 100.100.100.200.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
}

// ranges are the refused networks beyond those net/netip names, in the
// order they are checked.
var ranges = []struct {
	prefix netip.Prefix
	class  Class
}{
	{netip.MustParsePrefix("0.0.0.0/8"), ClassUnspecified}, // "this network"
	{netip.MustParsePrefix("100.64.0.0/10"), ClassCGNAT},
	{netip.MustParsePrefix("255.255.255.255/32"), ClassBroadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), ClassReserved},
	{netip.MustParsePrefix("::/96"), ClassReserved},    // IPv4-compatible (deprecated)
	{netip.MustParsePrefix("100::/64"), ClassReserved}, // discard-only
}

// nat64 is the well-known NAT64 prefix: its addresses reach the IPv4
// address in their last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Classify returns the class of addr: ClassPublic when it may be dialed
// without an allowance. IPv4-mapped (::ffff:a.b.c.d) and NAT64
// (64:ff9b::a.b.c.d) addresses are classified by the IPv4 address they
// carry.
func Classify(addr netip.Addr) Class {
	addr = embedded(addr)
	for _, m := range metadataAddrs {
		if addr == m {
			return ClassMetadata
		}
	}
	switch {
	case !addr.IsValid():
		return ClassReserved
	case addr.IsUnspecified():
		return ClassUnspecified
	case addr.IsLoopback():
		return ClassLoopback
	case addr.IsLinkLocalUnicast():
		return ClassLinkLocal
	case addr.IsMulticast(), addr.IsLinkLocalMulticast(), addr.IsInterfaceLocalMulticast():
		return ClassMulticast
	case addr.IsPrivate():
		return ClassPrivate
	}
	for _, r := range ranges {
		if r.prefix.Contains(addr) {
			return r.class
		}
	}
	return ClassPublic
}

// embedded returns the IPv4 address an IPv4-mapped or NAT64 address
// carries, and any other address unchanged (without its zone).
func embedded(addr netip.Addr) netip.Addr {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		return addr.Unmap()
	}
	if addr.Is6() && nat64.Contains(addr) {
		b := addr.As16()
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return addr
}
