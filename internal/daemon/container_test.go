package daemon

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/bmc/docker/dockertest"
)

// TestContainerNodeCommands manages a container node with the xCAT
// commands against a real podman service: mkvm (fixed IP on a named
// network), rpower on/stat, lsvm, rmvm refusing a running container
// without -f, rpower off, rmvm.
func TestContainerNodeCommands(t *testing.T) {
	lab := dockertest.Start(t)
	lab.RemoveAfter(t, "ct1")
	// A loaded machine (CI runs packages side by side) makes podman slow
	// to stop a container whose console is attached: generous timeouts.
	srv := startServerWith(t, t.TempDir(), t.TempDir(), func(c *Config) { c.BMCTimeout = time.Minute })
	defer srv.stop(t)
	run := func(args ...string) api.RunResponse {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err := srv.client.Run(ctx, api.RunRequest{Command: args[0], Args: args[1:]})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	srv.run(t, "mkdef", "-t", "node", "dh1", "groups=all", "dockerendpoint="+lab.Endpoint())
	srv.run(t, "mkdef", "-t", "node", "ct1", "groups=all", "mgt=docker", "vmhost=dh1",
		"vmimage="+dockertest.Image, "vmnics="+lab.Network, "ip=198.18.5.21", "mac=52:54:00:18:05:21",
		"vmcpus=0.5", "vmmemory=64", "cons=docker", "vmothersetting=restart=no;env=ROLE=compute")
	for _, step := range []struct {
		args       []string
		out, inErr string
		rc         int
	}{
		{args: []string{"mkvm", "ct1"}, out: "ct1: created\n"},
		{args: []string{"rpower", "ct1", "on"}, out: "ct1: on\n"},
		{args: []string{"rpower", "ct1", "stat"}, out: "ct1: on\n"},
		{args: []string{"lsvm", "ct1"}, out: "ct1: running " + dockertest.Image + " 198.18.5.21\n"},
		{args: []string{"rcons"}},
		{args: []string{"lsvm", "dh1"}, out: "dh1: ct1 running " + dockertest.Image + " 198.18.5.21\n"},
		{args: []string{"rmvm", "ct1"}, inErr: "ct1: Error: ", rc: 1},
		{args: []string{"rpower", "ct1", "off"}, out: "ct1: off\n"},
		{args: []string{"rpower", "ct1", "stat"}, out: "ct1: off\n"},
		{args: []string{"rmvm", "ct1"}, out: "ct1: removed\n"},
		{args: []string{"lsvm", "ct1"}, inErr: "no container ct1", rc: 1},
	} {
		if step.args[0] == "rcons" {
			waitConsoleLog(t, srv.client, "")
			rcons(t, srv.client)
			waitConsoleLog(t, srv.client, "console-42")
			continue
		}
		r := run(step.args...)
		if r.Stdout != step.out || r.ExitCode != step.rc || !strings.Contains(r.Stderr, step.inErr) {
			t.Fatalf("%s: stdout %q stderr %q rc %d", strings.Join(step.args, " "), r.Stdout, r.Stderr, r.ExitCode)
		}
		t.Logf("%s -> %s%s", strings.Join(step.args, " "), r.Stdout, r.Stderr)
	}
}

// rcons attaches to ct1's TTY through the API, types a command and reads
// its output back.
func rcons(t *testing.T, cl *api.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := cl.Console(ctx, "ct1")
	if err != nil {
		t.Fatalf("console: %v", err)
	}
	defer stream.Close()
	if _, err := io.WriteString(stream, "echo console-$((40+2))\n"); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "console-42") {
		n, err := stream.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("console output %q: %v", seen.String(), err)
		}
	}
	t.Logf("rcons ct1 saw: %q", seen.String())
	if _, err := cl.Console(ctx, "nosuch"); err == nil || !strings.Contains(err.Error(), "404") && !strings.Contains(err.Error(), "not found") {
		t.Errorf("console of an unknown node: %v", err)
	}
}

// waitConsoleLog waits until ct1's console log exists (the hub attached)
// and holds want.
func waitConsoleLog(t *testing.T, cl *api.Client, want string) {
	t.Helper()
	var last string
	for range 100 {
		var b strings.Builder
		if err := cl.ConsoleLog(context.Background(), "ct1", false, &b); err == nil {
			last = b.String()
			if strings.Contains(last, want) {
				return
			}
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("console log of ct1 never held %q: %s", want, last)
}
