package dhcpd

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestServerLoopback runs Server over a loopback UDP socket handed in as
// Conn: a DISCOVER sent to it gets an OFFER back, and cancelling the
// context stops Serve cleanly.
func TestServerLoopback(t *testing.T) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, nil)
	h.Now = nil
	s := &Server{Interface: "lo", Network: labNetwork(t), Handler: h, Conn: conn}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	client, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	exchangeOffer(t, client, conn.LocalAddr())
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}

// exchangeOffer sends a PXE DISCOVER for cn1 to server and checks the OFFER.
func exchangeOffer(t *testing.T, client net.PacketConn, server net.Addr) {
	t.Helper()
	req := discover(t, macCN1, biosPXE...)
	if _, err := client.WriteTo(req.ToBytes(), server); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	if err := client.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, _, err := client.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	resp, err := dhcpv4.FromBytes(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if resp.MessageType() != dhcpv4.MessageTypeOffer || resp.YourIPAddr.String() != "198.18.0.11" ||
		resp.TransactionID != req.TransactionID || resp.BootFileName != "undionly.kpxe" {
		t.Errorf("reply %s", resp.Summary())
	}
}

// TestServerProxyPort runs Server on ProxyPort: a PXE client's unicast
// REQUEST gets an ACK with the boot file and no address, sent back to the
// client's own address and port. "conn" hands in a loopback socket;
// "bind" lets Serve open ServerIP:4011 itself (ServerIP 127.0.0.1).
func TestServerProxyPort(t *testing.T) {
	for _, mode := range []string{"conn", "bind"} {
		t.Run(mode, func(t *testing.T) {
			h := newHandler(t, nil)
			h.Now = nil
			n := proxyNetwork(t)
			s := &Server{Interface: "lo", Network: n, Handler: h, Port: ProxyPort}
			server := net.Addr(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ProxyPort})
			if mode == "conn" {
				conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				s.Conn, server = conn, conn.LocalAddr()
			} else {
				s.Network.ServerIP = netip.MustParseAddr("127.0.0.1")
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx) }()

			client, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			req := proxyRequest(t, macCN1, "127.0.0.1", biosPXE...)
			buf := make([]byte, 1500)
			var resp *dhcpv4.DHCPv4
			// Serve may not have bound its socket yet: resend until answered.
			for i := 0; resp == nil && i < 40; i++ {
				if _, err := client.WriteTo(req.ToBytes(), server); err != nil {
					t.Fatal(err)
				}
				if err := client.SetReadDeadline(time.Now().Add(250 * time.Millisecond)); err != nil {
					t.Fatal(err)
				}
				if k, _, err := client.ReadFrom(buf); err == nil {
					if resp, err = dhcpv4.FromBytes(buf[:k]); err != nil {
						t.Fatal(err)
					}
				}
			}
			if resp == nil {
				t.Fatal("no reply from the proxydhcp port")
			}
			if resp.MessageType() != dhcpv4.MessageTypeAck || !resp.YourIPAddr.IsUnspecified() || resp.BootFileName != "undionly.kpxe" ||
				resp.ClassIdentifier() != "PXEClient" || resp.TransactionID != req.TransactionID {
				t.Errorf("reply %s", resp.Summary())
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve after cancel: %v", err)
			}
		})
	}
}

// TestServerBadPort: only 67 and 4011 are served.
func TestServerBadPort(t *testing.T) {
	s := &Server{Handler: newHandler(t, nil), Network: labNetwork(t), Port: 68}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("Serve on port 68 did not fail")
	}
}
