package dhcpd

import (
	"context"
	"net"
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
