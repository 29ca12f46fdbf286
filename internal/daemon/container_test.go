package daemon

import (
	"context"
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
	srv := startServer(t, t.TempDir(), t.TempDir())
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
	srv.run(t, "mkdef", "-t", "node", "ct1", "groups=all", "mgt=docker", "vmhost="+lab.Endpoint(),
		"vmimage="+dockertest.Image, "vmnics="+lab.Network, "ip=198.18.5.21", "mac=52:54:00:18:05:21",
		"vmcpus=0.5", "vmmemory=64", "vmothersetting=restart=no;env=ROLE=compute")
	for _, step := range []struct {
		args       []string
		out, inErr string
		rc         int
	}{
		{args: []string{"mkvm", "ct1"}, out: "ct1: created\n"},
		{args: []string{"rpower", "ct1", "on"}, out: "ct1: on\n"},
		{args: []string{"rpower", "ct1", "stat"}, out: "ct1: on\n"},
		{args: []string{"lsvm", "ct1"}, out: "ct1: running " + dockertest.Image + " 198.18.5.21\n"},
		{args: []string{"rmvm", "ct1"}, inErr: "ct1: Error: ", rc: 1},
		{args: []string{"rpower", "ct1", "off"}, out: "ct1: off\n"},
		{args: []string{"rpower", "ct1", "stat"}, out: "ct1: off\n"},
		{args: []string{"rmvm", "ct1"}, out: "ct1: removed\n"},
		{args: []string{"lsvm", "ct1"}, inErr: "no container ct1", rc: 1},
	} {
		r := run(step.args...)
		if r.Stdout != step.out || r.ExitCode != step.rc || !strings.Contains(r.Stderr, step.inErr) {
			t.Fatalf("%s: stdout %q stderr %q rc %d", strings.Join(step.args, " "), r.Stdout, r.Stderr, r.ExitCode)
		}
		t.Logf("%s -> %s%s", strings.Join(step.args, " "), r.Stdout, r.Stderr)
	}
}
