package dhcpd

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"

	"drover.dev/drover/internal/boot"
	"drover.dev/drover/internal/inventory"
)

// proxyNetwork is the lab network in ProxyDHCP mode, as the network
// object's proxydhcp attribute sets it.
func proxyNetwork(t testing.TB) Network {
	t.Helper()
	obj := inventory.Object{Type: inventory.Network, Name: "shared", Attrs: map[string]string{
		"net": "198.18.0.0", "mask": "255.255.255.0", "mgtifname": "br0", "gateway": "198.18.0.254",
		"nameservers": "198.18.0.254", "proxydhcp": "yes",
	}}
	n, err := NetworkFromObject(obj, inventory.Resolved{"domain": "cluster.lab"}, netip.MustParseAddr("198.18.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !n.Proxy {
		t.Fatal("proxydhcp=yes did not set Network.Proxy")
	}
	return n
}

// proxyRequest is what a PXE client sends to ProxyPort after taking the
// real server's address: a REQUEST from its new address.
func proxyRequest(t testing.TB, mac net.HardwareAddr, ciaddr string, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	mods = append([]dhcpv4.Modifier{
		dhcpv4.WithHwAddr(mac),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(net.ParseIP(ciaddr)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP("198.18.0.1"))),
	}, mods...)
	p, err := dhcpv4.New(mods...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var guid = dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier,
	[]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00})

// TestProxy: on a ProxyDHCP network (port 67) and on ProxyPort drover
// answers only network boot clients, with boot options and never an
// address, network options or a lease.
func TestProxy(t *testing.T) {
	handle := (*Handler).Handle
	port4011 := (*Handler).HandleProxy
	discoverTarget := boot.Target{Kernel: "/srv/discover/vmlinuz", Initrds: []string{"/srv/discover/initrd"}}
	tests := []struct {
		name     string
		handle   func(*Handler, *dhcpv4.DHCPv4, Network) (*dhcpv4.DHCPv4, error)
		discover bool // boot.Settings.Discover configured
		req      func(t *testing.T) *dhcpv4.DHCPv4
		iface    func(t testing.TB) Network
		want     *summary
		reason   string // last event's reason when there is no reply
	}{
		{"bios-pxe-offer", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, biosPXE...) }, proxyNetwork,
			&summary{Type: "OFFER", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"uefi-pxe-offer", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, uefiPXE...) }, proxyNetwork,
			&summary{Type: "OFFER", SIAddr: "198.18.0.1", File: "snponly.efi", Opt67: "snponly.efi", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"ipxe-offer-script", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, ipxe...) }, proxyNetwork,
			&summary{Type: "OFFER", SIAddr: "198.18.0.1", File: scriptURL1, Opt67: scriptURL1, Opt60: "PXEClient"}, ""},
		{"http-client-offer", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, httpClient...) }, proxyNetwork,
			&summary{Type: "OFFER", SIAddr: "198.18.0.1", File: "http://198.18.0.1:8080/boot/loader/snponly.efi",
				Opt67: "http://198.18.0.1:8080/boot/loader/snponly.efi", Opt60: "HTTPClient"}, ""},
		{"plain-client-ignored", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1) }, proxyNetwork,
			nil, "proxydhcp: not a network boot client"},
		{"arch-without-pxeclient-ignored", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return discover(t, macCN1, biosPXE[0])
		}, proxyNetwork, nil, "proxydhcp: not a network boot client"},
		{"request-on-67-ignored", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, macCN1, "198.18.0.77", cat(biosPXE, []dhcpv4.Modifier{dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP("198.18.0.254")))})...)
		}, proxyNetwork, nil, "proxydhcp: network shared leaves addresses to another DHCP server"},
		{"inform-on-67-ignored", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return proxyRequest(t, macCN1, "198.18.0.77", cat(biosPXE, []dhcpv4.Modifier{dhcpv4.WithMessageType(dhcpv4.MessageTypeInform)})...)
		}, proxyNetwork, nil, "proxydhcp: INFORM is not answered on port 67 of proxydhcp network shared"},
		{"offline-node-no-reply", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macOffline, biosPXE...) }, proxyNetwork,
			nil, "node is offline"},
		{"unknown-mac-no-discovery-ignored", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown, biosPXE...) }, proxyNetwork,
			nil, "proxydhcp: no boot file: unknown mac, discovery not configured"},
		{"unknown-mac-discovery", handle, true, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown, biosPXE...) }, proxyNetwork,
			&summary{Type: "OFFER", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"boot-decision-error-ignored", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macBroken, biosPXE...) }, proxyNetwork,
			nil, "proxydhcp: no boot file: boot decision failed"},
		{"relayed-proxy-network", handle, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return discover(t, macCN1, cat(biosPXE, []dhcpv4.Modifier{dhcpv4.WithRelay(net.ParseIP("198.18.0.254"))})...)
		}, func(testing.TB) Network { return Network{} },
			&summary{Type: "OFFER", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"4011-bios-ack", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 { return proxyRequest(t, macCN1, "198.18.0.77", biosPXE...) }, proxyNetwork,
			&summary{Type: "ACK", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"4011-ipxe-ack-script", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 { return proxyRequest(t, macCN1, "198.18.0.77", ipxe...) }, proxyNetwork,
			&summary{Type: "ACK", SIAddr: "198.18.0.1", File: scriptURL1, Opt67: scriptURL1, Opt60: "PXEClient"}, ""},
		{"4011-inform-ack", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return proxyRequest(t, macCN1, "198.18.0.77", cat(uefiPXE, []dhcpv4.Modifier{dhcpv4.WithMessageType(dhcpv4.MessageTypeInform)})...)
		}, proxyNetwork, &summary{Type: "ACK", SIAddr: "198.18.0.1", File: "snponly.efi", Opt67: "snponly.efi", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"4011-non-proxy-network-answers-boot-only", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return proxyRequest(t, macCN1, "198.18.0.11", biosPXE...)
		}, labNetwork, &summary{Type: "ACK", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"4011-network-by-client-address", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 {
			return proxyRequest(t, macCN1, "10.20.0.50", biosPXE...)
		}, proxyNetwork, &summary{Type: "ACK", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff"}, ""},
		{"4011-discover-ignored", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, biosPXE...) }, proxyNetwork,
			nil, "proxydhcp: DISCOVER is not answered on port 4011"},
		{"4011-plain-client-ignored", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 { return proxyRequest(t, macCN1, "198.18.0.77") }, proxyNetwork,
			nil, "proxydhcp: not a network boot client"},
		{"4011-no-network", port4011, false, func(t *testing.T) *dhcpv4.DHCPv4 { return proxyRequest(t, macCN1, "192.168.7.7", biosPXE...) },
			func(testing.TB) Network { return Network{} }, nil, "receiving interface has no network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []Event
			h := newHandler(t, &events)
			h.Networks = []Network{proxyNetwork(t), remoteNetwork(t)}
			if tt.discover {
				h.Boot.Discover = discoverTarget
			}
			req := tt.req(t)
			resp, err := tt.handle(h, req, tt.iface(t))
			if err != nil {
				t.Fatalf("handle: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(resp)); diff != "" {
				t.Errorf("reply (-want +got):\n%s\nevents: %+v", diff, events)
			}
			if l := h.Leases.(*MemoryLeases).All(); len(l) != 0 {
				t.Errorf("proxydhcp wrote leases %+v", l)
			}
			if len(events) == 0 {
				t.Fatal("no events")
			}
			last := events[len(events)-1]
			if resp == nil {
				if last.Kind != EventIgnored || last.Reason != tt.reason {
					t.Errorf("last event %s %q, want %s %q", last.Kind, last.Reason, EventIgnored, tt.reason)
				}
				return
			}
			if last.Bootfile != resp.BootFileNameOption() || last.IP.IsValid() || last.Reason != "" {
				t.Errorf("last event %+v", last)
			}
			for _, o := range []dhcpv4.OptionCode{dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer,
				dhcpv4.OptionDomainName, dhcpv4.OptionHostName, dhcpv4.OptionIPAddressLeaseTime, optIPXEEncap} {
				if resp.Options.Has(o) {
					t.Errorf("proxydhcp reply carries option %s", o)
				}
			}
			if got := resp.ServerIdentifier().String(); got != "198.18.0.1" {
				t.Errorf("server identifier %s", got)
			}
			if !req.ClientIPAddr.Equal(resp.ClientIPAddr) && resp.MessageType() == dhcpv4.MessageTypeAck {
				t.Errorf("ack ciaddr %s, want %s", resp.ClientIPAddr, req.ClientIPAddr)
			}
			if _, err := dhcpv4.FromBytes(resp.ToBytes()); err != nil {
				t.Errorf("reply does not parse: %v", err)
			}
		})
	}
}

// TestProxyEchoesGUID: option 97 (client machine identifier) comes back.
func TestProxyEchoesGUID(t *testing.T) {
	h := newHandler(t, nil)
	for name, f := range map[string]func(*dhcpv4.DHCPv4, Network) (*dhcpv4.DHCPv4, error){"67": h.Handle, "4011": h.HandleProxy} {
		t.Run(name, func(t *testing.T) {
			req := discover(t, macCN1, cat(biosPXE, []dhcpv4.Modifier{guid})...)
			if name == "4011" {
				req = proxyRequest(t, macCN1, "198.18.0.77", cat(biosPXE, []dhcpv4.Modifier{guid})...)
			}
			resp, err := f(req, proxyNetwork(t))
			if err != nil || resp == nil {
				t.Fatalf("handle: %v %v", resp, err)
			}
			want := req.Options.Get(dhcpv4.OptionClientMachineIdentifier)
			if diff := cmp.Diff(want, resp.Options.Get(dhcpv4.OptionClientMachineIdentifier)); diff != "" {
				t.Errorf("option 97 (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProxyNormalNetworkUnchanged: the same handler still leases on a
// normal network while it proxies on another.
func TestProxyNormalNetworkUnchanged(t *testing.T) {
	h := newHandler(t, nil)
	h.Networks = []Network{proxyNetwork(t), remoteNetwork(t)}
	resp, err := h.Handle(discover(t, macUnknown, relayed...), proxyNetwork(t))
	if err != nil || resp == nil {
		t.Fatalf("handle: %v %v", resp, err)
	}
	if got := resp.YourIPAddr.String(); got != "10.20.0.100" {
		t.Errorf("relayed discover on a normal network offered %s, want 10.20.0.100", got)
	}
}

// commitLeases is a Leases with group commit: it counts Commit calls,
// fails them with err, and checks that the handler's lock is free.
type commitLeases struct {
	*MemoryLeases
	h       *Handler
	commits int
	err     error
	locked  bool // Commit was called with h.mu held
}

func (c *commitLeases) Commit() error {
	if c.h.mu.TryLock() {
		c.h.mu.Unlock()
	} else {
		c.locked = true
	}
	c.commits++
	return c.err
}

func TestCommit(t *testing.T) {
	lab := labNetwork(t)
	type step struct {
		req     func(t *testing.T) *dhcpv4.DHCPv4
		commits int // total after the step
	}
	tests := []struct {
		name  string
		proxy bool
		steps []step
	}{
		{"dora-release", false, []step{
			{func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown) }, 1},
			{func(t *testing.T) *dhcpv4.DHCPv4 { return request(t, macUnknown, "198.18.0.100") }, 2},
			{func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown) }, 2}, // lease already holds it
			{func(t *testing.T) *dhcpv4.DHCPv4 {
				return request(t, macUnknown, "198.18.0.100", dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease), dhcpv4.WithClientIP(net.ParseIP("198.18.0.100")))
			}, 3},
		}},
		{"no-write-no-commit", false, []step{
			{func(t *testing.T) *dhcpv4.DHCPv4 { return request(t, macCN1, "198.18.0.100") }, 0}, // NAK
			{func(t *testing.T) *dhcpv4.DHCPv4 {
				p, err := dhcpv4.NewInform(macUnknown, net.ParseIP("198.18.0.50"))
				if err != nil {
					t.Fatal(err)
				}
				return p
			}, 0},
			{func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macOffline, biosPXE...) }, 0},
			{func(t *testing.T) *dhcpv4.DHCPv4 {
				return request(t, macOther, "198.18.0.100", dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease), dhcpv4.WithClientIP(net.ParseIP("198.18.0.100")))
			}, 0},
		}},
		{"proxy-never-commits", true, []step{
			{func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, biosPXE...) }, 0},
			{func(t *testing.T) *dhcpv4.DHCPv4 { return proxyRequest(t, macCN1, "198.18.0.77", biosPXE...) }, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, nil)
			c := &commitLeases{MemoryLeases: h.Leases.(*MemoryLeases), h: h}
			h.Leases = c
			iface := lab
			if tt.proxy {
				iface = proxyNetwork(t)
			}
			for i, s := range tt.steps {
				f := h.Handle
				if tt.proxy && i == 1 {
					f = h.HandleProxy
				}
				if _, err := f(s.req(t), iface); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if c.commits != s.commits {
					t.Errorf("after step %d: %d commits, want %d", i, c.commits, s.commits)
				}
			}
			if c.locked {
				t.Error("Commit called with the handler's lock held")
			}
		})
	}
}

// TestCommitFails: a failed commit means no reply, the error, and an
// EventError in place of the offer or ack.
func TestCommitFails(t *testing.T) {
	for _, mt := range []string{"discover", "request"} {
		t.Run(mt, func(t *testing.T) {
			var events []Event
			h := newHandler(t, &events)
			fail := fmt.Errorf("disk full")
			h.Leases = &commitLeases{MemoryLeases: h.Leases.(*MemoryLeases), h: h, err: fail}
			req := discover(t, macCN1, biosPXE...)
			if mt == "request" {
				req = request(t, macCN1, "198.18.0.11", biosPXE...)
			}
			resp, err := h.Handle(req, labNetwork(t))
			if resp != nil || err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("Handle = %v, %v; want no reply and the commit error", resp, err)
			}
			var kinds []EventKind
			for _, e := range events {
				kinds = append(kinds, e.Kind)
			}
			first := EventDiscover
			if mt == "request" {
				first = EventRequest
			}
			if diff := cmp.Diff([]EventKind{first, EventError}, kinds); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if last := events[len(events)-1]; last.IP != netip.MustParseAddr("198.18.0.11") || !strings.Contains(last.Reason, "lease not stored: disk full") {
				t.Errorf("error event %+v", last)
			}
		})
	}
}

// countLeases counts ByIP lookups.
type countLeases struct {
	*MemoryLeases
	byIP int
}

func (c *countLeases) ByIP(ip netip.Addr) (Lease, bool) {
	c.byIP++
	return c.MemoryLeases.ByIP(ip)
}

// TestPoolCursor: the pool search resumes after the last address handed
// out and wraps to reuse freed addresses; a full range is not searched
// again until something frees up.
func TestPoolCursor(t *testing.T) {
	now := t0
	h := newHandler(t, nil)
	h.Now = func() time.Time { return now }
	h.Nodes = nil
	c := &countLeases{MemoryLeases: h.Leases.(*MemoryLeases)}
	h.Leases = c
	lab := labNetwork(t) // pool .100-.102
	mac := func(i int) net.HardwareAddr { return net.HardwareAddr{0x52, 0x54, 0, 0x55, 0, byte(i)} }
	dora := func(i int) string {
		t.Helper()
		offer, err := h.Handle(discover(t, mac(i)), lab)
		if err != nil {
			t.Fatal(err)
		}
		if offer == nil {
			return ""
		}
		if ack, err := h.Handle(request(t, mac(i), offer.YourIPAddr.String()), lab); err != nil || ack.MessageType() != dhcpv4.MessageTypeAck {
			t.Fatalf("request: %v %v", ack, err)
		}
		return offer.YourIPAddr.String()
	}
	var got []string
	for i := range 3 {
		got = append(got, dora(i))
	}
	// Free .100 (behind the cursor): the next client still gets it, on wrap.
	rel := request(t, mac(0), "198.18.0.100", dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease), dhcpv4.WithClientIP(net.ParseIP("198.18.0.100")))
	if _, err := h.Handle(rel, lab); err != nil {
		t.Fatal(err)
	}
	got = append(got, dora(3))
	if diff := cmp.Diff([]string{"198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.0.100"}, got); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	// Full now: one search, then none until the hold ends.
	if a := dora(4); a != "" {
		t.Fatalf("full pool offered %s", a)
	}
	before := c.byIP
	if a := dora(5); a != "" {
		t.Fatalf("full pool offered %s", a)
	}
	if c.byIP != before {
		t.Errorf("full pool searched again at once: %d ByIP lookups", c.byIP-before)
	}
	now = now.Add(fullScanHold)
	if a := dora(5); a != "" {
		t.Fatalf("full pool offered %s", a)
	}
	if c.byIP == before {
		t.Error("full pool not searched again after the hold")
	}
	// A release ends the hold at once.
	rel = request(t, mac(2), "198.18.0.102", dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease), dhcpv4.WithClientIP(net.ParseIP("198.18.0.102")))
	if _, err := h.Handle(rel, lab); err != nil {
		t.Fatal(err)
	}
	if a := dora(6); a != "198.18.0.102" {
		t.Errorf("after release offered %q, want 198.18.0.102", a)
	}
}
