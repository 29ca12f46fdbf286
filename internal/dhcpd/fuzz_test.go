package dhcpd

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// FuzzHandle feeds arbitrary bytes through dhcpv4.FromBytes into Handle on
// a normal and on a ProxyDHCP network and into HandleProxy: it must never
// panic, never reply to anything but a well-formed BOOTREQUEST from an
// Ethernet client, every reply must serialise and parse again, and in
// ProxyDHCP mode no reply carries an address and no lease is written.
func FuzzHandle(f *testing.F) {
	seeds := [][]dhcpv4.Modifier{nil, biosPXE, uefiPXE, httpClient, ipxe, relayed, {guid}}
	for _, mac := range []net.HardwareAddr{macCN1, macCN2, macOffline, macUnknown} {
		for _, s := range seeds {
			f.Add(discover(f, mac, s...).ToBytes())
			f.Add(request(f, mac, "198.18.0.11", s...).ToBytes())
			f.Add(request(f, mac, "198.18.0.100", s...).ToBytes())
			f.Add(proxyRequest(f, mac, "198.18.0.77", s...).ToBytes())
		}
	}
	inform, err := dhcpv4.NewInform(macUnknown, net.ParseIP("198.18.0.50"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(inform.ToBytes())
	f.Add(request(f, macUnknown, "198.18.0.100", dhcpv4.WithMessageType(dhcpv4.MessageTypeDecline)).ToBytes())
	f.Add(request(f, macUnknown, "198.18.0.100", dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease), dhcpv4.WithClientIP(net.ParseIP("198.18.0.100"))).ToBytes())
	f.Add([]byte{})
	f.Add([]byte("garbage"))

	lab, shared := labNetwork(f), proxyNetwork(f)
	type target struct {
		name  string
		proxy bool
		run   func(h *Handler, req *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, error)
	}
	targets := []target{
		{"lab", false, func(h *Handler, req *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, error) { return h.Handle(req, lab) }},
		{"proxydhcp-67", true, func(h *Handler, req *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, error) { return h.Handle(req, shared) }},
		{"proxydhcp-4011", true, func(h *Handler, req *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, error) { return h.HandleProxy(req, shared) }},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		for _, tg := range targets {
			h := newHandler(t, nil)
			if tg.proxy {
				h.Networks = []Network{shared}
			}
			for range 2 { // twice: the second sees the lease the first wrote
				resp, err := tg.run(h, req)
				if err != nil {
					t.Fatalf("%s: Handle: %v", tg.name, err)
				}
				if tg.proxy {
					if l := h.Leases.(*MemoryLeases).All(); len(l) != 0 {
						t.Fatalf("%s: proxydhcp wrote leases %+v", tg.name, l)
					}
				}
				if resp == nil {
					continue
				}
				if req.OpCode != dhcpv4.OpcodeBootRequest || req.HWType != iana.HWTypeEthernet || len(req.ClientHWAddr) != 6 ||
					req.MessageType() == dhcpv4.MessageTypeNone {
					t.Fatalf("%s: reply to garbage: %s", tg.name, req.Summary())
				}
				if resp.OpCode != dhcpv4.OpcodeBootReply || resp.TransactionID != req.TransactionID {
					t.Fatalf("%s: reply is not a BOOTREPLY to the request: %s", tg.name, resp.Summary())
				}
				if tg.proxy && (!resp.YourIPAddr.IsUnspecified() || resp.Options.Has(dhcpv4.OptionIPAddressLeaseTime)) {
					t.Fatalf("%s: proxydhcp reply gives an address: %s", tg.name, resp.Summary())
				}
				if _, err := dhcpv4.FromBytes(resp.ToBytes()); err != nil {
					t.Fatalf("%s: reply does not parse: %v", tg.name, err)
				}
			}
		}
	})
}
