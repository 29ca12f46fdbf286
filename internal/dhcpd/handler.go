package dhcpd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"drover.dev/drover/internal/boot"
	"drover.dev/drover/internal/inventory"
)

// OfferHold is how long an OFFER holds its address for the client's REQUEST.
const OfferHold = 60 * time.Second

// DHCP option codes drover sets that the library has no constant or builder for.
const (
	optIPXEEncap   = dhcpv4.GenericOptionCode(175) // iPXE encapsulated options
	optIPXENoPXE   = 176                           // iPXE "no-pxedhcp" inside option 175
	optPXEDiscCtrl = 6                             // PXE_DISCOVERY_CONTROL inside option 43
)

// Nodes is what the handler needs from the inventory. Implementations
// must be safe for concurrent use.
type Nodes interface {
	// NodeByMAC returns the node one of whose mac values is mac, its
	// resolved attributes and its currstate; ok is false for an unknown
	// MAC. (The same method as httpboot.Nodes, so one type serves both.)
	NodeByMAC(mac net.HardwareAddr) (name string, node inventory.Resolved, state string, ok bool)
	// OSImage returns the resolved osimage called name.
	OSImage(name string) (inventory.Resolved, bool)
	// BootTarget returns the resolved boottarget called name.
	BootTarget(name string) (inventory.Resolved, bool)
}

// Handler answers DHCPv4 requests. Its fields must not change while it
// serves; it is safe for concurrent use.
type Handler struct {
	// Nodes looks up defined nodes; nil means every MAC is unknown.
	Nodes Nodes
	// Leases holds the leases; required.
	Leases Leases
	// Networks are all served networks; a relayed request (giaddr set)
	// is served from the one containing giaddr.
	Networks []Network
	// Boot are the boot settings; Server is replaced by the serving
	// network's ServerIP.
	Boot boot.Settings
	// Token returns the signed token for a node's URLs (httpboot's
	// Tokens.Sign); nil means none.
	Token func(mac net.HardwareAddr) string
	// Events receives every step; nil discards them.
	Events func(Event)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex               // serialises allocation and lease writes
	declined map[netip.Addr]time.Time // pool addresses a client declined, until when
	pools    map[poolKey]*poolState   // where each pool's search resumes
}

// fullScanHold bounds how long a pool found full is not searched again
// (a RELEASE or DECLINE, or the earliest expiry seen, ends it sooner), so
// a flood of new MACs on a full pool costs no O(pool) search per request.
const fullScanHold = 5 * time.Second

// poolKey identifies one dynamic range.
type poolKey struct {
	network    string
	start, end netip.Addr
}

// poolState is the allocation cursor of one dynamic range: the search
// for a free address starts after the last one handed out and wraps, so
// it is not linear in the number of leased addresses.
type poolState struct {
	next netip.Addr // where the next search starts
	// fullUntil is set when a whole search found nothing: until then the
	// range counts as full without searching.
	fullUntil time.Time
}

// exchange is the state of one request being handled.
type exchange struct {
	req    *dhcpv4.DHCPv4
	now    time.Time
	mac    net.HardwareAddr
	net    Network
	name   string
	node   inventory.Resolved
	state  string
	client boot.Request
	pxe    bool
	events []Event
	base   Event
	// proxyPort: the request came in on ProxyPort (HandleProxy).
	proxyPort bool
	// wrote: a lease was put or released (Committer.Commit is due).
	wrote bool
	evbuf [2]Event // events' first backing array: most exchanges have 2
}

func (x *exchange) event(kind EventKind, ip netip.Addr, reason string) *Event {
	e := x.base
	e.Kind, e.IP, e.Reason = kind, ip, reason
	x.events = append(x.events, e)
	return &x.events[len(x.events)-1]
}

// Handle answers req received on a link whose network is iface (the zero
// Network when the interface has none). It returns nil without error when
// there is nothing to send: garbage, a non-BOOTREQUEST, RELEASE, DECLINE,
// a request for another server, or a request it ignores. An error means
// the lease store failed.
//
// On a network in ProxyDHCP mode (Network.Proxy) it answers only a
// DISCOVER from a PXE, iPXE or UEFI HTTP Boot client, with a ProxyDHCP
// OFFER: boot options, no address, no lease.
//
// When the exchange wrote a lease and Leases implements Committer, Handle
// commits (outside the handler's lock, so concurrent exchanges share a
// commit) before it returns the reply; if the commit fails it returns no
// reply and the error, and records an EventError.
func (h *Handler) Handle(req *dhcpv4.DHCPv4, iface Network) (*dhcpv4.DHCPv4, error) {
	return h.serve(req, iface, false)
}

// HandleProxy answers req received on ProxyPort (4011), where a PXE
// client that took a ProxyDHCP offer asks for its boot file (PXE 2.1
// §2.2): a REQUEST (or INFORM) from a PXE, iPXE or UEFI HTTP Boot client
// gets an ACK with the boot options and no address. iface is the
// network of the socket's interface; a request from an address on
// another served network is answered for that network. It never writes
// a lease.
func (h *Handler) HandleProxy(req *dhcpv4.DHCPv4, iface Network) (*dhcpv4.DHCPv4, error) {
	return h.serve(req, iface, true)
}

func (h *Handler) serve(req *dhcpv4.DHCPv4, iface Network, proxyPort bool) (*dhcpv4.DHCPv4, error) {
	if req == nil {
		return nil, nil
	}
	if h.Leases == nil {
		return nil, errors.New("dhcpd: handler without a lease store")
	}
	x := &exchange{req: req, now: time.Now(), proxyPort: proxyPort}
	x.events = x.evbuf[:0]
	if h.Now != nil {
		x.now = h.Now()
	}
	x.base.Time = x.now
	resp, err := h.handle(x, iface)
	if x.wrote {
		if c, ok := h.Leases.(Committer); ok {
			if cerr := c.Commit(); cerr != nil {
				x.commitFailed(cerr)
				resp, err = nil, fmt.Errorf("commit lease for %s: %w", x.mac, cerr)
			}
		}
	}
	if h.Events != nil {
		for _, e := range x.events {
			h.Events(e)
		}
	}
	return resp, err
}

// commitFailed replaces the reply's event (none is sent) by an EventError.
func (x *exchange) commitFailed(err error) {
	var ip netip.Addr
	if n := len(x.events); n > 0 {
		last := x.events[n-1]
		ip = last.IP
		if last.Kind == EventOffer || last.Kind == EventAck {
			x.events = x.events[:n-1]
		}
	}
	x.event(EventError, ip, "lease not stored: "+err.Error())
}

func (h *Handler) handle(x *exchange, iface Network) (*dhcpv4.DHCPv4, error) {
	req := x.req
	if req.OpCode != dhcpv4.OpcodeBootRequest {
		x.event(EventIgnored, netip.Addr{}, "not a BOOTREQUEST")
		return nil, nil
	}
	if req.HWType != iana.HWTypeEthernet || len(req.ClientHWAddr) != 6 {
		x.event(EventIgnored, netip.Addr{}, "not an ethernet client")
		return nil, nil
	}
	x.mac = slices.Clone(req.ClientHWAddr)
	x.base.MAC = x.mac
	relay := addr4(req.GatewayIPAddr)
	if relay.IsValid() && !relay.IsUnspecified() {
		x.base.Relay = relay
	} else {
		relay = netip.Addr{}
	}
	if ri := req.Options.Get(dhcpv4.OptionRelayAgentInformation); ri != nil {
		x.base.RelayInfo = slices.Clone(ri)
	}
	mt := req.MessageType()
	if mt == dhcpv4.MessageTypeNone {
		x.event(EventIgnored, netip.Addr{}, "no dhcp message type (bootp)")
		return nil, nil
	}
	var ok bool
	if x.proxyPort && !relay.IsValid() {
		x.net, ok = h.clientNetwork(addr4(req.ClientIPAddr), iface)
	} else {
		x.net, ok = h.network(relay, iface)
	}
	if !ok {
		if relay.IsValid() {
			x.event(EventIgnored, netip.Addr{}, "no network contains relay address "+relay.String())
		} else {
			x.event(EventIgnored, netip.Addr{}, "receiving interface has no network")
		}
		return nil, nil
	}
	x.base.Network = x.net.Name
	if h.Nodes != nil {
		var known bool
		x.name, x.node, x.state, known = h.Nodes.NodeByMAC(x.mac)
		if !known || x.node == nil {
			x.name, x.node, x.state = "", nil, ""
		}
	}
	x.base.Node = x.name
	x.client, x.pxe = clientRequest(req, x.mac, relay)
	if x.pxe {
		x.base.Arch = x.client.Arch.String()
	}
	if x.proxyPort || x.net.Proxy {
		return h.proxy(x, mt)
	}
	switch mt {
	case dhcpv4.MessageTypeDiscover:
		return h.discover(x)
	case dhcpv4.MessageTypeRequest:
		return h.request(x)
	case dhcpv4.MessageTypeRelease:
		return nil, h.release(x)
	case dhcpv4.MessageTypeDecline:
		return nil, h.decline(x)
	case dhcpv4.MessageTypeInform:
		return h.inform(x)
	}
	x.event(EventIgnored, netip.Addr{}, "unsupported message type "+mt.String())
	return nil, nil
}

// network picks the network a request is served from.
func (h *Handler) network(relay netip.Addr, iface Network) (Network, bool) {
	if relay.IsValid() {
		if iface.Prefix.Contains(relay) && iface.ServerIP.IsValid() {
			return iface, true
		}
		for _, n := range h.Networks {
			if n.Prefix.Contains(relay) {
				return n, true
			}
		}
		return Network{}, false
	}
	return iface, iface.Prefix.IsValid() && iface.ServerIP.IsValid()
}

// clientNetwork picks the network of a request on ProxyPort, which comes
// from the client's own address: the served network containing ciaddr,
// else iface.
func (h *Handler) clientNetwork(ciaddr netip.Addr, iface Network) (Network, bool) {
	if ciaddr.IsValid() && !iface.Prefix.Contains(ciaddr) {
		for _, n := range h.Networks {
			if n.Prefix.Contains(ciaddr) && n.ServerIP.IsValid() {
				return n, true
			}
		}
	}
	return iface, iface.Prefix.IsValid() && iface.ServerIP.IsValid()
}

// clientRequest extracts the boot request; pxe reports whether the client
// is network-boot firmware or iPXE.
func clientRequest(req *dhcpv4.DHCPv4, mac net.HardwareAddr, relay netip.Addr) (boot.Request, bool) {
	r := boot.Request{MAC: mac, Relay: relay, Stage: boot.StageDHCP}
	archs := req.ClientArch()
	if len(archs) > 0 {
		r.Arch = boot.Arch(archs[0])
	}
	r.VendorClass = req.ClassIdentifier()
	raw := string(req.Options.Get(dhcpv4.OptionUserClassInformation))
	r.UserClass = raw
	if raw != boot.UserClassIPXE && slices.Contains(req.UserClass(), boot.UserClassIPXE) {
		r.UserClass = boot.UserClassIPXE
	}
	pxe := len(archs) > 0 || r.IPXE() || r.HTTPClient() || strings.HasPrefix(r.VendorClass, boot.VendorPXEClient)
	return r, pxe
}

// fixed reports the node's fixed address, if it has one.
func (x *exchange) fixed() (netip.Addr, bool) {
	if x.node == nil {
		return netip.Addr{}, false
	}
	ip := x.node.IP()
	return ip, ip.IsValid() && ip.Is4()
}

// verdict says whether a pool address may be given to a client.
type verdict uint8

const (
	addrFree     verdict = iota
	addrOutside          // not in the dynamic range
	addrReserved         // network, broadcast, server or gateway address
	addrDeclined         // declined by a client, withheld for a while
	addrLeased           // actively leased to another MAC
)

// reason is the verdict as an event reason or NAK message; holder is the
// MAC of the lease for addrLeased.
func (v verdict) reason(holder net.HardwareAddr) string {
	switch v {
	case addrOutside:
		return "not in the dynamic range"
	case addrReserved:
		return "reserved address"
	case addrDeclined:
		return "address was declined"
	case addrLeased:
		return "leased to " + holder.String()
	}
	return ""
}

// check reports whether ip may be given to x.mac from the pool; until is
// when a declined or leased address may become free, holder the MAC
// holding a leased one. The caller holds h.mu.
func (h *Handler) check(x *exchange, ip netip.Addr) (v verdict, until time.Time, holder net.HardwareAddr) {
	n := x.net
	if !n.InPool(ip) {
		return addrOutside, time.Time{}, nil
	}
	if ip == n.ServerIP || ip == n.Gateway || ip == n.Prefix.Addr() || ip == broadcast(n.Prefix) {
		return addrReserved, time.Time{}, nil
	}
	if until, ok := h.declined[ip]; ok {
		if x.now.Before(until) {
			return addrDeclined, until, nil
		}
		delete(h.declined, ip)
	}
	if l, ok := h.Leases.ByIP(ip); ok && !slices.Equal(l.MAC, x.mac) && l.Active(x.now) {
		return addrLeased, l.Expires, l.MAC
	}
	return addrFree, time.Time{}, nil
}

// free reports whether ip may be given to x.mac from the pool, and why
// not. The caller holds h.mu.
func (h *Handler) free(x *exchange, ip netip.Addr) (bool, string) {
	v, _, holder := h.check(x, ip)
	return v == addrFree, v.reason(holder)
}

// poolAddr picks a pool address for x: its current lease cur (if have),
// the address it asks for, then the next free one after the last address
// handed out. The caller holds h.mu.
func (h *Handler) poolAddr(x *exchange, cur Lease, have bool) (netip.Addr, bool) {
	if have {
		if v, _, _ := h.check(x, cur.IP); v == addrFree {
			return cur.IP, true
		}
	}
	if want := addr4(x.req.RequestedIPAddress()); want.IsValid() {
		if v, _, _ := h.check(x, want); v == addrFree {
			return want, true
		}
	}
	return h.nextFree(x)
}

// nextFree searches x's dynamic range from its cursor, wrapping once. A
// range found full is not searched again before the earliest time an
// address in it may free up (at most fullScanHold later) unless a lease
// is released or declined meanwhile. The caller holds h.mu.
func (h *Handler) nextFree(x *exchange) (netip.Addr, bool) {
	n := x.net
	key := poolKey{n.Name, n.RangeStart, n.RangeEnd}
	st := h.pools[key]
	if st == nil {
		if h.pools == nil {
			h.pools = map[poolKey]*poolState{}
		}
		st = &poolState{}
		h.pools[key] = st
	}
	if x.now.Before(st.fullUntil) {
		return netip.Addr{}, false
	}
	start := st.next
	if !n.InPool(start) {
		start = n.RangeStart
	}
	retry := x.now.Add(fullScanHold)
	ip := start
	for {
		v, until, _ := h.check(x, ip)
		if v == addrFree {
			st.next, st.fullUntil = ip.Next(), time.Time{}
			return ip, true
		}
		if !until.IsZero() && until.Before(retry) {
			retry = until
		}
		if ip = ip.Next(); !n.InPool(ip) {
			ip = n.RangeStart
		}
		if ip == start {
			break
		}
	}
	st.fullUntil = retry
	return netip.Addr{}, false
}

// poolsChanged ends every "range is full" hold: an address was freed.
// The caller holds h.mu.
func (h *Handler) poolsChanged() {
	for _, st := range h.pools {
		st.fullUntil = time.Time{}
	}
}

// plan runs boot.Decide for a PXE client. skip reports that the client
// must get no reply at all (a known node whose state answers nothing).
// When plan is nil, why says why there are no boot options.
func (h *Handler) plan(x *exchange) (plan *boot.Plan, skip bool, why string) {
	if !x.pxe {
		return nil, false, "not a network boot client"
	}
	in := boot.Input{Request: x.client, NodeName: x.name, Node: x.node, Settings: h.Boot}
	in.Settings.Server = x.net.ServerIP
	if x.node != nil {
		in.State = x.state
		if st, err := boot.ParseState(in.State); err == nil && st.Kind == boot.StateOSImage && h.Nodes != nil {
			if img, ok := h.Nodes.OSImage(st.OSImage); ok {
				in.OSImage = img
				if bt := boot.BootTargetName(img); bt != "" {
					if t, ok := h.Nodes.BootTarget(bt); ok {
						in.BootTarget = t
					}
				}
			}
		}
	}
	// Unknown MACs booting discovery need the token too: every script
	// and report URL is signed.
	if h.Token != nil {
		in.Token = h.Token(x.mac)
	}
	p, err := boot.Decide(in)
	if err != nil {
		x.event(EventError, netip.Addr{}, "boot decision: "+err.Error())
		return nil, false, "boot decision failed"
	}
	if p.Action == boot.ActionIgnore {
		if x.node != nil {
			x.event(EventIgnored, netip.Addr{}, p.Reason)
			return nil, true, p.Reason
		}
		return nil, false, p.Reason
	}
	return &p, false, ""
}

func (h *Handler) discover(x *exchange) (*dhcpv4.DHCPv4, error) {
	x.event(EventDiscover, addr4(x.req.RequestedIPAddress()), "")
	ip, fixed := x.fixed()
	if fixed {
		if !x.net.Prefix.Contains(ip) {
			x.event(EventIgnored, ip, fmt.Sprintf("node address %s is not on network %s", ip, x.net.Name))
			return nil, nil
		}
	} else if !x.net.HasPool() {
		x.event(EventIgnored, netip.Addr{}, "no fixed address and network "+x.net.Name+" has no dynamicrange")
		return nil, nil
	}
	plan, skip, _ := h.plan(x)
	if skip {
		return nil, nil
	}
	ip, ok, err := h.offerLease(x, ip, fixed)
	if !ok {
		return nil, err
	}
	resp := h.reply(x, dhcpv4.MessageTypeOffer, ip, plan)
	x.event(EventOffer, ip, "").Bootfile = bootfile(plan)
	return resp, nil
}

// offerLease picks the address to offer (ip if fixed, else from the pool)
// and holds it for the client. ok is false when there is nothing to
// offer; the reason is recorded.
func (h *Handler) offerLease(x *exchange, ip netip.Addr, fixed bool) (_ netip.Addr, ok bool, _ error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, have := h.Leases.Get(x.mac)
	if !fixed {
		if ip, ok = h.poolAddr(x, cur, have); !ok {
			x.event(EventIgnored, netip.Addr{}, "dynamic range of "+x.net.Name+" exhausted")
			return netip.Addr{}, false, nil
		}
	}
	expires, offer := x.now.Add(OfferHold), true
	if have && cur.IP == ip && cur.Expires.After(expires) {
		if cur.Node == x.name && cur.Network == x.net.Name && slices.Equal(cur.RelayInfo, x.base.RelayInfo) {
			return ip, true, nil // the lease already holds it: nothing to write
		}
		expires, offer = cur.Expires, false
	}
	if err := h.put(x, ip, expires, offer); err != nil {
		if errors.Is(err, ErrAddressInUse) {
			x.event(EventIgnored, ip, err.Error())
			return netip.Addr{}, false, nil
		}
		x.event(EventError, ip, err.Error())
		return netip.Addr{}, false, err
	}
	return ip, true, nil
}

// put records x's lease of ip. The caller holds h.mu.
func (h *Handler) put(x *exchange, ip netip.Addr, expires time.Time, offer bool) error {
	l := Lease{MAC: x.mac, IP: ip, Node: x.name, Network: x.net.Name, Expires: expires, Updated: x.now,
		RelayInfo: x.base.RelayInfo, Offer: offer}
	if err := h.Leases.Put(l); err != nil {
		return fmt.Errorf("lease %s for %s: %w", ip, x.mac, err)
	}
	x.wrote = true
	return nil
}

func (h *Handler) request(x *exchange) (*dhcpv4.DHCPv4, error) {
	req := x.req
	want := addr4(req.RequestedIPAddress())
	if !want.IsValid() {
		want = addr4(req.ClientIPAddr)
	}
	x.event(EventRequest, want, "")
	if sid := addr4(req.ServerIdentifier()); sid.IsValid() && sid != x.net.ServerIP {
		x.event(EventIgnored, want, "client selected server "+sid.String())
		return nil, nil
	}
	if !want.IsValid() || want.IsUnspecified() {
		x.event(EventIgnored, netip.Addr{}, "request names no address")
		return nil, nil
	}
	ip, fixed := x.fixed()
	if !fixed && !x.net.HasPool() {
		x.event(EventIgnored, want, "no fixed address and network "+x.net.Name+" has no dynamicrange")
		return nil, nil
	}
	switch {
	case !x.net.Prefix.Contains(want):
		return h.nak(x, want, "address "+want.String()+" is not on network "+x.net.Name)
	case fixed && want != ip:
		return h.nak(x, want, "node address is "+ip.String())
	}
	plan, skip, _ := h.plan(x)
	if skip {
		return nil, nil
	}
	if refused, err := h.ackLease(x, want, fixed); refused != "" || err != nil {
		if err != nil {
			return nil, err
		}
		return h.nak(x, want, refused)
	}
	resp := h.reply(x, dhcpv4.MessageTypeAck, want, plan)
	x.event(EventAck, want, "").Bootfile = bootfile(plan)
	return resp, nil
}

// ackLease leases ip to x for the network's lease time; refused is the
// NAK message when it may not.
func (h *Handler) ackLease(x *exchange, ip netip.Addr, fixed bool) (refused string, _ error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !fixed {
		if ok, why := h.free(x, ip); !ok {
			return why, nil
		}
	}
	if err := h.put(x, ip, x.now.Add(x.net.LeaseTime), false); err != nil {
		if errors.Is(err, ErrAddressInUse) {
			return err.Error(), nil
		}
		x.event(EventError, ip, err.Error())
		return "", err
	}
	return "", nil
}

func (h *Handler) release(x *exchange) error {
	ip := addr4(x.req.ClientIPAddr)
	h.mu.Lock()
	defer h.mu.Unlock()
	if done, err := h.dropLease(x, ip, "release"); !done {
		return err
	}
	x.event(EventRelease, ip, "")
	return nil
}

func (h *Handler) decline(x *exchange) error {
	ip := addr4(x.req.RequestedIPAddress())
	h.mu.Lock()
	defer h.mu.Unlock()
	if done, err := h.dropLease(x, ip, "decline"); !done {
		return err
	}
	reason := "address in use on the network"
	if x.net.InPool(ip) {
		if h.declined == nil {
			h.declined = map[netip.Addr]time.Time{}
		}
		h.declined[ip] = x.now.Add(x.net.LeaseTime)
		reason += "; withheld from the pool"
	}
	x.event(EventDecline, ip, reason)
	return nil
}

// dropLease releases the client's lease of ip for a RELEASE or DECLINE
// (what) addressed to this server. done is false when the message is not
// for us, names a lease the client does not hold, or the release failed;
// each case is recorded as an event. The caller holds h.mu.
func (h *Handler) dropLease(x *exchange, ip netip.Addr, what string) (done bool, err error) {
	if sid := addr4(x.req.ServerIdentifier()); sid.IsValid() && sid != x.net.ServerIP {
		x.event(EventIgnored, ip, what+" for server "+sid.String())
		return false, nil
	}
	l, ok := h.Leases.Get(x.mac)
	if !ok || l.IP != ip {
		x.event(EventIgnored, ip, "no lease of "+ip.String()+" for this mac")
		return false, nil
	}
	if err := h.Leases.Release(x.mac); err != nil {
		x.event(EventError, ip, err.Error())
		return false, fmt.Errorf("release %s: %w", x.mac, err)
	}
	x.wrote = true
	h.poolsChanged()
	return true, nil
}

func (h *Handler) inform(x *exchange) (*dhcpv4.DHCPv4, error) {
	ip := addr4(x.req.ClientIPAddr)
	x.event(EventInform, ip, "")
	if !ip.IsValid() || !x.net.Prefix.Contains(ip) {
		x.event(EventIgnored, ip, "inform from an address not on network "+x.net.Name)
		return nil, nil
	}
	plan, skip, _ := h.plan(x)
	if skip {
		return nil, nil
	}
	resp := h.reply(x, dhcpv4.MessageTypeAck, netip.Addr{}, plan)
	x.event(EventAck, ip, "").Bootfile = bootfile(plan)
	return resp, nil
}

// proxy answers a request on a ProxyDHCP network (port 67) or on
// ProxyPort: only network boot clients, only boot options, never an
// address or a lease.
func (h *Handler) proxy(x *exchange, mt dhcpv4.MessageType) (*dhcpv4.DHCPv4, error) {
	var reply dhcpv4.MessageType
	switch {
	case mt == dhcpv4.MessageTypeDiscover && !x.proxyPort:
		x.event(EventDiscover, netip.Addr{}, "")
		reply = dhcpv4.MessageTypeOffer
	case (mt == dhcpv4.MessageTypeRequest || mt == dhcpv4.MessageTypeInform) && x.proxyPort:
		x.event(EventRequest, addr4(x.req.ClientIPAddr), "")
		reply = dhcpv4.MessageTypeAck
	case mt == dhcpv4.MessageTypeRequest:
		want := addr4(x.req.RequestedIPAddress())
		x.event(EventRequest, want, "")
		x.event(EventIgnored, want, "proxydhcp: network "+x.net.Name+" leaves addresses to another DHCP server")
		return nil, nil
	default:
		where := "port 67 of proxydhcp network " + x.net.Name
		if x.proxyPort {
			where = fmt.Sprintf("port %d", ProxyPort)
		}
		x.event(EventIgnored, netip.Addr{}, "proxydhcp: "+mt.String()+" is not answered on "+where)
		return nil, nil
	}
	c := x.client
	if !strings.HasPrefix(c.VendorClass, boot.VendorPXEClient) && !c.IPXE() && !c.HTTPClient() {
		x.event(EventIgnored, netip.Addr{}, "proxydhcp: not a network boot client")
		return nil, nil
	}
	plan, skip, why := h.plan(x)
	if skip {
		return nil, nil
	}
	if plan == nil {
		x.event(EventIgnored, netip.Addr{}, "proxydhcp: no boot file: "+why)
		return nil, nil
	}
	resp := h.proxyReply(x, reply, plan)
	kind := EventOffer
	if reply == dhcpv4.MessageTypeAck {
		kind = EventAck
	}
	x.event(kind, netip.Addr{}, "").Bootfile = bootfile(plan)
	return resp, nil
}

func bootfile(p *boot.Plan) string {
	if p == nil {
		return ""
	}
	return p.DHCPBootfile()
}

// addr4 converts a 4-byte (or 4-in-16) IP; the zero Addr otherwise.
func addr4(ip net.IP) netip.Addr {
	if ip4 := ip.To4(); ip4 != nil {
		return netip.AddrFrom4([4]byte(ip4))
	}
	return netip.Addr{}
}

func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	bits := p.Bits()
	for i := range 4 {
		for b := range 8 {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a)
}
