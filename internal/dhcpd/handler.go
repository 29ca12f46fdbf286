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
func (h *Handler) Handle(req *dhcpv4.DHCPv4, iface Network) (*dhcpv4.DHCPv4, error) {
	if req == nil {
		return nil, nil
	}
	if h.Leases == nil {
		return nil, errors.New("dhcpd: handler without a lease store")
	}
	x := &exchange{req: req, now: time.Now()}
	if h.Now != nil {
		x.now = h.Now()
	}
	x.base.Time = x.now
	h.mu.Lock()
	resp, err := h.handle(x, iface)
	h.mu.Unlock()
	if h.Events != nil {
		for _, e := range x.events {
			h.Events(e)
		}
	}
	return resp, err
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
	if x.net, ok = h.network(relay, iface); !ok {
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

// free reports whether ip may be given to x.mac from the pool.
func (h *Handler) free(x *exchange, ip netip.Addr) (bool, string) {
	n := x.net
	if !n.InPool(ip) {
		return false, "not in the dynamic range"
	}
	if ip == n.ServerIP || ip == n.Gateway || ip == n.Prefix.Addr() || ip == broadcast(n.Prefix) {
		return false, "reserved address"
	}
	if until, ok := h.declined[ip]; ok {
		if x.now.Before(until) {
			return false, "address was declined"
		}
		delete(h.declined, ip)
	}
	if l, ok := h.Leases.ByIP(ip); ok && !slices.Equal(l.MAC, x.mac) && l.Active(x.now) {
		return false, "leased to " + l.MAC.String()
	}
	return true, ""
}

// poolAddr picks a pool address for x: its current lease, the address it
// asks for, then the lowest free one.
func (h *Handler) poolAddr(x *exchange) (netip.Addr, bool) {
	if l, ok := h.Leases.Get(x.mac); ok {
		if ok, _ := h.free(x, l.IP); ok {
			return l.IP, true
		}
	}
	if want := addr4(x.req.RequestedIPAddress()); want.IsValid() {
		if ok, _ := h.free(x, want); ok {
			return want, true
		}
	}
	for ip := x.net.RangeStart; ip.IsValid() && ip.Compare(x.net.RangeEnd) <= 0; ip = ip.Next() {
		if ok, _ := h.free(x, ip); ok {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// plan runs boot.Decide for a PXE client. skip reports that the client
// must get no reply at all (a known node whose state answers nothing).
func (h *Handler) plan(x *exchange) (plan *boot.Plan, skip bool) {
	if !x.pxe {
		return nil, false
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
		if h.Token != nil {
			in.Token = h.Token(x.mac)
		}
	}
	p, err := boot.Decide(in)
	if err != nil {
		x.event(EventError, netip.Addr{}, "boot decision: "+err.Error())
		return nil, false
	}
	if p.Action == boot.ActionIgnore {
		if x.node != nil {
			x.event(EventIgnored, netip.Addr{}, p.Reason)
			return nil, true
		}
		return nil, false
	}
	return &p, false
}

func (h *Handler) discover(x *exchange) (*dhcpv4.DHCPv4, error) {
	x.event(EventDiscover, addr4(x.req.RequestedIPAddress()), "")
	ip, ok := x.fixed()
	if ok {
		if !x.net.Prefix.Contains(ip) {
			x.event(EventIgnored, ip, fmt.Sprintf("node address %s is not on network %s", ip, x.net.Name))
			return nil, nil
		}
	} else {
		if !x.net.HasPool() {
			x.event(EventIgnored, netip.Addr{}, "no fixed address and network "+x.net.Name+" has no dynamicrange")
			return nil, nil
		}
		if ip, ok = h.poolAddr(x); !ok {
			x.event(EventIgnored, netip.Addr{}, "dynamic range of "+x.net.Name+" exhausted")
			return nil, nil
		}
	}
	plan, skip := h.plan(x)
	if skip {
		return nil, nil
	}
	expires := x.now.Add(OfferHold)
	if l, ok := h.Leases.Get(x.mac); ok && l.IP == ip && l.Expires.After(expires) {
		expires = l.Expires
	}
	if err := h.put(x, ip, expires); err != nil {
		if errors.Is(err, ErrAddressInUse) {
			x.event(EventIgnored, ip, err.Error())
			return nil, nil
		}
		x.event(EventError, ip, err.Error())
		return nil, err
	}
	resp, err := h.reply(x, dhcpv4.MessageTypeOffer, ip, plan)
	if err != nil {
		return nil, err
	}
	x.event(EventOffer, ip, "").Bootfile = bootfile(plan)
	return resp, nil
}

func (h *Handler) put(x *exchange, ip netip.Addr, expires time.Time) error {
	l := Lease{MAC: x.mac, IP: ip, Node: x.name, Network: x.net.Name, Expires: expires, Updated: x.now, RelayInfo: x.base.RelayInfo}
	if err := h.Leases.Put(l); err != nil {
		return fmt.Errorf("lease %s for %s: %w", ip, x.mac, err)
	}
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
	case !fixed:
		if ok, why := h.free(x, want); !ok {
			return h.nak(x, want, why)
		}
	}
	plan, skip := h.plan(x)
	if skip {
		return nil, nil
	}
	if err := h.put(x, want, x.now.Add(x.net.LeaseTime)); err != nil {
		if errors.Is(err, ErrAddressInUse) {
			return h.nak(x, want, err.Error())
		}
		x.event(EventError, want, err.Error())
		return nil, err
	}
	resp, err := h.reply(x, dhcpv4.MessageTypeAck, want, plan)
	if err != nil {
		return nil, err
	}
	x.event(EventAck, want, "").Bootfile = bootfile(plan)
	return resp, nil
}

func (h *Handler) nak(x *exchange, ip netip.Addr, reason string) (*dhcpv4.DHCPv4, error) {
	resp, err := dhcpv4.NewReplyFromRequest(x.req,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeNak),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(x.net.ServerIP.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptMessage(reason)),
	)
	if err != nil {
		return nil, fmt.Errorf("build nak: %w", err)
	}
	if x.base.Relay.IsValid() {
		resp.SetBroadcast()
	}
	x.event(EventNak, ip, reason)
	return resp, nil
}

func (h *Handler) release(x *exchange) error {
	ip := addr4(x.req.ClientIPAddr)
	if done, err := h.dropLease(x, ip, "release"); !done {
		return err
	}
	x.event(EventRelease, ip, "")
	return nil
}

func (h *Handler) decline(x *exchange) error {
	ip := addr4(x.req.RequestedIPAddress())
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
// each case is recorded as an event.
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
	return true, nil
}

func (h *Handler) inform(x *exchange) (*dhcpv4.DHCPv4, error) {
	ip := addr4(x.req.ClientIPAddr)
	x.event(EventInform, ip, "")
	if !ip.IsValid() || !x.net.Prefix.Contains(ip) {
		x.event(EventIgnored, ip, "inform from an address not on network "+x.net.Name)
		return nil, nil
	}
	plan, skip := h.plan(x)
	if skip {
		return nil, nil
	}
	resp, err := h.reply(x, dhcpv4.MessageTypeAck, netip.Addr{}, plan)
	if err != nil {
		return nil, err
	}
	x.event(EventAck, ip, "").Bootfile = bootfile(plan)
	return resp, nil
}

// reply builds an OFFER or ACK giving yiaddr (zero for an INFORM's ACK,
// which carries no lease).
func (h *Handler) reply(x *exchange, mt dhcpv4.MessageType, yiaddr netip.Addr, plan *boot.Plan) (*dhcpv4.DHCPv4, error) {
	n := x.net
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(n.ServerIP.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(n.Prefix.Bits(), 32))),
	}
	if yiaddr.IsValid() {
		lt := n.LeaseTime
		if lt <= 0 {
			lt = DefaultLeaseTime
		}
		mods = append(mods,
			dhcpv4.WithYourIP(yiaddr.AsSlice()),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(lt)),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(lt/2)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(lt*7/8)),
		)
	}
	if n.Gateway.IsValid() {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptRouter(n.Gateway.AsSlice())))
	}
	if len(n.Nameservers) > 0 {
		ips := make([]net.IP, len(n.Nameservers))
		for i, a := range n.Nameservers {
			ips[i] = a.AsSlice()
		}
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDNS(ips...)))
	}
	if n.Domain != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDomainName(n.Domain)))
	}
	if x.name != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptHostName(x.name)))
	}
	if n.MTU != 0 {
		mods = append(mods, dhcpv4.WithGeneric(dhcpv4.OptionInterfaceMTU, []byte{byte(n.MTU >> 8), byte(n.MTU)}))
	}
	if file := bootfile(plan); file != "" {
		mods = append(mods,
			dhcpv4.WithServerIP(n.TFTPServer.AsSlice()),
			dhcpv4.WithOption(dhcpv4.OptBootFileName(file)),
		)
		switch {
		case plan.Action == boot.ActionLoaderHTTP:
			mods = append(mods, dhcpv4.WithOption(dhcpv4.OptClassIdentifier(boot.VendorHTTPClient)))
		case plan.Action == boot.ActionScript:
			mods = append(mods, dhcpv4.WithGeneric(optIPXEEncap, []byte{optIPXENoPXE, 1, 1}))
		case strings.HasPrefix(x.client.VendorClass, boot.VendorPXEClient):
			mods = append(mods,
				dhcpv4.WithOption(dhcpv4.OptClassIdentifier(boot.VendorPXEClient)),
				dhcpv4.WithGeneric(dhcpv4.OptionVendorSpecificInformation, []byte{optPXEDiscCtrl, 1, 8, 255}),
			)
		}
	}
	resp, err := dhcpv4.NewReplyFromRequest(x.req, mods...)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", mt, err)
	}
	if file := bootfile(plan); file != "" && len(file) < 128 {
		resp.BootFileName = file
	}
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
