package netboot

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"drover.dev/drover/internal/boot"
	"drover.dev/drover/internal/dhcpd"
	"drover.dev/drover/internal/inventory"
)

// Services says which boot services drover serve may run at all (serve's
// --services flag). Where they run is inventory data.
type Services struct {
	DHCP, TFTP, HTTP, DNS, RA bool
}

// AllServices turns every service on.
var AllServices = Services{DHCP: true, TFTP: true, HTTP: true, DNS: true, RA: true}

// ParseServices parses a comma-separated list of dhcp, tftp, http, dns, ra,
// "all" or "none".
func ParseServices(s string) (Services, error) {
	var out Services
	for _, w := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "":
		case "all":
			out = AllServices
		case "none":
			out = Services{}
		case "dhcp":
			out.DHCP = true
		case "tftp":
			out.TFTP = true
		case "http", "httpboot":
			out.HTTP = true
		case "dns":
			out.DNS = true
		case "ra":
			out.RA = true
		default:
			return Services{}, fmt.Errorf("unknown service %q: want a list of dhcp, tftp, http, dns, ra, or all or none", w)
		}
	}
	return out, nil
}

// Iface is a host network interface as Config sees it.
type Iface struct {
	Name  string
	MAC   net.HardwareAddr
	Addrs []netip.Prefix // with the interface's prefix length
}

// DefaultHTTPPort is the HTTP boot port when site.httpport is unset (xCAT's default).
const DefaultHTTPPort = 80

// Inputs is everything Desired looks at.
type Inputs struct {
	Site        inventory.Resolved  // the site object's attributes
	Networks    []*inventory.Object // every network object
	BootTargets map[string]inventory.Resolved
	Osimages    []*inventory.Object // for the file roots of their kernels
	Ifaces      []Iface             // the host's interfaces
	Services    Services
	DataDir     string // absolute
	TFTPRoot    string
}

// Link is one interface drover serves on.
type Link struct {
	Iface    string
	ServerIP netip.Addr    // drover's IPv4 address on the interface
	Network  dhcpd.Network // the network on the interface; zero Name if none
	DHCP     bool
	Proxy    bool // ProxyDHCP: answer PXE clients only, hand out no address
	RA       bool
	MTU      uint16
}

// Config is the desired state of the boot services. Two Configs that are
// equal run the same services.
type Config struct {
	// Idle says why nothing is served ("" when something is).
	Idle     string
	Links    []Link
	Networks []dhcpd.Network // every valid network, relayed ones included
	Boot     boot.Settings   // Server left zero: each network's ServerIP is used
	Services Services
	TFTPRoot string
	Domain   string
	// Forwarders are where dnsd sends names outside Domain (site.forwarders).
	Forwarders []string
	// FileRoots are the directories of the configured kernels and initrds
	// that httpboot may serve from (besides the data directory).
	FileRoots []string
	// Problems are configuration errors Desired skipped (logged by the
	// service): a bad network object, a missing interface, ...
	Problems []string
}

// truthy reads an xCAT yes/no attribute.
func truthy(v string) (value, set bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "y", "true", "on", "enable", "enabled":
		return true, true
	case "0", "no", "n", "false", "off", "disable", "disabled":
		return false, true
	}
	return false, false
}

// DHCPInterfaces parses site.dhcpinterfaces the xCAT way: a comma-separated
// list of interface names, or ";"-separated "HOST|if1,if2" entries of which
// the management node's ("xcatmn", or an entry without "HOST|") apply.
// "!remote!" entries and ":N" alias suffixes are dropped.
func DHCPInterfaces(v string) []string {
	var out []string
	for _, entry := range strings.Split(v, ";") {
		entry = strings.TrimSpace(entry)
		if host, ifs, ok := strings.Cut(entry, "|"); ok {
			if strings.TrimSpace(host) != "xcatmn" {
				continue
			}
			entry = ifs
		}
		for _, name := range strings.Split(entry, ",") {
			name = strings.TrimSpace(name)
			if i := strings.IndexByte(name, ':'); i > 0 {
				name = name[:i]
			}
			if name == "" || strings.HasPrefix(name, "!remote!") || strings.ContainsAny(name, "|/ \t") || slices.Contains(out, name) {
				continue
			}
			out = append(out, name)
		}
	}
	return out
}

// target reads a boottarget object into a boot.Target.
func target(bt inventory.Resolved) boot.Target {
	if bt == nil {
		return boot.Target{}
	}
	t := boot.Target{Kernel: strings.TrimSpace(bt["kernel"]), Cmdline: strings.TrimSpace(bt["kcmdline"])}
	for _, s := range strings.Split(bt["initrd"], ",") {
		if s = strings.TrimSpace(s); s != "" {
			t.Initrds = append(t.Initrds, s)
		}
	}
	return t
}

// Names of the boottarget objects that configure the discovery and rescue
// environments.
const (
	DiscoverTarget = "discover"
	ShellTarget    = "shell"
)

// Desired computes what the boot services should be from the inventory and
// the host's interfaces. It does no I/O.
func Desired(in Inputs) Config {
	c := Config{Services: in.Services, TFTPRoot: in.TFTPRoot}
	c.Boot = boot.Settings{
		HTTPPort: DefaultHTTPPort,
		DataDir:  in.DataDir,
		Discover: target(in.BootTargets[DiscoverTarget]),
		Shell:    target(in.BootTargets[ShellTarget]),
	}
	if v := strings.TrimSpace(in.Site["httpport"]); v != "" {
		p, err := strconv.ParseUint(v, 10, 16)
		if err != nil || p == 0 {
			c.Problems = append(c.Problems, fmt.Sprintf("site httpport %q is not a port number: using %d", v, DefaultHTTPPort))
		} else {
			c.Boot.HTTPPort = uint16(p)
		}
	}
	c.Domain = strings.Trim(strings.TrimSpace(in.Site["domain"]), ".")
	for _, f := range strings.Split(in.Site["forwarders"], ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.Forwarders = append(c.Forwarders, f)
		}
	}
	c.FileRoots = fileRoots(in)

	names := DHCPInterfaces(in.Site["dhcpinterfaces"])
	if len(names) == 0 {
		c.Idle = "site dhcpinterfaces is not set"
		return c
	}
	ifaces := map[string]Iface{}
	for _, i := range in.Ifaces {
		ifaces[i.Name] = i
	}
	master, _ := netip.ParseAddr(strings.TrimSpace(in.Site["master"]))

	nets := slices.Clone(in.Networks)
	slices.SortFunc(nets, func(a, b *inventory.Object) int { return cmp.Compare(a.Name, b.Name) })

	for _, name := range names {
		ifc, ok := ifaces[name]
		if !ok {
			c.Problems = append(c.Problems, fmt.Sprintf("interface %s (site dhcpinterfaces) does not exist on this host", name))
			continue
		}
		l := Link{Iface: name}
		var netObj *inventory.Object
		for _, n := range nets {
			p := n.Net()
			if !p.IsValid() || !p.Addr().Is4() {
				continue
			}
			if a, ok := addrIn(ifc, p.Masked()); ok && (netObj == nil || n.Get("mgtifname") == name) {
				netObj, l.ServerIP = n, a
			}
		}
		if netObj == nil {
			for _, n := range nets {
				if strings.TrimSpace(n.Get("mgtifname")) == name {
					netObj = n
					break
				}
			}
		}
		if !l.ServerIP.IsValid() {
			l.ServerIP = firstIPv4(ifc, master)
		}
		if !l.ServerIP.IsValid() {
			c.Problems = append(c.Problems, fmt.Sprintf("interface %s has no IPv4 address: nothing served on it", name))
			continue
		}
		if netObj != nil {
			n, err := dhcpd.NetworkFromObject(*netObj, in.Site, l.ServerIP)
			if err != nil {
				c.Problems = append(c.Problems, err.Error())
			} else {
				l.Network = n
				l.MTU = n.MTU
				l.Proxy = n.Proxy
				ra, set := truthy(netObj.Get("ra"))
				if !set {
					ra = !l.Proxy
				}
				l.RA = ra && in.Services.RA
			}
		}
		c.Links = append(c.Links, l)
	}

	// Every valid network, relayed ones included, for the DHCP handler.
	var fallback netip.Addr
	if len(c.Links) > 0 {
		fallback = c.Links[0].ServerIP
	}
	if master.Is4() {
		fallback = master
	}
	for _, n := range nets {
		serverIP := fallback
		for _, l := range c.Links {
			if l.Network.Name == n.Name {
				serverIP = l.ServerIP
			}
		}
		if !serverIP.IsValid() {
			continue
		}
		dn, err := dhcpd.NetworkFromObject(*n, in.Site, serverIP)
		if err != nil {
			if !slices.Contains(c.Problems, err.Error()) {
				c.Problems = append(c.Problems, err.Error())
			}
			continue
		}
		c.Networks = append(c.Networks, dn)
	}
	for i := range c.Links {
		l := &c.Links[i]
		l.DHCP = in.Services.DHCP && (l.Network.Name != "" || hasRelayed(c.Networks, c.Links))
	}
	if len(c.Links) == 0 {
		c.Idle = "none of the site dhcpinterfaces can be served"
	}
	return c
}

// hasRelayed reports whether some network is on no served link (it can
// only be reached through a DHCP relay).
func hasRelayed(nets []dhcpd.Network, links []Link) bool {
	for _, n := range nets {
		local := false
		for _, l := range links {
			if l.Network.Name == n.Name {
				local = true
			}
		}
		if !local {
			return true
		}
	}
	return false
}

func addrIn(ifc Iface, p netip.Prefix) (netip.Addr, bool) {
	for _, a := range ifc.Addrs {
		if a.Addr().Is4() && p.Contains(a.Addr()) {
			return a.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// firstIPv4 is prefer if the interface has it, else its first IPv4 address.
func firstIPv4(ifc Iface, prefer netip.Addr) netip.Addr {
	var first netip.Addr
	for _, a := range ifc.Addrs {
		if !a.Addr().Is4() {
			continue
		}
		if a.Addr() == prefer {
			return prefer
		}
		if !first.IsValid() {
			first = a.Addr()
		}
	}
	return first
}

// fileRoots lists the directories of every absolute kernel and initrd path
// in boottargets and osimages.
func fileRoots(in Inputs) []string {
	var roots []string
	add := func(v string) {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if !filepath.IsAbs(p) {
				continue
			}
			d := filepath.Dir(filepath.Clean(p))
			if d == "/" || slices.Contains(roots, d) {
				continue
			}
			roots = append(roots, d)
		}
	}
	for _, bt := range in.BootTargets {
		add(bt["kernel"])
		add(bt["initrd"])
	}
	for _, o := range in.Osimages {
		add(o.Get("kernel"))
		add(o.Get("initrd"))
	}
	slices.Sort(roots)
	return roots
}
