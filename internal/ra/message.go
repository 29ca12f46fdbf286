package ra

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// ICMPv6 message types and NDP option types (RFC 4861 §4.1, §4.2, §4.6).
const (
	typeRouterSolicitation  = 133
	typeRouterAdvertisement = 134

	optSourceLinkLayerAddr = 1
	optPrefixInformation   = 3
	optMTU                 = 5
)

// curHopLimit is the Cur Hop Limit field of every advertisement: 64, the
// IANA default TTL that RFC 4861 §6.2.1 recommends (AdvCurHopLimit).
const curHopLimit = 64

// Errors from parsing a Router Solicitation.
var (
	errShort    = errors.New("message too short")
	errNotRS    = errors.New("not a router solicitation")
	errCode     = errors.New("router solicitation with non-zero code")
	errOptLen   = errors.New("option with length 0")
	errOptTrunc = errors.New("option runs past the end of the message")
)

// advertisement is the content of a Router Advertisement that makes no
// host use the sender as a router.
type advertisement struct {
	MAC net.HardwareAddr // source link-layer address option; omitted when empty
	MTU uint32           // MTU option; omitted when 0
}

// marshal returns the ICMPv6 message (type through options). The checksum
// field is zero: the kernel fills it in for ICMPv6 raw sockets.
func (a advertisement) marshal() []byte {
	b := make([]byte, 16, 32)
	b[0] = typeRouterAdvertisement
	b[1] = 0 // code
	// b[2:4] checksum, filled in by the kernel
	b[4] = curHopLimit
	b[5] = 0 // M=0, O=0
	// b[6:8] router lifetime 0: not a default router
	// b[8:12] reachable time 0, b[12:16] retrans timer 0: unspecified
	if len(a.MAC) > 0 {
		n := (2 + len(a.MAC) + 7) / 8 // option length in units of 8 octets
		opt := make([]byte, n*8)
		opt[0] = optSourceLinkLayerAddr
		opt[1] = byte(n)
		copy(opt[2:], a.MAC)
		b = append(b, opt...)
	}
	if a.MTU != 0 {
		opt := make([]byte, 8)
		opt[0] = optMTU
		opt[1] = 1
		binary.BigEndian.PutUint32(opt[4:], a.MTU)
		b = append(b, opt...)
	}
	return b
}

// solicitation is what drover needs from a Router Solicitation.
type solicitation struct {
	// SourceLinkLayerAddr is the source link-layer address option, nil
	// when absent. For Ethernet it is the 6-byte MAC.
	SourceLinkLayerAddr net.HardwareAddr
}

// parseSolicitation checks and decodes an ICMPv6 Router Solicitation
// (type through options) as RFC 4861 §6.1.1 asks: type 133, code 0, at
// least 8 octets, every option with a non-zero length that fits. The hop
// limit and source address checks need the IP header and are done by the
// caller; the checksum is checked by the kernel.
func parseSolicitation(b []byte) (solicitation, error) {
	var s solicitation
	if len(b) < 8 {
		return s, fmt.Errorf("%w: %d bytes", errShort, len(b))
	}
	if b[0] != typeRouterSolicitation {
		return s, fmt.Errorf("%w: type %d", errNotRS, b[0])
	}
	if b[1] != 0 {
		return s, fmt.Errorf("%w: %d", errCode, b[1])
	}
	for opts := b[8:]; len(opts) > 0; {
		if len(opts) < 2 {
			return s, errOptTrunc
		}
		n := int(opts[1]) * 8
		if n == 0 {
			return s, fmt.Errorf("%w: type %d", errOptLen, opts[0])
		}
		if n > len(opts) {
			return s, fmt.Errorf("%w: type %d, %d bytes, %d left", errOptTrunc, opts[0], n, len(opts))
		}
		if opts[0] == optSourceLinkLayerAddr && s.SourceLinkLayerAddr == nil {
			// Ethernet: n == 8, a 6-byte MAC; longer addresses keep their padding.
			s.SourceLinkLayerAddr = append(net.HardwareAddr(nil), opts[2:n]...)
		}
		opts = opts[n:]
	}
	return s, nil
}
