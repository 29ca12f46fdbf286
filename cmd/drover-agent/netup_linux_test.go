package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The namespace test re-runs this test binary inside the client namespace;
// these variables tell the child what to do.
const (
	envNetnsChild  = "DROVER_AGENT_NETNS_CHILD" // interface to configure
	envNetnsResolv = "DROVER_AGENT_NETNS_RESOLV"
)

// TestNetUpNamespace brings the network up as PID 1 does, in two network
// namespaces of its own joined by a veth pair: busybox udhcpd serves
// 198.18.6.0/24 in one, bringUp runs (in a child test process) in the
// other and must configure the lease's address, default route and
// resolv.conf.
func TestNetUpNamespace(t *testing.T) {
	if iface := os.Getenv(envNetnsChild); iface != "" {
		netUpChild(t, iface, os.Getenv(envNetnsResolv))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create network namespaces (CI runs as root)")
	}
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("skipping: ip not found (Debian package iproute2; .ci/run installs it):", err)
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("skipping: busybox not found for udhcpd (Debian package busybox-static; .ci/run installs it):", err)
	}
	if out, err := exec.Command(busybox, "udhcpd", "--help").CombinedOutput(); !strings.Contains(string(out), "DHCP server") {
		t.Skipf("skipping: this busybox has no udhcpd (Debian's busybox-static, which .ci/run installs, has it): %v %s", err, out)
	}
	cli := fmt.Sprintf("drover-agent-test-%d", os.Getpid())
	srv := cli + "-srv"
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipCmd, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{cli, srv} {
		ip("netns", "add", ns)
		t.Cleanup(func() { exec.Command(ipCmd, "netns", "del", ns).Run() })
	}
	// Made inside the server namespace, the peer moved straight into the
	// client's: no interface of the host is touched.
	ip("-n", srv, "link", "add", "vs", "type", "veth", "peer", "name", "vc", "netns", cli)
	ip("-n", srv, "addr", "add", "198.18.6.1/24", "dev", "vs")
	ip("-n", srv, "link", "set", "vs", "up")
	ip("-n", srv, "link", "set", "lo", "up")

	dir := t.TempDir()
	conf := filepath.Join(dir, "udhcpd.conf")
	if err := os.WriteFile(filepath.Join(dir, "leases"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = os.WriteFile(conf, []byte(strings.Join([]string{
		"start 198.18.6.100", "end 198.18.6.110", "interface vs",
		"lease_file " + filepath.Join(dir, "leases"), "pidfile " + filepath.Join(dir, "udhcpd.own-pidfile"),
		"option subnet 255.255.255.0", "option router 198.18.6.1", "option dns 198.18.6.1",
		"option domain lab.example", "option lease 600", ""}, "\n")), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var dlog strings.Builder
	d := exec.Command(ipCmd, "netns", "exec", srv, busybox, "udhcpd", "-f", "-a", "100", conf)
	d.Stdout, d.Stderr = &dlog, &dlog
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Kill() // ip netns exec execs udhcpd: this PID is ours
		d.Wait()
	})

	resolv := filepath.Join(dir, "resolv.conf")
	child := exec.Command(ipCmd, "netns", "exec", cli, os.Args[0], "-test.run=^TestNetUpNamespace$", "-test.v", "-test.count=1")
	child.Env = append(os.Environ(), envNetnsChild+"=vc", envNetnsResolv+"="+resolv)
	out, err := child.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child failed: %v; udhcpd:\n%s", err, dlog.String())
	}
	b, err := os.ReadFile(resolv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "nameserver 198.18.6.1\n") || !strings.Contains(string(b), "search lab.example\n") {
		t.Errorf("resolv.conf:\n%s", b)
	}
}

// netUpChild runs in the client namespace.
func netUpChild(t *testing.T, iface, resolv string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(newConsoleHandler(os.Stderr, nil))
	nw, err := bringUp(ctx, netOptions{Ifaces: []string{iface}, ResolvConf: resolv}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer nw.client.Close()
	t.Logf("lease: %s lease %v dns %v", nw.cfg, nw.cfg.Lease, nw.cfg.DNS)
	if nw.cfg.Iface != iface || nw.cfg.Addr.Bits() != 24 || !netip.MustParsePrefix("198.18.6.0/24").Contains(nw.cfg.Addr.Addr()) {
		t.Errorf("config %s", nw.cfg)
	}
	link, err := netlink.LinkByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := netlink.AddrList(link, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range addrs {
		if a.IPNet.String() == nw.cfg.Addr.String() {
			found = true
		}
	}
	if !found {
		t.Errorf("address %s not on %s: %v", nw.cfg.Addr, iface, addrs)
	}
	routes, err := netlink.RouteList(link, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	gw := ""
	for _, r := range routes {
		if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
			gw = r.Gw.String()
		}
	}
	if gw != "198.18.6.1" {
		t.Errorf("default route via %q, want 198.18.6.1: %v", gw, routes)
	}
	if lo, err := netlink.LinkByName("lo"); err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo not up: %v", err)
	}
}
