package facts

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"
	"github.com/mdlayher/packet"
)

const inNetnsEnv = "DROVER_FACTS_IN_NETNS"

// TestListenLLDPVeth captures a real LLDP frame with AF_PACKET: it re-runs
// itself under `unshare -n` (a fresh network namespace, so nothing leaves
// it), makes a veth pair there, sends frames on one end and listens on the
// other. Needs root and unshare(1) and ip(8).
func TestListenLLDPVeth(t *testing.T) {
	if os.Getenv(inNetnsEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("skipping: needs root to create a network namespace and veth pair")
		}
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			t.Skip("skipping: unshare(1) not found")
		}
		if _, err := exec.LookPath("ip"); err != nil {
			t.Skip("skipping: ip(8) not found")
		}
		cmd := exec.Command(unshare, "-n", os.Args[0], "-test.run=^TestListenLLDPVeth$", "-test.v")
		cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("in namespace:\n%s", out)
		if err != nil {
			t.Fatalf("test in network namespace failed: %v", err)
		}
		return
	}
	for _, args := range [][]string{
		{"link", "add", "lldp-a", "type", "veth", "peer", "name", "lldp-b"},
		{"link", "set", "lldp-a", "up"},
		{"link", "set", "lldp-b", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	a, err := net.InterfaceByName("lldp-a")
	if err != nil {
		t.Fatal(err)
	}
	send, err := packet.Listen(a, packet.Raw, EtherTypeLLDP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	frame := lldpFrame(t, layers.LLDPChassisID{Subtype: layers.LLDPChassisIDSubTypeMACAddr, ID: a.HardwareAddr},
		layers.LLDPPortID{Subtype: layers.LLDPPortIDSubtypeIfaceName, ID: []byte("lldp-a")}, "veth end a", "netns")

	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		nb  []LLDP
		err error
	}
	done := make(chan result, 1)
	go func() {
		nb, err := ListenLLDP(ctx, "lldp-b")
		done <- result{nb, err}
	}()
	// The listener opens its socket asynchronously: send a few frames
	// apart, then stop it. Duplicates collapse to one neighbour.
	for range 20 {
		if _, err := send.WriteTo(frame, &packet.Addr{HardwareAddr: lldpMulticast}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []LLDP{{NIC: "lldp-b", ChassisID: a.HardwareAddr.String(), PortID: "lldp-a", PortDescr: "veth end a", SysName: "netns"}}
	if d := cmp.Diff(want, res.nb); d != "" {
		t.Errorf("ListenLLDP (-want +got):\n%s", d)
	}
}
