// Package ra sends IPv6 router advertisements that make no host use
// drover as a router.
//
// Why: the iPXE in Debian's ipxe-qemu (and many firmware builds) starts
// IPv6 autoconfiguration next to DHCPv4 and, on an IPv4-only network,
// waits about 16 s for a router advertisement before it gives up and
// goes on with the boot. Any router advertisement ends that wait. In the
// QEMU lab one VM's power-on → report cycle fell from 21.4 s to 5.0 s
// with such an advertisement on the bridge (testbed README §1, measured
// with radvd).
//
// What is sent: router lifetime 0, so no host takes drover as a default
// router (RFC 4861 §4.2: "a Lifetime of 0 indicates that the router is
// not a default router"); managed and other-config flags clear (no
// DHCPv6); reachable time and retransmit timer 0 (unspecified); no
// prefix information, so no host configures an address from it; a
// source link-layer address option with the interface's MAC; an MTU
// option only when Sender.MTU is set. The current hop limit is 64, the
// value RFC 4861 recommends and radvd sends.
//
// When: a Router Solicitation is answered at once (RFC 4861 §6.2.6
// allows up to 0.5 s of random delay; iPXE is waiting, so there is
// none), by unicast to the solicitor's link-local address, or by
// multicast to ff02::1 when the solicitation comes from the unspecified
// address (then at most one multicast advertisement per 3 s,
// MIN_DELAY_BETWEEN_RAS). Unsolicited advertisements go to ff02::1: three
// at start, 2 s apart (quicker than the 16 s RFC ceiling, which is a
// maximum), then every Interval/3 to Interval, chosen at random.
//
// Sender needs CAP_NET_RAW (a raw ICMPv6 socket) and an IPv6 link-local
// address on the interface; without one, Serve fails with ErrNoLinkLocal
// and the caller can log it and carry on without router advertisements.
package ra
