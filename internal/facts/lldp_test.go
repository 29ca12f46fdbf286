package facts

import (
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// lldpFrame builds an Ethernet frame carrying LLDP as lldpd sends it.
func lldpFrame(t testing.TB, chassis layers.LLDPChassisID, port layers.LLDPPortID, portDescr, sysName string) []byte {
	t.Helper()
	src := net.HardwareAddr{0x52, 0x54, 0x00, 0x18, 0xff, 0x00}
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: lldpMulticast, EthernetType: layers.EthernetTypeLinkLayerDiscovery}
	var values []layers.LinkLayerDiscoveryValue
	if portDescr != "" {
		values = append(values, layers.LinkLayerDiscoveryValue{Type: layers.LLDPTLVPortDescription, Value: []byte(portDescr), Length: uint16(len(portDescr))})
	}
	if sysName != "" {
		values = append(values, layers.LinkLayerDiscoveryValue{Type: layers.LLDPTLVSysName, Value: []byte(sysName), Length: uint16(len(sysName))})
	}
	lldp := &layers.LinkLayerDiscovery{ChassisID: chassis, PortID: port, TTL: 120, Values: values}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, lldp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeLLDP(t *testing.T) {
	mac := []byte{0x52, 0x54, 0x00, 0x18, 0xff, 0x00}
	tests := []struct {
		name    string
		frame   []byte
		want    LLDP
		wantErr error
	}{
		{
			name: "lldpd on a tap: mac chassis, ifname port",
			frame: lldpFrame(t, layers.LLDPChassisID{Subtype: layers.LLDPChassisIDSubTypeMACAddr, ID: mac},
				layers.LLDPPortID{Subtype: layers.LLDPPortIDSubtypeIfaceName, ID: []byte("tap-cn1")}, "cn1 port", "labhost"),
			want: LLDP{ChassisID: "52:54:00:18:ff:00", PortID: "tap-cn1", PortDescr: "cn1 port", SysName: "labhost"},
		},
		{
			name: "local chassis, mac port, no info TLVs",
			frame: lldpFrame(t, layers.LLDPChassisID{Subtype: layers.LLDPChassisIDSubTypeLocal, ID: []byte("switch-7")},
				layers.LLDPPortID{Subtype: layers.LLDPPortIDSubtypeMACAddr, ID: mac}, "", ""),
			want: LLDP{ChassisID: "switch-7", PortID: "52:54:00:18:ff:00"},
		},
		{
			name: "network address chassis",
			frame: lldpFrame(t, layers.LLDPChassisID{Subtype: layers.LLDPChassisIDSubTypeNetworkAddr, ID: []byte{1, 198, 18, 0, 1}},
				layers.LLDPPortID{Subtype: layers.LLDPPortIDSubtypeLocal, ID: []byte("Gi1/0/7")}, "", ""),
			want: LLDP{ChassisID: "198.18.0.1", PortID: "Gi1/0/7"},
		},
		{
			name:    "not lldp",
			frame:   append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0x18, 0xff, 0, 0x08, 0x06}, make([]byte, 28)...),
			wantErr: ErrNotLLDP,
		},
		{name: "truncated", frame: []byte{1, 2, 3}, wantErr: ErrNotLLDP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeLLDP(tc.frame)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("DecodeLLDP() error = %v, want %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("DecodeLLDP() (-want +got):\n%s", d)
			}
		})
	}
}

func FuzzDecodeLLDP(f *testing.F) {
	f.Add(lldpFrame(f, layers.LLDPChassisID{Subtype: layers.LLDPChassisIDSubTypeMACAddr, ID: []byte{1, 2, 3, 4, 5, 6}},
		layers.LLDPPortID{Subtype: layers.LLDPPortIDSubtypeIfaceName, ID: []byte("p1")}, "d", "s"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		n, err := DecodeLLDP(frame)
		if err != nil {
			return
		}
		// A decoded neighbour always fits a valid report.
		r := Report{Schema: SchemaVersion, Version: "dev", Time: testTime,
			NICs: []NIC{{Name: "eth0", MAC: "52:54:00:18:a0:01"}}}
		n.NIC = "eth0"
		r.LLDP = []LLDP{n}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded neighbour %+v does not validate: %v", n, err)
		}
	})
}
