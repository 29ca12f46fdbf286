//go:build linux

package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/netboot"
)

const netbootNetnsEnv = "DROVER_DAEMON_NETNS_TEST"

// TestNetbootRealClients runs the whole server in a private network
// namespace and points clients nobody here wrote at it: busybox udhcpc
// (fixed address and options for a defined node, a pool address for an
// unknown MAC, iPXE's script URL), tftp-hpa and curl (a loader, a refused
// ../ path, blksize 1468), curl against a wrong token (403, recorded) and
// busybox nslookup. Then it restarts the server on the same data directory:
// the pool lease given before the restart is honoured after it and a new
// MAC gets another address. The test re-runs itself under `unshare --net`.
func TestNetbootRealClients(t *testing.T) {
	if !inNetns(t, "needs root to create network namespaces and bind ports 53, 67, 69 (CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE)",
		"unshare", "nsenter", "ip", "busybox", "tftp", "curl") {
		return
	}
	client := vethToClient(t)
	setMAC := func(mac string) {
		for _, args := range [][]string{{"ip", "link", "set", "veth-c", "down"}, {"ip", "addr", "flush", "dev", "veth-c"},
			{"ip", "link", "set", "veth-c", "address", mac}, {"ip", "link", "set", "veth-c", "up"}} {
			if out, err := client(args...); err != nil {
				t.Fatalf("%v: %v: %s", args, err, out)
			}
		}
	}

	dir := t.TempDir()
	tftpRoot := filepath.Join(dir, "tftp")
	loader := make([]byte, 100_000)
	rand.Read(loader)
	if err := os.MkdirAll(tftpRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tftpRoot, "undionly.kpxe"), loader, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "udhcpc.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = bound ] && env > \"$UDHCPC_OUT\"\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")

	// udhcpc gets a lease on veth-c and returns its environment
	// (ip, router, dns, domain, hostname, boot_file, ...).
	dhcp := func(extra ...string) map[string]string {
		t.Helper()
		outFile := filepath.Join(dir, "udhcpc.env")
		os.Remove(outFile)
		args := append([]string{"env", "UDHCPC_OUT=" + outFile, "busybox", "udhcpc", "-i", "veth-c", "-n", "-q", "-f",
			"-t", "20", "-T", "1", "-A", "1", "-s", script, "-O", "mtu"}, extra...)
		if out, err := client(args...); err != nil {
			t.Fatalf("udhcpc: %v\n%s", err, out)
		}
		b, err := os.ReadFile(outFile)
		if err != nil {
			t.Fatalf("udhcpc wrote no lease: %v", err)
		}
		env := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		return env
	}

	// First run: configure through the API, as an admin would.
	srv := startServer(t, data, tftpRoot)
	for _, cmd := range [][]string{
		{"chdef", "-t", "site", "dhcpinterfaces=veth-s", "master=198.18.0.1", "domain=lab.test", "httpport=8081", "nameservers=198.18.0.1"},
		{"mkdef", "-t", "network", "-o", "lab", "net=198.18.0.0", "mask=255.255.255.0", "mgtifname=veth-s",
			"gateway=198.18.0.254", "dynamicrange=198.18.0.100-198.18.0.200", "mtu=1400", "ra=0"},
		{"mkdef", "-t", "node", "cn1", "groups=all", "mac=52:54:00:18:00:11", "ip=198.18.0.11"},
		{"nodeset", "cn1", "boot"},
	} {
		srv.run(t, cmd...)
	}
	srv.waitServing(t)

	setMAC("52:54:00:18:00:11")
	env := dhcp()
	t.Logf("udhcpc as cn1: ip=%s router=%s dns=%s domain=%s hostname=%s mtu=%s lease=%s", env["ip"], env["router"],
		env["dns"], env["domain"], env["hostname"], env["mtu"], env["lease"])
	for k, want := range map[string]string{"ip": "198.18.0.11", "router": "198.18.0.254", "dns": "198.18.0.1",
		"domain": "lab.test", "hostname": "cn1", "mtu": "1400", "subnet": "255.255.255.0", "serverid": "198.18.0.1"} {
		if got := strings.TrimSpace(env[k]); got != want {
			t.Errorf("udhcpc %s = %q, want %q", k, got, want)
		}
	}
	if out, err := client("ip", "addr", "add", "198.18.0.11/24", "dev", "veth-c"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	// As iPXE (user class "iPXE", option 77) it gets its script URL with a token.
	ipxe := dhcp("-x", "77:69505845")
	bootURL := ipxe["boot_file"]
	if !strings.HasPrefix(bootURL, "http://198.18.0.1:8081/boot/script/52-54-00-18-00-11?token=") {
		t.Fatalf("iPXE boot file = %q", bootURL)
	}
	if out, err := client("curl", "-sS", "-f", bootURL); err != nil || !strings.Contains(out, "#!ipxe") || !strings.Contains(out, "exit") {
		t.Errorf("script (state boot): %v\n%s", err, out)
	}
	u, _ := url.Parse(bootURL)
	q := u.Query()
	q.Set("token", strings.Repeat("0", len(q.Get("token"))))
	u.RawQuery = q.Encode()
	if out, _ := client("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", u.String()); out != "403" {
		t.Errorf("wrong token: HTTP %s, want 403", out)
	}

	// TFTP: tftp-hpa fetches the loader; curl asks for blksize 1468; ../ is refused.
	got := filepath.Join(dir, "got.kpxe")
	if out, err := client("tftp", "-m", "binary", "198.18.0.1", "-c", "get", "undionly.kpxe", got); err != nil {
		t.Errorf("tftp get: %v\n%s", err, out)
	} else if b, _ := os.ReadFile(got); !bytes.Equal(b, loader) {
		t.Errorf("tftp got %d bytes, not the loader", len(b))
	}
	if out, err := client("curl", "-sS", "--tftp-blksize", "1468", "-o", got, "tftp://198.18.0.1/undionly.kpxe"); err != nil {
		t.Errorf("curl tftp blksize 1468: %v\n%s", err, out)
	} else if b, _ := os.ReadFile(got); !bytes.Equal(b, loader) {
		t.Errorf("curl tftp got %d bytes, not the loader", len(b))
	}
	if out, _ := client("tftp", "198.18.0.1", "-c", "get", "../../etc/passwd", filepath.Join(dir, "passwd")); !strings.Contains(out, "Error code") {
		t.Errorf("tftp ../../etc/passwd was not refused: %s", out)
	}

	// DNS answers from the inventory.
	if out, err := client("busybox", "nslookup", "cn1.lab.test", "198.18.0.1"); err != nil || !strings.Contains(out, "198.18.0.11") {
		t.Errorf("nslookup cn1.lab.test: %v\n%s", err, out)
	}

	// The node's timeline has every step, the refusal with its reason.
	srv.waitEvents(t, "cn1", []string{"dhcp-discover", "dhcp-offer", "dhcp-request", "dhcp-ack", "http-script", "tftp-read"},
		func(e api.BootEvent) bool { return e.Kind == "http-script" && strings.Contains(e.Reason, "token") })

	// An unknown MAC gets a pool address.
	setMAC("52:54:00:18:00:99")
	pool1 := dhcp()["ip"]
	if a := net.ParseIP(pool1); a == nil || !strings.HasPrefix(pool1, "198.18.0.1") || pool1 == "198.18.0.11" {
		t.Fatalf("unknown MAC got %q, want an address in 198.18.0.100-200", pool1)
	}
	t.Logf("unknown MAC 52:54:00:18:00:99 got %s", pool1)
	srv.stop(t)

	// Restart on the same data: the lease is honoured, a new MAC gets another address.
	srv = startServer(t, data, tftpRoot)
	srv.waitServing(t)
	if again := dhcp()["ip"]; again != pool1 {
		t.Errorf("after restart 52:54:00:18:00:99 got %s, want its lease %s", again, pool1)
	}
	setMAC("52:54:00:18:00:98")
	if other := dhcp()["ip"]; other == pool1 || other == "198.18.0.11" || other == "" {
		t.Errorf("after restart a new MAC got %q, an address already leased", other)
	}
	srv.stop(t)
}

// inNetns re-runs the calling test in a new network namespace and reports
// false in the outer run (the test is done: it only logs the inner run);
// it reports true inside the namespace. It skips, saying why, when not root
// or a tool is missing.
func inNetns(t *testing.T, notRoot string, tools ...string) bool {
	t.Helper()
	if os.Getenv(netbootNetnsEnv) != "" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip(notRoot)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: CI installs it (util-linux, iproute2, busybox-static, tftp-hpa, curl, ndisc6)", tool)
		}
	}
	cmd := exec.Command("unshare", "--net", "--", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netbootNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in netns:\n%s", out)
	if err != nil {
		t.Fatalf("netns run: %v", err)
	}
	return false
}

// vethToClient links veth-s (198.18.0.1/24, in the test's namespace) to
// veth-c in a second namespace held by a sleeping process, so the client's
// packets are not local to the server; it returns a runner of commands in
// the client's namespace.
func vethToClient(t *testing.T) func(args ...string) (string, error) {
	t.Helper()
	holder := exec.Command("unshare", "--net", "--", "sleep", "300")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	pid := strconv.Itoa(holder.Process.Pid)
	time.Sleep(100 * time.Millisecond) // let unshare switch namespaces before sleep is exec'd
	sh(t, "ip", "link", "set", "lo", "up")
	sh(t, "ip", "link", "add", "veth-s", "type", "veth", "peer", "name", "veth-c", "netns", pid)
	sh(t, "ip", "addr", "add", "198.18.0.1/24", "dev", "veth-s")
	sh(t, "ip", "link", "set", "veth-s", "up")
	return func(args ...string) (string, error) {
		out, err := exec.Command("nsenter", append([]string{"-t", pid, "-n", "--"}, args...)...).CombinedOutput()
		return string(out), err
	}
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
}

type testServer struct {
	cancel context.CancelFunc
	done   chan error
	client *api.Client
	ready  chan netboot.Config
}

func startServer(t *testing.T, data, tftpRoot string) *testServer {
	t.Helper()
	return startServerWith(t, data, tftpRoot, nil)
}

// startServerWith is startServer with a hook that adjusts the Config.
func startServerWith(t *testing.T, data, tftpRoot string, adjust func(*Config)) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{cancel: cancel, done: make(chan error, 1), ready: make(chan netboot.Config, 16)}
	addr := make(chan net.Addr, 1)
	token := make(chan string, 1)
	go func() {
		cfg := Config{
			DataDir: data, Listen: "127.0.0.1:0", Services: netboot.AllServices, TFTPRoot: tftpRoot, BMCTimeout: 4 * time.Second,
			FirstStart: func(_, tok, _ string) { token <- tok },
			Listening:  func(a net.Addr) { addr <- a },
			BootReady: func(c netboot.Config) {
				select {
				case s.ready <- c:
				default:
				}
			},
		}
		if adjust != nil {
			adjust(&cfg)
		}
		s.done <- Run(ctx, cfg)
	}()
	select {
	case a := <-addr:
		tok := ""
		select {
		case tok = <-token:
			os.WriteFile(filepath.Join(data, "test.token"), []byte(tok), 0o600)
		default:
			b, err := os.ReadFile(filepath.Join(data, "test.token"))
			if err != nil {
				t.Fatal(err)
			}
			tok = string(b)
		}
		s.client = api.NewClient("http://"+a.String(), tok, nil)
	case err := <-s.done:
		t.Fatalf("server: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	return s
}

func (s *testServer) run(t *testing.T, args ...string) {
	t.Helper()
	resp, err := s.client.Run(context.Background(), api.RunRequest{Command: args[0], Args: args[1:]})
	if err != nil || resp.ExitCode != 0 {
		t.Fatalf("%v: %v %s%s", args, err, resp.Stdout, resp.Stderr)
	}
}

// waitServing waits until the boot services run DHCP on a link.
func (s *testServer) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case c := <-s.ready:
			if len(c.Links) > 0 && c.Links[0].DHCP {
				time.Sleep(200 * time.Millisecond) // sockets bind right after
				return
			}
		case err := <-s.done:
			t.Fatalf("server stopped: %v", err)
		case <-deadline:
			t.Fatal("boot services never configured")
		}
	}
}

// waitEvents waits until node's events include every kind and one event
// matching refused.
func (s *testServer) waitEvents(t *testing.T, node string, kinds []string, refused func(api.BootEvent) bool) {
	t.Helper()
	var evs []api.BootEvent
	for range 50 {
		var err error
		evs, err = s.client.Events(context.Background(), node, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		sawRefusal := false
		for _, e := range evs {
			have = append(have, e.Kind)
			sawRefusal = sawRefusal || refused(e)
		}
		missing := slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return slices.Contains(have, k) })
		if len(missing) == 0 && sawRefusal {
			for _, e := range evs {
				t.Logf("%s %-14s %s %s %s", e.Time.Format("15:04:05.000"), e.Kind, e.MAC, e.Detail, e.Reason)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Kind + " " + e.Detail + " " + e.Reason + "\n")
	}
	t.Errorf("events of %s lack some of %v or the refusal:\n%s", node, kinds, b.String())
}

func (s *testServer) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server stop: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("server did not stop")
	}
}
