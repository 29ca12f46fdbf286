package dnsd

import (
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
)

// Records is the name data the server answers from. The server consults it
// on every query, so a change to the data behind it is visible at once.
//
// Host names are single DNS labels relative to the server's domain, in lower
// case ("cn1" for "cn1.cluster.lab.").
type Records interface {
	// Addrs returns the IPv4 addresses of host, or none if host is unknown.
	Addrs(host string) []netip.Addr
	// Host returns the host name that ip resolves back to.
	Host(ip netip.Addr) (string, bool)
}

// NodeAddr is what the DNS server needs to know about one node: its name,
// its "ip" attribute and its "bmc" attribute.
type NodeAddr struct {
	Name string
	IP   string
	BMC  string
}

// BMCSuffix is appended to a node's name to name its BMC when the node's bmc
// attribute is an IP address.
const BMCSuffix = "-bmc"

// Table is an immutable set of records. The zero value and a nil *Table hold
// no records.
type Table struct {
	addrs map[string][]netip.Addr
	hosts map[netip.Addr]string
}

// RecordsFromNodes builds the records for nodes: NAME → ip for every node
// whose ip is an IPv4 address, and NAME-bmc → bmc for every node whose bmc
// attribute is an IPv4 address (a bmc given as a host name gets no record
// here; it resolves if it is itself a node). Names are lower-cased; a node
// whose name is not a valid DNS label gets no record. An address resolves
// back to the node that has it as ip before any BMC name, and among equals to
// the name that sorts first.
func RecordsFromNodes(nodes []NodeAddr) *Table {
	t := &Table{addrs: map[string][]netip.Addr{}, hosts: map[netip.Addr]string{}}
	sorted := slices.Clone(nodes)
	slices.SortStableFunc(sorted, func(a, b NodeAddr) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	var bmcs []NodeAddr
	for _, n := range sorted {
		name := strings.ToLower(strings.TrimSpace(n.Name))
		if !validLabel(name) {
			continue
		}
		if ip, ok := parseIPv4(n.IP); ok {
			t.add(name, ip)
		}
		if ip, ok := parseIPv4(n.BMC); ok && validLabel(name+BMCSuffix) {
			bmcs = append(bmcs, NodeAddr{Name: name + BMCSuffix, IP: ip.String()})
		}
	}
	for _, b := range bmcs {
		ip, _ := parseIPv4(b.IP)
		t.add(b.Name, ip)
	}
	return t
}

func (t *Table) add(name string, ip netip.Addr) {
	if !slices.Contains(t.addrs[name], ip) {
		t.addrs[name] = append(t.addrs[name], ip)
	}
	if _, ok := t.hosts[ip]; !ok {
		t.hosts[ip] = name
	}
}

// Addrs implements Records.
func (t *Table) Addrs(host string) []netip.Addr {
	if t == nil {
		return nil
	}
	return t.addrs[strings.ToLower(host)]
}

// Host implements Records.
func (t *Table) Host(ip netip.Addr) (string, bool) {
	if t == nil {
		return "", false
	}
	h, ok := t.hosts[ip.Unmap()]
	return h, ok
}

// Len returns the number of names in t.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.addrs)
}

// Live is a Records whose table can be replaced while the server runs: the
// caller rebuilds a Table when nodes change and stores it. The zero value
// holds no records and is ready to use.
type Live struct {
	p atomic.Pointer[Table]
}

// Store replaces the records.
func (l *Live) Store(t *Table) { l.p.Store(t) }

// Addrs implements Records.
func (l *Live) Addrs(host string) []netip.Addr { return l.p.Load().Addrs(host) }

// Host implements Records.
func (l *Live) Host(ip netip.Addr) (string, bool) { return l.p.Load().Host(ip) }

func parseIPv4(s string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	if !ip.Is4() {
		return netip.Addr{}, false
	}
	return ip, true
}

// validLabel reports whether s is a host name label: 1–63 letters, digits and
// hyphens, not starting or ending with a hyphen.
func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
