// Package dhcpd is drover's DHCPv4 server: fixed addresses for defined
// nodes, a dynamic pool for unknown machines, and the PXE/iPXE/UEFI HTTP
// Boot options boot.Decide chooses; on networks in ProxyDHCP mode only
// those boot options, next to another site's DHCP server (port 67 and
// ProxyPort 4011). Handler is pure apart from the lease store it is given
// (which may group-commit its writes, see Committer); Server puts it on a
// socket bound to one interface.
package dhcpd

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"drover.dev/drover/internal/inventory"
)

// DefaultLeaseTime is xCAT's default site dhcplease (43200 s).
const DefaultLeaseTime = 43200 * time.Second

// xcatMaster is the keyword xCAT accepts in gateway and nameservers for
// "this server's address on the network".
const xcatMaster = "<xcatmaster>"

// Errors NetworkFromObject returns (wrapped with details).
var (
	// ErrBadNetwork: the network object has no valid net/mask.
	ErrBadNetwork = errors.New("invalid network")
	// ErrBadRange: dynamicrange is not START-END inside the network.
	ErrBadRange = errors.New("invalid dynamicrange")
	// ErrBadAttr: another attribute (gateway, nameservers, mtu, dhcplease, proxydhcp) is malformed.
	ErrBadAttr = errors.New("invalid network attribute")
)

// Network is one provisioning network as dhcpd serves it.
type Network struct {
	Name       string       // the network object's name
	Prefix     netip.Prefix // net/mask, masked
	Interface  string       // mgtifname ("" or "!remote!..." for relayed networks)
	ServerIP   netip.Addr   // this server's address on (or towards) the network: server identifier, URLs
	TFTPServer netip.Addr   // next-server (siaddr); ServerIP unless tftpserver is set
	Gateway    netip.Addr   // router option; zero for none
	// RangeStart and RangeEnd bound the dynamic pool (inclusive); both zero
	// when the network has no dynamicrange.
	RangeStart, RangeEnd netip.Addr
	Nameservers          []netip.Addr
	Domain               string
	MTU                  uint16 // 0: not sent
	LeaseTime            time.Duration
	// Proxy is ProxyDHCP mode (the network object's drover attribute
	// proxydhcp): another server hands out addresses, and drover answers
	// only PXE, iPXE and UEFI HTTP Boot clients with boot options and no
	// address, on port 67 (DISCOVER) and on ProxyPort (REQUEST).
	Proxy bool
}

// HasPool reports whether n has a dynamic range.
func (n Network) HasPool() bool { return n.RangeStart.IsValid() && n.RangeEnd.IsValid() }

// InPool reports whether a is inside n's dynamic range.
func (n Network) InPool(a netip.Addr) bool {
	return n.HasPool() && a.IsValid() && a.Compare(n.RangeStart) >= 0 && a.Compare(n.RangeEnd) <= 0
}

// NetworkFromObject builds the Network a `network` object describes.
// site supplies defaults the xCAT way: domain, nameservers and dhcplease
// (seconds) when the network does not set them, and master when serverIP
// is invalid. The keyword <xcatmaster> in gateway or nameservers means
// serverIP. It does no I/O.
func NetworkFromObject(obj inventory.Object, site inventory.Resolved, serverIP netip.Addr) (Network, error) {
	n := Network{Name: obj.Name, Interface: strings.TrimSpace(obj.Get("mgtifname"))}
	p := obj.Net()
	if !p.IsValid() || !p.Addr().Is4() {
		return Network{}, fmt.Errorf("%w: %s: net %q mask %q", ErrBadNetwork, obj.Name, obj.Get("net"), obj.Get("mask"))
	}
	n.Prefix = p.Masked()
	if !serverIP.IsValid() {
		if a, err := netip.ParseAddr(strings.TrimSpace(site["master"])); err == nil {
			serverIP = a
		}
	}
	n.ServerIP = serverIP.Unmap()
	if !n.ServerIP.IsValid() || !n.ServerIP.Is4() {
		return Network{}, fmt.Errorf("%w: %s: no IPv4 server address (site master)", ErrBadNetwork, obj.Name)
	}
	n.TFTPServer = n.ServerIP
	if v := strings.TrimSpace(obj.Get("tftpserver")); v != "" && v != xcatMaster {
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() {
			return Network{}, fmt.Errorf("%w: %s: tftpserver %q", ErrBadAttr, obj.Name, v)
		}
		n.TFTPServer = a
	}
	if v := strings.TrimSpace(obj.Get("gateway")); v != "" {
		if v == xcatMaster {
			n.Gateway = n.ServerIP
		} else {
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return Network{}, fmt.Errorf("%w: %s: gateway %q", ErrBadAttr, obj.Name, v)
			}
			n.Gateway = a
		}
	}
	if v := strings.TrimSpace(obj.Get("dynamicrange")); v != "" {
		start, end, err := parseRange(v)
		if err != nil || !n.Prefix.Contains(start) || !n.Prefix.Contains(end) || start.Compare(end) > 0 {
			return Network{}, fmt.Errorf("%w: %s: %q", ErrBadRange, obj.Name, v)
		}
		n.RangeStart, n.RangeEnd = start, end
	}
	ns := strings.TrimSpace(obj.Get("nameservers"))
	if ns == "" {
		ns = strings.TrimSpace(site["nameservers"])
	}
	for _, s := range strings.Split(ns, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			continue
		case s == xcatMaster:
			n.Nameservers = append(n.Nameservers, n.ServerIP)
		default:
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return Network{}, fmt.Errorf("%w: %s: nameserver %q", ErrBadAttr, obj.Name, s)
			}
			n.Nameservers = append(n.Nameservers, a)
		}
	}
	n.Domain = strings.TrimSpace(obj.Get("domain"))
	if n.Domain == "" {
		n.Domain = strings.TrimSpace(site["domain"])
	}
	if v := strings.TrimSpace(obj.Get("mtu")); v != "" {
		m, err := strconv.ParseUint(v, 10, 16)
		if err != nil || m < 68 {
			return Network{}, fmt.Errorf("%w: %s: mtu %q", ErrBadAttr, obj.Name, v)
		}
		n.MTU = uint16(m)
	}
	proxy, err := parseBool(obj.Get("proxydhcp"))
	if err != nil {
		return Network{}, fmt.Errorf("%w: %s: proxydhcp %q", ErrBadAttr, obj.Name, obj.Get("proxydhcp"))
	}
	n.Proxy = proxy
	n.LeaseTime = DefaultLeaseTime
	if v := strings.TrimSpace(site["dhcplease"]); v != "" {
		s, err := strconv.ParseUint(v, 10, 32)
		if err != nil || s == 0 {
			return Network{}, fmt.Errorf("%w: site dhcplease %q", ErrBadAttr, v)
		}
		n.LeaseTime = time.Duration(s) * time.Second
	}
	return n, nil
}

// parseBool parses a drover yes/no attribute: 1, yes, true, y, on (any
// case) are true; empty, 0, no, false, n, off are false.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "y", "true", "on":
		return true, nil
	case "", "0", "no", "n", "false", "off":
		return false, nil
	}
	return false, ErrBadAttr
}

// parseRange parses "START-END" (also "START,END", as xCAT's makedhcp accepts).
func parseRange(v string) (netip.Addr, netip.Addr, error) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		a, b, ok = strings.Cut(v, ",")
	}
	if !ok {
		return netip.Addr{}, netip.Addr{}, ErrBadRange
	}
	start, err := netip.ParseAddr(strings.TrimSpace(a))
	if err != nil || !start.Is4() {
		return netip.Addr{}, netip.Addr{}, ErrBadRange
	}
	end, err := netip.ParseAddr(strings.TrimSpace(b))
	if err != nil || !end.Is4() {
		return netip.Addr{}, netip.Addr{}, ErrBadRange
	}
	return start, end, nil
}
