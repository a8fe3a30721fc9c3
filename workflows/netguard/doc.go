// Package netguard is the one guarded dialer of every outbound call Backlot
// makes on a user's behalf: webhook deliveries, git host APIs and url
// locations. A Guard checks the resolved address of each connection at dial
// time, so a name that resolves to an allowed address when it is checked and
// to a private one when it is dialed (DNS rebinding) is still refused: the
// connection is made to the very address that was checked, and the dialer's
// Control function checks it once more.
//
// Refused by default are loopback, unspecified, link-local, private, CGNAT,
// multicast, broadcast and reserved addresses, their IPv4-mapped and NAT64
// IPv6 forms, and the cloud metadata addresses (169.254.169.254,
// fd00:ec2::254, 100.100.100.200). An allow-list of networks (CIDRs or
// single addresses) and host names lets an operator reach what they trust, for
// example a git host on the private network or, in tests and `backlot dev`,
// loopback. A metadata address is allowed only when named alone (a /32 or
// /128 prefix) or through an allowed host name: allowing 169.254.0.0/16 does
// not allow it.
//
// NewClient returns an http.Client on a Guard that follows no redirect and has
// timeouts on every phase of a request.
package netguard
