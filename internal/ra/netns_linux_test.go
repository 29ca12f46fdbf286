package ra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// netnsPair creates two network namespaces joined by a veth pair (ra0 in
// the first, ra1 in the second) with IPv6 enabled, duplicate address
// detection and kernel router solicitations off, and waits for both
// link-local addresses. In the first namespace it also creates a veth
// pair nov6a/nov6b with IPv6 disabled. Everything is deleted in
// t.Cleanup. It skips the test unless it runs as root with ip(8).
func netnsPair(t *testing.T) (a, b string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: creating network namespaces needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("skipping: ip(8) not found: %v", err)
	}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		t.Skipf("skipping: the kernel has no IPv6: %v", err)
	}
	a = fmt.Sprintf("drover-ra-%d-a", os.Getpid())
	b = fmt.Sprintf("drover-ra-%d-b", os.Getpid())
	for _, ns := range []string{a, b} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
			}
		})
		// Only inside the new namespace; written from a thread in it.
		inNetns(t, ns, func() {
			for _, kv := range [][2]string{
				{"all/disable_ipv6", "0"},
				{"default/disable_ipv6", "0"},
				{"all/accept_dad", "0"},
				{"default/accept_dad", "0"},
				{"all/router_solicitations", "0"},
				{"default/router_solicitations", "0"},
			} {
				if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+kv[0], []byte(kv[1]), 0); err != nil {
					t.Errorf("sysctl in %s: %v", ns, err)
				}
			}
		})
		if t.Failed() {
			t.FailNow()
		}
	}
	run(t, "ip", "-n", a, "link", "add", "ra0", "type", "veth", "peer", "name", "ra1", "netns", b)
	run(t, "ip", "-n", a, "link", "add", "nov6a", "type", "veth", "peer", "name", "nov6b")
	inNetns(t, a, func() {
		if err := os.WriteFile("/proc/sys/net/ipv6/conf/nov6a/disable_ipv6", []byte("1"), 0); err != nil {
			t.Errorf("disable IPv6 on nov6a: %v", err)
		}
	})
	run(t, "ip", "-n", a, "link", "set", "lo", "up")
	run(t, "ip", "-n", b, "link", "set", "lo", "up")
	run(t, "ip", "-n", a, "link", "set", "ra0", "up")
	run(t, "ip", "-n", b, "link", "set", "ra1", "up")
	run(t, "ip", "-n", a, "link", "set", "nov6a", "up")
	run(t, "ip", "-n", a, "link", "set", "nov6b", "up")
	for _, nd := range [][2]string{{a, "ra0"}, {b, "ra1"}} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, _ := exec.Command("ip", "-n", nd[0], "-6", "addr", "show", "dev", nd[1], "scope", "link").CombinedOutput()
			if bytes.Contains(out, []byte("fe80::")) && !bytes.Contains(out, []byte("tentative")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no usable link-local address on %s in %s: %s", nd[1], nd[0], out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return a, b
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// goNetns runs fn in a new goroutine on an OS thread moved into the named
// network namespace. The thread is never unlocked, so it ends with the
// goroutine and no other goroutine ever runs in that namespace. Sockets
// opened by fn stay in the namespace wherever they are used later. The
// returned channel closes when fn returns.
func goNetns(t *testing.T, ns string, fn func()) <-chan struct{} {
	t.Helper()
	f, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatalf("open namespace %s: %v", ns, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer f.Close()
		runtime.LockOSThread()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Errorf("setns %s: %v", ns, err)
			return
		}
		fn()
	}()
	return done
}

// inNetns runs fn in the named network namespace and waits for it.
func inNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	<-goNetns(t, ns, fn)
}

// solicitor is the host side: a raw ICMPv6 socket on ra1 that hears
// router advertisements and sends solicitations.
type solicitor struct {
	ifi *net.Interface
	ll  netip.Addr
	p   *ipv6.PacketConn
}

func newSolicitor(t *testing.T, ns, iface string) *solicitor {
	t.Helper()
	var s solicitor
	var err error
	inNetns(t, ns, func() {
		if s.ifi, err = net.InterfaceByName(iface); err != nil {
			return
		}
		if s.ll, err = linkLocal(s.ifi); err != nil {
			return
		}
		var c net.PacketConn
		if c, err = net.ListenPacket("ip6:ipv6-icmp", "::"); err != nil {
			return
		}
		s.p = ipv6.NewPacketConn(c)
		if err = bindToDevice(c.(*net.IPConn), iface); err != nil {
			return
		}
		var f ipv6.ICMPFilter
		f.SetAll(true)
		f.Accept(ipv6.ICMPTypeRouterAdvertisement)
		if err = s.p.SetICMPFilter(&f); err != nil {
			return
		}
		err = s.p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true)
	})
	if s.p != nil {
		t.Cleanup(func() { s.p.Close() })
	}
	if err != nil {
		t.Fatalf("solicitor on %s in %s: %v", iface, ns, err)
	}
	return &s
}

// solicit sends a Router Solicitation with the given hop limit and the
// interface's MAC as source link-layer address to ff02::2.
func (s *solicitor) solicit(t *testing.T, hopLimit int) {
	t.Helper()
	rs := append([]byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 1}, s.ifi.HardwareAddr...)
	cm := &ipv6.ControlMessage{HopLimit: hopLimit, IfIndex: s.ifi.Index, Src: s.ll.AsSlice()}
	to := &net.IPAddr{IP: allRouters().AsSlice(), Zone: s.ifi.Name}
	if _, err := s.p.WriteTo(rs, cm, to); err != nil {
		t.Fatalf("send router solicitation: %v", err)
	}
}

// solicitUnspecified sends a Router Solicitation without options from
// the unspecified address, as a host does before it has an address. A
// raw IPPROTO_RAW socket writes the IPv6 header itself, since the kernel
// would otherwise pick the link-local source address.
func (s *solicitor) solicitUnspecified(t *testing.T, ns string) {
	t.Helper()
	icmp := []byte{133, 0, 0, 0, 0, 0, 0, 0}
	dst := allRouters().As16()
	// Checksum over the pseudo-header (source :: contributes nothing).
	sum := uint32(0)
	for i := 0; i < 16; i += 2 {
		sum += uint32(dst[i])<<8 | uint32(dst[i+1])
	}
	sum += uint32(len(icmp)) + 58
	for i := 0; i < len(icmp); i += 2 {
		sum += uint32(icmp[i])<<8 | uint32(icmp[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	cs := ^uint16(sum)
	icmp[2], icmp[3] = byte(cs>>8), byte(cs)
	pkt := make([]byte, 40, 40+len(icmp))
	pkt[0] = 6 << 4
	pkt[5] = byte(len(icmp))
	pkt[6] = 58  // next header: ICMPv6
	pkt[7] = 255 // hop limit
	copy(pkt[24:], dst[:])
	pkt = append(pkt, icmp...)

	var err error
	inNetns(t, ns, func() {
		var fd int
		if fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW); err != nil {
			return
		}
		defer unix.Close(fd)
		if err = unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, s.ifi.Name); err != nil {
			return
		}
		err = unix.Sendto(fd, pkt, 0, &unix.SockaddrInet6{Addr: dst, ZoneId: uint32(s.ifi.Index)})
	})
	if err != nil {
		t.Fatalf("send router solicitation from ::: %v", err)
	}
}

type receivedRA struct {
	src, dst netip.Addr
	hopLimit int
	ra       decodedRA
}

// await reads advertisements until one goes to dst, or fails the test
// when none does by the deadline.
func (s *solicitor) await(t *testing.T, dst netip.Addr, within time.Duration) receivedRA {
	t.Helper()
	buf := make([]byte, 1500)
	if err := s.p.SetReadDeadline(time.Now().Add(within)); err != nil {
		t.Fatal(err)
	}
	for {
		n, cm, src, err := s.p.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no router advertisement to %v within %v: %v", dst, within, err)
		}
		from, _ := netip.AddrFromSlice(src.(*net.IPAddr).IP)
		got, _ := netip.AddrFromSlice(cm.Dst)
		if got != dst {
			t.Logf("advertisement from %v to %v (waiting for one to %v)", from, got, dst)
			continue
		}
		return receivedRA{src: from, dst: got, hopLimit: cm.HopLimit, ra: decodeRA(t, buf[:n])}
	}
}

func TestSenderInNetns(t *testing.T) {
	nsA, nsB := netnsPair(t)
	host := newSolicitor(t, nsB, "ra1")

	events := make(chan Event, 100)
	var unsolicited atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{
		Interface: "ra0",
		Interval:  time.Hour, // only the initial unsolicited advertisements
		MTU:       1500,
		Events: func(e Event) {
			if e.Kind == EventAdvertise && !e.Solicited {
				unsolicited.Add(1)
			}
			select {
			case events <- e:
			default:
			}
		},
	}
	var serveErr error
	var routerMAC net.HardwareAddr
	var routerLL netip.Addr
	inNetns(t, nsA, func() {
		ifi, err := net.InterfaceByName("ra0")
		if err != nil {
			t.Errorf("ra0: %v", err)
			return
		}
		routerMAC = ifi.HardwareAddr
		if routerLL, err = linkLocal(ifi); err != nil {
			t.Errorf("ra0: %v", err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	served := goNetns(t, nsA, func() { serveErr = s.Serve(ctx) })
	t.Cleanup(func() {
		cancel()
		<-served
		if serveErr != nil {
			t.Errorf("Serve: %v", serveErr)
		}
	})

	check := func(t *testing.T, got receivedRA) {
		t.Helper()
		if got.src != routerLL {
			t.Errorf("source %v, want the router's link-local %v", got.src, routerLL)
		}
		if got.hopLimit != 255 {
			t.Errorf("IP hop limit %d, want 255", got.hopLimit)
		}
		ra := got.ra
		if ra.RouterLifetime != 0 || ra.Flags != 0 || ra.CurHopLimit != 64 || ra.ReachableTime != 0 || ra.RetransTimer != 0 {
			t.Errorf("advertisement %+v, want lifetime 0, flags 0, hop limit 64, timers 0", ra)
		}
		var types []uint8
		for _, o := range ra.Options {
			types = append(types, o.Type)
			switch o.Type {
			case optPrefixInformation:
				t.Errorf("advertisement carries a prefix information option")
			case optSourceLinkLayerAddr:
				if !bytes.Equal(o.Data, routerMAC) {
					t.Errorf("source link-layer address %x, want %v", o.Data, routerMAC)
				}
			}
		}
		if want := []uint8{optSourceLinkLayerAddr, optMTU}; !bytes.Equal(types, want) {
			t.Errorf("option types %v, want %v", types, want)
		}
	}

	t.Run("unsolicited", func(t *testing.T) {
		check(t, host.await(t, allNodes(), 3*time.Second))
	})
	t.Run("solicited", func(t *testing.T) {
		host.solicit(t, 255)
		check(t, host.await(t, host.ll, time.Second))
		waitEvent(t, events, func(e Event) bool {
			return e.Kind == EventSolicit && e.Peer == host.ll && bytes.Equal(e.MAC, host.ifi.HardwareAddr)
		})
		waitEvent(t, events, func(e Event) bool {
			return e.Kind == EventAdvertise && e.Solicited && e.Peer == host.ll && e.Interface == "ra0"
		})
	})
	t.Run("hop limit 64 ignored", func(t *testing.T) {
		host.solicit(t, 64)
		waitEvent(t, events, func(e Event) bool {
			return e.Kind == EventIgnored && strings.Contains(e.Reason, "hop limit 64")
		})
	})
	t.Run("rdisc6", func(t *testing.T) {
		// A client no one here wrote (Debian package ndisc6).
		if _, err := exec.LookPath("rdisc6"); err != nil {
			t.Skipf("skipping: rdisc6 not found (apt-get install ndisc6): %v", err)
		}
		out, err := exec.Command("ip", "netns", "exec", nsB, "rdisc6", "-1", "-r", "1", "-w", "1000", "ra1").CombinedOutput()
		if err != nil {
			t.Fatalf("rdisc6: %v\n%s", err, out)
		}
		t.Logf("rdisc6:\n%s", out)
		got := strings.Join(strings.Fields(string(out)), " ") // rdisc6 aligns with spaces
		for _, want := range []string{
			"Router lifetime : 0 (0x00000000) seconds",
			"Stateful address conf. : No",
			"Stateful other conf. : No",
			"MTU : 1500 bytes",
			"from " + routerLL.String(),
		} {
			if !strings.Contains(got, want) {
				t.Errorf("rdisc6 output lacks %q", want)
			}
		}
		if strings.Contains(string(out), "Prefix") {
			t.Errorf("rdisc6 shows a prefix")
		}
	})
	t.Run("from unspecified address", func(t *testing.T) {
		// Wait for the initial unsolicited advertisements to end, so the
		// next multicast one can only be the answer.
		for deadline := time.Now().Add(10 * time.Second); unsolicited.Load() < initialAdverts; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d unsolicited advertisements, want %d", unsolicited.Load(), initialAdverts)
			}
		}
		host.solicitUnspecified(t, nsB)
		waitEvent(t, events, func(e Event) bool {
			return e.Kind == EventSolicit && e.Peer == netip.IPv6Unspecified() && e.MAC == nil
		})
		// At most MIN_DELAY_BETWEEN_RAS after the last multicast one.
		check(t, host.await(t, allNodes(), minDelayBetweenRAs+time.Second))
		waitEvent(t, events, func(e Event) bool {
			return e.Kind == EventAdvertise && e.Solicited && e.Peer == allNodes()
		})
	})
	t.Run("no link-local address", func(t *testing.T) {
		var err error
		inNetns(t, nsA, func() { err = (&Sender{Interface: "nov6a"}).Serve(context.Background()) })
		if !errors.Is(err, ErrNoLinkLocal) {
			t.Fatalf("Serve on an interface without IPv6: %v, want ErrNoLinkLocal", err)
		}
		if want := "ra on nov6a: no IPv6 link-local address (IPv6 disabled on the interface?)"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	})
}

// waitEvent reads events until one matches, failing after 5 s.
func waitEvent(t *testing.T, events <-chan Event, match func(Event) bool) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			if match(e) {
				return
			}
		case <-timeout:
			t.Fatal("expected event did not arrive")
		}
	}
}
