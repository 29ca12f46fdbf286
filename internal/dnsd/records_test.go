package dnsd

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dump renders a table as name → addresses and address → name.
func dump(t *Table) (map[string][]string, map[string]string) {
	names := map[string][]string{}
	for n, as := range t.addrs {
		for _, a := range as {
			names[n] = append(names[n], a.String())
		}
	}
	hosts := map[string]string{}
	for a, n := range t.hosts {
		hosts[a.String()] = n
	}
	return names, hosts
}

func TestRecordsFromNodes(t *testing.T) {
	tests := []struct {
		name      string
		nodes     []NodeAddr
		wantNames map[string][]string
		wantHosts map[string]string
	}{
		{
			name:      "empty",
			wantNames: map[string][]string{},
			wantHosts: map[string]string{},
		},
		{
			name:      "node ip",
			nodes:     []NodeAddr{{Name: "cn1", IP: "198.18.0.11"}},
			wantNames: map[string][]string{"cn1": {"198.18.0.11"}},
			wantHosts: map[string]string{"198.18.0.11": "cn1"},
		},
		{
			name:      "bmc ip gets NODE-bmc",
			nodes:     []NodeAddr{{Name: "cn1", IP: "198.18.0.11", BMC: "198.18.1.11"}},
			wantNames: map[string][]string{"cn1": {"198.18.0.11"}, "cn1-bmc": {"198.18.1.11"}},
			wantHosts: map[string]string{"198.18.0.11": "cn1", "198.18.1.11": "cn1-bmc"},
		},
		{
			name:      "bmc host name gets no record",
			nodes:     []NodeAddr{{Name: "cn1", IP: "198.18.0.11", BMC: "cn1-ipmi"}},
			wantNames: map[string][]string{"cn1": {"198.18.0.11"}},
			wantHosts: map[string]string{"198.18.0.11": "cn1"},
		},
		{
			name:      "bmc without node ip",
			nodes:     []NodeAddr{{Name: "cn1", BMC: " 198.18.1.11 "}},
			wantNames: map[string][]string{"cn1-bmc": {"198.18.1.11"}},
			wantHosts: map[string]string{"198.18.1.11": "cn1-bmc"},
		},
		{
			name: "unusable ip and names skipped",
			nodes: []NodeAddr{
				{Name: "cn1", IP: "not-an-ip"},
				{Name: "cn2", IP: "2001:db8::2"},
				{Name: "bad_name", IP: "198.18.0.3"},
				{Name: "-x", IP: "198.18.0.4"},
				{Name: "", IP: "198.18.0.5"},
				{Name: "a.b", IP: "198.18.0.6"},
			},
			wantNames: map[string][]string{},
			wantHosts: map[string]string{},
		},
		{
			name:      "mapped ipv6 is ipv4",
			nodes:     []NodeAddr{{Name: "cn1", IP: "::ffff:198.18.0.11"}},
			wantNames: map[string][]string{"cn1": {"198.18.0.11"}},
			wantHosts: map[string]string{"198.18.0.11": "cn1"},
		},
		{
			name:      "names lower-cased",
			nodes:     []NodeAddr{{Name: "CN1", IP: "198.18.0.11", BMC: "198.18.1.11"}},
			wantNames: map[string][]string{"cn1": {"198.18.0.11"}, "cn1-bmc": {"198.18.1.11"}},
			wantHosts: map[string]string{"198.18.0.11": "cn1", "198.18.1.11": "cn1-bmc"},
		},
		{
			name: "shared address resolves to the node, then the first name",
			nodes: []NodeAddr{
				{Name: "zeta", IP: "198.18.0.9"},
				{Name: "beta", BMC: "198.18.0.9"},
				{Name: "alpha", IP: "198.18.0.9"},
			},
			wantNames: map[string][]string{
				"alpha": {"198.18.0.9"}, "zeta": {"198.18.0.9"}, "beta-bmc": {"198.18.0.9"},
			},
			wantHosts: map[string]string{"198.18.0.9": "alpha"},
		},
		{
			name: "node named like a bmc name keeps its own address first",
			nodes: []NodeAddr{
				{Name: "cn1", BMC: "198.18.1.11"},
				{Name: "cn1-bmc", IP: "198.18.1.99"},
			},
			wantNames: map[string][]string{"cn1-bmc": {"198.18.1.99", "198.18.1.11"}},
			wantHosts: map[string]string{"198.18.1.99": "cn1-bmc", "198.18.1.11": "cn1-bmc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, hosts := dump(RecordsFromNodes(tt.nodes))
			if diff := cmp.Diff(tt.wantNames, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHosts, hosts); diff != "" {
				t.Errorf("hosts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTableLookups(t *testing.T) {
	tab := RecordsFromNodes([]NodeAddr{{Name: "cn1", IP: "198.18.0.11"}})
	if got := tab.Addrs("CN1"); len(got) != 1 || got[0] != netip.MustParseAddr("198.18.0.11") {
		t.Errorf("Addrs(CN1) = %v", got)
	}
	if h, ok := tab.Host(netip.MustParseAddr("::ffff:198.18.0.11")); !ok || h != "cn1" {
		t.Errorf("Host(mapped) = %q, %v", h, ok)
	}
	if tab.Len() != 1 {
		t.Errorf("Len = %d", tab.Len())
	}
	var nilTab *Table
	if nilTab.Addrs("cn1") != nil || nilTab.Len() != 0 {
		t.Error("nil table has records")
	}
	if _, ok := nilTab.Host(netip.MustParseAddr("198.18.0.11")); ok {
		t.Error("nil table resolves an address")
	}
	var live Live
	if live.Addrs("cn1") != nil {
		t.Error("zero Live has records")
	}
	live.Store(tab)
	if h, ok := live.Host(netip.MustParseAddr("198.18.0.11")); !ok || h != "cn1" {
		t.Errorf("Live.Host = %q, %v", h, ok)
	}
}

func TestReverseAddr(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"11.0.18.198.in-addr.arpa.", "198.18.0.11", true},
		{"0.0.0.0.in-addr.arpa.", "0.0.0.0", true},
		{"255.255.255.255.in-addr.arpa.", "255.255.255.255", true},
		{"256.0.18.198.in-addr.arpa.", "", false},
		{"011.0.18.198.in-addr.arpa.", "", false},
		{"0.18.198.in-addr.arpa.", "", false},
		{"1.1.0.18.198.in-addr.arpa.", "", false},
		{"x.0.18.198.in-addr.arpa.", "", false},
		{"-1.0.18.198.in-addr.arpa.", "", false},
		{"+1.0.18.198.in-addr.arpa.", "", false},
		{"..18.198.in-addr.arpa.", "", false},
		{"11.0.18.198.ip6.arpa.", "", false},
		{"in-addr.arpa.", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ip, ok := reverseAddr(tt.in)
			got := ""
			if ok {
				got = ip.String()
			}
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("reverseAddr(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
