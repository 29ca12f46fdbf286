package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"drover.dev/drover/internal/bmc"
)

// The tests in this file run against a real `podman system service`
// (rootful podman with runc; Debian: podman runc catatonit busybox-static
// iproute2). Everything they make is private to the test:
//
//   - containers.conf and storage.conf in a temporary directory (selected
//     with CONTAINERS_CONF and CONTAINERS_STORAGE_CONF): runc instead of
//     crun (crun refuses this host's hybrid cgroup layout), lowered
//     nofile/nproc ulimits (the sandbox's hard limit is below podman's
//     default), no default network, vfs storage (no host mounts), its own
//     CNI config directory;
//   - the image localhost/drover-test-busybox, `podman import`ed from a tar
//     of busybox-static (no registry);
//   - a network namespace of its own in which the service runs, so the CNI
//     bridge of the test network (198.18.5.0/24) lives there, not on the
//     host;
//   - the service itself, stopped by PID.

const (
	testImage  = "localhost/drover-test-busybox:latest"
	testSubnet = "198.18.5.0/24"
)

// podmanLab is one private podman service.
type podmanLab struct {
	dir     string // private state
	sock    string // the service's socket
	netns   string // the service's network namespace
	network string // the test network, testSubnet
	env     []string
}

// podman runs the podman CLI against the lab's private state.
func (l *podmanLab) podman(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = l.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// endpoint is the service's endpoint URL.
func (l *podmanLab) endpoint() string { return "unix://" + l.sock }

// startPodman starts a private podman service, or skips the test when
// podman is not installed or the test does not run as root.
func startPodman(t *testing.T) *podmanLab {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (CI: apt-get install podman runc catatonit busybox-static): ", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("these tests drive rootful podman and make a network namespace: run as root")
	}
	for _, tool := range []string{"runc", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("podman is installed but %s is missing (apt-get install runc util-linux iproute2): %v", tool, err)
		}
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox is missing (apt-get install busybox-static): %v", err)
	}
	dir, err := os.MkdirTemp("", "drover-podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing the lab's state: %v", err)
		}
	})
	id := fmt.Sprintf("%d", os.Getpid())
	l := &podmanLab{
		dir:     dir,
		sock:    filepath.Join(dir, "podman.sock"),
		netns:   "drover-dk" + id,
		network: "drover-test" + id,
	}
	conf := filepath.Join(dir, "containers.conf")
	storage := filepath.Join(dir, "storage.conf")
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(conf, fmt.Sprintf(`# drover's docker driver test: see podman_test.go
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = %[1]q
static_dir = %[2]q
volume_path = %[3]q
[network]
network_backend = "cni"
network_config_dir = %[4]q
`, filepath.Join(dir, "tmp"), filepath.Join(dir, "libpod"), filepath.Join(dir, "volumes"), filepath.Join(dir, "cni")))
	write(storage, fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "storage"), filepath.Join(dir, "run")))
	l.env = append(os.Environ(), "CONTAINERS_CONF="+conf, "CONTAINERS_STORAGE_CONF="+storage)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// the image: a busybox-static rootfs
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(root, "bin", "busybox"), string(bb))
	if err := os.Chmod(filepath.Join(root, "bin", "busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"sh", "echo", "sleep", "cat", "ip", "hostname", "true"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", app)); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "etc", "passwd"), "root:x:0:0:root:/:/bin/sh\n")
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.CommandContext(ctx, "tar", "-C", root, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	if _, err := l.podman(ctx, "import", "--change", `CMD ["/bin/sh"]`, "--change", "ENV PATH=/bin", tarball, testImage); err != nil {
		t.Fatal(err)
	}

	// the network namespace and the network, before the service reads them
	if out, err := exec.CommandContext(ctx, "ip", "netns", "add", l.netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", l.netns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", l.netns, err, out)
		}
	})
	if out, err := exec.CommandContext(ctx, "ip", "-n", l.netns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	// CNI's host-local IPAM keeps its leases here, named after the network
	cniLeases := filepath.Join("/var/lib/cni/networks", l.network)
	t.Cleanup(func() { os.RemoveAll(cniLeases) })
	if _, err := l.podman(ctx, "network", "create", "--subnet", testSubnet, l.network); err != nil {
		t.Fatal(err)
	}

	// the service, inside the namespace (nsenter enters only the network
	// namespace: `ip netns exec` would remount /sys and hide the cgroups)
	log, err := os.Create(filepath.Join(dir, "service.log"))
	if err != nil {
		t.Fatal(err)
	}
	svc := exec.Command("nsenter", "--net=/run/netns/"+l.netns, "podman", "system", "service", "--time=0", l.endpoint())
	svc.Env, svc.Stdout, svc.Stderr = l.env, log, log
	svc.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { svc.Wait(); log.Close(); close(done) }()
	t.Cleanup(func() {
		svc.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			svc.Process.Kill()
			<-done
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "service.log")); err == nil {
				t.Logf("podman service log:\n%s", b)
			}
		}
	})
	for {
		e, err := Connect(ctx, Endpoint{Address: l.endpoint()})
		if err == nil {
			t.Logf("podman service at %s, API %s", l.sock, e.APIVersion())
			e.Close()
			break
		}
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(dir, "service.log"))
			t.Fatalf("podman system service exited: %s", b)
		case <-ctx.Done():
			t.Fatalf("podman system service did not answer: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return l
}

// removeAfter removes the container name when the test ends, whatever
// state it is in (CLI, so that it works after the service is gone).
func (l *podmanLab) removeAfter(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.podman(ctx, "rm", "-f", "--ignore", name)
	})
}

// TestPodman runs the driver against one private podman service.
func TestPodman(t *testing.T) {
	l := startPodman(t)
	t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, l) })
	t.Run("remove-force", func(t *testing.T) { testRemoveForce(t, l) })
	t.Run("create-errors", func(t *testing.T) { testCreateErrors(t, l) })
	t.Run("console-without-tty", func(t *testing.T) { testConsoleNoTTY(t, l) })
}

// testLifecycle is acceptance 2 at the driver's level: create a node's
// container on a network with its fixed IP and MAC (mkvm), power it on,
// see it on, read its console, power it off, see it off, remove it (rmvm).
func testLifecycle(t *testing.T, l *podmanLab) {
	const node = "cn01"
	l.removeAfter(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	eng, err := Connect(ctx, Endpoint{Address: l.endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ip := netip.MustParseAddr("198.18.5.21")
	mac, _ := net.ParseMAC("52:54:00:18:05:21")
	spec := Spec{
		Name:  node,
		Image: testImage,
		// a line every 0.2 s, and stdin echoed back
		// (a background job's stdin is /dev/null, so the reader is in front)
		Cmd:         []string{"sh", "-c", `(i=0; while :; do i=$((i+1)); echo "tick $i $(hostname)"; sleep 0.2; done) & while read l; do echo "got:$l"; done`},
		CPUs:        0.5,
		MemoryBytes: 64 << 20,
		Network:     l.network,
		IP:          ip,
		MAC:         mac,
		Volumes:     []string{l.dir + "/tmp:/host-tmp:ro"},
		Restart:     "always",
		Env:         []string{"DROVER_NODE=" + node},
		Labels:      map[string]string{"drover.group": "containers"},
	}
	if err := eng.Create(ctx, spec); err != nil {
		t.Fatal("create: ", err)
	}
	if err := eng.Create(ctx, spec); !errors.Is(err, ErrExists) {
		t.Errorf("create twice: got %v, want ErrExists", err)
	}
	in, err := eng.cli.ContainerInspect(ctx, node, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hc := in.Container.HostConfig; hc.NanoCPUs != 5e8 || hc.Memory != 64<<20 || string(hc.RestartPolicy.Name) != "always" {
		t.Errorf("limits: NanoCPUs %d, Memory %d, restart %q; want 5e8, %d, always", hc.NanoCPUs, hc.Memory, hc.RestartPolicy.Name, 64<<20)
	}
	if got := in.Container.Config.Labels[Label]; got != node {
		t.Errorf("label %s = %q, want %q", Label, got, node)
	}

	drv := Driver{Timeout: 30 * time.Second, Grace: time.Second}
	c, err := drv.Open(ctx, bmc.Target{Node: node, Address: l.endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, err := c.PowerState(ctx); err != nil || st != bmc.StateOff {
		t.Fatalf("state after create: %v, %v; want off", st, err)
	}
	if err := c.SetBootDevice(ctx, bmc.BootNetwork, bmc.BootOptions{}); !errors.Is(err, bmc.ErrUnsupported) {
		t.Errorf("SetBootDevice: got %v, want ErrUnsupported", err)
	}

	if err := c.SetPower(ctx, bmc.PowerOn); err != nil {
		t.Fatal("power on: ", err)
	}
	if err := c.SetPower(ctx, bmc.PowerOn); err != nil {
		t.Error("power on when on: ", err)
	}
	if st, err := c.PowerState(ctx); err != nil || st != bmc.StateOn {
		t.Fatalf("state after on: %v, %v; want on", st, err)
	}

	// the fixed address and MAC, as the engine and the container see them
	list, err := eng.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got *Container
	for i := range list {
		if list[i].Name == node {
			got = &list[i]
		}
	}
	if got == nil {
		t.Fatalf("list: no %s in %+v", node, list)
	}
	want := Container{Name: node, ID: got.ID, Node: node, Image: testImage, State: "running", Status: got.Status, Network: l.network, IP: ip}
	if diff := cmp.Diff(want, *got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if out, err := l.podman(ctx, "exec", node, "ip", "addr", "show", "eth0"); err != nil {
		t.Error(err)
	} else if !strings.Contains(out, "inet "+ip.String()+"/24") || !strings.Contains(out, mac.String()) {
		t.Errorf("eth0 in the container lacks %s/24 or %s:\n%s", ip, mac, out)
	}

	facts, err := c.(bmc.Inventorier).Inventory(ctx)
	if err != nil {
		t.Fatal("inventory: ", err)
	}
	have := map[string]string{}
	for _, f := range facts {
		have[f.Name] = f.Value
	}
	for name, value := range map[string]string{
		"Image": testImage, "Hostname": node, "State": "running", "CPUs": "0.5", "Memory": "64 MiB", "Restart": "always",
		"Network": l.network + " " + ip.String() + " " + mac.String(),
	} {
		if have[name] != value {
			t.Errorf("inventory %s = %q, want %q (all: %v)", name, have[name], value, facts)
		}
	}

	// the console: the container's output, and what we type
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	con, err := c.(bmc.Consoler).Console(cctx)
	if err != nil {
		t.Fatal("console: ", err)
	}
	lines := bufio.NewScanner(con)
	if !scanFor(lines, "tick ") {
		t.Fatalf("console: no tick line: %v", lines.Err())
	}
	if !scanFor(lines, "tick ") { // a second one: it streams
		t.Fatalf("console: only one tick line: %v", lines.Err())
	}
	if _, err := io.WriteString(con, "hello\n"); err != nil {
		t.Fatal("console write: ", err)
	}
	if !scanFor(lines, "got:hello") {
		t.Fatalf("console: typed line not echoed: %v", lines.Err())
	}
	ccancel() // the console's context ends: reads end
	for lines.Scan() {
	}
	if err := con.Close(); err != nil {
		t.Error(err)
	}
	if st, err := c.PowerState(ctx); err != nil || st != bmc.StateOn {
		t.Errorf("state after the console closed: %v, %v; want on", st, err)
	}

	// rmvm without -f on a running node refuses
	if err := eng.Remove(ctx, node, false); !errors.Is(err, ErrRunning) {
		t.Errorf("remove running without force: got %v, want ErrRunning", err)
	}

	if err := c.SetPower(ctx, bmc.PowerOff); err != nil {
		t.Fatal("power off: ", err)
	}
	if st, err := c.PowerState(ctx); err != nil || st != bmc.StateOff {
		t.Fatalf("state after off: %v, %v; want off", st, err)
	}
	if err := c.SetPower(ctx, bmc.PowerOff); err != nil {
		t.Error("power off when off: ", err)
	}
	if err := c.SetPower(ctx, bmc.PowerSoftOff); err != nil {
		t.Error("softoff when off: ", err)
	}

	// cycle starts it again; softoff stops it (sh ignores SIGTERM as PID 1,
	// so this also exercises the kill after the grace period)
	if err := c.SetPower(ctx, bmc.PowerCycle); err != nil {
		t.Fatal("power cycle: ", err)
	}
	if st, err := c.PowerState(ctx); err != nil || st != bmc.StateOn {
		t.Fatalf("state after cycle: %v, %v; want on", st, err)
	}
	if err := c.SetPower(ctx, bmc.PowerReset); err != nil {
		t.Fatal("power reset: ", err)
	}
	if err := c.SetPower(ctx, bmc.PowerSoftOff); err != nil {
		t.Fatal("softoff: ", err)
	}
	if st, err := c.PowerState(ctx); err != nil || st != bmc.StateOff {
		t.Fatalf("state after softoff: %v, %v; want off", st, err)
	}

	if err := eng.Remove(ctx, node, false); err != nil {
		t.Fatal("remove: ", err)
	}
	if _, err := c.PowerState(ctx); !errors.Is(err, ErrNoContainer) {
		t.Errorf("state after remove: got %v, want ErrNoContainer", err)
	}
	if err := c.SetPower(ctx, bmc.PowerOn); !errors.Is(err, ErrNoContainer) {
		t.Errorf("power on after remove: got %v, want ErrNoContainer", err)
	}
	if err := eng.Remove(ctx, node, true); !errors.Is(err, ErrNoContainer) {
		t.Errorf("remove twice: got %v, want ErrNoContainer", err)
	}
}

// testRemoveForce: rmvm -f removes a running container.
func testRemoveForce(t *testing.T, l *podmanLab) {
	const node = "cn02"
	l.removeAfter(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := Connect(ctx, Endpoint{Address: l.sock}) // a bare socket path works too
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Create(ctx, Spec{Name: node, Image: testImage, Cmd: []string{"sleep", "300"}, Network: "none"}); err != nil {
		t.Fatal(err)
	}
	if err := eng.SetPower(ctx, node, bmc.PowerOn, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := eng.Remove(ctx, node, false); !errors.Is(err, ErrRunning) {
		t.Fatalf("remove without force: got %v, want ErrRunning", err)
	}
	if err := eng.Remove(ctx, node, true); err != nil {
		t.Fatal("remove with force: ", err)
	}
	list, err := eng.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Name == node {
			t.Errorf("%s still listed after remove: %+v", node, c)
		}
	}
}

// testCreateErrors: what mkvm says when the engine lacks something.
func testCreateErrors(t *testing.T, l *podmanLab) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := Connect(ctx, Endpoint{Address: l.endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, tc := range []struct {
		name string
		spec Spec
		want error
	}{
		{"no image", Spec{Name: "cn03", Image: "localhost/drover-no-such-image:1"}, ErrNoImage},
		{"no network", Spec{Name: "cn03", Image: testImage, Network: "drover-no-such-net", IP: netip.MustParseAddr("198.18.5.30")}, ErrNoNetwork},
		{"bad volume", Spec{Name: "cn03", Image: testImage, Volumes: []string{"./relative:/x"}}, ErrInvalidSpec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.removeAfter(t, tc.spec.Name)
			err := eng.Create(ctx, tc.spec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// testConsoleNoTTY: a container made without a TTY (not by Create) has
// its output multiplexed on the attach stream; the console demultiplexes.
func testConsoleNoTTY(t *testing.T, l *podmanLab) {
	const node = "cn04"
	l.removeAfter(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := Connect(ctx, Endpoint{Address: l.endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	_, err = eng.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: node, Config: &container.Config{
		Image: testImage, OpenStdin: true,
		Cmd: []string{"sh", "-c", `(while :; do echo plain; echo to-stderr >&2; sleep 0.2; done) & while read l; do echo "got:$l"; done`},
	}, HostConfig: &container.HostConfig{NetworkMode: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Engine: eng, Name: node}
	if err := c.SetPower(ctx, bmc.PowerOn); err != nil {
		t.Fatal(err)
	}
	con, err := c.Console(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	lines := bufio.NewScanner(con)
	if !scanFor(lines, "to-stderr") || !scanFor(lines, "plain") {
		t.Fatalf("console: no output: %v", lines.Err())
	}
	if _, err := io.WriteString(con, "hi\n"); err != nil {
		t.Fatal(err)
	}
	if !scanFor(lines, "got:hi") {
		t.Fatalf("console: typed line not echoed: %v", lines.Err())
	}
	if err := eng.Remove(ctx, node, true); err != nil {
		t.Fatal(err)
	}
}

// scanFor reads lines until one contains s.
func scanFor(sc *bufio.Scanner, s string) bool {
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return true
		}
	}
	return false
}
