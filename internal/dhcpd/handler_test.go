package dhcpd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"drover.dev/drover/internal/boot"
	"drover.dev/drover/internal/inventory"
)

var (
	t0 = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

	macCN1     = mustMAC("52:54:00:18:01:01")
	macCN2     = mustMAC("52:54:00:18:01:02")
	macOffline = mustMAC("52:54:00:18:01:03")
	macBroken  = mustMAC("52:54:00:18:01:04")
	macUnknown = mustMAC("52:54:00:99:00:01")
	macOther   = mustMAC("52:54:00:99:00:02")
	macThird   = mustMAC("52:54:00:99:00:03")
	macFourth  = mustMAC("52:54:00:99:00:04")
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// fakeNodes is a Nodes over fixed maps.
type fakeNodes struct {
	nodes       map[string]inventory.Resolved
	osimages    map[string]inventory.Resolved
	boottargets map[string]inventory.Resolved
}

func (f fakeNodes) NodeByMAC(mac net.HardwareAddr) (string, inventory.Resolved, string, bool) {
	for name, n := range f.nodes {
		for _, m := range n.MACs() {
			if m.String() == mac.String() {
				return name, n, n["currstate"], true
			}
		}
	}
	return "", nil, "", false
}

func (f fakeNodes) OSImage(name string) (inventory.Resolved, bool) {
	r, ok := f.osimages[name]
	return r, ok
}

func (f fakeNodes) BootTarget(name string) (inventory.Resolved, bool) {
	r, ok := f.boottargets[name]
	return r, ok
}

func testNodes() fakeNodes {
	return fakeNodes{
		nodes: map[string]inventory.Resolved{
			"cn1": {"mac": macCN1.String(), "ip": "198.18.0.11", "currstate": "osimage img1"},
			"cn2": {"mac": macCN2.String(), "ip": "198.18.0.12", "currstate": "boot"},
			"cn3": {"mac": macOffline.String(), "ip": "198.18.0.13", "currstate": "offline"},
			"cn4": {"mac": macBroken.String(), "ip": "198.18.0.14", "currstate": "osimage gone"},
		},
		osimages: map[string]inventory.Resolved{
			"img1": {"kernel": "/srv/boot/vmlinuz", "initrd": "/srv/boot/initrd.gz", "kcmdline": "console=ttyS0"},
		},
	}
}

func labNetwork(t testing.TB) Network {
	t.Helper()
	obj := inventory.Object{Type: inventory.Network, Name: "lab", Attrs: map[string]string{
		"net": "198.18.0.0", "mask": "255.255.255.0", "mgtifname": "br0", "gateway": "<xcatmaster>",
		"dynamicrange": "198.18.0.100-198.18.0.102", "nameservers": "<xcatmaster>", "mtu": "1500",
	}}
	n, err := NetworkFromObject(obj, inventory.Resolved{"domain": "cluster.lab", "dhcplease": "3600"}, netip.MustParseAddr("198.18.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func remoteNetwork(t testing.TB) Network {
	t.Helper()
	obj := inventory.Object{Type: inventory.Network, Name: "rack2", Attrs: map[string]string{
		"net": "10.20.0.0", "mask": "24", "mgtifname": "!remote!eth0", "gateway": "10.20.0.1",
		"dynamicrange": "10.20.0.100,10.20.0.150", "nameservers": "10.20.0.2,10.20.0.3",
	}}
	n, err := NetworkFromObject(obj, inventory.Resolved{"master": "198.18.0.1", "domain": "cluster.lab"}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newHandler returns a handler over the test inventory; events are appended to *events.
func newHandler(t testing.TB, events *[]Event, leases ...Lease) *Handler {
	t.Helper()
	ls, err := NewMemoryLeases(leases...)
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{
		Nodes:    testNodes(),
		Leases:   ls,
		Networks: []Network{labNetwork(t), remoteNetwork(t)},
		Boot:     boot.Settings{HTTPPort: 8080},
		Token:    func(mac net.HardwareAddr) string { return "tok-" + mac.String()[15:] },
		Events: func(e Event) {
			if events != nil {
				*events = append(*events, e)
			}
		},
		Now: func() time.Time { return t0 },
	}
}

// Packet builders, all through the library.
func discover(t testing.TB, mac net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	p, err := dhcpv4.NewDiscovery(mac, mods...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func request(t testing.TB, mac net.HardwareAddr, ip string, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	mods = append([]dhcpv4.Modifier{
		dhcpv4.WithHwAddr(mac),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP(ip))),
	}, mods...)
	p, err := dhcpv4.New(mods...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	biosPXE = []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.INTEL_X86PC)),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
	}
	uefiPXE = []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.Arch(boot.ArchEFIx8664))),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00009:UNDI:003016")),
	}
	httpClient = []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.EFI_X86_64_HTTP)),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("HTTPClient:Arch:00016:UNDI:003001")),
	}
	ipxe = []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.INTEL_X86PC)),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
		dhcpv4.WithUserClass("iPXE", false),
	}
	relayed = []dhcpv4.Modifier{
		dhcpv4.WithRelay(net.ParseIP("10.20.0.1")),
		dhcpv4.WithOption(dhcpv4.OptRelayAgentInfo(
			dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(1), []byte("sw1/port7")),
		)),
	}
)

func cat(ms ...[]dhcpv4.Modifier) []dhcpv4.Modifier {
	var out []dhcpv4.Modifier
	for _, m := range ms {
		out = append(out, m...)
	}
	return out
}

// summary is what the tables compare of a reply.
type summary struct {
	Type     string
	YIAddr   string
	SIAddr   string
	File     string // file field
	Opt67    string
	Opt60    string
	Opt175   string
	Opt43    string
	Hostname string
	Message  string
}

func summarize(r *dhcpv4.DHCPv4) *summary {
	if r == nil {
		return nil
	}
	s := &summary{
		Type:     r.MessageType().String(),
		File:     r.BootFileName,
		Opt67:    r.BootFileNameOption(),
		Opt60:    r.ClassIdentifier(),
		Hostname: r.HostName(),
		Message:  r.Message(),
	}
	if !r.YourIPAddr.IsUnspecified() {
		s.YIAddr = r.YourIPAddr.String()
	}
	if !r.ServerIPAddr.IsUnspecified() {
		s.SIAddr = r.ServerIPAddr.String()
	}
	if v := r.Options.Get(dhcpv4.GenericOptionCode(175)); v != nil {
		s.Opt175 = fmt.Sprintf("% x", v)
	}
	if v := r.Options.Get(dhcpv4.OptionVendorSpecificInformation); v != nil {
		s.Opt43 = fmt.Sprintf("% x", v)
	}
	return s
}

const (
	scriptURL1 = "http://198.18.0.1:8080/boot/script/52-54-00-18-01-01?token=tok-01"
)

func TestHandle(t *testing.T) {
	pool := func(mac net.HardwareAddr, ip string) Lease {
		return Lease{MAC: mac, IP: netip.MustParseAddr(ip), Network: "lab", Expires: t0.Add(time.Hour), Updated: t0.Add(-time.Minute)}
	}
	tests := []struct {
		name   string
		leases []Lease
		req    func(t *testing.T) *dhcpv4.DHCPv4
		iface  func(t testing.TB) Network
		want   *summary
	}{
		{"bios-pxe", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, biosPXE...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.11", SIAddr: "198.18.0.1", File: "undionly.kpxe", Opt67: "undionly.kpxe", Opt60: "PXEClient", Opt43: "06 01 08 ff", Hostname: "cn1"}},
		{"uefi-pxe", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, uefiPXE...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.11", SIAddr: "198.18.0.1", File: "snponly.efi", Opt67: "snponly.efi", Opt60: "PXEClient", Opt43: "06 01 08 ff", Hostname: "cn1"}},
		{"uefi-http-client", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, httpClient...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.11", SIAddr: "198.18.0.1", File: "http://198.18.0.1:8080/boot/loader/snponly.efi", Opt67: "http://198.18.0.1:8080/boot/loader/snponly.efi", Opt60: "HTTPClient", Hostname: "cn1"}},
		{"ipxe-second-dhcp", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1, ipxe...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.11", SIAddr: "198.18.0.1", File: scriptURL1, Opt67: scriptURL1, Opt175: "b0 01 01", Hostname: "cn1"}},
		{"ipxe-request-ack", nil, func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, macCN1, "198.18.0.11", cat(ipxe, []dhcpv4.Modifier{dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP("198.18.0.1")))})...)
		}, labNetwork,
			&summary{Type: "ACK", YIAddr: "198.18.0.11", SIAddr: "198.18.0.1", File: scriptURL1, Opt67: scriptURL1, Opt175: "b0 01 01", Hostname: "cn1"}},
		{"plain-client-no-boot-options", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.11", Hostname: "cn1"}},
		{"node-boot-state-ipxe", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN2, ipxe...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.12", SIAddr: "198.18.0.1", File: "http://198.18.0.1:8080/boot/script/52-54-00-18-01-02?token=tok-02",
				Opt67: "http://198.18.0.1:8080/boot/script/52-54-00-18-01-02?token=tok-02", Opt175: "b0 01 01", Hostname: "cn2"}},
		{"offline-node-pxe-no-reply", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macOffline, biosPXE...) }, labNetwork, nil},
		{"offline-node-plain-client-gets-address", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macOffline) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.13", Hostname: "cn3"}},
		{"unknown-mac-pool", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown, biosPXE...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.100"}},
		{"unknown-mac-keeps-its-lease", []Lease{pool(macOther, "198.18.0.100"), pool(macUnknown, "198.18.0.101")},
			func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.101"}},
		{"expired-lease-reused", []Lease{{MAC: macOther, IP: netip.MustParseAddr("198.18.0.100"), Expires: t0.Add(-time.Second), Updated: t0.Add(-time.Hour)}},
			func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "198.18.0.100"}},
		{"pool-exhausted-no-offer", []Lease{pool(macOther, "198.18.0.100"), pool(macThird, "198.18.0.101"), pool(macFourth, "198.18.0.102")},
			func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown) }, labNetwork, nil},
		{"request-other-macs-address-nak", []Lease{pool(macOther, "198.18.0.100")},
			func(t *testing.T) *dhcpv4.DHCPv4 { return request(t, macUnknown, "198.18.0.100") }, labNetwork,
			&summary{Type: "NAK", Message: "leased to 52:54:00:99:00:02"}},
		{"request-free-pool-address-ack", nil,
			func(t *testing.T) *dhcpv4.DHCPv4 { return request(t, macUnknown, "198.18.0.102") }, labNetwork,
			&summary{Type: "ACK", YIAddr: "198.18.0.102"}},
		{"request-node-wrong-address-nak", nil,
			func(t *testing.T) *dhcpv4.DHCPv4 { return request(t, macCN1, "198.18.0.100") }, labNetwork,
			&summary{Type: "NAK", Message: "node address is 198.18.0.11"}},
		{"request-off-network-nak", nil,
			func(t *testing.T) *dhcpv4.DHCPv4 { return request(t, macUnknown, "192.168.1.5") }, labNetwork,
			&summary{Type: "NAK", Message: "address 192.168.1.5 is not on network lab"}},
		{"request-for-other-server-ignored", nil, func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, macCN1, "198.18.0.11", dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP("198.18.0.9"))))
		}, labNetwork, nil},
		{"relay-selects-network", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macUnknown, relayed...) }, labNetwork,
			&summary{Type: "OFFER", YIAddr: "10.20.0.100"}},
		{"relay-unknown-network-ignored", nil, func(t *testing.T) *dhcpv4.DHCPv4 {
			return discover(t, macUnknown, dhcpv4.WithRelay(net.ParseIP("172.16.0.1")))
		}, labNetwork, nil},
		{"no-network-on-interface", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, macCN1) },
			func(testing.TB) Network { return Network{} }, nil},
		{"inform", nil, func(t *testing.T) *dhcpv4.DHCPv4 {
			p, err := dhcpv4.NewInform(macUnknown, net.ParseIP("198.18.0.50"))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}, labNetwork, &summary{Type: "ACK"}},
		{"bootreply-ignored", nil, func(t *testing.T) *dhcpv4.DHCPv4 {
			p := discover(t, macCN1)
			p.OpCode = dhcpv4.OpcodeBootReply
			return p
		}, labNetwork, nil},
		{"bootp-without-message-type-ignored", nil, func(t *testing.T) *dhcpv4.DHCPv4 {
			p := discover(t, macCN1)
			p.Options.Del(dhcpv4.OptionDHCPMessageType)
			return p
		}, labNetwork, nil},
		{"short-hwaddr-ignored", nil, func(t *testing.T) *dhcpv4.DHCPv4 { return discover(t, net.HardwareAddr{1, 2, 3}) }, labNetwork, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []Event
			h := newHandler(t, &events, tt.leases...)
			resp, err := h.Handle(tt.req(t), tt.iface(t))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(resp)); diff != "" {
				t.Errorf("reply (-want +got):\n%s\nevents: %+v", diff, events)
			}
			if len(events) == 0 {
				t.Error("no events")
			}
			if resp == nil {
				if last := events[len(events)-1]; last.Kind != EventIgnored {
					t.Errorf("no reply but last event is %s, want %s", last.Kind, EventIgnored)
				}
				return
			}
			if _, err := dhcpv4.FromBytes(resp.ToBytes()); err != nil {
				t.Errorf("reply does not parse: %v", err)
			}
		})
	}
}

// TestReplyOptions checks the network options of an ACK.
func TestReplyOptions(t *testing.T) {
	h := newHandler(t, nil)
	resp, err := h.Handle(request(t, macCN1, "198.18.0.11"), labNetwork(t))
	if err != nil || resp == nil {
		t.Fatalf("Handle: %v, %v", resp, err)
	}
	type opts struct {
		Mask, Router, DNS, Domain, Host, ServerID string
		MTU                                       []byte
		Lease, T1, T2                             time.Duration
	}
	mask, _ := resp.SubnetMask().Size()
	got := opts{
		Mask: fmt.Sprint(mask), Router: fmt.Sprint(resp.Router()), DNS: fmt.Sprint(resp.DNS()), Domain: resp.DomainName(),
		Host: resp.HostName(), ServerID: resp.ServerIdentifier().String(), MTU: resp.Options.Get(dhcpv4.OptionInterfaceMTU),
		Lease: resp.IPAddressLeaseTime(0), T1: resp.IPAddressRenewalTime(0), T2: resp.IPAddressRebindingTime(0),
	}
	want := opts{Mask: "24", Router: "[198.18.0.1]", DNS: "[198.18.0.1]", Domain: "cluster.lab", Host: "cn1", ServerID: "198.18.0.1",
		MTU: []byte{0x05, 0xdc}, Lease: time.Hour, T1: 30 * time.Minute, T2: 3150 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

// TestDORA runs discover, offer, request, ack through the library's own
// request builder, then release, and checks the lease store and events.
func TestDORA(t *testing.T) {
	var events []Event
	h := newHandler(t, &events)
	lab := labNetwork(t)
	offer, err := h.Handle(discover(t, macUnknown, biosPXE...), lab)
	if err != nil || offer == nil {
		t.Fatalf("discover: %v %v", offer, err)
	}
	req, err := dhcpv4.NewRequestFromOffer(offer, biosPXE...)
	if err != nil {
		t.Fatal(err)
	}
	req.OpCode = dhcpv4.OpcodeBootRequest
	ack, err := h.Handle(req, lab)
	if err != nil || ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("request: %v %v", ack, err)
	}
	l, ok := h.Leases.Get(macUnknown)
	if !ok || l.IP != netip.MustParseAddr("198.18.0.100") || !l.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("lease after ack: %+v %v", l, ok)
	}
	rel, err := dhcpv4.NewReleaseFromACK(ack)
	if err != nil {
		t.Fatal(err)
	}
	rel.OpCode = dhcpv4.OpcodeBootRequest
	if resp, err := h.Handle(rel, lab); resp != nil || err != nil {
		t.Fatalf("release: %v %v", resp, err)
	}
	if _, ok := h.Leases.Get(macUnknown); ok {
		t.Error("lease still held after release")
	}
	var kinds []EventKind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{EventDiscover, EventOffer, EventRequest, EventAck, EventRelease}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestLeasesHonouredAfterRestart: leases loaded at start keep their
// addresses for their MACs, and no address goes to two MACs.
func TestLeasesHonouredAfterRestart(t *testing.T) {
	lab := labNetwork(t)
	first := newHandler(t, nil)
	macs := []net.HardwareAddr{macUnknown, macOther, macThird}
	given := map[string]string{}
	for _, m := range macs {
		offer, err := first.Handle(discover(t, m), lab)
		if err != nil || offer == nil {
			t.Fatalf("discover %s: %v %v", m, offer, err)
		}
		ack, err := first.Handle(request(t, m, offer.YourIPAddr.String()), lab)
		if err != nil || ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
			t.Fatalf("request %s: %v %v", m, ack, err)
		}
		given[m.String()] = ack.YourIPAddr.String()
	}
	saved := first.Leases.(*MemoryLeases).All()

	// "Restart": a new handler over the saved leases, clients in another order.
	var events []Event
	second := newHandler(t, &events, saved...)
	for _, m := range []net.HardwareAddr{macThird, macUnknown, macOther} {
		offer, err := second.Handle(discover(t, m), lab)
		if err != nil || offer == nil {
			t.Fatalf("discover %s after restart: %v %v", m, offer, err)
		}
		if got := offer.YourIPAddr.String(); got != given[m.String()] {
			t.Errorf("%s offered %s after restart, had %s", m, got, given[m.String()])
		}
	}
	// A new MAC finds the pool full and another MAC's address refused.
	if offer, _ := second.Handle(discover(t, macFourth), lab); offer != nil {
		t.Errorf("new mac got an offer from a full pool: %s", offer.YourIPAddr)
	}
	nak, err := second.Handle(request(t, macFourth, given[macUnknown.String()]), lab)
	if err != nil || nak == nil || nak.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("request for another mac's address: %v %v, want NAK", nak, err)
	}
	seen := map[netip.Addr]string{}
	for _, l := range second.Leases.(*MemoryLeases).All() {
		if other, ok := seen[l.IP]; ok && l.Active(t0) {
			t.Errorf("%s leased to %s and %s", l.IP, other, l.MAC)
		}
		seen[l.IP] = l.MAC.String()
	}
}

func TestRelayOption82Recorded(t *testing.T) {
	var events []Event
	h := newHandler(t, &events)
	resp, err := h.Handle(discover(t, macUnknown, relayed...), labNetwork(t))
	if err != nil || resp == nil {
		t.Fatalf("Handle: %v %v", resp, err)
	}
	want := []byte{1, 9, 's', 'w', '1', '/', 'p', 'o', 'r', 't', '7'}
	l, ok := h.Leases.Get(macUnknown)
	if !ok {
		t.Fatal("no lease")
	}
	if diff := cmp.Diff(want, l.RelayInfo); diff != "" {
		t.Errorf("lease option 82 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, resp.Options.Get(dhcpv4.OptionRelayAgentInformation)); diff != "" {
		t.Errorf("reply option 82 (-want +got):\n%s", diff)
	}
	if got := resp.GatewayIPAddr.String(); got != "10.20.0.1" {
		t.Errorf("reply giaddr %s, want 10.20.0.1", got)
	}
	if diff := cmp.Diff(want, events[0].RelayInfo); diff != "" || events[0].Relay != netip.MustParseAddr("10.20.0.1") || events[0].Network != "rack2" {
		t.Errorf("event %+v", events[0])
	}
}

func TestDecline(t *testing.T) {
	var events []Event
	h := newHandler(t, &events)
	lab := labNetwork(t)
	if _, err := h.Handle(request(t, macUnknown, "198.18.0.100"), lab); err != nil {
		t.Fatal(err)
	}
	dec := request(t, macUnknown, "198.18.0.100", dhcpv4.WithMessageType(dhcpv4.MessageTypeDecline))
	if resp, err := h.Handle(dec, lab); resp != nil || err != nil {
		t.Fatalf("decline: %v %v", resp, err)
	}
	offer, err := h.Handle(discover(t, macOther), lab)
	if err != nil || offer == nil {
		t.Fatalf("discover: %v %v", offer, err)
	}
	if got := offer.YourIPAddr.String(); got != "198.18.0.101" {
		t.Errorf("offered %s after decline of .100, want 198.18.0.101", got)
	}
}

func TestNetworkFromObject(t *testing.T) {
	site := inventory.Resolved{"master": "198.18.0.1", "domain": "site.lab", "nameservers": "9.9.9.9"}
	tests := []struct {
		name    string
		attrs   map[string]string
		want    Network
		wantErr error
	}{
		{"minimal", map[string]string{"net": "198.18.0.0", "mask": "255.255.255.0"}, Network{
			Name: "n", Prefix: netip.MustParsePrefix("198.18.0.0/24"), ServerIP: netip.MustParseAddr("198.18.0.1"),
			TFTPServer: netip.MustParseAddr("198.18.0.1"), Nameservers: []netip.Addr{netip.MustParseAddr("9.9.9.9")},
			Domain: "site.lab", LeaseTime: DefaultLeaseTime}, nil},
		{"full", map[string]string{"net": "198.18.0.0", "mask": "24", "mgtifname": "br0", "gateway": "198.18.0.254",
			"dynamicrange": "198.18.0.100-198.18.0.200", "nameservers": "<xcatmaster>,1.1.1.1", "domain": "lab", "mtu": "9000", "tftpserver": "198.18.0.5"},
			Network{Name: "n", Prefix: netip.MustParsePrefix("198.18.0.0/24"), Interface: "br0", ServerIP: netip.MustParseAddr("198.18.0.1"),
				TFTPServer: netip.MustParseAddr("198.18.0.5"), Gateway: netip.MustParseAddr("198.18.0.254"),
				RangeStart: netip.MustParseAddr("198.18.0.100"), RangeEnd: netip.MustParseAddr("198.18.0.200"),
				Nameservers: []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("1.1.1.1")}, Domain: "lab", MTU: 9000,
				LeaseTime: DefaultLeaseTime}, nil},
		{"proxydhcp", map[string]string{"net": "198.18.0.0", "mask": "24", "proxydhcp": "1", "dynamicrange": "198.18.0.100-198.18.0.200"}, Network{
			Name: "n", Prefix: netip.MustParsePrefix("198.18.0.0/24"), ServerIP: netip.MustParseAddr("198.18.0.1"),
			TFTPServer: netip.MustParseAddr("198.18.0.1"), Nameservers: []netip.Addr{netip.MustParseAddr("9.9.9.9")},
			RangeStart: netip.MustParseAddr("198.18.0.100"), RangeEnd: netip.MustParseAddr("198.18.0.200"),
			Domain: "site.lab", LeaseTime: DefaultLeaseTime, Proxy: true}, nil},
		{"proxydhcp-true", map[string]string{"net": "198.18.0.0", "mask": "24", "proxydhcp": " TRUE "}, Network{
			Name: "n", Prefix: netip.MustParsePrefix("198.18.0.0/24"), ServerIP: netip.MustParseAddr("198.18.0.1"),
			TFTPServer: netip.MustParseAddr("198.18.0.1"), Nameservers: []netip.Addr{netip.MustParseAddr("9.9.9.9")},
			Domain: "site.lab", LeaseTime: DefaultLeaseTime, Proxy: true}, nil},
		{"proxydhcp-no", map[string]string{"net": "198.18.0.0", "mask": "24", "proxydhcp": "no"}, Network{
			Name: "n", Prefix: netip.MustParsePrefix("198.18.0.0/24"), ServerIP: netip.MustParseAddr("198.18.0.1"),
			TFTPServer: netip.MustParseAddr("198.18.0.1"), Nameservers: []netip.Addr{netip.MustParseAddr("9.9.9.9")},
			Domain: "site.lab", LeaseTime: DefaultLeaseTime}, nil},
		{"bad-proxydhcp", map[string]string{"net": "198.18.0.0", "mask": "24", "proxydhcp": "maybe"}, Network{}, ErrBadAttr},
		{"bad-mask", map[string]string{"net": "198.18.0.0", "mask": "255.0.255.0"}, Network{}, ErrBadNetwork},
		{"range-outside", map[string]string{"net": "198.18.0.0", "mask": "24", "dynamicrange": "198.18.1.1-198.18.1.9"}, Network{}, ErrBadRange},
		{"range-reversed", map[string]string{"net": "198.18.0.0", "mask": "24", "dynamicrange": "198.18.0.9-198.18.0.1"}, Network{}, ErrBadRange},
		{"bad-gateway", map[string]string{"net": "198.18.0.0", "mask": "24", "gateway": "router"}, Network{}, ErrBadAttr},
		{"bad-mtu", map[string]string{"net": "198.18.0.0", "mask": "24", "mtu": "jumbo"}, Network{}, ErrBadAttr},
		{"ipv6", map[string]string{"net": "fd00::", "mask": "64"}, Network{}, ErrBadNetwork},
	}
	cmpAddr := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	cmpPrefix := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NetworkFromObject(inventory.Object{Type: inventory.Network, Name: "n", Attrs: tt.attrs}, site, netip.Addr{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr, cmpPrefix); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMemoryLeasesRefusesSecondMAC(t *testing.T) {
	ip := netip.MustParseAddr("198.18.0.100")
	_, err := NewMemoryLeases(
		Lease{MAC: macUnknown, IP: ip, Expires: t0.Add(time.Hour), Updated: t0},
		Lease{MAC: macOther, IP: ip, Expires: t0.Add(time.Hour), Updated: t0},
	)
	if !errors.Is(err, ErrAddressInUse) {
		t.Errorf("err %v, want ErrAddressInUse", err)
	}
}

// TestBootDecisionError: a node whose osimage is missing still gets its
// address, without boot options, and the failure is an event.
func TestBootDecisionError(t *testing.T) {
	var events []Event
	h := newHandler(t, &events)
	resp, err := h.Handle(discover(t, macBroken, biosPXE...), labNetwork(t))
	if err != nil || resp == nil {
		t.Fatalf("Handle: %v %v", resp, err)
	}
	if diff := cmp.Diff(&summary{Type: "OFFER", YIAddr: "198.18.0.14", Hostname: "cn4"}, summarize(resp)); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, e := range events {
		if e.Kind == EventError {
			reasons = append(reasons, e.Reason)
		}
	}
	if len(reasons) != 1 || !strings.Contains(reasons[0], "osimage not found") {
		t.Errorf("error events %q, want one about the missing osimage", reasons)
	}
}

// TestConcurrentPool: many clients at once on a small pool; every address
// goes to at most one MAC and the pool is used up exactly.
func TestConcurrentPool(t *testing.T) {
	h := newHandler(t, nil)
	h.Nodes = nil
	lab := labNetwork(t)
	lab.RangeEnd = netip.MustParseAddr("198.18.0.149") // 50 addresses
	const clients = 80
	var wg sync.WaitGroup
	acks := make(chan [2]string, clients)
	for i := range clients {
		wg.Go(func() {
			mac := net.HardwareAddr{0x52, 0x54, 0, 0x77, byte(i >> 8), byte(i)}
			offer, err := h.Handle(discover(t, mac), lab)
			if err != nil {
				t.Error(err)
				return
			}
			if offer == nil {
				return
			}
			ack, err := h.Handle(request(t, mac, offer.YourIPAddr.String()), lab)
			if err != nil {
				t.Error(err)
				return
			}
			if ack != nil && ack.MessageType() == dhcpv4.MessageTypeAck {
				acks <- [2]string{ack.YourIPAddr.String(), mac.String()}
			}
		})
	}
	wg.Wait()
	close(acks)
	owner := map[string]string{}
	for a := range acks {
		if other, ok := owner[a[0]]; ok {
			t.Errorf("%s acknowledged to %s and %s", a[0], other, a[1])
		}
		owner[a[0]] = a[1]
	}
	if len(owner) != 50 {
		t.Errorf("%d addresses acknowledged, want all 50", len(owner))
	}
}

// TestUnknownMACDiscoverySigned: an unknown MAC booting the discovery
// target gets a signed script URL (httpboot refuses unsigned ones).
func TestUnknownMACDiscoverySigned(t *testing.T) {
	h := newHandler(t, nil)
	h.Boot.Discover = boot.Target{Kernel: "/srv/discover/vmlinuz", Initrds: []string{"/srv/discover/initrd"}}
	resp, err := h.Handle(discover(t, macUnknown, ipxe...), labNetwork(t))
	if err != nil || resp == nil {
		t.Fatalf("Handle: %v, %v", resp, err)
	}
	want := "http://198.18.0.1:8080/boot/script/52-54-00-99-00-01?token=tok-01"
	if resp.BootFileName != want {
		t.Errorf("boot file %q, want %q", resp.BootFileName, want)
	}
}
