package dhcpd

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"drover.dev/drover/internal/boot"
)

// Replies are built field by field rather than through dhcpv4.New: New
// draws a random transaction ID under a context with a timer, only for
// the reply to overwrite it, and its modifiers allocate per option.

// newReply starts a BOOTREPLY of type mt to req, as
// dhcpv4.NewReplyFromRequest does: xid, flags, chaddr and giaddr copied,
// relay agent information (82) and client identifier (61) echoed. It
// shares no memory with req.
func newReply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType) *dhcpv4.DHCPv4 {
	r := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootReply,
		HWType:        req.HWType,
		TransactionID: req.TransactionID,
		Flags:         req.Flags,
		ClientHWAddr:  slices.Clone(req.ClientHWAddr),
		ClientIPAddr:  net.IPv4zero,
		YourIPAddr:    net.IPv4zero,
		ServerIPAddr:  net.IPv4zero,
		GatewayIPAddr: slices.Clone(req.GatewayIPAddr),
		Options:       make(dhcpv4.Options, 16),
	}
	if r.GatewayIPAddr == nil {
		r.GatewayIPAddr = net.IPv4zero
	}
	r.Options[dhcpv4.OptionDHCPMessageType.Code()] = []byte{byte(mt)}
	for _, c := range []dhcpv4.OptionCode{dhcpv4.OptionRelayAgentInformation, dhcpv4.OptionClientIdentifier} {
		if v := req.Options.Get(c); v != nil {
			r.Options[c.Code()] = slices.Clone(v)
		}
	}
	return r
}

func setOpt(r *dhcpv4.DHCPv4, c dhcpv4.OptionCode, v []byte) { r.Options[c.Code()] = v }

func ip4(a netip.Addr) []byte {
	b := a.As4()
	return b[:]
}

func seconds(d time.Duration) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(d/time.Second))
}

func ip4list(as []netip.Addr) []byte {
	b := make([]byte, 0, 4*len(as))
	for _, a := range as {
		v := a.As4()
		b = append(b, v[:]...)
	}
	return b
}

// reply builds an OFFER or ACK giving yiaddr (zero for an INFORM's ACK,
// which carries no lease).
func (h *Handler) reply(x *exchange, mt dhcpv4.MessageType, yiaddr netip.Addr, plan *boot.Plan) *dhcpv4.DHCPv4 {
	n := x.net
	r := newReply(x.req, mt)
	setOpt(r, dhcpv4.OptionServerIdentifier, ip4(n.ServerIP))
	setOpt(r, dhcpv4.OptionSubnetMask, net.CIDRMask(n.Prefix.Bits(), 32))
	if yiaddr.IsValid() {
		lt := n.LeaseTime
		if lt <= 0 {
			lt = DefaultLeaseTime
		}
		r.YourIPAddr = net.IP(ip4(yiaddr))
		setOpt(r, dhcpv4.OptionIPAddressLeaseTime, seconds(lt))
		setOpt(r, dhcpv4.OptionRenewTimeValue, seconds(lt/2))
		setOpt(r, dhcpv4.OptionRebindingTimeValue, seconds(lt*7/8))
	}
	if n.Gateway.IsValid() {
		setOpt(r, dhcpv4.OptionRouter, ip4(n.Gateway))
	}
	if len(n.Nameservers) > 0 {
		setOpt(r, dhcpv4.OptionDomainNameServer, ip4list(n.Nameservers))
	}
	if n.Domain != "" {
		setOpt(r, dhcpv4.OptionDomainName, []byte(n.Domain))
	}
	if x.name != "" {
		setOpt(r, dhcpv4.OptionHostName, []byte(x.name))
	}
	if n.MTU != 0 {
		setOpt(r, dhcpv4.OptionInterfaceMTU, []byte{byte(n.MTU >> 8), byte(n.MTU)})
	}
	if file := bootfile(plan); file != "" {
		r.ServerIPAddr = net.IP(ip4(n.TFTPServer))
		setOpt(r, dhcpv4.OptionBootfileName, []byte(file))
		if len(file) < 128 {
			r.BootFileName = file
		}
		switch {
		case plan.Action == boot.ActionLoaderHTTP:
			setOpt(r, dhcpv4.OptionClassIdentifier, []byte(boot.VendorHTTPClient))
		case plan.Action == boot.ActionScript:
			setOpt(r, optIPXEEncap, []byte{optIPXENoPXE, 1, 1})
		case strings.HasPrefix(x.client.VendorClass, boot.VendorPXEClient):
			setOpt(r, dhcpv4.OptionClassIdentifier, []byte(boot.VendorPXEClient))
			setOpt(r, dhcpv4.OptionVendorSpecificInformation, []byte{optPXEDiscCtrl, 1, 8, 255})
		}
	}
	return r
}

// nak refuses x's request for ip with reason.
func (h *Handler) nak(x *exchange, ip netip.Addr, reason string) (*dhcpv4.DHCPv4, error) {
	r := newReply(x.req, dhcpv4.MessageTypeNak)
	setOpt(r, dhcpv4.OptionServerIdentifier, ip4(x.net.ServerIP))
	setOpt(r, dhcpv4.OptionMessage, []byte(reason))
	if x.base.Relay.IsValid() {
		r.SetBroadcast()
	}
	x.event(EventNak, ip, reason)
	return r, nil
}

// proxyReply builds a ProxyDHCP OFFER or ACK (PXE 2.1 §2.2): no yiaddr, no
// network options, the server identifier, next-server and boot file,
// option 60 naming the client type, PXE_DISCOVERY_CONTROL "boot the file
// given" for PXE firmware, and the client's GUID (option 97) echoed.
func (h *Handler) proxyReply(x *exchange, mt dhcpv4.MessageType, plan *boot.Plan) *dhcpv4.DHCPv4 {
	n := x.net
	r := newReply(x.req, mt)
	file := bootfile(plan)
	class := boot.VendorPXEClient
	if plan.Action == boot.ActionLoaderHTTP {
		class = boot.VendorHTTPClient
	}
	setOpt(r, dhcpv4.OptionServerIdentifier, ip4(n.ServerIP))
	r.ServerIPAddr = net.IP(ip4(n.TFTPServer))
	setOpt(r, dhcpv4.OptionClassIdentifier, []byte(class))
	setOpt(r, dhcpv4.OptionBootfileName, []byte(file))
	if len(file) < 128 {
		r.BootFileName = file
	}
	if plan.Action == boot.ActionLoaderTFTP {
		setOpt(r, dhcpv4.OptionVendorSpecificInformation, []byte{optPXEDiscCtrl, 1, 8, 255})
	}
	if guid := x.req.Options.Get(dhcpv4.OptionClientMachineIdentifier); guid != nil {
		setOpt(r, dhcpv4.OptionClientMachineIdentifier, slices.Clone(guid))
	}
	if mt == dhcpv4.MessageTypeAck {
		if ci := x.req.ClientIPAddr.To4(); ci != nil {
			r.ClientIPAddr = slices.Clone(ci)
		}
	}
	return r
}
