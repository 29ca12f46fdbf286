package facts

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	// lldpdNICEnv names the interface the re-executed test listens on (it
	// runs inside the test's network namespace); lldpdOutEnv the file it
	// writes the neighbours it heard to, as JSON.
	lldpdNICEnv = "DROVER_FACTS_LLDPD_NIC"
	lldpdOutEnv = "DROVER_FACTS_LLDPD_OUT"
	// lldpShPath is the lab's LLDP speaker script, from this package's dir.
	lldpShPath = "../../test/lab/lldp.sh"
)

// lldpcliInterfaces is the part of `lldpcli -f json0 show interfaces` the
// test compares: what lldpd sends on each of its interfaces. json0 keeps
// every list a list (plain json turns one-element lists into objects).
type lldpcliInterfaces struct {
	LLDP []struct {
		Interface []struct {
			Name    string `json:"name"`
			Chassis []struct {
				ID   []lldpcliTyped `json:"id"`
				Name []lldpcliValue `json:"name"`
			} `json:"chassis"`
			Port []struct {
				ID    []lldpcliTyped `json:"id"`
				Descr []lldpcliValue `json:"descr"`
			} `json:"port"`
		} `json:"interface"`
	} `json:"lldp"`
}

type lldpcliTyped struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type lldpcliValue struct {
	Value string `json:"value"`
}

// sent returns the chassis ID, port ID, port description and system name
// lldpd reports for interface name, with their ID subtypes.
func (l lldpcliInterfaces) sent(name string) (LLDP, [2]string, error) {
	for _, top := range l.LLDP {
		for _, i := range top.Interface {
			if i.Name != name {
				continue
			}
			if len(i.Chassis) != 1 || len(i.Chassis[0].ID) != 1 || len(i.Chassis[0].Name) != 1 ||
				len(i.Port) != 1 || len(i.Port[0].ID) != 1 || len(i.Port[0].Descr) != 1 {
				return LLDP{}, [2]string{}, fmt.Errorf("interface %s: incomplete lldpcli entry %+v", name, i)
			}
			c, p := i.Chassis[0], i.Port[0]
			return LLDP{ChassisID: c.ID[0].Value, PortID: p.ID[0].Value, PortDescr: p.Descr[0].Value, SysName: c.Name[0].Value},
				[2]string{c.ID[0].Type, p.ID[0].Type}, nil
		}
	}
	return LLDP{}, [2]string{}, fmt.Errorf("interface %s not in lldpcli output", name)
}

// TestListenLLDPlldpd proves the listener against a real LLDP speaker:
// lldpd (Debian's), started by the lab's test/lab/lldp.sh with the lab's
// options, on one end of a veth pair in a network namespace of the test's
// own; ListenLLDP, re-executed inside that namespace, on the other end. The
// neighbour heard must be exactly what lldpd says it sends (lldpcli JSON).
// Needs root, ip(8), bash, lldpd and lldpcli.
func TestListenLLDPlldpd(t *testing.T) {
	if nic := os.Getenv(lldpdNICEnv); nic != "" {
		listenLLDPChild(t, nic, os.Getenv(lldpdOutEnv))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create a network namespace and run lldpd")
	}
	for _, tool := range []string{"ip", "bash", "lldpd", "lldpcli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not found (Debian package lldpd for lldpd/lldpcli)", tool)
		}
	}
	script, err := filepath.Abs(lldpShPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("skipping: lab script missing: %v", err)
	}

	ns := fmt.Sprintf("drover-lldpt-%d", os.Getpid())
	// lldpd and the lldpcli it runs for its config drop to user _lldpd:
	// the work dir (socket, config) must be reachable by it, and
	// t.TempDir() and its parent are 0700.
	work := t.TempDir()
	for _, d := range []string{filepath.Dir(work), work} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ipCmd := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ipCmd("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	// lldp-port is the "switch port" lldpd speaks on; lldp-nic the
	// machine's NIC the listener hears it on.
	ipCmd("-n", ns, "link", "set", "lo", "up")
	ipCmd("-n", ns, "link", "add", "lldp-port", "type", "veth", "peer", "name", "lldp-nic")
	ipCmd("-n", ns, "link", "set", "lldp-port", "up")
	ipCmd("-n", ns, "link", "set", "lldp-nic", "up")

	labEnv := append(os.Environ(), "DROVER_LAB_NS="+ns, "DROVER_LAB_WORK="+filepath.Join(work, "lab"))
	lab := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Env = labEnv
		cmd.Stderr = &testLogWriter{t: t, prefix: "lldp.sh " + args[0] + ": "}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("lldp.sh %v: %v", args, err)
		}
		return out
	}
	const sysName = "drover-test-sw"
	// Registered first: stop by the recorded PID even if start fails
	// half-way (before the namespace goes, which would not end lldpd).
	t.Cleanup(func() {
		cmd := exec.Command("bash", script, "stop")
		cmd.Env = labEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("lldp.sh stop: %v: %s", err, out)
		}
	})
	lab("start", "--sysname", sysName, "lldp-port")

	outFile := filepath.Join(work, "heard.json")
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestListenLLDPlldpd$", "-test.v")
	cmd.Env = append(os.Environ(), lldpdNICEnv+"=lldp-nic", lldpdOutEnv+"="+outFile)
	out, err := cmd.CombinedOutput()
	t.Logf("listener in namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("listener in network namespace failed: %v", err)
	}
	raw, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var heard []LLDP
	if err := json.Unmarshal(raw, &heard); err != nil {
		t.Fatalf("decode %s: %v", outFile, err)
	}

	// What lldpd says it sends, read after the listener (same data: the
	// config was applied before lldp.sh start returned).
	shown := lab("show")
	var li lldpcliInterfaces
	if err := json.Unmarshal(shown, &li); err != nil {
		t.Fatalf("decode lldpcli json0: %v", err)
	}
	sent, subtypes, err := li.sent("lldp-port")
	if err != nil {
		t.Fatal(err)
	}
	// The lab's options: MAC chassis ID (lldp.sh's fixed chassis veth),
	// port ID = interface name, the system name asked for.
	if d := cmp.Diff([2]string{"mac", "ifname"}, subtypes); d != "" {
		t.Errorf("lldpd chassis/port ID subtypes (-want +got):\n%s", d)
	}
	if sent.PortID != "lldp-port" || sent.SysName != sysName {
		t.Errorf("lldpd sends port ID %q, system name %q; want lldp-port, %s", sent.PortID, sent.SysName, sysName)
	}
	t.Logf("lldpd sends on lldp-port (lldpcli json0): chassis %s %q, port %s %q, port descr %q, sysname %q",
		subtypes[0], sent.ChassisID, subtypes[1], sent.PortID, sent.PortDescr, sent.SysName)
	sent.NIC = "lldp-nic"
	if d := cmp.Diff([]LLDP{sent}, heard); d != "" {
		t.Errorf("ListenLLDP heard (-lldpcli +got):\n%s", d)
	}
}

// listenLLDPChild runs inside the test's namespace: it listens on nic in
// windows of 2 s until a neighbour is heard (at most 15 windows; lldpd
// sends every second) and writes the neighbours to out as JSON.
func listenLLDPChild(t *testing.T, nic, out string) {
	var heard []LLDP
	for range 15 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		nb, err := ListenLLDP(ctx, nic)
		cancel()
		if err != nil {
			t.Fatalf("ListenLLDP %s: %v", nic, err)
		}
		if len(nb) > 0 {
			heard = nb
			break
		}
	}
	if len(heard) == 0 {
		t.Fatalf("no LLDP neighbour heard on %s in 30 s", nic)
	}
	b, err := json.Marshal(heard)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("heard on %s: %s", nic, b)
}

// testLogWriter sends a command's stderr to the test log, line by line.
type testLogWriter struct {
	t      *testing.T
	prefix string
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Logf("%s%s", w.prefix, p)
	return len(p), nil
}
