package inventory

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolvedAccessors(t *testing.T) {
	r := Resolved{
		"groups":          "compute, rack1,,all",
		"mac":             "01:02:03:04:05:0E!node5|bogus|01:02:03:04:05:0f!node5-eth1| 0a:0b:0c:0d:0e:0f ",
		"ip":              "10.0.0.5",
		"mgt":             "ipmi",
		"bmc":             "node5-bmc",
		"bmcusername":     "ADMIN",
		"bmcpassword":     "secret",
		"provmethod":      "rhels9-x86_64-netboot-compute",
		"os":              "rhels9",
		"arch":            "x86_64",
		"profile":         "compute",
		"netboot":         "xnba",
		"postscripts":     "syslog,remoteshell",
		"postbootscripts": "otherpkgs",
		"status":          "booted",
		"serial":          "S123",
		"mtm":             "7X21",
		"uuid":            "4c4c4544-0000",
		"switch":          "sw1",
		"switchport":      "12",
		"installnic":      "mac",
		"primarynic":      "eth0",
		"hostnames":       "node5.cluster, n5 node5-alias",
		"nicips":          "eth0!10.0.0.5,ib0!10.1.0.5|10.2.0.5",
	}
	mac := func(s string) net.HardwareAddr {
		m, err := net.ParseMAC(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	type all struct {
		Groups, Postscripts, Postbootscripts, Hostnames                []string
		MACs                                                           []net.HardwareAddr
		IP                                                             netip.Addr
		Mgt, BMC, BMCUsername, BMCPassword, ProvMethod, OS, Arch       string
		Profile, Netboot, Status, Serial, MTM, UUID, Switch, SwitchPrt string
		InstallNIC, PrimaryNIC, NicEth0, NicIB0, NicNone               string
	}
	want := all{
		Groups:          []string{"compute", "rack1", "all"},
		Postscripts:     []string{"syslog", "remoteshell"},
		Postbootscripts: []string{"otherpkgs"},
		Hostnames:       []string{"node5.cluster", "n5", "node5-alias"},
		MACs:            []net.HardwareAddr{mac("01:02:03:04:05:0e"), mac("01:02:03:04:05:0f"), mac("0a:0b:0c:0d:0e:0f")},
		IP:              netip.MustParseAddr("10.0.0.5"),
		Mgt:             "ipmi", BMC: "node5-bmc", BMCUsername: "ADMIN", BMCPassword: "secret",
		ProvMethod: "rhels9-x86_64-netboot-compute", OS: "rhels9", Arch: "x86_64", Profile: "compute",
		Netboot: "xnba", Status: "booted", Serial: "S123", MTM: "7X21", UUID: "4c4c4544-0000",
		Switch: "sw1", SwitchPrt: "12", InstallNIC: "mac", PrimaryNIC: "eth0",
		NicEth0: "10.0.0.5", NicIB0: "10.1.0.5|10.2.0.5",
	}
	got := all{
		Groups: r.Groups(), Postscripts: r.Postscripts(), Postbootscripts: r.Postbootscripts(), Hostnames: r.Hostnames(),
		MACs: r.MACs(), IP: r.IP(), Mgt: r.Mgt(), BMC: r.BMC(), BMCUsername: r.BMCUsername(), BMCPassword: r.BMCPassword(),
		ProvMethod: r.ProvMethod(), OS: r.OS(), Arch: r.Arch(), Profile: r.Profile(), Netboot: r.Netboot(),
		Status: r.Status(), Serial: r.Serial(), MTM: r.MTM(), UUID: r.UUID(), Switch: r.Switch(), SwitchPrt: r.SwitchPort(),
		InstallNIC: r.InstallNIC(), PrimaryNIC: r.PrimaryNIC(),
		NicEth0: r.Nic("nicips", "eth0"), NicIB0: r.Nic("nicips", "ib0"), NicNone: r.Nic("nicips", "eth9"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("accessors (-want +got):\n%s", diff)
	}

	empty := Resolved{"ip": "|node(\\d+)|10.0.0.($1+0)|"}
	if empty.IP().IsValid() || len(empty.MACs()) != 0 || empty.Groups() != nil {
		t.Errorf("invalid or unset values: IP %v, MACs %v, Groups %v", empty.IP(), empty.MACs(), empty.Groups())
	}
}

func TestNet(t *testing.T) {
	for _, tc := range []struct{ net, mask, want string }{
		{"10.0.0.0", "255.255.255.0", "10.0.0.0/24"},
		{"10.0.0.0", "255.255.0.0", "10.0.0.0/16"},
		{"172.16.0.0", "0.0.0.0", "0.0.0.0/0"},
		{"10.0.0.0", "24", "10.0.0.0/24"},
		{"fd59::", "/64", "fd59::/64"},
		{"10.0.0.5", "255.255.255.0", "10.0.0.0/24"},
		{"10.0.0.0", "255.0.255.0", ""},
		{"10.0.0.0", "33", ""},
		{"10.0.0.0", "", ""},
		{"", "255.255.255.0", ""},
		{"fd59::", "255.255.255.0", ""},
	} {
		o := Object{Type: Network, Name: "n", Attrs: map[string]string{"net": tc.net, "mask": tc.mask}}
		got := o.Net()
		if (tc.want == "" && got.IsValid()) || (tc.want != "" && got.String() != tc.want) {
			t.Errorf("Net(%q, %q) = %v, want %q", tc.net, tc.mask, got, tc.want)
		}
	}
}
