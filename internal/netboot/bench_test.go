package netboot

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"drover.dev/drover/internal/dhcpd"
)

// BenchmarkDORAStore measures what a DHCP server costs per new client with
// the daemon's real plumbing: the handler over store-backed leases (SQLite,
// group commit, durable before the reply) with every event recorded, run
// from many goroutines as the server's workers do. Figures, not assertions:
// bench/netboot.sh compares the whole server with Kea.
func BenchmarkDORAStore(b *testing.B) {
	st := openStore(b, b.TempDir())
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	ls, err := loadLeases(context.Background(), st, log)
	if err != nil {
		b.Fatal(err)
	}
	rec := newRecorder(st, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { ls.run(ctx); done <- struct{}{} }()
	go func() { rec.run(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()

	n := dhcpd.Network{Name: "bench", Prefix: netip.MustParsePrefix("198.19.0.0/16"), ServerIP: netip.MustParseAddr("198.19.0.1"),
		TFTPServer: netip.MustParseAddr("198.19.0.1"), RangeStart: netip.MustParseAddr("198.19.1.0"),
		RangeEnd: netip.MustParseAddr("198.19.255.254"), LeaseTime: time.Hour}
	h := &dhcpd.Handler{Nodes: nodes{st}, Leases: ls, Networks: []dhcpd.Network{n},
		Events: func(e dhcpd.Event) { rec.add(dhcpEvent(e)) }}
	var next atomic.Uint32
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			mac := net.HardwareAddr{0x52, 0x54, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
			disc, _ := dhcpv4.NewDiscovery(mac)
			offer, err := h.Handle(disc, n)
			if err != nil || offer == nil {
				b.Errorf("discover: %v %v", offer, err)
				return
			}
			req, _ := dhcpv4.NewRequestFromOffer(offer)
			ack, err := h.Handle(req, n)
			if err != nil || ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
				b.Errorf("request: %v %v", ack, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "DORA/s")
	b.ReportMetric(float64(rec.dropped.Load()), "events-dropped")
}
