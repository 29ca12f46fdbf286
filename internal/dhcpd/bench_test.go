package dhcpd

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// benchPool is a /16 with a 60,000-address dynamic range, as in the
// perfdhcp comparison (bench/, shared/testbed/dhcp-bench.sh).
func benchPool(tb testing.TB) Network {
	n := labNetwork(tb)
	n.Name = "bench"
	n.Prefix = netip.MustParsePrefix("198.19.0.0/16")
	n.ServerIP, n.TFTPServer, n.Gateway = netip.MustParseAddr("198.19.0.1"), netip.MustParseAddr("198.19.0.1"), netip.Addr{}
	n.Nameservers = []netip.Addr{n.ServerIP}
	n.RangeStart = netip.MustParseAddr("198.19.1.0")
	end := n.RangeStart
	for range 60000 - 1 {
		end = end.Next()
	}
	n.RangeEnd = end
	// Leases last 30,000 DORAs of the benchmark clock, so the cursor finds
	// expired leases when it wraps and the pool never runs out.
	n.LeaseTime = 30 * time.Second
	return n
}

// benchClient is one simulated client's reusable packets; dora runs a
// DISCOVER and a REQUEST for the distinct MAC numbered i (Handle keeps no
// reference to a request, so the packets are rewritten each time).
type benchClient struct {
	disc, req *dhcpv4.DHCPv4
}

func newBenchClient(tb testing.TB, n Network) *benchClient {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0}
	return &benchClient{
		disc: discover(tb, mac),
		req: request(tb, mac, "0.0.0.0",
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(n.ServerIP.AsSlice()))),
	}
}

func (c *benchClient) dora(h *Handler, n Network, i uint32) error {
	for _, p := range []*dhcpv4.DHCPv4{c.disc, c.req} {
		p.ClientHWAddr[2], p.ClientHWAddr[3], p.ClientHWAddr[4], p.ClientHWAddr[5] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	}
	offer, err := h.Handle(c.disc, n)
	if err != nil || offer == nil {
		return fmt.Errorf("discover %d: %v %v", i, offer, err)
	}
	copy(c.req.Options.Get(dhcpv4.OptionRequestedIPAddress), offer.YourIPAddr.To4())
	ack, err := h.Handle(c.req, n)
	if err != nil || ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		return fmt.Errorf("request %d: %v %v", i, ack, err)
	}
	return nil
}

// benchHandler is a handler over MemoryLeases whose clock advances 1 ms
// per call, so leases expire as the benchmark runs; all MACs are unknown
// (perfdhcp's clients), events are built and discarded.
func benchHandler(tb testing.TB) *Handler {
	h := newHandler(tb, nil)
	h.Nodes = nil
	var tick atomic.Int64
	h.Now = func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Millisecond / 2) }
	return h
}

// BenchmarkHandleDORA measures Handle for one DISCOVER plus REQUEST of a
// new client (distinct MACs) on a 60,000-address pool.
func BenchmarkHandleDORA(b *testing.B) {
	h := benchHandler(b)
	n := benchPool(b)
	c := newBenchClient(b, n)
	b.ReportAllocs()
	var i uint32
	for b.Loop() {
		if err := c.dora(h, n, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkHandleDORAParallel is BenchmarkHandleDORA from GOMAXPROCS
// goroutines at once (contention on the handler's lock).
func BenchmarkHandleDORAParallel(b *testing.B) {
	h := benchHandler(b)
	n := benchPool(b)
	var next atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := newBenchClient(b, n)
		for pb.Next() {
			if err := c.dora(h, n, next.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
