package container

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/bmc/docker/dockertest"
)

const (
	// the veth between the host and the test's network namespace
	hostAddr = "198.18.60.1"
	ctAddr   = "198.18.60.2"
	apiURL   = "http://" + ctAddr + ":8780"

	uid = 65532
	// CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13), nothing else
	wantCaps = "0000000000002400"

	image    = "localhost/drover:dev" // what make image tags and deploy/kube plays
	version  = "ctest"                // the VERSION the test builds
	kubeYAML = "deploy/kube/drover.yaml"
	kubePod  = "drover"
	kubeCtr  = "drover-server" // podman names it POD-CONTAINER
	kubeVol  = "drover-data"   // the claim's name
)

// lab is the test's private podman state, network namespace and image.
type lab struct {
	dir   string // private podman state and scratch files
	root  string // the repository
	netns string
	env   []string
}

// podman runs the podman CLI on the lab's private state.
func (l *lab) podman(ctx context.Context, args ...string) (string, error) {
	return l.cmd(ctx, "podman", args...)
}

func (l *lab) cmd(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = l.env, l.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// TestContainerfilesAgree checks that the offline Containerfile's final
// stage is the source-built Containerfile's: the same image either way.
func TestContainerfilesAgree(t *testing.T) {
	final := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		const marker = "# --- the image (keep identical"
		s := string(b)
		i := strings.Index(s, marker)
		if i < 0 {
			t.Fatalf("%s: no %q line", name, marker)
		}
		return s[i:]
	}
	if d := cmp.Diff(final("Containerfile"), final("Containerfile.offline")); d != "" {
		t.Errorf("final stages differ (-Containerfile +Containerfile.offline):\n%s", d)
	}
}

// start prepares the lab, or skips the test when podman or root is missing.
func start(t *testing.T) *lab {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (CI: apt-get install podman runc catatonit): ", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("these tests run rootful podman and make a network namespace: run as root")
	}
	for _, tool := range []string{"runc", "make", "ip", "nsenter", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("podman is installed but %s is missing (apt-get install runc make iproute2 util-linux; Go on $PATH): %v", tool, err)
		}
	}
	if _, err := os.Stat("/usr/lib/ipxe/undionly.kpxe"); err != nil {
		t.Fatalf("the iPXE loaders are missing (apt-get install ipxe): %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "drover-container-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // uid 65532 reaches its bind mounts
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 20 { // conmon may still write for a moment
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Errorf("removing the lab's state: %v", err)
	})
	id := strconv.Itoa(os.Getpid())
	l := &lab{dir: dir, root: root, netns: "drover-ct" + id}
	// podman's settings for this machine, all state private to this test
	env, err := dockertest.PodmanEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.env = append(os.Environ(), env...)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// the network namespace: a veth, the host's end 198.18.60.1/30
	hostIf := "dct" + id
	for _, args := range [][]string{
		{"netns", "add", l.netns},
		{"link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", l.netns},
		{"addr", "add", hostAddr + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", l.netns, "addr", "add", ctAddr + "/30", "dev", "eth0"},
		{"-n", l.netns, "link", "set", "eth0", "up"},
		{"-n", l.netns, "link", "set", "lo", "up"},
	} {
		if _, err := l.cmd(ctx, "ip", args...); err != nil {
			t.Fatal(err)
		}
		if args[0] == "netns" {
			t.Cleanup(func() {
				if out, err := exec.Command("ip", "netns", "del", l.netns).CombinedOutput(); err != nil {
					t.Errorf("ip netns del %s: %v: %s", l.netns, err, out)
				}
			})
		}
	}

	// the image: the offline path, as a user runs it (TRIMPATH= shares the
	// build cache with scripts/test.sh's go build)
	begin := time.Now()
	out, err := l.cmd(ctx, "make", "image", "DIST="+filepath.Join(dir, "dist"), "VERSION="+version, "TRIMPATH=")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	t.Logf("make image (%s): ... %s", time.Since(begin).Round(time.Millisecond), strings.Join(lines[max(0, len(lines)-3):], " | "))
	return l
}

// TestImage builds the image and runs it with podman.
func TestImage(t *testing.T) {
	l := start(t)
	size(t, l)
	t.Run("FileCapabilities", func(t *testing.T) { testFileCaps(t, l) })
	t.Run("Hardened", func(t *testing.T) { testHardened(t, l) })
	t.Run("RestartKeepsData", func(t *testing.T) { testRestart(t, l) })
	t.Run("RestoreOnFirstStart", func(t *testing.T) { testRestore(t, l) })
	t.Run("KubePlay", func(t *testing.T) { testKubePlay(t, l) })
}

// size logs the image's size (acceptance 4: target 60 MB).
func size(t *testing.T, l *lab) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := l.podman(ctx, "image", "inspect", "--format", "{{.Size}}", image)
	if err != nil {
		t.Fatal(err)
	}
	var n countWriter
	cmd := exec.CommandContext(ctx, "podman", "save", "--format", "docker-archive", image)
	cmd.Env, cmd.Stdout = l.env, &n
	if err := cmd.Run(); err != nil {
		t.Fatalf("podman save: %v", err)
	}
	t.Logf("image %s: size %s bytes (podman image inspect), uncompressed tar %d bytes (podman save); target <= 60 MB",
		image, strings.TrimSpace(out), int64(n))
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// run starts a hardened container with mount (a volume name or a host
// directory) at /var/lib/drover and removes it when the test ends.
func (l *lab) run(t *testing.T, name, mount string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Cleanup(func() { l.remove(t, "rm", "-f", "--ignore", name) })
	if _, err := l.podman(ctx, "run", "-d", "--name", name,
		"--network", "ns:/run/netns/"+l.netns,
		"--read-only", "--read-only-tmpfs=false", // no tmpfs on /tmp, /run either
		"--cap-drop=all", "--cap-add=NET_BIND_SERVICE,NET_RAW",
		"--security-opt", "no-new-privileges",
		"--user", fmt.Sprintf("%d:%d", uid, uid),
		"-v", mount+":/var/lib/drover",
		image); err != nil {
		t.Fatal(err)
	}
	l.ready(t, name)
}

// remove runs a podman clean-up command, reporting failures.
func (l *lab) remove(t *testing.T, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := l.podman(ctx, args...); err != nil {
		t.Errorf("clean-up: %v", err)
	}
}

// ready waits until /readyz answers 200 from the host side of the veth.
func (l *lab) ready(t *testing.T, name string) {
	t.Helper()
	begin := time.Now()
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Since(begin) < 45*time.Second {
		resp, err := hc.Get(apiURL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("%s: GET %s/readyz -> %d %s after %s", name, apiURL, resp.StatusCode, bytes.TrimSpace(body), time.Since(begin).Round(time.Millisecond))
				return
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs, _ := l.podman(ctx, "logs", name)
	t.Fatalf("%s: /readyz did not answer: %v\ncontainer log:\n%s", name, last, logs)
}

// proc is what the test reads of a container's main process on the host.
type proc struct {
	pid    int
	status map[string]string // /proc/PID/status
	root   string            // the options of its / mount
}

func (l *lab) proc(t *testing.T, name string) proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := l.podman(ctx, "inspect", "--format", "{{.State.Pid}}", name)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 0 {
		t.Fatalf("%s: State.Pid %q", name, out)
	}
	p := proc{pid: pid, status: map[string]string{}}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok {
			p.status[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	// mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 5 && fs[4] == "/" {
			p.root = fs[5]
		}
	}
	return p
}

// checkHardened checks uid, gid, groups, capabilities, no_new_privs and
// the read-only root of a container's main process.
func checkHardened(t *testing.T, p proc) {
	t.Helper()
	want := map[string]string{
		"Uid":    fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid),
		"Gid":    fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid),
		"Groups": strconv.Itoa(uid),
		// The two capabilities come from /usr/bin/drover's file
		// capabilities, as on Kubernetes (no ambient set there): exec of a
		// file with capabilities clears the ambient set podman makes, and
		// no_new_privs still lets the file grant what the container was
		// given (bounding set).
		"CapInh":     wantCaps,
		"CapPrm":     wantCaps,
		"CapEff":     wantCaps,
		"CapBnd":     wantCaps,
		"CapAmb":     "0000000000000000",
		"NoNewPrivs": "1",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = p.status[k]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("process %d status (-want +got):\n%s", p.pid, d)
	}
	if !slices.Contains(strings.Split(p.root, ","), "ro") {
		t.Errorf("process %d: / is mounted %q, want ro", p.pid, p.root)
	}
	t.Logf("process %d: Uid %s, Gid %s, CapEff %s, NoNewPrivs %s, / mounted %s", p.pid, p.status["Uid"], p.status["Gid"], p.status["CapEff"], p.status["NoNewPrivs"], p.root)
}

func testHardened(t *testing.T, l *lab) {
	const name, vol = "drover-ct-hardened", "drover-ct-hardened"
	t.Cleanup(func() { l.remove(t, "volume", "rm", "-f", vol) })
	l.run(t, name, vol)
	checkHardened(t, l.proc(t, name))

	// the version make image linked in, and the image's label
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := l.podman(ctx, "exec", name, "drover", "version"); err != nil || strings.TrimSpace(out) != "drover "+version {
		t.Errorf("podman exec %s drover version: %q, %v; want \"drover %s\"", name, out, err, version)
	}
	if out, err := l.podman(ctx, "image", "inspect", "--format", `{{index .Labels "org.opencontainers.image.version"}}`, image); err != nil || strings.TrimSpace(out) != version {
		t.Errorf("label org.opencontainers.image.version: %q, %v; want %q", out, err, version)
	}

	// the data went to the volume, owned by the container's user
	mp := l.mountpoint(t, vol)
	for _, f := range []string{"admin.token", "drover.db", "secret.key"} {
		fi, err := os.Stat(filepath.Join(mp, f))
		if err != nil {
			t.Errorf("volume: %v", err)
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uid {
			t.Errorf("volume: %s owned by %d, want %d", f, st.Uid, uid)
		}
	}

	// idle RSS (acceptance 4: target 50 MB): ~10 s after /readyz
	time.Sleep(10 * time.Second)
	p := l.proc(t, name)
	t.Logf("idle RSS of drover serve in the container, 10 s after /readyz: VmRSS %s (VmHWM %s); target <= 50 MB", p.status["VmRSS"], p.status["VmHWM"])
}

// mountpoint is where a volume's data is on the host.
func (l *lab) mountpoint(t *testing.T, vol string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := l.podman(ctx, "volume", "inspect", "--format", "{{.Mountpoint}}", vol)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// client returns an API client with the admin token the server wrote to
// its data directory.
func client(t *testing.T, dataDir string) *api.Client {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(apiURL, strings.TrimSpace(string(b)), &http.Client{Timeout: 10 * time.Second})
}

func testRestart(t *testing.T, l *lab) {
	const vol = "drover-ct-restart"
	t.Cleanup(func() { l.remove(t, "volume", "rm", "-f", vol) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	l.run(t, "drover-ct-first", vol)
	mp := l.mountpoint(t, vol)
	c := client(t, mp)
	node := api.Object{Type: "node", Name: "ct01", Attrs: map[string]string{"groups": "all,compute", "mgt": "ipmi", "bmc": "198.18.61.11"}}
	if _, err := c.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	// podman restart, then a new container on the same volume
	if _, err := l.podman(ctx, "restart", "-t", "10", "drover-ct-first"); err != nil {
		t.Fatal(err)
	}
	l.ready(t, "drover-ct-first (restarted)")
	// drover is PID 1 in the container: SIGTERM must stop it cleanly
	if _, err := l.podman(ctx, "stop", "-t", "20", "drover-ct-first"); err != nil {
		t.Fatal(err)
	}
	if out, err := l.podman(ctx, "inspect", "--format", "{{.State.ExitCode}}", "drover-ct-first"); err != nil || strings.TrimSpace(out) != "0" {
		t.Errorf("podman stop: exit code %q (%v), want 0", strings.TrimSpace(out), err)
	}
	if _, err := l.podman(ctx, "rm", "drover-ct-first"); err != nil {
		t.Fatal(err)
	}
	l.run(t, "drover-ct-second", vol)
	checkHardened(t, l.proc(t, "drover-ct-second"))
	c = client(t, mp) // the same token: not created again
	raw := false
	got, err := c.Get(ctx, "node", "ct01", api.ListOptions{Resolved: &raw})
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	for k, v := range node.Attrs {
		if got.Attrs[k] != v {
			t.Errorf("after the restart: %s=%q, want %q (all: %v)", k, got.Attrs[k], v, got.Attrs)
		}
	}
}

// the dump an empty data directory starts from (xCAT stanza format)
const restoreStanza = `compute:
    objtype=group
    mgt=ipmi

ct-r1:
    objtype=node
    groups=all,compute
    bmc=198.18.61.21

ct-r2:
    objtype=node
    groups=all,compute
    bmc=198.18.61.22
`

func testRestore(t *testing.T, l *lab) {
	// a host directory (a bind mount, as hostPath would be) holding only
	// restore/, owned by the container's user
	data := filepath.Join(l.dir, "restore-data")
	if err := os.MkdirAll(filepath.Join(data, "restore"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "restore", "inventory.stanza"), []byte(restoreStanza), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{data, filepath.Join(data, "restore"), filepath.Join(data, "restore", "inventory.stanza")} {
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	l.run(t, "drover-ct-restore", data)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes, err := client(t, data).List(ctx, "node", "", api.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, n.Name+" mgt="+n.Attrs["mgt"]+" bmc="+n.Attrs["bmc"])
	}
	want := []string{"ct-r1 mgt=ipmi bmc=198.18.61.21", "ct-r2 mgt=ipmi bmc=198.18.61.22"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("nodes after the first start on restore/ (-want +got):\n%s", d)
	}

	// the CLI inside the container (no shell needed), as docs/deploy.md
	// shows it: podman exec -e DROVER_TOKEN=... NAME drover lsdef
	token, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.podman(ctx, "exec", "-e", "DROVER_URL=http://127.0.0.1:8780", "-e", "DROVER_TOKEN="+strings.TrimSpace(string(token)),
		"drover-ct-restore", "drover", "lsdef", "-t", "node", "-s")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ct-r1") || !strings.Contains(out, "ct-r2") {
		t.Errorf("podman exec drover-ct-restore drover lsdef -t node -s:\n%s", out)
	}
	t.Logf("podman exec drover-ct-restore drover lsdef -t node -s: %s", strings.Join(strings.Fields(out), " "))
}

func testKubePlay(t *testing.T, l *lab) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	yaml := filepath.Join(l.root, kubeYAML)
	t.Cleanup(func() {
		l.remove(t, "pod", "rm", "-f", "--ignore", kubePod)
		l.remove(t, "volume", "rm", "-f", kubeVol)
	})
	// pods cannot join a namespace by path (podman 4.3): play it from
	// inside the test's namespace, where the yaml's hostNetwork is that
	// namespace, never the host's
	out, err := l.cmd(ctx, "nsenter", "--net=/run/netns/"+l.netns, "podman", "kube", "play", yaml)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("podman kube play %s: %s", kubeYAML, strings.Join(strings.Fields(out), " "))
	l.ready(t, kubeCtr)
	checkHardened(t, l.proc(t, kubeCtr))
	if _, err := os.Stat(filepath.Join(l.mountpoint(t, kubeVol), "admin.token")); err != nil {
		t.Errorf("the claim's volume: %v", err)
	}
	if _, err := l.podman(ctx, "kube", "down", yaml); err != nil {
		t.Error(err)
	}
	if out, err := l.podman(ctx, "pod", "exists", kubePod); err == nil || !isExit(err, 1) {
		t.Errorf("after podman kube down: pod exists: %v %s", err, out)
	}
}

func isExit(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

// testFileCaps checks that /usr/bin/drover in the image carries the file
// capabilities cap_net_bind_service,cap_net_raw=ep: where the runtime
// gives a non-root process no ambient capabilities (Kubernetes), they are
// how it gets the two it was granted.
func testFileCaps(t *testing.T, l *lab) {
	if _, err := exec.LookPath("getcap"); err != nil {
		t.Skip("skipping: getcap not found (Debian package libcap2-bin; .ci/run installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mnt, err := l.podman(ctx, "image", "mount", image)
	if err != nil {
		t.Fatal(err)
	}
	defer l.podman(context.Background(), "image", "unmount", image)
	out, err := exec.CommandContext(ctx, "getcap", filepath.Join(strings.TrimSpace(mnt), "usr/bin/drover")).CombinedOutput()
	if err != nil {
		t.Fatalf("getcap: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cap_net_bind_service,cap_net_raw=ep") {
		t.Errorf("getcap /usr/bin/drover in the image: %q, want cap_net_bind_service,cap_net_raw=ep", strings.TrimSpace(string(out)))
	}
	t.Logf("file capabilities in the image: %s", strings.TrimSpace(string(out)))
}
