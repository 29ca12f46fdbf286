package netboot

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

func netObj(name string, attrs map[string]string) *inventory.Object {
	return &inventory.Object{Type: inventory.Network, Name: name, Attrs: attrs}
}

func lab() *inventory.Object {
	return netObj("lab", map[string]string{"net": "198.18.0.0", "mask": "255.255.255.0", "mgtifname": "br0",
		"dynamicrange": "198.18.0.100-198.18.0.200"})
}

var hostIfaces = []Iface{
	{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
	{Name: "br0", Addrs: []netip.Prefix{netip.MustParsePrefix("fe80::1/64"), netip.MustParsePrefix("198.18.0.1/24")}},
	{Name: "eth9"},
}

type linkSummary struct {
	Iface, ServerIP, Network string
	DHCP, Proxy, RA          bool
}

func summarize(c Config) []linkSummary {
	var out []linkSummary
	for _, l := range c.Links {
		out = append(out, linkSummary{l.Iface, l.ServerIP.String(), l.Network.Name, l.DHCP, l.Proxy, l.RA})
	}
	return out
}

func TestDesired(t *testing.T) {
	tests := []struct {
		name         string
		site         map[string]string
		nets         []*inventory.Object
		services     Services
		wantIdle     bool
		wantLinks    []linkSummary
		wantProblems int
		wantNetworks int
		wantPort     uint16
	}{
		{name: "bare", site: map[string]string{}, nets: []*inventory.Object{lab()}, services: AllServices,
			wantIdle: true, wantNetworks: 0, wantPort: 80},
		{name: "lab", site: map[string]string{"dhcpinterfaces": "br0", "master": "198.18.0.1"},
			nets: []*inventory.Object{lab()}, services: AllServices, wantNetworks: 1, wantPort: 80,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "lab", true, false, true}}},
		{name: "xcat per-host form and alias", site: map[string]string{"dhcpinterfaces": "xcatmn|br0:1;service|eth0", "httpport": "8080"},
			nets: []*inventory.Object{lab()}, services: AllServices, wantNetworks: 1, wantPort: 8080,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "lab", true, false, true}}},
		{name: "proxy turns RA off", site: map[string]string{"dhcpinterfaces": "br0"},
			nets:     []*inventory.Object{netObj("lab", map[string]string{"net": "198.18.0.0", "mask": "255.255.255.0", "proxydhcp": "yes"})},
			services: AllServices, wantNetworks: 1, wantPort: 80,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "lab", true, true, false}}},
		{name: "ra=0", site: map[string]string{"dhcpinterfaces": "br0"},
			nets:     []*inventory.Object{netObj("lab", map[string]string{"net": "198.18.0.0", "mask": "255.255.255.0", "ra": "0"})},
			services: AllServices, wantNetworks: 1, wantPort: 80,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "lab", true, false, false}}},
		{name: "services off", site: map[string]string{"dhcpinterfaces": "br0"}, nets: []*inventory.Object{lab()},
			services: Services{TFTP: true}, wantNetworks: 1, wantPort: 80,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "lab", false, false, false}}},
		{name: "missing interface and one without IPv4", site: map[string]string{"dhcpinterfaces": "br1,eth9"},
			nets: []*inventory.Object{lab()}, services: AllServices, wantIdle: true, wantProblems: 2, wantPort: 80},
		{name: "relayed network only", site: map[string]string{"dhcpinterfaces": "br0", "master": "198.18.0.1"},
			nets:     []*inventory.Object{netObj("far", map[string]string{"net": "198.19.0.0", "mask": "255.255.0.0", "mgtifname": "!remote!"})},
			services: AllServices, wantNetworks: 1, wantPort: 80,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "", true, false, false}}},
		{name: "bad network is a problem, not an outage", site: map[string]string{"dhcpinterfaces": "br0", "httpport": "http"},
			nets:     []*inventory.Object{lab(), netObj("bad", map[string]string{"net": "198.19.0.0", "mask": "255.255.0.0", "dynamicrange": "1-2"})},
			services: AllServices, wantNetworks: 1, wantProblems: 2, wantPort: 80,
			wantLinks: []linkSummary{{"br0", "198.18.0.1", "lab", true, false, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Desired(Inputs{Site: tt.site, Networks: tt.nets, Ifaces: hostIfaces, Services: tt.services,
				DataDir: "/var/lib/drover", TFTPRoot: "/usr/lib/ipxe"})
			if (c.Idle != "") != tt.wantIdle {
				t.Errorf("Idle = %q, want idle %v", c.Idle, tt.wantIdle)
			}
			if diff := cmp.Diff(tt.wantLinks, summarize(c)); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}
			if len(c.Problems) != tt.wantProblems {
				t.Errorf("problems = %q, want %d", c.Problems, tt.wantProblems)
			}
			if len(c.Networks) != tt.wantNetworks {
				t.Errorf("networks = %d, want %d", len(c.Networks), tt.wantNetworks)
			}
			if c.Boot.HTTPPort != tt.wantPort {
				t.Errorf("HTTPPort = %d, want %d", c.Boot.HTTPPort, tt.wantPort)
			}
		})
	}
}

func TestDesiredTargetsAndRoots(t *testing.T) {
	c := Desired(Inputs{
		Site: map[string]string{"dhcpinterfaces": "br0"}, Networks: []*inventory.Object{lab()}, Ifaces: hostIfaces,
		Services: AllServices,
		BootTargets: map[string]inventory.Resolved{
			"discover": {"kernel": "/srv/disc/vmlinuz", "initrd": "/srv/disc/a.gz, /srv/other/b.gz", "kcmdline": "console=ttyS0"},
			"shell":    {"kernel": "shell/vmlinuz"},
		},
		Osimages: []*inventory.Object{{Type: inventory.OSImage, Name: "img", Attrs: map[string]string{"kernel": "/boot/vmlinuz", "initrd": "http://x/y"}}},
	})
	if got := c.Boot.Discover; got.Kernel != "/srv/disc/vmlinuz" || len(got.Initrds) != 2 || got.Cmdline != "console=ttyS0" {
		t.Errorf("Discover = %+v", got)
	}
	if c.Boot.Shell.Kernel != "shell/vmlinuz" {
		t.Errorf("Shell = %+v", c.Boot.Shell)
	}
	if diff := cmp.Diff([]string{"/boot", "/srv/disc", "/srv/other"}, c.FileRoots); diff != "" {
		t.Errorf("FileRoots (-want +got):\n%s", diff)
	}
}

func TestParseServices(t *testing.T) {
	for in, want := range map[string]Services{
		"all": AllServices, "none": {}, "dhcp,tftp": {DHCP: true, TFTP: true}, " http , ra": {HTTP: true, RA: true}, "": {},
	} {
		got, err := ParseServices(in)
		if err != nil || got != want {
			t.Errorf("ParseServices(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := ParseServices("dhcp,ftp"); err == nil {
		t.Error("ParseServices accepted ftp")
	}
}

func FuzzDHCPInterfaces(f *testing.F) {
	for _, s := range []string{"br0", "xcatmn|br0:1;service|eth0", "!remote!,eth0,eth1", ";|,:", "", "xcatmn||"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range DHCPInterfaces(v) {
			if name == "" || strings.ContainsAny(name, ",;|") {
				t.Fatalf("DHCPInterfaces(%q) gave %q", v, name)
			}
		}
	})
}
