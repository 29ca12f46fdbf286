package dhcpd

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// FuzzHandle feeds arbitrary bytes through dhcpv4.FromBytes into Handle:
// it must never panic, never reply to anything but a well-formed
// BOOTREQUEST from an Ethernet client, and every reply must serialise and
// parse again.
func FuzzHandle(f *testing.F) {
	seeds := [][]dhcpv4.Modifier{nil, biosPXE, uefiPXE, httpClient, ipxe, relayed}
	for _, mac := range []net.HardwareAddr{macCN1, macCN2, macOffline, macUnknown} {
		for _, s := range seeds {
			f.Add(discover(f, mac, s...).ToBytes())
			f.Add(request(f, mac, "198.18.0.11", s...).ToBytes())
			f.Add(request(f, mac, "198.18.0.100", s...).ToBytes())
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

	lab := labNetwork(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		h := newHandler(t, nil)
		for range 2 { // twice: the second sees the lease the first wrote
			resp, err := h.Handle(req, lab)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if resp == nil {
				continue
			}
			if req.OpCode != dhcpv4.OpcodeBootRequest || req.HWType != iana.HWTypeEthernet || len(req.ClientHWAddr) != 6 ||
				req.MessageType() == dhcpv4.MessageTypeNone {
				t.Fatalf("reply to garbage: %s", req.Summary())
			}
			if resp.OpCode != dhcpv4.OpcodeBootReply || resp.TransactionID != req.TransactionID {
				t.Fatalf("reply is not a BOOTREPLY to the request: %s", resp.Summary())
			}
			if _, err := dhcpv4.FromBytes(resp.ToBytes()); err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
		}
	})
}
