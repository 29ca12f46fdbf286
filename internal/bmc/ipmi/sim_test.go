package ipmi

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/bmc"
)

// These tests drive OpenIPMI's ipmi_sim, one per test on 127.0.0.1 with
// "fake" power (a state file behind chassis_control), through
// test/lab/bmc-sim.sh, and check every result independently with
// `ipmitool -I lanplus -C 3`. They skip when ipmi_sim or ipmitool is not
// installed (Debian packages openipmi and ipmitool).

// simBMC is one running ipmi_sim.
type simBMC struct {
	dir  string
	port int
}

func labScript(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "lab", "bmc-sim.sh")
}

func needSim(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"ipmi_sim", "ipmitool", "ss", "setsid"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping the ipmi_sim tests: %s is not installed (Debian packages openipmi, ipmitool, iproute2, util-linux)", bin)
		}
	}
}

// freeUDPPort returns a 127.0.0.1 UDP port that was free a moment ago.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startSim starts one ipmi_sim (admin/secret) and stops it, by the PID
// the script recorded, when the test ends.
func startSim(t testing.TB, extra ...string) *simBMC {
	t.Helper()
	needSim(t)
	script := labScript(t)
	dir := filepath.Join(t.TempDir(), "bmc")
	var lastErr error
	for range 3 { // the free port may be taken in between: try another
		port := freeUDPPort(t)
		args := append([]string{"start", "sim", strconv.Itoa(port), "--dir", dir}, extra...)
		out, err := exec.Command(script, args...).CombinedOutput()
		if err == nil {
			s := &simBMC{dir: dir, port: port}
			t.Cleanup(func() {
				if out, err := exec.Command(script, "stop", "sim", "--dir", dir).CombinedOutput(); err != nil {
					t.Errorf("bmc-sim.sh stop: %v\n%s", err, out)
				}
			})
			return s
		}
		lastErr = errors.New(string(out))
	}
	t.Fatalf("bmc-sim.sh start: %v", lastErr)
	return nil
}

func (s *simBMC) target() bmc.Target {
	return bmc.Target{Node: "sim", Address: "127.0.0.1:" + strconv.Itoa(s.port), Username: "admin", Password: "secret"}
}

// ipmitool runs ipmitool -C 3 against the simulator, independently of the driver.
func (s *simBMC) ipmitool(t testing.TB, args ...string) string {
	t.Helper()
	base := []string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(s.port), "-U", "admin", "-P", "secret"}
	out, err := exec.Command("ipmitool", append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *simBMC) ipmitoolPower(t testing.TB) string {
	out := s.ipmitool(t, "chassis", "power", "status")
	switch {
	case strings.Contains(out, "is on"):
		return "on"
	case strings.Contains(out, "is off"):
		return "off"
	}
	t.Fatalf("ipmitool chassis power status: %q", out)
	return ""
}

// chassisLog is what ipmi_sim asked the chassis_control program to set.
func (s *simBMC) chassisSets(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join(s.dir, "chassis.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var sets []string
	for _, line := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(line, " set "); ok {
			sets = append(sets, rest)
		}
	}
	return sets
}

// waitPower polls ipmitool until it reports want; ipmi_sim finishes a
// power cycle (off, about a second, on) after answering the command.
func (s *simBMC) waitPower(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := s.ipmitoolPower(t)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ipmitool reports power %s, want %s", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestSimPower(t *testing.T) {
	s := startSim(t)
	c := open(t, Driver{}, s.target())
	ctx := context.Background()
	if c.CipherSuite() != CipherSuite3 {
		t.Errorf("cipher suite %d with ipmi_sim, want 3 (it refuses 17)", c.CipherSuite())
	}
	check := func(want bmc.PowerState) {
		t.Helper()
		got, err := c.PowerState(ctx)
		if err != nil {
			t.Fatalf("PowerState: %v", err)
		}
		if got != want {
			t.Fatalf("PowerState = %q, want %q", got, want)
		}
		if tool := s.ipmitoolPower(t); tool != string(want) {
			t.Fatalf("ipmitool says %s, the driver %s", tool, want)
		}
	}
	check(bmc.StateOff)
	for _, step := range []struct {
		a    bmc.PowerAction
		want bmc.PowerState
	}{
		{bmc.PowerOn, bmc.StateOn},
		{bmc.PowerOff, bmc.StateOff},
		{bmc.PowerOn, bmc.StateOn},
		{bmc.PowerSoftOff, bmc.StateOff}, // the fake chassis acts on "shutdown" at once
	} {
		if err := c.SetPower(ctx, step.a); err != nil {
			t.Fatalf("SetPower(%s): %v", step.a, err)
		}
		check(step.want)
	}

	// cycle from on: ipmi_sim powers off, then on again a second later
	if err := c.SetPower(ctx, bmc.PowerOn); err != nil {
		t.Fatal(err)
	}
	before := len(s.chassisSets(t))
	if err := c.SetPower(ctx, bmc.PowerCycle); err != nil {
		t.Fatalf("SetPower(cycle): %v", err)
	}
	s.waitPower(t, "on")
	check(bmc.StateOn)
	sets := s.chassisSets(t)[before:]
	if strings.Join(sets, ",") != "power 0,power 1" {
		t.Errorf("cycle made ipmi_sim set %q, want power 0 then power 1", sets)
	}

	// cycle from off powers on
	if err := c.SetPower(ctx, bmc.PowerOff); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPower(ctx, bmc.PowerCycle); err != nil {
		t.Fatalf("SetPower(cycle) while off: %v", err)
	}
	s.waitPower(t, "on")

	before = len(s.chassisSets(t))
	if err := c.SetPower(ctx, bmc.PowerReset); err != nil {
		t.Fatalf("SetPower(reset): %v", err)
	}
	if sets := s.chassisSets(t)[before:]; strings.Join(sets, ",") != "reset 1" {
		t.Errorf("reset made ipmi_sim set %q, want reset 1", sets)
	}
	check(bmc.StateOn)
}

func TestSimBootDevice(t *testing.T) {
	s := startSim(t)
	c := open(t, Driver{}, s.target())
	// ipmi_sim keeps only the device (chassis_control "set boot X"), not
	// the persistent or EFI bits; the reference-BMC test checks those.
	tests := []struct {
		dev      bmc.BootDevice
		opt      bmc.BootOptions
		selector string // ipmitool's "Boot Device Selector" line
		file     string // what chassis_control stored
	}{
		{bmc.BootNetwork, bmc.BootOptions{}, "Force PXE", "pxe"},
		{bmc.BootDisk, bmc.BootOptions{Persistent: true}, "Force Boot from default Hard-Drive", "default"},
		{bmc.BootCD, bmc.BootOptions{}, "Force Boot from CD/DVD", "cdrom"},
		{bmc.BootSetup, bmc.BootOptions{}, "Force Boot into BIOS Setup", "bios"},
		{bmc.BootNetwork, bmc.BootOptions{UEFI: true}, "Force PXE", "pxe"},
		{bmc.BootDefault, bmc.BootOptions{}, "No override", "none"},
	}
	for _, tt := range tests {
		t.Run(string(tt.dev), func(t *testing.T) {
			if err := c.SetBootDevice(context.Background(), tt.dev, tt.opt); err != nil {
				t.Fatalf("SetBootDevice(%s): %v", tt.dev, err)
			}
			out := s.ipmitool(t, "chassis", "bootparam", "get", "5")
			if !strings.Contains(out, "Boot Device Selector : "+tt.selector) {
				t.Errorf("ipmitool chassis bootparam get 5 after %s:\n%s", tt.dev, out)
			}
			b, err := os.ReadFile(filepath.Join(s.dir, "boot"))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(bytes.TrimSpace(b)); got != tt.file {
				t.Errorf("chassis_control stored boot %q, want %q", got, tt.file)
			}
		})
	}
}

func TestSimInventory(t *testing.T) {
	s := startSim(t)
	c := open(t, Driver{}, s.target())
	facts, err := c.Inventory(context.Background())
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	got := map[string]string{}
	for _, f := range facts {
		got[f.Name] = f.Value
	}
	// bmc-sim.emu: mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
	for name, want := range map[string]string{
		"BMC Firmware":    "9.08",
		"Manufacturer ID": "4753",
		"Product ID":      "3842",
		"Device ID":       "0",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q (all: %v)", name, got[name], want, facts)
		}
	}
	mc := s.ipmitool(t, "mc", "info")
	if !strings.Contains(mc, "Firmware Revision         : 9.08") {
		t.Errorf("ipmitool mc info disagrees:\n%s", mc)
	}
}

func TestSimErrors(t *testing.T) {
	s := startSim(t)
	d := Driver{Timeout: 2 * time.Second}

	bad := s.target()
	bad.Password = "wrong"
	if c, err := d.Open(context.Background(), bad); !errors.Is(err, bmc.ErrAuth) {
		if err == nil {
			c.Close()
		}
		t.Errorf("wrong password: Open error %v, want ErrAuth", err)
	}

	nobody := bmc.Target{Address: "127.0.0.1:" + strconv.Itoa(freeUDPPort(t)), Username: "admin", Password: "secret"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if c, err := d.Open(ctx, nobody); !errors.Is(err, bmc.ErrUnreachable) {
		if err == nil {
			c.Close()
		}
		t.Errorf("nobody listening: Open error %v, want ErrUnreachable", err)
	}

	// the simulator still serves the right password afterwards
	c := open(t, d, s.target())
	if _, err := c.PowerState(context.Background()); err != nil {
		t.Errorf("PowerState after the failed logins: %v", err)
	}
}

func TestSimConsole(t *testing.T) {
	needSim(t)
	// the node's serial line: ipmi_sim's `sol "tcp:..."` connects here
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := startSim(t, "--sol", ln.Addr().String())
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	serial, err := ln.Accept()
	if err != nil {
		t.Fatalf("ipmi_sim did not connect its SOL device: %v", err)
	}
	defer serial.Close()

	c := open(t, Driver{}, s.target())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	con, err := c.Console(ctx)
	if err != nil {
		t.Fatalf("Console: %v", err)
	}
	if _, err := serial.Write([]byte("drover-node login: ")); err != nil {
		t.Fatal(err)
	}
	var fromNode []byte
	for !bytes.Contains(fromNode, []byte("login: ")) {
		p := make([]byte, 256)
		n, err := con.Read(p)
		if err != nil {
			t.Fatalf("console Read after %q: %v", fromNode, err)
		}
		fromNode = append(fromNode, p[:n]...)
	}
	if _, err := con.Write([]byte("root\r")); err != nil {
		t.Fatalf("console Write: %v", err)
	}
	if err := serial.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var toNode []byte
	for !bytes.Contains(toNode, []byte("root\r")) {
		p := make([]byte, 256)
		n, err := serial.Read(p)
		if err != nil {
			t.Fatalf("the node's serial line got %q: %v", toNode, err)
		}
		toNode = append(toNode, p[:n]...)
	}
	if err := con.Close(); err != nil {
		t.Errorf("console Close: %v", err)
	}
	if _, err := c.PowerState(context.Background()); err != nil {
		t.Errorf("PowerState after the console: %v", err)
	}
}
