//go:build linux

package dhcpd

import (
	"context"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"golang.org/x/sys/unix"
)

const netnsEnv = "DROVER_DHCPD_NETNS_TEST"

// TestServerInterface binds Server to a real interface on port 67 inside
// a new network namespace (a veth pair; nothing leaves the namespace):
// the test re-runs itself under `unshare --net`.
func TestServerInterface(t *testing.T) {
	if os.Getenv(netnsEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root to create a network namespace and bind port 67 (CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE)")
		}
		for _, tool := range []string{"unshare", "ip"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s not found: cannot build the network namespace", tool)
			}
		}
		cmd := exec.Command("unshare", "--net", "--", os.Args[0], "-test.run=^TestServerInterface$", "-test.v")
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("in netns:\n%s", out)
		if err != nil {
			t.Fatalf("netns run: %v", err)
		}
		return
	}
	// The client end lives in a second namespace (held by a sleeping
	// process), so its packets are not local to the server's namespace.
	holder := exec.Command("unshare", "--net", "--", "sleep", "120")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	pid := strconv.Itoa(holder.Process.Pid)
	time.Sleep(100 * time.Millisecond) // let unshare switch namespaces before sleep is exec'd
	for _, args := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "add", "veth-s", "type", "veth", "peer", "name", "veth-c", "netns", pid},
		{"ip", "addr", "add", "198.18.0.1/24", "dev", "veth-s"},
		{"ip", "link", "set", "veth-s", "up"},
		{"nsenter", "-t", pid, "-n", "ip", "link", "set", "veth-c", "up"},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	var mu sync.Mutex
	var events []Event
	h := newHandler(t, nil)
	h.Now = nil
	h.Events = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	s := &Server{Interface: "veth-s", Network: labNetwork(t), Handler: h}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	client, err := clientConnIn("/proc/"+pid+"/ns/net", "veth-c")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// The client end has no address, like firmware: it sends from 0.0.0.0
	// and gets the reply by broadcast on the link. The server may not be
	// bound yet, so the first DISCOVERs may go unanswered.
	bcast := &net.UDPAddr{IP: net.IPv4bcast, Port: ServerPort}
	req := discover(t, macCN1, biosPXE...)
	buf := make([]byte, 1500)
	var resp *dhcpv4.DHCPv4
	for i := 0; resp == nil && i < 40; i++ {
		if _, err := client.WriteTo(req.ToBytes(), bcast); err != nil {
			t.Fatalf("send: %v", err)
		}
		if err := client.SetReadDeadline(time.Now().Add(250 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if n, _, err := client.ReadFrom(buf); err == nil {
			if resp, err = dhcpv4.FromBytes(buf[:n]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if resp == nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no reply on veth-c; handler events: %+v", events)
	}
	if resp.MessageType() != dhcpv4.MessageTypeOffer || resp.YourIPAddr.String() != "198.18.0.11" || resp.BootFileName != "undionly.kpxe" {
		t.Errorf("reply %s", resp.Summary())
	}

	// ProxyDHCP port: the client, now with an address from "another"
	// DHCP server, asks 198.18.0.1:4011 for its boot file by unicast.
	if out, err := exec.Command("nsenter", "-t", pid, "-n", "ip", "addr", "add", "198.18.0.77/24", "dev", "veth-c").CombinedOutput(); err != nil {
		t.Fatalf("client address: %v: %s", err, out)
	}
	ps := &Server{Interface: "veth-s", Network: proxyNetwork(t), Handler: h, Port: ProxyPort}
	pdone := make(chan error, 1)
	go func() { pdone <- ps.Serve(ctx) }()
	preq := proxyRequest(t, macCN1, "198.18.0.77", biosPXE...)
	proxyAddr := &net.UDPAddr{IP: net.IPv4(198, 18, 0, 1), Port: ProxyPort}
	resp = nil
	for i := 0; resp == nil && i < 40; i++ {
		if _, err := client.WriteTo(preq.ToBytes(), proxyAddr); err != nil {
			t.Fatalf("send to %s: %v", proxyAddr, err)
		}
		if err := client.SetReadDeadline(time.Now().Add(250 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if n, _, err := client.ReadFrom(buf); err == nil {
			if resp, err = dhcpv4.FromBytes(buf[:n]); err != nil {
				t.Fatal(err)
			}
			if resp.TransactionID != preq.TransactionID {
				resp = nil // a late reply to a DISCOVER above
			}
		}
	}
	if resp == nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no reply from %s; handler events: %+v", proxyAddr, events)
	}
	if resp.MessageType() != dhcpv4.MessageTypeAck || !resp.YourIPAddr.IsUnspecified() || resp.BootFileName != "undionly.kpxe" ||
		resp.ClassIdentifier() != "PXEClient" {
		t.Errorf("proxydhcp reply %s", resp.Summary())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
	if err := <-pdone; err != nil {
		t.Errorf("proxydhcp Serve after cancel: %v", err)
	}
}

// clientConnIn opens a DHCP client socket (port 68, bound to ifname) in
// the network namespace nsPath, from a thread that switches to it and is
// then discarded.
func clientConnIn(nsPath, ifname string) (*net.UDPConn, error) {
	type result struct {
		conn *net.UDPConn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open(nsPath)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		conn, err := server4.NewIPv4UDPConn(ifname, &net.UDPAddr{IP: net.IPv4zero, Port: 68})
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}
