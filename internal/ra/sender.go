package ra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv6"
)

// DefaultInterval is the longest time between unsolicited advertisements
// (MaxRtrAdvInterval) when Sender.Interval is zero.
const DefaultInterval = 200 * time.Second

const (
	// initialAdverts and initialInterval: the first unsolicited
	// advertisements after start (RFC 4861 §6.2.4 allows up to 3, at
	// most 16 s apart).
	initialAdverts  = 3
	initialInterval = 2 * time.Second
	// minDelayBetweenRAs is the shortest time between two multicast
	// advertisements when one answers a solicitation (RFC 4861 §10).
	minDelayBetweenRAs = 3 * time.Second
)

// ErrNoLinkLocal means the interface has no IPv6 link-local address, so no
// valid router advertisement can be sent from it.
var ErrNoLinkLocal = errors.New("no IPv6 link-local address (IPv6 disabled on the interface?)")

// EventKind names what the Sender did.
type EventKind string

// Event kinds.
const (
	EventSolicit   EventKind = "ra-solicit"   // a valid Router Solicitation arrived
	EventAdvertise EventKind = "ra-advertise" // a Router Advertisement was sent
	EventIgnored   EventKind = "ra-ignored"   // an invalid solicitation was dropped; Reason says why
	EventError     EventKind = "ra-error"     // sending failed; Reason says why
)

// Event is one solicitation or advertisement.
type Event struct {
	Time      time.Time
	Kind      EventKind
	Interface string
	// Peer is the solicitor's source address for EventSolicit and
	// EventIgnored, and the destination (ff02::1 or the solicitor) for
	// EventAdvertise and EventError.
	Peer netip.Addr
	// MAC is the solicitation's source link-layer address option, if any.
	MAC net.HardwareAddr
	// Solicited is true for an advertisement that answers a solicitation.
	Solicited bool
	Reason    string
}

// Sender answers Router Solicitations on one interface and sends periodic
// unsolicited Router Advertisements there, all with router lifetime 0 and
// no prefix (see the package documentation). Set the fields, then call
// Serve once.
type Sender struct {
	Interface string        // e.g. "br0"
	Interval  time.Duration // MaxRtrAdvInterval; DefaultInterval when 0
	MTU       uint32        // MTU option value; no MTU option when 0
	Log       *slog.Logger  // nil discards
	// Events, when set, is called for every solicitation and
	// advertisement. Calls may come from two goroutines at once.
	Events func(Event)
}

// Serve opens a raw ICMPv6 socket on the interface and advertises until
// ctx ends, then returns nil. It fails at once, wrapping ErrNoLinkLocal,
// when the interface has no IPv6 link-local address.
func (s *Sender) Serve(ctx context.Context) error {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("iface", s.Interface)
	ifi, err := net.InterfaceByName(s.Interface)
	if err != nil {
		return fmt.Errorf("ra on %s: %w", s.Interface, err)
	}
	ll, err := linkLocal(ifi)
	if err != nil {
		return fmt.Errorf("ra on %s: %w", s.Interface, err)
	}
	p, err := listen(ifi)
	if err != nil {
		return fmt.Errorf("ra on %s: %w", s.Interface, err)
	}
	l := &link{
		s:   s,
		log: log,
		ifi: ifi,
		ll:  ll,
		p:   p,
		msg: advertisement{MAC: ifi.HardwareAddr, MTU: s.MTU}.marshal(),
	}
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log.Info("sending IPv6 router advertisements (router lifetime 0, no prefix)",
		"src", ll, "mac", ifi.HardwareAddr.String(), "interval", interval)

	wake := make(chan struct{}, 1) // a solicitation wants a multicast answer
	readErr := make(chan error, 1)
	readCtx, stopRead := context.WithCancel(ctx)
	go func() { readErr <- l.readLoop(readCtx, wake) }()
	readDone := false
	defer func() {
		stopRead()
		p.Close() // unblocks ReadFrom
		if !readDone {
			<-readErr
		}
	}()

	var (
		sent          int       // unsolicited advertisements sent
		lastMulticast time.Time // zero before the first
		next          = time.Now()
		solicited     bool // the next multicast answers a solicitation
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			readDone = true
			if err == nil || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ra on %s: %w", s.Interface, err)
		case <-wake:
			due := time.Now()
			if t := lastMulticast.Add(minDelayBetweenRAs); t.After(due) {
				due = t
			}
			if due.Before(next) {
				next, solicited = due, true
				timer.Reset(time.Until(next))
			}
		case <-timer.C:
			l.send(allNodes(), solicited)
			lastMulticast = time.Now()
			if !solicited {
				sent++
			}
			solicited = false
			next = lastMulticast.Add(nextInterval(sent, interval))
			timer.Reset(time.Until(next))
		}
	}
}

// nextInterval is the time from one unsolicited advertisement to the next
// after sent of them: uniformly random in [0.33, 1] × maxInterval (MinRtrAdvInterval
// defaults to 0.33 × MaxRtrAdvInterval), and at most initialInterval while
// fewer than initialAdverts have gone out.
func nextInterval(sent int, maxInterval time.Duration) time.Duration {
	lo := maxInterval * 33 / 100
	d := lo + rand.N(maxInterval-lo+1)
	if sent < initialAdverts && d > initialInterval {
		d = initialInterval
	}
	return d
}

// allNodes is ff02::1, where unsolicited advertisements go.
func allNodes() netip.Addr { return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 1}) }

// allRouters is ff02::2, where solicitations go.
func allRouters() netip.Addr { return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 2}) }

// link is one Serve call's state shared by its two goroutines; every
// field is set before they start and read-only afterwards.
type link struct {
	s   *Sender
	log *slog.Logger
	ifi *net.Interface
	ll  netip.Addr
	p   *ipv6.PacketConn
	msg []byte
}

// linkLocal returns the interface's first IPv6 link-local address.
func linkLocal(ifi *net.Interface) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses: %w", err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ok && ip.Is6() && !ip.Is4In6() && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	return netip.Addr{}, ErrNoLinkLocal
}

// listen opens a raw ICMPv6 socket bound to ifi that receives only Router
// Solicitations (including those sent to ff02::2) with their hop limit,
// and sends with hop limit 255.
func listen(ifi *net.Interface) (*ipv6.PacketConn, error) {
	c, err := net.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return nil, fmt.Errorf("open ICMPv6 socket (needs CAP_NET_RAW): %w", err)
	}
	p := ipv6.NewPacketConn(c)
	if err := setup(c, p, ifi); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func setup(c net.PacketConn, p *ipv6.PacketConn, ifi *net.Interface) error {
	sc, ok := c.(*net.IPConn)
	if !ok {
		return fmt.Errorf("unexpected socket type %T", c)
	}
	if err := bindToDevice(sc, ifi.Name); err != nil {
		return fmt.Errorf("bind to device: %w", err)
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeRouterSolicitation)
	if err := p.SetICMPFilter(&f); err != nil {
		return fmt.Errorf("ICMPv6 filter: %w", err)
	}
	if err := p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagSrc|ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		return fmt.Errorf("control messages: %w", err)
	}
	if err := p.SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("multicast interface: %w", err)
	}
	if err := p.SetMulticastHopLimit(255); err != nil {
		return fmt.Errorf("multicast hop limit: %w", err)
	}
	if err := p.SetHopLimit(255); err != nil {
		return fmt.Errorf("hop limit: %w", err)
	}
	if err := p.SetMulticastLoopback(false); err != nil {
		return fmt.Errorf("multicast loopback: %w", err)
	}
	if err := p.JoinGroup(ifi, &net.IPAddr{IP: allRouters().AsSlice()}); err != nil {
		return fmt.Errorf("join ff02::2: %w", err)
	}
	return nil
}

// readLoop reads solicitations until the socket fails or ctx ends. It
// answers one from a link-local address by unicast at once, and asks the
// main loop (through wake) for a multicast answer to one from the
// unspecified address.
func (l *link) readLoop(ctx context.Context, wake chan<- struct{}) error {
	buf := make([]byte, 1<<16)
	for {
		n, cm, src, err := l.p.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read: %w", err)
		}
		var from netip.Addr
		if a, ok := src.(*net.IPAddr); ok {
			from, _ = netip.AddrFromSlice(a.IP)
		}
		rs, reason := l.check(buf[:n], cm, from)
		if reason != "" {
			l.log.Debug("router solicitation ignored", "src", from, "reason", reason)
			l.event(Event{Kind: EventIgnored, Peer: from, MAC: rs.SourceLinkLayerAddr, Reason: reason})
			continue
		}
		l.log.Debug("router solicitation", "src", from, "mac", rs.SourceLinkLayerAddr.String())
		l.event(Event{Kind: EventSolicit, Peer: from, MAC: rs.SourceLinkLayerAddr})
		if from.IsLinkLocalUnicast() {
			l.send(from, true)
			continue
		}
		select {
		case wake <- struct{}{}:
		default: // a multicast answer is already asked for
		}
	}
}

// check validates a received solicitation (RFC 4861 §6.1.1) and returns
// a non-empty reason when it must be ignored.
func (l *link) check(b []byte, cm *ipv6.ControlMessage, from netip.Addr) (solicitation, string) {
	if cm == nil {
		return solicitation{}, "no control message"
	}
	if cm.IfIndex != 0 && cm.IfIndex != l.ifi.Index {
		return solicitation{}, fmt.Sprintf("arrived on interface index %d", cm.IfIndex)
	}
	if cm.HopLimit != 255 {
		return solicitation{}, fmt.Sprintf("hop limit %d, not 255", cm.HopLimit)
	}
	rs, err := parseSolicitation(b)
	if err != nil {
		return rs, err.Error()
	}
	if !from.IsValid() {
		return rs, "no source address"
	}
	if from.IsUnspecified() && rs.SourceLinkLayerAddr != nil {
		return rs, "source link-layer address option from the unspecified address"
	}
	return rs, ""
}

// send sends the advertisement to dst (ff02::1 or a solicitor's link-local
// address) from the link-local address with hop limit 255.
func (l *link) send(dst netip.Addr, solicited bool) {
	cm := &ipv6.ControlMessage{HopLimit: 255, IfIndex: l.ifi.Index, Src: l.ll.AsSlice()}
	to := &net.IPAddr{IP: dst.AsSlice(), Zone: l.ifi.Name}
	if _, err := l.p.WriteTo(l.msg, cm, to); err != nil {
		l.log.Warn("router advertisement not sent", "dst", dst, "err", err)
		l.event(Event{Kind: EventError, Peer: dst, Solicited: solicited, Reason: err.Error()})
		return
	}
	l.log.Debug("router advertisement sent", "dst", dst, "solicited", solicited)
	l.event(Event{Kind: EventAdvertise, Peer: dst, Solicited: solicited})
}

func (l *link) event(e Event) {
	if l.s.Events == nil {
		return
	}
	e.Time = time.Now()
	e.Interface = l.ifi.Name
	l.s.Events(e)
}
