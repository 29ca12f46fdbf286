package netboot

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/dhcpd"
	"drover.dev/drover/internal/httpboot"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/tftpd"
)

func TestEventConversion(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	m, _ := net.ParseMAC("52:54:00:18:00:11")
	who := func(ip netip.Addr) (string, string) {
		if ip == netip.MustParseAddr("198.18.0.11") {
			return "cn1", "52:54:00:18:00:11"
		}
		return "", ""
	}
	tests := []struct {
		name string
		got  store.BootEvent
		want store.BootEvent
	}{
		{"dhcp ack with token and relay", dhcpEvent(dhcpd.Event{Time: t0, Kind: dhcpd.EventAck, MAC: m, Node: "cn1", Network: "lab",
			IP: netip.MustParseAddr("198.18.0.11"), Relay: netip.MustParseAddr("198.19.0.1"), Arch: "efi-x86_64",
			Bootfile: "http://198.18.0.1/boot/script/52-54-00-18-00-11?token=SECRET", RelayInfo: []byte{1, 2}}),
			store.BootEvent{Time: t0, Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "dhcp-ack", Remote: "198.19.0.1",
				Detail: "ip=198.18.0.11 network=lab arch=efi-x86_64 bootfile=http://198.18.0.1/boot/script/52-54-00-18-00-11?token=REDACTED relay=198.19.0.1 option82=0102"}},
		{"tftp refusal", tftpEvent(tftpd.Event{Time: t0, Op: tftpd.OpRead, Client: netip.MustParseAddrPort("198.18.0.11:2070"),
			Path: "../../etc/passwd", Err: errors.New("outside the root")}, who),
			store.BootEvent{Time: t0, Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "tftp-read", Remote: "198.18.0.11:2070",
				Detail: "file=../../etc/passwd bytes=0 ms=0", Reason: "outside the root"}},
		{"http report", httpEvent(httpboot.Event{Time: t0, Kind: httpboot.KindReport, Node: "cn1", MAC: m,
			Remote: netip.MustParseAddrPort("198.18.0.11:40000"), Path: "/boot/report/52-54-00-18-00-11", Status: 204,
			Detail: "stage booted ip 198.18.0.11"}, who),
			store.BootEvent{Time: t0, Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "http-report", Remote: "198.18.0.11:40000",
				Detail: "stage booted ip 198.18.0.11"}},
		{"http file of a leased client", httpEvent(httpboot.Event{Time: t0, Kind: httpboot.KindFile,
			Remote: netip.MustParseAddrPort("198.18.0.11:40001"), Path: "/boot/files/srv/vmlinuz", Status: 200, Bytes: 42}, who),
			store.BootEvent{Time: t0, Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "http-file", Remote: "198.18.0.11:40001",
				Detail: "path=/boot/files/srv/vmlinuz status=200 bytes=42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDHCPEventFilter: plain DHCP clients no node claims are logged by
// outcome only, unless they network booted (sent an architecture) lately.
func TestDHCPEventFilter(t *testing.T) {
	rt := &runtime{rec: newRecorder(nil, nil)}
	rt.booters.seen = map[string]time.Time{}
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	plain, _ := net.ParseMAC("52:54:00:00:00:01")
	booter, _ := net.ParseMAC("52:54:00:00:00:02")
	steps := []dhcpd.EventKind{dhcpd.EventDiscover, dhcpd.EventOffer, dhcpd.EventRequest, dhcpd.EventAck}
	for _, k := range steps {
		rt.dhcpEvent(dhcpd.Event{Time: t0, Kind: k, MAC: plain})
		rt.dhcpEvent(dhcpd.Event{Time: t0, Kind: k, MAC: booter, Arch: "bios"})
		rt.dhcpEvent(dhcpd.Event{Time: t0, Kind: k, MAC: plain, Node: "cn1"})
	}
	for _, k := range steps { // the booter's OS, later, without an architecture
		rt.dhcpEvent(dhcpd.Event{Time: t0.Add(time.Minute), Kind: k, MAC: booter})
	}
	rt.dhcpEvent(dhcpd.Event{Time: t0, Kind: dhcpd.EventIgnored, MAC: plain, Reason: "pool exhausted"})
	rt.dhcpEvent(dhcpd.Event{Time: t0.Add(2 * time.Hour), Kind: dhcpd.EventDiscover, MAC: booter})
	got := map[string]int{}
	for len(rt.rec.ch) > 0 {
		e := <-rt.rec.ch
		got[e.MAC+" "+e.Node]++
	}
	want := map[string]int{
		"52:54:00:00:00:01 ":    2, // ack + the refusal
		"52:54:00:00:00:02 ":    8, // all four, twice
		"52:54:00:00:00:01 cn1": 4,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded events per client (-want +got):\n%s", diff)
	}
}
