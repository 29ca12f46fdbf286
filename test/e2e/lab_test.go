package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"drover.dev/drover/internal/api"
)

// Lab constants: the bridge address is test/lab's default; the API listens
// on the namespace's own loopback, so it never meets anything on the host.
const (
	serverIP = "198.18.0.1"
	apiAddr  = "127.0.0.1:8780"
	bridge   = "br0"
)

// lab is one running lab: its namespace, work directory and drover server.
type lab struct {
	root   string // module root
	dir    string // this test's directory (binary, data, lab work dir)
	scr    string // test/lab
	ns     string // network namespace
	work   string // DROVER_LAB_WORK
	bin    string // the drover binary
	data   string // drover's data directory
	kernel string // absolute path of the Debian cloud kernel
	kdir   string // the unpacked kernel package (boot/, lib/modules/)
	initrd string // absolute path of the report-in initramfs
	token  string // admin API token

	serve     *exec.Cmd
	serveDone chan error
	serveLog  string
}

// missingPrerequisite says what keeps the lab from running here, or "".
func missingPrerequisite() string {
	if runtime.GOOS != "linux" {
		return "the QEMU lab needs Linux (network namespaces, taps)"
	}
	if os.Geteuid() != 0 {
		return "not root: the lab creates a network namespace, a bridge and taps"
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return "no /dev/net/tun: QEMU cannot attach a tap (" + err.Error() + ")"
	}
	for _, c := range []struct{ cmd, pkg string }{
		{"ip", "iproute2"},
		{"bash", "bash"},
		{"qemu-system-x86_64", "qemu-system-x86"},
		{"cpio", "cpio"},
		{"modinfo", "kmod"},
		{"apt-get", "apt"},
		{"dpkg", "dpkg"},
	} {
		if _, err := exec.LookPath(c.cmd); err != nil {
			return fmt.Sprintf("%s not found (Debian package %s; .ci/run installs it)", c.cmd, c.pkg)
		}
	}
	for _, f := range []struct{ path, pkg string }{
		{"/usr/lib/ipxe/qemu/efi-virtio.rom", "ipxe-qemu"},
		{"/usr/lib/ipxe/undionly.kpxe", "ipxe"},
	} {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Sprintf("%s missing (Debian package %s; .ci/run installs it)", f.path, f.pkg)
		}
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "busybox-static").Output()
	if err != nil || !strings.Contains(string(out), "install ok installed") {
		return "busybox-static is not installed (the initramfs needs a static busybox; .ci/run installs it)"
	}
	if _, err := goTool(); err != nil {
		return err.Error()
	}
	return ""
}

func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no go command to build drover with: %w", err)
	}
	return p, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// newLab builds drover, brings the lab up with IPv6 on (so drover's router
// advertisement reaches iPXE), fetches the kernel, builds the initramfs and
// starts `drover serve` in the namespace. Everything is torn down by PID in
// t.Cleanup; the work directory is kept when the test fails.
func newLab(t *testing.T) *lab {
	t.Helper()
	if why := missingPrerequisite(); why != "" {
		t.Skip("skipping the QEMU lab test: " + why)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	scr := filepath.Join(root, "test", "lab")
	reapStale(t, scr)
	// The PID in the namespace and directory names lets a later run find
	// what a killed run left (reapStale).
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", nsPrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{
		root: root,
		dir:  dir,
		scr:  scr,
		ns:   fmt.Sprintf("%s%d", nsPrefix, os.Getpid()),
		work: filepath.Join(dir, "lab"),
		bin:  filepath.Join(dir, "drover"),
		data: filepath.Join(dir, "data"),
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("DROVER_E2E_KEEP") == "1" {
			t.Logf("work directory kept: %s (drover.log, lab/vms/*/serial.log)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	t.Logf("work directory %s, namespace %s", dir, l.ns)

	start := time.Now()
	l.build(t)
	t.Logf("built drover in %.1fs", time.Since(start).Seconds())

	start = time.Now()
	if _, err := l.script("lab.sh", "up"); err != nil {
		t.Fatalf("lab.sh up: %v", err)
	}
	t.Cleanup(func() {
		if _, err := l.script("lab.sh", "down"); err != nil {
			t.Errorf("lab.sh down: %v", err)
		}
	})
	kdir, err := l.script("fetch-kernel.sh")
	if err != nil {
		t.Fatalf("fetch-kernel.sh: %v", err)
	}
	kdir = strings.TrimSpace(kdir)
	kernels, _ := filepath.Glob(filepath.Join(kdir, "boot", "vmlinuz-*"))
	if len(kernels) == 0 {
		t.Fatalf("no boot/vmlinuz-* in %s", kdir)
	}
	l.kernel = kernels[0]
	l.kdir = kdir
	l.initrd = filepath.Join(dir, "initramfs", "report.cpio.gz")
	if _, err := l.script("build-initramfs.sh", kdir, l.initrd); err != nil {
		t.Fatalf("build-initramfs.sh: %v", err)
	}
	t.Logf("lab up, kernel %s, initramfs built in %.1fs", filepath.Base(l.kernel), time.Since(start).Seconds())

	l.startServer(t)
	return l
}

// nsPrefix starts the names of this package's namespaces and work
// directories; the test process's PID follows.
const nsPrefix = "drover-e2e-"

// reapStale tears down labs that a test process of this package left when
// it died without running its cleanups (killed at a test timeout): their
// namespace is drover-e2e-PID, their work directory TMPDIR/drover-e2e-PID-*/lab.
// A PID counts as dead when no process with this test binary's name has it.
// lab.sh down stops only processes recorded in the lab's pid files (PID and
// start time), then deletes the namespace.
func reapStale(t *testing.T, scr string) {
	t.Helper()
	self, _ := os.ReadFile("/proc/self/comm")
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), nsPrefix)
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(rest)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && bytes.Equal(comm, self) {
			continue // its test is still running
		}
		work := filepath.Join(os.TempDir(), "drover-e2e-stale-no-workdir")
		if m, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-*", nsPrefix, pid), "lab")); len(m) > 0 {
			work = m[0]
		}
		cmd := exec.Command("bash", filepath.Join(scr, "lab.sh"), "down")
		cmd.Env = append(os.Environ(), "DROVER_LAB_NS="+e.Name(), "DROVER_LAB_WORK="+work)
		out, err := cmd.CombinedOutput()
		t.Logf("tore down the lab a killed test run left (namespace %s, work %s): err=%v\n%s", e.Name(), work, err, out)
	}
}

func (l *lab) build(t *testing.T) {
	t.Helper()
	goCmd, err := goTool()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goCmd, "build", "-o", l.bin, "./cmd/drover")
	cmd.Dir = l.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/drover: %v\n%s", err, out)
	}
}

// labEnv is the environment of the lab scripts: this lab's namespace and
// work directory, and IPv6 enabled in the namespace.
func (l *lab) labEnv() []string {
	return append(os.Environ(),
		"DROVER_LAB_NS="+l.ns,
		"DROVER_LAB_WORK="+l.work,
		"DROVER_LAB_BR="+bridge,
		"DROVER_LAB_IP="+serverIP,
		"DROVER_LAB_IPV6=1",
	)
}

// script runs a test/lab script and returns its standard output; its
// standard error (the scripts' log) is part of the error.
func (l *lab) script(name string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(l.scr, name)}, args...)...)
	cmd.Env = l.labEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// startServer runs `drover serve` inside the namespace and waits for the API
// and the admin token. It is stopped by PID in t.Cleanup (SIGTERM, then
// SIGKILL); its pid file in the lab's run/ dir lets lab.sh down stop it too.
func (l *lab) startServer(t *testing.T) {
	t.Helper()
	l.serveLog = filepath.Join(l.dir, "drover.log")
	logf, err := os.Create(l.serveLog)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.ns, l.bin, "serve",
		"--data", l.data, "--listen", apiAddr, "--no-client-config", "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "HOME="+l.dir)
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting drover serve: %v", err)
	}
	logf.Close()
	l.serve = cmd
	l.serveDone = make(chan error, 1)
	go func() { l.serveDone <- cmd.Wait() }()
	writePidfile(filepath.Join(l.work, "run", "drover.pid"), cmd.Process.Pid)
	t.Cleanup(func() { l.stopServer(t) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-l.serveDone:
			l.serveDone <- err
			t.Fatalf("drover serve exited: %v\n%s", err, tail(l.serveLog, 40))
		default:
		}
		if b, err := os.ReadFile(filepath.Join(l.data, "admin.token")); err == nil && len(bytes.TrimSpace(b)) > 0 {
			l.token = string(bytes.TrimSpace(b))
			if _, err := l.drover("lsdef", "-t", "site"); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("drover serve not answering after 60s\n%s", tail(l.serveLog, 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (l *lab) stopServer(t *testing.T) {
	if l.serve == nil || l.serve.Process == nil {
		return
	}
	select {
	case err := <-l.serveDone:
		l.serveDone <- err
		t.Errorf("drover serve had exited before the end of the test: %v\n%s", err, tail(l.serveLog, 40))
		return
	default:
	}
	_ = l.serve.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-l.serveDone:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Errorf("drover serve: %v", err)
		} else if err != nil {
			t.Logf("drover serve stopped: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("drover serve did not stop within 15s of SIGTERM: killing pid %d", l.serve.Process.Pid)
		_ = l.serve.Process.Kill()
		<-l.serveDone
	}
	os.Remove(filepath.Join(l.work, "run", "drover.pid"))
}

// writePidfile records "PID STARTTIME" as test/lab's pid files do.
func writePidfile(path string, pid int) {
	st := ""
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 19 {
				st = f[19] // field 22 overall: starttime
			}
		}
	}
	_ = os.WriteFile(path, []byte(fmt.Sprintf("%d %s\n", pid, st)), 0o644)
}

// drover runs the drover CLI inside the namespace against the lab server.
func (l *lab) drover(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.ns, l.bin}, args...)...)
	cmd.Env = append(os.Environ(), "DROVER_URL=http://"+apiAddr, "DROVER_TOKEN="+l.token,
		"DROVER_CONFIG="+filepath.Join(l.dir, "no-such-config"), "HOME="+l.dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("drover %s: %w\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func (l *lab) mustDrover(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.drover(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitListening waits until the boot services listen in the namespace:
// DHCP (UDP 67), TFTP (UDP 69) and HTTP boot (TCP 80).
func (l *lab) waitListening(t *testing.T) {
	t.Helper()
	want := []struct{ proto, port string }{{"-u", "67"}, {"-u", "69"}, {"-t", "80"}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var missing []string
		for _, w := range want {
			out, _ := exec.Command("ip", "netns", "exec", l.ns, "ss", "-lnH", w.proto, "sport = :"+w.port).Output()
			if len(bytes.TrimSpace(out)) == 0 {
				missing = append(missing, strings.TrimPrefix(w.proto, "-")+"/"+w.port)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ss, _ := exec.Command("ip", "netns", "exec", l.ns, "ss", "-lnptu").CombinedOutput()
			t.Fatalf("boot services not listening after 30s (missing %s)\nss -lnptu:\n%s\ndrover log:\n%s",
				strings.Join(missing, ", "), ss, tail(l.serveLog, 60))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// event is one entry of `drover events NODE -o json`.
type event struct{ api.BootEvent }

func (e event) remoteAddr() netip.Addr {
	if ap, err := netip.ParseAddrPort(e.Remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(e.Remote)
	return a.Unmap()
}

func (e event) String() string {
	s := e.Kind
	if e.Detail != "" {
		s += " " + e.Detail
	}
	if e.Remote != "" {
		s += " from " + e.Remote
	}
	if e.Reason != "" {
		s += " REFUSED: " + e.Reason
	}
	return s
}

// events returns the boot timeline of ref (a node name or a MAC).
func (l *lab) events(ref string) ([]event, error) {
	out, err := l.drover("events", ref, "-o", "json")
	if err != nil {
		return nil, err
	}
	var evs []event
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		return nil, fmt.Errorf("drover events %s -o json: %w\n%s", ref, err, out)
	}
	return evs, nil
}

// eventsUntil returns ref's timeline once it has an event of kind, or
// what it has after wait: drover writes events to the store in batches,
// so the last steps of a VM that just powered off may still be queued.
func (l *lab) eventsUntil(ref, kind string, wait time.Duration) ([]event, error) {
	deadline := time.Now().Add(wait)
	for {
		evs, err := l.events(ref)
		if err != nil || len(kinds(evs, kind)) > 0 || time.Now().After(deadline) {
			return evs, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// vm is one lab VM started with test/lab/vm.sh.
type vm struct {
	name, mac string
	dir       string
	started   time.Time // power-on
}

// startVM powers on a PXE-booting VM (256 MiB, iPXE ROM on virtio-net).
// It is stopped by PID in t.Cleanup if still running.
func (l *lab) startVM(t *testing.T, name, mac string) *vm {
	t.Helper()
	return l.startVMWith(t, name, mac, "--serial", "SN-"+name, "--mem", "256")
}

// startVMWith is startVM with vm.sh start options.
func (l *lab) startVMWith(t *testing.T, name, mac string, opts ...string) *vm {
	t.Helper()
	if _, err := l.script("vm.sh", append([]string{"start", name, mac}, opts...)...); err != nil {
		t.Fatalf("vm.sh start %s: %v", name, err)
	}
	v := &vm{name: name, mac: mac, dir: filepath.Join(l.work, "vms", name), started: time.Now()}
	if b, err := os.ReadFile(filepath.Join(v.dir, "started_ms")); err == nil {
		if ms, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			v.started = time.UnixMilli(ms)
		}
	}
	t.Cleanup(func() {
		if v.running() {
			if _, err := l.script("vm.sh", "stop", name); err != nil {
				t.Errorf("vm.sh stop %s: %v", name, err)
			}
		}
	})
	return v
}

func (v *vm) serialLog() string {
	b, _ := os.ReadFile(filepath.Join(v.dir, "serial.log"))
	return string(b)
}

// running reports whether the VM's QEMU (by its recorded PID and start
// time) still runs.
func (v *vm) running() bool {
	b, err := os.ReadFile(filepath.Join(v.dir, "qemu.pid"))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return false
	}
	stat, err := os.ReadFile("/proc/" + f[0] + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 20 || fields[0] == "Z" {
		return false
	}
	return len(f) < 2 || fields[19] == f[1]
}

// Serial console markers.
const (
	markNoBoot   = "No bootable device"        // SeaBIOS: nothing (left) to boot
	markReportOK = "REPORT-OK"                 // initramfs: report accepted
	markDHCPOK   = "DHCP-OK ip "               // initramfs: address from DHCP
	markPanic    = "Kernel panic"              // kernel
	markFailed   = "drover-init: \\[[^]]*\\] " // prefix of init's progress lines
)

var initFailed = regexp.MustCompile(markFailed + `(DHCP-FAILED|REPORT-FAILED|NO-NIC)`)

// waitOff waits until the VM powers itself off, or the serial console
// shows it cannot get further (SeaBIOS found nothing to boot, the initramfs
// failed). It returns the reason it stopped waiting.
func (v *vm) waitOff(timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if !v.running() {
			return "powered off", nil
		}
		s := v.serialLog()
		switch {
		case strings.Contains(s, markNoBoot):
			return "", fmt.Errorf("VM %s: %q on the serial console (PXE boot failed)", v.name, markNoBoot)
		case strings.Contains(s, markPanic):
			return "", fmt.Errorf("VM %s: kernel panic on the serial console", v.name)
		case initFailed.MatchString(s):
			return "", fmt.Errorf("VM %s: initramfs %s", v.name, initFailed.FindString(s))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("VM %s still running after %s", v.name, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// initLines returns the initramfs' progress lines from the serial console.
func (v *vm) initLines() []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(v.serialLog()))
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "drover-init:"); i >= 0 {
			lines = append(lines, strings.TrimSpace(sc.Text()[i:]))
		}
	}
	return lines
}

// dhcpIP is the address the initramfs got, from its DHCP-OK line.
func (v *vm) dhcpIP() (netip.Addr, bool) {
	for _, line := range v.initLines() {
		if i := strings.Index(line, markDHCPOK); i >= 0 {
			f := strings.Fields(line[i+len(markDHCPOK):])
			if len(f) > 0 {
				a, err := netip.ParseAddr(f[0])
				return a, err == nil
			}
		}
	}
	return netip.Addr{}, false
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// printable strips terminal escapes and carriage returns from a serial log.
var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1bc|[\r\x08]`)

func printableTail(s string, n int) string {
	s = escapes.ReplaceAllString(s, "")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	out := lines[:0]
	for _, line := range lines {
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n")
}
