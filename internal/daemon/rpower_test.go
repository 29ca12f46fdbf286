package daemon

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/api"
)

// TestRpowerIPMISim drives a real ipmi_sim BMC through the whole server:
// rpower on/stat/off and rsetboot net over the API, checked with ipmitool
// -C 3; in the same noderange, nodes with an unknown mgt, no bmc, a wrong
// password, an unreachable BMC and no credentials each get their reason
// while the good node completes.
func TestRpowerIPMISim(t *testing.T) {
	for _, bin := range []string{"ipmi_sim", "ipmitool", "ss", "setsid"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (Debian packages openipmi, ipmitool, iproute2, util-linux): CI installs them", bin)
		}
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "test", "lab", "bmc-sim.sh")
	dir := filepath.Join(t.TempDir(), "bmc")
	var port int
	var lastErr error
	for range 3 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		out, err := exec.Command(script, "start", "bmc1", strconv.Itoa(port), "--dir", dir).CombinedOutput()
		if err == nil {
			lastErr = nil
			break
		}
		lastErr = errors.New(string(out))
	}
	if lastErr != nil {
		t.Fatalf("bmc-sim.sh start: %v", lastErr)
	}
	t.Cleanup(func() { exec.Command(script, "stop", "bmc1", "--dir", dir).Run() })
	ipmitool := func(args ...string) string {
		out, _ := exec.Command("ipmitool", append([]string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1",
			"-p", strconv.Itoa(port), "-U", "admin", "-P", "secret"}, args...)...).CombinedOutput()
		return string(out)
	}
	dead, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) // answers nothing
	defer dead.Close()

	srv := startServer(t, t.TempDir(), t.TempDir())
	defer srv.stop(t)
	bmcAddr := "127.0.0.1:" + strconv.Itoa(port)
	for _, cmd := range [][]string{
		{"mkdef", "-t", "group", "-o", "ipmi", "mgt=ipmi", "bmcusername=admin", "bmcpassword=secret"},
		{"mkdef", "-t", "node", "cn1", "groups=ipmi", "bmc=" + bmcAddr},
		{"mkdef", "-t", "node", "cn2", "groups=all", "mgt=hmc"},
		{"mkdef", "-t", "node", "cn3", "groups=ipmi"},
		{"mkdef", "-t", "node", "cn4", "groups=ipmi", "bmc=" + bmcAddr, "bmcpassword=wrong"},
		{"mkdef", "-t", "node", "cn5", "groups=ipmi", "bmc=" + dead.LocalAddr().String()},
		{"mkdef", "-t", "node", "cn6", "groups=all", "mgt=ipmi", "bmc=" + bmcAddr},
	} {
		srv.run(t, cmd...)
	}
	rpower := func(args ...string) api.RunResponse {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		resp, err := srv.client.Run(ctx, api.RunRequest{Command: args[0], Args: args[1:]})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	if r := rpower("rpower", "cn1", "on"); r.ExitCode != 0 || r.Stdout != "cn1: on\n" {
		t.Errorf("rpower cn1 on: %+v", r)
	}
	if out := ipmitool("chassis", "power", "status"); !strings.Contains(out, "is on") {
		t.Errorf("after rpower on, ipmitool says %q", out)
	}
	if r := rpower("rsetboot", "cn1", "net"); r.ExitCode != 0 || r.Stdout != "cn1: Network\n" {
		t.Errorf("rsetboot cn1 net: %+v", r)
	}
	if out := ipmitool("chassis", "bootparam", "get", "5"); !strings.Contains(out, "PXE") {
		t.Errorf("after rsetboot net, ipmitool says %q", out)
	}

	start := time.Now()
	var lastDone, lastTotal int
	r, err := srv.client.RunProgress(context.Background(), api.RunRequest{Command: "rpower", Args: []string{"cn[1-6]", "stat"}},
		func(done, total int) { lastDone, lastTotal = done, total })
	if err != nil {
		t.Fatal(err)
	}
	if lastDone != 6 || lastTotal != 6 {
		t.Errorf("progress ended at %d/%d, want 6/6", lastDone, lastTotal)
	}
	t.Logf("rpower cn[1-6] stat (%s):\n%s%s", time.Since(start).Round(time.Millisecond), r.Stdout, r.Stderr)
	if r.ExitCode == 0 || r.Stdout != "cn1: on\n" {
		t.Errorf("rpower cn[1-6] stat: exit %d, stdout %q", r.ExitCode, r.Stdout)
	}
	for node, reason := range map[string]string{
		"cn2": `unknown mgt "hmc"`,
		"cn3": "no BMC address",
		"cn4": "authentication failed",
		"cn5": "BMC unreachable",
		"cn6": "no BMC credentials",
	} {
		if !strings.Contains(r.Stderr, node+": Error: ") || !strings.Contains(r.Stderr, reason) {
			t.Errorf("%s: want a line with %q in:\n%s", node, reason, r.Stderr)
		}
	}
	if r := rpower("rpower", "cn1", "off"); r.ExitCode != 0 || r.Stdout != "cn1: off\n" {
		t.Errorf("rpower cn1 off: %+v", r)
	}
	if out := ipmitool("chassis", "power", "status"); !strings.Contains(out, "is off") {
		t.Errorf("after rpower off, ipmitool says %q", out)
	}
	if r := rpower("lsdef", "cn1", "-i", "powerstate"); !strings.Contains(r.Stdout, "powerstate=off") {
		t.Errorf("cn1's cached power state: %s", r.Stdout)
	}
}
