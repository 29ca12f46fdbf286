package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netConfig is what a DHCPv4 lease configures on one interface.
type netConfig struct {
	Iface   string
	Addr    netip.Prefix // address and prefix length
	Routers []netip.Addr // the first is the default gateway
	DNS     []netip.Addr
	Domain  string
	Search  []string
	Server  netip.Addr // DHCP server identifier
	Lease   time.Duration
}

// ErrLease: a DHCP ACK cannot configure an interface.
var ErrLease = errors.New("unusable dhcp lease")

// defaultLease is assumed when the ACK carries no lease time.
const defaultLease = time.Hour

// leaseConfig converts a DHCPv4 ACK into the interface configuration. A
// missing subnet mask falls back to the address's classful mask; routers
// outside the subnet are kept (the route is added on-link).
func leaseConfig(iface string, ack *dhcpv4.DHCPv4) (netConfig, error) {
	if ack == nil {
		return netConfig{}, fmt.Errorf("%w: no ack", ErrLease)
	}
	ip, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netConfig{}, fmt.Errorf("%w: address %v", ErrLease, ack.YourIPAddr)
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ack.YourIPAddr.To4().DefaultMask()
	}
	ones, bits := mask.Size()
	if bits != 32 || ones == 0 {
		return netConfig{}, fmt.Errorf("%w: subnet mask %v", ErrLease, net.IP(mask))
	}
	c := netConfig{Iface: iface, Addr: netip.PrefixFrom(ip, ones), Lease: ack.IPAddressLeaseTime(defaultLease)}
	for _, r := range ack.Router() {
		if a, ok := netip.AddrFromSlice(r.To4()); ok && !a.IsUnspecified() && a != ip {
			c.Routers = append(c.Routers, a)
		}
	}
	for _, d := range ack.DNS() {
		if a, ok := netip.AddrFromSlice(d.To4()); ok && !a.IsUnspecified() {
			c.DNS = append(c.DNS, a)
		}
	}
	c.Domain = printableName(ack.DomainName())
	if s := ack.DomainSearch(); s != nil {
		for _, l := range s.Labels {
			if l = printableName(l); l != "" {
				c.Search = append(c.Search, l)
			}
		}
	}
	if s, ok := netip.AddrFromSlice(ack.ServerIdentifier().To4()); ok {
		c.Server = s
	}
	if c.Lease <= 0 {
		c.Lease = defaultLease
	}
	return c, nil
}

// printableName keeps a DNS name from a lease only if it is a plain host
// name, so nothing odd reaches resolv.conf.
func printableName(s string) string {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return ""
		}
	}
	return s
}

// resolvConf is /etc/resolv.conf for c.
func resolvConf(c netConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by drover-agent from the dhcp lease on %s\n", c.Iface)
	search := c.Search
	if len(search) == 0 && c.Domain != "" {
		search = []string{c.Domain}
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, d := range c.DNS {
		fmt.Fprintf(&b, "nameserver %s\n", d)
	}
	return b.String()
}

// String is the one-line summary logged on the console.
func (c netConfig) String() string {
	s := fmt.Sprintf("%s %s", c.Iface, c.Addr)
	if len(c.Routers) > 0 {
		s += " via " + c.Routers[0].String()
	}
	return s
}

// netOptions configure bringUp.
type netOptions struct {
	// Ifaces limits DHCP to these interfaces (nil: every ethernet device,
	// the physical NICs of the discovery image).
	Ifaces []string
	// Carrier bounds the wait for a link on any interface.
	Carrier time.Duration
	// DHCPTimeout bounds one DHCP attempt on all interfaces.
	DHCPTimeout time.Duration
	// ResolvConf is the file written from the lease ("" = /etc/resolv.conf).
	ResolvConf string
}

// network is the configured network: the lease's interface and the DHCP
// client kept for renewals.
type network struct {
	cfg    netConfig
	lease  *nclient4.Lease
	client *nclient4.Client
	opts   netOptions
	log    *slog.Logger
}

// bringUp sets lo and the ethernet interfaces up, waits (bounded) for
// carrier, runs DHCPv4 on every interface with carrier in parallel and
// configures the first lease: address, default route and resolv.conf.
func bringUp(ctx context.Context, opts netOptions, log *slog.Logger) (*network, error) {
	if opts.Carrier <= 0 {
		opts.Carrier = 10 * time.Second
	}
	if opts.DHCPTimeout <= 0 {
		opts.DHCPTimeout = 30 * time.Second
	}
	if opts.ResolvConf == "" {
		opts.ResolvConf = "/etc/resolv.conf"
	}
	if lo, err := netlink.LinkByName("lo"); err == nil {
		if err := netlink.LinkSetUp(lo); err != nil {
			log.Warn("lo up", "err", err)
		}
	}
	names, err := ethernetLinks(opts.Ifaces)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no ethernet interfaces")
	}
	for _, n := range names {
		l, err := netlink.LinkByName(n)
		if err == nil {
			err = netlink.LinkSetUp(l)
		}
		if err != nil {
			log.Warn("link up", "iface", n, "err", err)
		}
	}
	up := waitCarrier(ctx, names, opts.Carrier)
	log.Info("links up", "ifaces", strings.Join(names, ","), "carrier", strings.Join(up, ","))
	if len(up) == 0 {
		up = names // no carrier reported: try them all anyway
	}

	// The DHCP clients' sockets are opened here, in the calling thread's
	// network namespace; only the exchanges run in parallel.
	var clients []*nclient4.Client
	var cnames []string
	for _, n := range up {
		c, err := nclient4.New(n, nclient4.WithTimeout(4*time.Second), nclient4.WithRetry(3))
		if err != nil {
			log.Warn("dhcp client", "iface", n, "err", err)
			continue
		}
		clients = append(clients, c)
		cnames = append(cnames, n)
	}
	if len(clients) == 0 {
		return nil, errors.New("no dhcp client could start")
	}
	dctx, cancel := context.WithTimeout(ctx, opts.DHCPTimeout)
	defer cancel()
	type result struct {
		i     int
		lease *nclient4.Lease
		err   error
	}
	results := make(chan result, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			l, err := c.Request(dctx)
			results <- result{i, l, err}
		})
	}
	var win *result
	var errs []error
	for range clients {
		r := <-results
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cnames[r.i], r.err))
			continue
		}
		if win == nil {
			win = &r
			cancel()
		}
	}
	wg.Wait()
	for i, c := range clients {
		if win == nil || i != win.i {
			c.Close()
		}
	}
	if win == nil {
		return nil, fmt.Errorf("dhcp: %w", errors.Join(errs...))
	}
	nw := &network{lease: win.lease, client: clients[win.i], opts: opts, log: log}
	cfg, err := leaseConfig(cnames[win.i], win.lease.ACK)
	if err == nil {
		err = applyConfig(cfg, opts.ResolvConf)
	}
	if err != nil {
		nw.client.Close()
		return nil, err
	}
	nw.cfg = cfg
	return nw, nil
}

// ethernetLinks lists the interfaces to configure: those named, or every
// link of type "device" with an ethernet address.
func ethernetLinks(only []string) ([]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var names []string
	for _, l := range links {
		a := l.Attrs()
		switch {
		case len(only) > 0:
			if !slices.Contains(only, a.Name) {
				continue
			}
		case l.Type() != "device" || a.EncapType != "ether" || len(a.HardwareAddr) != 6:
			continue
		}
		names = append(names, a.Name)
	}
	slices.Sort(names)
	return names, nil
}

// waitCarrier polls until every interface has carrier or d has passed and
// returns those that have it.
func waitCarrier(ctx context.Context, names []string, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		var up []string
		for _, n := range names {
			if l, err := netlink.LinkByName(n); err == nil && l.Attrs().RawFlags&unix.IFF_LOWER_UP != 0 {
				up = append(up, n)
			}
		}
		if len(up) == len(names) || time.Now().After(deadline) || ctx.Err() != nil {
			return up
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// applyConfig puts c on its interface: the address, a default route via
// the first router and resolv.conf.
func applyConfig(c netConfig, resolv string) error {
	l, err := netlink.LinkByName(c.Iface)
	if err != nil {
		return err
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: c.Addr.Addr().AsSlice(), Mask: net.CIDRMask(c.Addr.Bits(), 32)}}
	if err := netlink.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", c.Addr, c.Iface, err)
	}
	if len(c.Routers) > 0 {
		gw := c.Routers[0]
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw.AsSlice(),
			Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}}
		if !c.Addr.Contains(gw) {
			r.Flags = int(netlink.FLAG_ONLINK)
		}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	if len(c.DNS) > 0 || c.Domain != "" {
		if err := os.WriteFile(resolv, []byte(resolvConf(c)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// renew keeps the lease: at half its time it renews (falling back to a new
// request) and applies the answer, until ctx is done.
func (nw *network) renew(ctx context.Context) {
	defer nw.client.Close()
	for {
		wait := nw.cfg.Lease / 2
		if wait < 10*time.Second {
			wait = 10 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		l, err := nw.client.Renew(rctx, nw.lease)
		if err != nil {
			l, err = nw.client.Request(rctx)
		}
		cancel()
		if err != nil {
			nw.log.Warn("dhcp renew", "iface", nw.cfg.Iface, "err", err)
			continue
		}
		cfg, err := leaseConfig(nw.cfg.Iface, l.ACK)
		if err == nil {
			err = applyConfig(cfg, nw.opts.ResolvConf)
		}
		if err != nil {
			nw.log.Warn("dhcp renew", "iface", nw.cfg.Iface, "err", err)
			continue
		}
		if l, err := netlink.LinkByName(nw.cfg.Iface); err == nil && cfg.Addr != nw.cfg.Addr {
			_ = netlink.AddrDel(l, &netlink.Addr{IPNet: &net.IPNet{IP: nw.cfg.Addr.Addr().AsSlice(), Mask: net.CIDRMask(nw.cfg.Addr.Bits(), 32)}})
		}
		nw.lease, nw.cfg = l, cfg
		nw.log.Info("dhcp renewed " + cfg.String())
	}
}
