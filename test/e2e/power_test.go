package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The power node: a lab VM behind a simulated IPMI BMC (OpenIPMI's
// ipmi_sim through test/lab/bmc-sim.sh --vm) on the namespace's loopback,
// where drover serve (also in the namespace) reaches it.
var pw1 = node{"pw1", "52:54:00:18:00:21", "198.18.0.21"}

const (
	bmcPort = 9623
	bmcUser = "admin"
	bmcPass = "e2e.pw1-secret" // bmc-sim.sh: letters, digits and ._- only
)

// missingBMCPrerequisite says what keeps the simulated BMC from running
// here, or "" (the lab's own prerequisites are newLab's).
func missingBMCPrerequisite() string {
	for _, c := range []struct{ cmd, pkg string }{
		{"ipmi_sim", "openipmi"},
		{"ipmitool", "ipmitool"},
		{"setsid", "util-linux"},
		{"ss", "iproute2"},
	} {
		if _, err := exec.LookPath(c.cmd); err != nil {
			return fmt.Sprintf("%s not found (Debian package %s; .ci/run installs it)", c.cmd, c.pkg)
		}
	}
	return ""
}

// TestPower is issue 4's acceptance 1, end to end: `drover rpower pw1 on`
// powers a QEMU VM through ipmi_sim's chassis_control and the VM PXE-boots
// its osimage from drover; the boot device set with rsetboot is honoured at
// power-on; rpower stat and `ipmitool -C 3` agree with the VM's process;
// `rpower off` ends it.
func TestPower(t *testing.T) {
	if why := missingBMCPrerequisite(); why != "" {
		t.Skip("skipping the rpower end-to-end test: " + why)
	}
	l := newLab(t)
	configure(t, l)
	b := l.startBMC(t, pw1.name, bmcPort, pw1)
	bmcAddr := "127.0.0.1:" + strconv.Itoa(bmcPort)
	for _, c := range [][]string{
		{"mkdef", "-t", "node", pw1.name, "groups=all,ipmi", "mgt=ipmi", "bmc=" + bmcAddr,
			"bmcusername=" + bmcUser, "bmcpassword=" + bmcPass, "mac=" + pw1.mac, "ip=" + pw1.ip},
		{"nodeset", pw1.name, "osimage=" + osimage},
	} {
		out := l.mustDrover(t, c...)
		t.Logf("drover %s: %s", strings.Join(c, " "), strings.TrimSpace(out))
	}
	began := time.Now()

	t.Run("rpower on PXE-boots the VM", func(t *testing.T) {
		l.expectDrover(t, "pw1: Network\n", "rsetboot", pw1.name, "net")
		if got := b.bootdev(); got != "pxe" {
			t.Errorf("after rsetboot net the BMC's boot device is %q, want pxe", got)
		}
		if out := b.ipmitool(t, "chassis", "bootparam", "get", "5"); !strings.Contains(out, "Force PXE") {
			t.Errorf("after rsetboot net, ipmitool chassis bootparam get 5 says:\n%s", out)
		}

		start := time.Now()
		l.expectDrover(t, "pw1: on\n", "rpower", pw1.name, "on")
		t.Logf("rpower pw1 on returned in %.2fs", time.Since(start).Seconds())
		v := b.poweredVM(t)
		if v == nil {
			t.FailNow()
		}
		l.dumpOnFailure(t, v)
		if bd := v.lastBootdev(); bd != "pxe" {
			t.Errorf("the VM was powered on with bootdev %q, want pxe", bd)
		}
		// The VM needs seconds to boot and report: it is still on.
		b.checkPower(t, l, v, "on")

		how, err := v.waitOff(vmTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pw1: %s %.1fs after power-on", how, time.Since(v.started).Seconds())
		l.checkBooted(t, v, pw1.name, func(a netip.Addr) bool { return a.String() == pw1.ip }, true)
		// The initramfs powered the VM off: the BMC says so.
		b.checkPower(t, l, v, "off")
	})

	t.Run("rsetboot hd is honoured and rpower off ends the VM", func(t *testing.T) {
		l.expectDrover(t, "pw1: Hard Drive\n", "rsetboot", pw1.name, "hd")
		if got := b.bootdev(); got != "default" {
			t.Errorf("after rsetboot hd the BMC's boot device is %q, want default (disk)", got)
		}
		l.expectDrover(t, "pw1: on\n", "rpower", pw1.name, "on")
		v := b.poweredVM(t)
		if v == nil {
			t.FailNow()
		}
		l.dumpOnFailure(t, v)
		if bd := v.lastBootdev(); bd != "disk" {
			t.Errorf("the VM was powered on with bootdev %q, want disk", bd)
		}
		// No NIC ROM: SeaBIOS finds nothing to boot and waits 60 s before
		// it tries again, so the VM stays on.
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(v.sinceLastPowerOn(), markNoBoot) {
			if !v.running() {
				t.Fatalf("the VM ended before SeaBIOS said %q:\n%s", markNoBoot, printableTail(v.sinceLastPowerOn(), 20))
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q on the serial console 60s after power-on:\n%s", markNoBoot, printableTail(v.sinceLastPowerOn(), 20))
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Logf("pw1: SeaBIOS found nothing to boot %.1fs after power-on (disk, no NIC ROM)", time.Since(v.started).Seconds())
		b.checkPower(t, l, v, "on")

		start := time.Now()
		l.expectDrover(t, "pw1: off\n", "rpower", pw1.name, "off")
		t.Logf("rpower pw1 off returned in %.2fs", time.Since(start).Seconds())
		if v.running() {
			t.Errorf("QEMU of pw1 still runs after rpower off returned")
		}
		b.checkPower(t, l, v, "off")

		// The firmware sent no DHCP this time (no ROM, nothing to PXE with).
		evs, err := l.events(pw1.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Time.After(v.started) && strings.HasPrefix(e.Kind, "dhcp-") {
				t.Errorf("pw1 powered on with bootdev disk, yet drover saw %s at %+.1fs", e, e.Time.Sub(v.started).Seconds())
			}
		}
		if out := l.mustDrover(t, "lsdef", pw1.name, "-i", "powerstate"); !strings.Contains(out, "powerstate=off") {
			t.Errorf("pw1's cached power state after rpower off:\n%s", out)
		}
	})
	t.Logf("power scenarios took %.1fs (lab set-up excluded)", time.Since(began).Seconds())
}

// expectDrover runs the drover CLI and wants exactly want on its stdout.
func (l *lab) expectDrover(t *testing.T, want string, args ...string) {
	t.Helper()
	out, err := l.drover(args...)
	if err != nil {
		t.Fatal(err)
	}
	if out != want {
		t.Fatalf("drover %s: stdout %q, want %q", strings.Join(args, " "), out, want)
	}
}

// simBMC is one ipmi_sim started by bmc-sim.sh --vm inside the lab.
type simBMC struct {
	l         *lab
	name, dir string
	node      node
}

// startBMC starts ipmi_sim in the lab namespace on 127.0.0.1:port, its
// power driving the lab VM n.name with n.mac (256 MiB, serial SN-NAME, as
// startVM's). The VM and the BMC are stopped by PID in t.Cleanup; lab.sh
// down would find both pid files too (the BMC's directory is in the lab's).
func (l *lab) startBMC(t *testing.T, name string, port int, n node) *simBMC {
	t.Helper()
	return l.startBMCWith(t, name, port, n, "--mem 256 --serial SN-"+n.name)
}

// startBMCWith is startBMC with the VM's vm.sh start options.
func (l *lab) startBMCWith(t *testing.T, name string, port int, n node, vmOpts string) *simBMC {
	t.Helper()
	b := &simBMC{l: l, name: name, dir: filepath.Join(l.work, "bmc", name), node: n}
	out, err := l.script("bmc-sim.sh", "start", name, strconv.Itoa(port), "--dir", b.dir, "--netns", l.ns,
		"--user", bmcUser, "--pass", bmcPass,
		"--vm", n.name, n.mac, "--vm-opts", vmOpts)
	if err != nil {
		t.Fatalf("bmc-sim.sh start: %v", err)
	}
	t.Logf("BMC %s: ipmi_sim pid %s in %s on 127.0.0.1:%d", name, strings.TrimSpace(out), l.ns, port)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s/chassis.log (every chassis_control call):\n%s", b.dir, tail(filepath.Join(b.dir, "chassis.log"), 40))
		}
		v := &vm{name: n.name, mac: n.mac, dir: filepath.Join(l.work, "vms", n.name)}
		if v.running() {
			if _, err := l.script("vm.sh", "stop", n.name); err != nil {
				t.Errorf("vm.sh stop %s: %v", n.name, err)
			}
		}
		if _, err := l.script("bmc-sim.sh", "stop", name, "--dir", b.dir); err != nil {
			t.Errorf("bmc-sim.sh stop %s: %v", name, err)
		}
	})
	return b
}

// bootdev is the boot device ipmi_sim last handed to chassis_control.
func (b *simBMC) bootdev() string {
	s, _ := os.ReadFile(filepath.Join(b.dir, "boot"))
	return strings.TrimSpace(string(s))
}

// ipmitool runs `ipmitool -I lanplus -C 3` against the BMC inside the
// namespace (bmc-sim.sh ipmi), independently of drover.
func (b *simBMC) ipmitool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := b.l.script("bmc-sim.sh", append([]string{"ipmi", b.name, "--dir", b.dir}, args...)...)
	if err != nil {
		t.Errorf("ipmitool %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// poweredVM returns the VM the BMC has just powered on (its QEMU runs), or
// nil after reporting why not.
func (b *simBMC) poweredVM(t *testing.T) *vm {
	t.Helper()
	v := &vm{name: b.node.name, mac: b.node.mac, dir: filepath.Join(b.l.work, "vms", b.node.name)}
	ms, err := os.ReadFile(filepath.Join(v.dir, "started_ms"))
	if err != nil {
		t.Errorf("rpower on started no VM (%v); chassis.log:\n%s", err, tail(filepath.Join(b.dir, "chassis.log"), 20))
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(ms)), 10, 64)
	if err != nil {
		t.Errorf("%s/started_ms: %v", v.dir, err)
		return nil
	}
	v.started = time.UnixMilli(n)
	if since := time.Since(v.started); since > 30*time.Second {
		t.Errorf("rpower on started no VM: the last power-on was %.0fs ago; chassis.log:\n%s",
			since.Seconds(), tail(filepath.Join(b.dir, "chassis.log"), 20))
		return nil
	}
	if !v.running() && !strings.Contains(v.sinceLastPowerOn(), "drover-init:") {
		t.Errorf("QEMU of %s is not running right after rpower on; qemu.log:\n%s", v.name, tail(filepath.Join(v.dir, "qemu.log"), 20))
		return nil
	}
	return v
}

// checkPower checks that `drover rpower NODE stat` and ipmitool both say
// want ("on" or "off") and that the VM's QEMU agrees. When want is "on"
// and the VM has powered itself off in between, "off" from both is right.
func (b *simBMC) checkPower(t *testing.T, l *lab, v *vm, want string) {
	t.Helper()
	stat, err := l.drover("rpower", b.node.name, "stat")
	if err != nil {
		t.Error(err)
	}
	ipmi := b.ipmitool(t, "chassis", "power", "status")
	running := v.running()
	if want == "on" && !running {
		t.Logf("%s powered itself off meanwhile: expecting off", v.name)
		want = "off"
	}
	if (want == "on") != running {
		t.Errorf("QEMU of %s running=%v, want power %s", v.name, running, want)
	}
	if wantStat := b.node.name + ": " + want + "\n"; stat != wantStat {
		t.Errorf("drover rpower %s stat: %q, want %q", b.node.name, stat, wantStat)
	}
	if wantIPMI := "Chassis Power is " + want; !strings.Contains(ipmi, wantIPMI) {
		t.Errorf("ipmitool -C 3 chassis power status: %q, want %q", strings.TrimSpace(ipmi), wantIPMI)
	}
	t.Logf("power %s: drover %q, ipmitool %q, QEMU running=%v", want, strings.TrimSpace(stat), strings.TrimSpace(ipmi), running)
}

// powerOnMark starts each power-on's section of a serial log (vm.sh).
const powerOnMark = "===== power on "

// sinceLastPowerOn is the serial console since the last power-on.
func (v *vm) sinceLastPowerOn() string {
	s := v.serialLog()
	if i := strings.LastIndex(s, powerOnMark); i >= 0 {
		return s[i:]
	}
	return s
}

// lastBootdev is the boot device vm.sh was given at the last power-on.
func (v *vm) lastBootdev() string {
	s := v.sinceLastPowerOn()
	if i := strings.Index(s, "(bootdev="); i >= 0 {
		rest := s[i+len("(bootdev="):]
		if j := strings.IndexByte(rest, ')'); j >= 0 {
			return rest[:j]
		}
	}
	return ""
}
