package docker

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"drover.dev/drover/internal/bmc"
	"drover.dev/drover/internal/bmc/docker/dockertest"
)

// The tests in this file run against a real `podman system service`
// started by dockertest.Start (private state, image, network and network
// namespace; see there).

func TestPodman(t *testing.T) {
	l := dockertest.Start(t)
	t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, l) })
	t.Run("remove-force", func(t *testing.T) { testRemoveForce(t, l) })
	t.Run("create-errors", func(t *testing.T) { testCreateErrors(t, l) })
	t.Run("console-without-tty", func(t *testing.T) { testConsoleNoTTY(t, l) })
}

// testLifecycle is acceptance 2 at the driver's level: create a node's
// container on a network with its fixed IP and MAC (mkvm), power it on,
// see it on, read its console, power it off, see it off, remove it (rmvm).
func testLifecycle(t *testing.T, l *dockertest.Lab) {
	const node = "cn01"
	l.RemoveAfter(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	eng, err := Connect(ctx, Endpoint{Address: l.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ip := netip.MustParseAddr("198.18.5.21")
	mac, _ := net.ParseMAC("52:54:00:18:05:21")
	spec := Spec{
		Name:  node,
		Image: dockertest.Image,
		// a line every 0.2 s, and stdin echoed back
		// (a background job's stdin is /dev/null, so the reader is in front)
		Cmd:         []string{"sh", "-c", `(i=0; while :; do i=$((i+1)); echo "tick $i $(hostname)"; sleep 0.2; done) & while read l; do echo "got:$l"; done`},
		CPUs:        0.5,
		MemoryBytes: 64 << 20,
		Network:     l.Network,
		IP:          ip,
		MAC:         mac,
		Volumes:     []string{l.Dir + "/tmp:/host-tmp:ro"},
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
	c, err := drv.Open(ctx, bmc.Target{Node: node, Address: l.Endpoint()})
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
	want := Container{Name: node, ID: got.ID, Node: node, Image: dockertest.Image, State: "running", Status: got.Status, Network: l.Network, IP: ip}
	if diff := cmp.Diff(want, *got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if out, err := l.Podman(ctx, "exec", node, "ip", "addr", "show", "eth0"); err != nil {
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
		"Image": dockertest.Image, "Hostname": node, "State": "running", "CPUs": "0.5", "Memory": "64 MiB", "Restart": "always",
		"Network": l.Network + " " + ip.String() + " " + mac.String(),
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
func testRemoveForce(t *testing.T, l *dockertest.Lab) {
	const node = "cn02"
	l.RemoveAfter(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := Connect(ctx, Endpoint{Address: l.Sock}) // a bare socket path works too
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Create(ctx, Spec{Name: node, Image: dockertest.Image, Cmd: []string{"sleep", "300"}, Network: "none"}); err != nil {
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
func testCreateErrors(t *testing.T, l *dockertest.Lab) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := Connect(ctx, Endpoint{Address: l.Endpoint()})
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
		{"no network", Spec{Name: "cn03", Image: dockertest.Image, Network: "drover-no-such-net", IP: netip.MustParseAddr("198.18.5.30")}, ErrNoNetwork},
		{"bad volume", Spec{Name: "cn03", Image: dockertest.Image, Volumes: []string{"./relative:/x"}}, ErrInvalidSpec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.RemoveAfter(t, tc.spec.Name)
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
func testConsoleNoTTY(t *testing.T, l *dockertest.Lab) {
	const node = "cn04"
	l.RemoveAfter(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	eng, err := Connect(ctx, Endpoint{Address: l.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	_, err = eng.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: node, Config: &container.Config{
		Image: dockertest.Image, OpenStdin: true,
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
