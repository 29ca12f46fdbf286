package dockertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Package dockertest runs a private, real `podman system service` for
// tests of container nodes
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

// The image and the network every Lab has.
const (
	Image  = "localhost/drover-test-busybox:latest"
	Subnet = "198.18.5.0/24"
)

// Lab is one private podman service.
type Lab struct {
	Dir     string // private state
	Sock    string // the service's socket
	Netns   string // the service's network namespace
	Network string // the test network, Subnet
	env     []string
}

// Podman runs the podman CLI against the lab's private state.
func (l *Lab) Podman(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = l.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Endpoint is the service's endpoint URL.
func (l *Lab) Endpoint() string { return "unix://" + l.Sock }

// Start starts a private podman service, or skips the test when
// podman is not installed or the test does not run as root.
func Start(t testing.TB) *Lab {
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
		// podman's conmon processes may still be writing for a moment
		// after the service stopped: retry before giving up.
		var err error
		for range 20 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Errorf("removing the lab's state: %v", err)
	})
	id := fmt.Sprintf("%d", os.Getpid())
	l := &Lab{
		Dir:     dir,
		Sock:    filepath.Join(dir, "podman.sock"),
		Netns:   "drover-dk" + id,
		Network: "drover-test" + id,
	}
	env, err := PodmanEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.env = append(os.Environ(), env...)
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

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
	if _, err := l.Podman(ctx, "import", "--change", `CMD ["/bin/sh"]`, "--change", "ENV PATH=/bin", tarball, Image); err != nil {
		t.Fatal(err)
	}

	// the network namespace and the network, before the service reads them
	if out, err := exec.CommandContext(ctx, "ip", "netns", "add", l.Netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", l.Netns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", l.Netns, err, out)
		}
	})
	if out, err := exec.CommandContext(ctx, "ip", "-n", l.Netns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	// CNI's host-local IPAM keeps its leases here, named after the network
	cniLeases := filepath.Join("/var/lib/cni/networks", l.Network)
	t.Cleanup(func() { os.RemoveAll(cniLeases) })
	if _, err := l.Podman(ctx, "network", "create", "--subnet", Subnet, l.Network); err != nil {
		t.Fatal(err)
	}

	// the service, inside the namespace (nsenter enters only the network
	// namespace: `ip netns exec` would remount /sys and hide the cgroups)
	log, err := os.Create(filepath.Join(dir, "service.log"))
	if err != nil {
		t.Fatal(err)
	}
	svc := exec.Command("nsenter", "--net=/run/netns/"+l.Netns, "podman", "system", "service", "--time=0", l.Endpoint())
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
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", l.Sock)
	}}, Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get("http://d/_ping")
		if err == nil {
			resp.Body.Close()
			t.Logf("podman service at %s", l.Sock)
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

// RemoveAfter removes the container name when the test ends, whatever
// state it is in (CLI, so that it works after the service is gone).
func (l *Lab) RemoveAfter(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.Podman(ctx, "rm", "-f", "--ignore", name)
	})
}

// PodmanEnv writes the podman configuration this machine needs into dir
// (see /work/shared/testbed/podman-check.sh: runc, since crun refuses the
// hybrid cgroup layout; lowered ulimits; no default network; vfs storage)
// with all of podman's state under dir, and returns the environment
// (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF) that selects it.
func PodmanEnv(dir string) ([]string, error) {
	conf := filepath.Join(dir, "containers.conf")
	storage := filepath.Join(dir, "storage.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`# drover tests: a podman private to one test
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
`, filepath.Join(dir, "tmp"), filepath.Join(dir, "libpod"), filepath.Join(dir, "volumes"), filepath.Join(dir, "cni"))), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(storage, []byte(fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "storage"), filepath.Join(dir, "run"))), 0o644); err != nil {
		return nil, err
	}
	return []string{"CONTAINERS_CONF=" + conf, "CONTAINERS_STORAGE_CONF=" + storage}, nil
}
