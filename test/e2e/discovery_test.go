package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The discovery scenarios' machines: MACs no node has, SMBIOS serials and
// UUIDs that vm.sh gives them.
var (
	dCN1 = node{"cn1", "52:54:00:18:00:31", "198.18.0.31"} // matched by serial (MTMS), powered by its BMC
	dSeq = node{"d2", "52:54:00:18:00:32", ""}             // sequential discovery names it cn2
	dSw  = node{"d3", "52:54:00:18:00:33", ""}             // switch-based: cn5 is on its tap's "switch port"
)

const (
	discMem  = 512 // MiB, each discovery VM
	discBMC  = 9624
	lldpName = "e2e-sw" // lldpd's system name: the switch node's name
	lldpWait = "4s"     // drover.lldp: how long the agent listens
)

// missingLLDPPrerequisite says what keeps lldpd from running here, or "".
func missingLLDPPrerequisite() string {
	for _, c := range []struct{ cmd, pkg string }{{"lldpd", "lldpd"}, {"lldpcli", "lldpd"}} {
		if _, err := exec.LookPath(c.cmd); err != nil {
			if _, err := os.Stat("/usr/sbin/" + c.cmd); err != nil {
				return fmt.Sprintf("%s not found (Debian package %s; .ci/run installs it)", c.cmd, c.pkg)
			}
		}
	}
	return ""
}

// TestDiscovery is issue 5's acceptance 1, 3, 4 and 5 end to end: unknown
// QEMU machines PXE-boot drover's discovery image (the Debian kernel and
// drover-agent as /init, built by `drover image build-discovery`), the
// agent reports their facts, drover matches them — by switch port from a
// real lldpd, by SMBIOS serial, by sequential discovery — writes the facts
// to the nodes, carries out their chain (osimage) and the agent reboots
// them into the OS image, which reports booted.
func TestDiscovery(t *testing.T) {
	for _, why := range []string{missingBMCPrerequisite(), missingLLDPPrerequisite()} {
		if why != "" {
			t.Skip("skipping the discovery end-to-end test: " + why)
		}
	}
	l := newLab(t)
	l.buildDiscoveryImage(t)
	configureDiscovery(t, l)

	// The lab host is the "switch": lldpd speaks LLDP on every VM's tap, so
	// each tap is a switch port named after it. lldpd drops privileges to
	// _lldpd, which must reach its files in the lab's work directory
	// (os.MkdirTemp made it 0700; the secrets inside keep their own modes).
	if err := os.Chmod(l.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := l.script("lldp.sh", "start", "--sysname", lldpName, "t-"+dSw.name, "t-"+dCN1.name, "t-"+dSeq.name); err != nil {
		t.Fatalf("lldp.sh start: %v", err)
	}
	t.Cleanup(func() {
		if _, err := l.script("lldp.sh", "stop"); err != nil {
			t.Errorf("lldp.sh stop: %v", err)
		}
	})

	t.Run("switch port, one VM", func(t *testing.T) {
		// cn5 is defined by where it is cabled: the switch and the port.
		for _, c := range [][]string{
			{"mkdef", "-t", "node", lldpName, "groups=switch"},
			{"mkdef", "-t", "node", "cn5", "groups=all", "switch=" + lldpName, "switchport=t-" + dSw.name,
				"chain=osimage=" + osimage},
		} {
			l.mustDrover(t, c...)
		}
		v := l.startVMWith(t, dSw.name, dSw.mac, "--serial", "SN-"+dSw.name, "--mem", strconv.Itoa(discMem), "--reboot")
		l.dumpOnFailure(t, v)
		if _, err := v.waitOff(vmTimeout); err != nil {
			t.Fatal(err)
		}
		l.checkDiscovered(t, v, "cn5", `matched cn5 by switch`)
		// The reported neighbour is what lldpd sends on the tap.
		sent := l.lldpSent(t, "t-"+dSw.name)
		f := l.reportFacts(t, dSw.mac)
		heard := false
		for _, n := range f.LLDP {
			t.Logf("the agent heard on %s: chassis %q port %q sysname %q", n.NIC, n.ChassisID, n.PortID, n.SysName)
			if n.ChassisID == sent.chassis && n.PortID == sent.port && n.SysName == sent.sysname {
				heard = true
			}
		}
		if !heard {
			t.Errorf("no reported LLDP neighbour equals what lldpd sends on t-%s (chassis %q port %q sysname %q): %+v",
				dSw.name, sent.chassis, sent.port, sent.sysname, f.LLDP)
		}
		l.checkFacts(t, f, dSw)
	})

	t.Run("serial and sequential, two VMs at once", func(t *testing.T) {
		b := l.startBMCWith(t, dCN1.name, discBMC, dCN1, fmt.Sprintf("--mem %d --serial SN-%s --reboot", discMem, dCN1.name))
		for _, c := range [][]string{
			{"mkdef", "-t", "node", "cn1", "groups=all,ipmi", "mgt=ipmi", "bmc=127.0.0.1:" + strconv.Itoa(discBMC),
				"bmcusername=" + bmcUser, "bmcpassword=" + bmcPass, "serial=SN-" + dCN1.name, "ip=" + dCN1.ip,
				"chain=runcmd=bmcsetup,osimage=" + osimage},
			{"nodediscoverstart", "noderange=cn[2-3]", "groups=all,compute", "osimage=" + osimage},
			{"rsetboot", "cn1", "net"},
		} {
			out := l.mustDrover(t, c...)
			t.Logf("drover %s: %s", strings.Join(c, " "), strings.TrimSpace(out))
		}
		l.mustDrover(t, "rpower", "cn1", "on")
		v2 := l.startVMWith(t, dSeq.name, dSeq.mac, "--serial", "SN-"+dSeq.name, "--mem", strconv.Itoa(discMem), "--reboot")
		v1 := b.poweredVM(t)
		if v1 == nil {
			t.FailNow()
		}
		l.dumpOnFailure(t, v1)
		l.dumpOnFailure(t, v2)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, v := range []*vm{v1, v2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = v.waitOff(2 * vmTimeout)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		l.checkDiscovered(t, v1, "cn1", `matched cn1 by mtms`)
		l.checkDiscovered(t, v2, "cn2", `matched cn2 by sequential`)
		l.checkFacts(t, l.reportFacts(t, dCN1.mac), dCN1)
		l.checkFacts(t, l.reportFacts(t, dSeq.mac), dSeq)
		out := l.mustDrover(t, "lsdef", "cn2", "-i", "groups,mac")
		if !strings.Contains(out, "groups=all,compute") || !strings.Contains(out, "mac="+dSeq.mac) {
			t.Errorf("cn2 after sequential discovery:\n%s", out)
		}
		t.Logf("nodediscoverls:\n%s", l.mustDrover(t, "nodediscoverls"))
		t.Logf("nodediscoverstop:\n%s", l.mustDrover(t, "nodediscoverstop"))
	})
}

// buildDiscoveryImage builds drover-agent and, with `drover image
// build-discovery`, the discovery image from the lab's kernel package into
// DATA/discover.
func (l *lab) buildDiscoveryImage(t *testing.T) {
	t.Helper()
	goCmd, err := goTool()
	if err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(l.dir, "drover-agent")
	start := time.Now()
	cmd := exec.Command(goCmd, "build", "-ldflags", "-X main.version=e2e", "-o", agent, "./cmd/drover-agent")
	cmd.Dir = l.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/drover-agent: %v\n%s", err, out)
	}
	out, err := exec.Command(l.bin, "image", "build-discovery", "--kernel-dir", l.kdir, "--agent", agent,
		"--out", filepath.Join(l.data, "discover"), "--image-version", "e2e-image").CombinedOutput()
	if err != nil {
		t.Fatalf("drover image build-discovery: %v\n%s", err, out)
	}
	t.Logf("discovery image built in %.1fs:\n%s", time.Since(start).Seconds(), out)
}

// configureDiscovery is the lab's inventory for discovery: the network,
// the OS image (the report-in initramfs) and the discover boot target
// (the discovery image); no nodes.
func configureDiscovery(t *testing.T, l *lab) {
	t.Helper()
	for _, c := range l.baseConfig("console=ttyS0 panic=-1 drover.lldp=" + lldpWait) {
		out := l.mustDrover(t, c...)
		t.Logf("drover %s: %s", strings.Join(c, " "), strings.TrimSpace(out))
	}
	l.waitListening(t)
}

// checkDiscovered checks a machine's way from power-on to its OS in
// `drover events NODE`: the discovery boot, the agent's report, the match
// (matchRE), the chain's reboot, the OS image's boot and report; and logs
// the times from power-on to discovered and to booted.
func (l *lab) checkDiscovered(t *testing.T, v *vm, name, matchRE string) {
	t.Helper()
	evs, err := l.eventsUntil(name, "http-report", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	logTimeline(t, name, v, evs)
	steps := []step{}
	if name == "cn1" {
		steps = append(steps, step{"power", `^rpower on\b`, "drover powers the machine on through its BMC"})
	}
	steps = append(steps, dora("firmware")...)
	steps = append(steps,
		step{"http-script", `\bstate=discover\b`, "iPXE fetches the discovery script"},
		step{"http-file", regexp.QuoteMeta(filepath.Join(l.data, "discover", "vmlinuz")) + `\b`, "iPXE fetches the discovery kernel"},
		step{"http-file", regexp.QuoteMeta(filepath.Join(l.data, "discover", "initrd.gz")) + `\b`, "iPXE fetches the discovery initrd"},
		step{"discovery", `^report from agent e2e \(image e2e-image\)`, "the agent reports its facts"},
		step{"discovery", matchRE, "drover matches the machine"},
		step{"chain", `^osimage=` + osimage + `$`, "the chain sets the OS image"},
		step{"chain", `^reboot$`, "the agent is told to reboot"},
		step{"http-script", `\bstate=osimage\b.*\b` + osimage + `\b`, "after the reboot iPXE fetches the OS image's script"},
		step{"http-report", `\bbooted\b`, "the OS reports booted"},
	)
	got, n := findSteps(evs, steps)
	if n < len(steps) {
		t.Errorf("%s: timeline misses step %d (%s: %s %q) after %d matched steps",
			name, n+1, steps[n].what, steps[n].kind, steps[n].detail, n)
		return
	}
	var matched, booted time.Time
	for i, s := range steps {
		switch s.what {
		case "drover matches the machine":
			matched = got[i].Time
		case "the OS reports booted":
			booted = got[i].Time
		}
	}
	t.Logf("%s: power-on -> discovered %.1fs, -> booted %.1fs", name, matched.Sub(v.started).Seconds(), booted.Sub(v.started).Seconds())
	out := l.mustDrover(t, "lsdef", name, "-i", "mac,serial,uuid,status,cpucount,memory")
	if !strings.Contains(out, "mac="+v.mac) || !strings.Contains(out, "status=booted") {
		t.Errorf("%s after discovery and boot:\n%s", name, out)
	}
}

// agentFacts is the part of a discovery report the test checks.
type agentFacts struct {
	Version string `json:"version"`
	Image   string `json:"image"`
	System  struct {
		Serial string `json:"serial"`
		UUID   string `json:"uuid"`
	} `json:"system"`
	CPUs struct {
		Threads int `json:"threads"`
	} `json:"cpus"`
	MemoryBytes uint64 `json:"memoryBytes"`
	NICs        []struct {
		MAC string `json:"mac"`
	} `json:"nics"`
	LLDP []struct {
		NIC       string `json:"nic"`
		ChassisID string `json:"chassisID"`
		PortID    string `json:"portID"`
		SysName   string `json:"sysName"`
	} `json:"lldp"`
}

// reportFacts returns the facts of mac's discovery report (`drover
// discovery show MAC`, whose JSON follows its "Facts:" line).
func (l *lab) reportFacts(t *testing.T, mac string) agentFacts {
	t.Helper()
	out := l.mustDrover(t, "discovery", "show", mac)
	_, js, ok := strings.Cut(out, "Facts:")
	if !ok {
		t.Fatalf("drover discovery show %s has no Facts:\n%s", mac, out)
	}
	var f agentFacts
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		t.Fatalf("facts of %s: %v\n%s", mac, err, js)
	}
	return f
}

// checkFacts compares the agent's facts with what QEMU was given (vm.sh:
// SMBIOS serial SN-NAME, UUID 00000000-0000-4000-8000-<mac>, discMem MiB,
// one CPU).
func (l *lab) checkFacts(t *testing.T, f agentFacts, n node) {
	t.Helper()
	wantUUID := "00000000-0000-4000-8000-" + strings.ReplaceAll(n.mac, ":", "")
	if f.System.Serial != "SN-"+n.name || !strings.EqualFold(f.System.UUID, wantUUID) {
		t.Errorf("%s: reported serial %q uuid %q, QEMU was given SN-%s and %s", n.name, f.System.Serial, f.System.UUID, n.name, wantUUID)
	}
	if f.CPUs.Threads != 1 {
		t.Errorf("%s: reported %d CPUs, QEMU has 1", n.name, f.CPUs.Threads)
	}
	given := uint64(discMem) << 20
	if f.MemoryBytes > given || f.MemoryBytes < given*9/10 {
		t.Errorf("%s: reported %d bytes of memory, QEMU was given %d", n.name, f.MemoryBytes, given)
	}
	hasMAC := false
	for _, nic := range f.NICs {
		hasMAC = hasMAC || nic.MAC == n.mac
	}
	if !hasMAC {
		t.Errorf("%s: reported NICs %+v lack %s", n.name, f.NICs, n.mac)
	}
	if f.Version != "e2e" || f.Image != "e2e-image" {
		t.Errorf("%s: agent version %q image %q, want e2e and e2e-image", n.name, f.Version, f.Image)
	}
	t.Logf("%s facts: serial %s, uuid %s, %d CPU, %d MiB, nics %+v", n.name, f.System.Serial, f.System.UUID, f.CPUs.Threads, f.MemoryBytes>>20, f.NICs)
}

// lldpNeighbour is what lldpd sends on one interface.
type lldpNeighbour struct{ chassis, port, sysname string }

// lldpSent reads what lldpd sends on iface (`lldp.sh show`, lldpcli json0).
func (l *lab) lldpSent(t *testing.T, iface string) lldpNeighbour {
	t.Helper()
	out, err := l.script("lldp.sh", "show")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Lldp []struct {
			Interface []struct {
				Name    string `json:"name"`
				Chassis []struct {
					ID []struct {
						Type  string `json:"type"`
						Value string `json:"value"`
					} `json:"id"`
					Name []struct {
						Value string `json:"value"`
					} `json:"name"`
				} `json:"chassis"`
				Port []struct {
					ID []struct {
						Type  string `json:"type"`
						Value string `json:"value"`
					} `json:"id"`
				} `json:"port"`
			} `json:"interface"`
		} `json:"lldp"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("lldp.sh show: %v\n%s", err, out)
	}
	for _, ll := range doc.Lldp {
		for _, i := range ll.Interface {
			if i.Name != iface || len(i.Chassis) == 0 || len(i.Port) == 0 {
				continue
			}
			var n lldpNeighbour
			if c := i.Chassis[0]; len(c.ID) > 0 {
				n.chassis = c.ID[0].Value
				if len(c.Name) > 0 {
					n.sysname = c.Name[0].Value
				}
			}
			if p := i.Port[0]; len(p.ID) > 0 {
				n.port = p.ID[0].Value
			}
			t.Logf("lldpd sends on %s: chassis %q port %q sysname %q", iface, n.chassis, n.port, n.sysname)
			return n
		}
	}
	t.Fatalf("lldp.sh show has no interface %s:\n%s", iface, out)
	return lldpNeighbour{}
}
