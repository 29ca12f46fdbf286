//go:build linux

package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/netboot"
)

// serveEnv makes the test binary a plain server (see TestMain): the
// unprivileged test runs it as another user with only two capabilities.
const serveEnv = "DROVER_TEST_SERVE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(serveEnv); spec != "" {
		os.Exit(serveForTest(spec))
	}
	os.Exit(m.Run())
}

// serveForTest runs the server until SIGTERM; spec is "DATA,LISTEN,TFTPROOT".
func serveForTest(spec string) int {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		fmt.Fprintln(os.Stderr, "bad", serveEnv, spec)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := Run(ctx, Config{DataDir: parts[0], Listen: parts[1], TFTPRoot: parts[2], Services: netboot.AllServices,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

// TestNetbootUnprivileged runs the server as uid 65534 with no capability
// but CAP_NET_BIND_SERVICE and CAP_NET_RAW (as the container and the
// systemd unit do) and checks DHCP on an interface, TFTP, HTTP boot on port
// 80, DNS and router advertisements all work.
func TestNetbootUnprivileged(t *testing.T) {
	if !inNetns(t, "needs root to create network namespaces and switch to an unprivileged user",
		"unshare", "nsenter", "ip", "busybox", "tftp", "curl", "setpriv", "rdisc6") {
		return
	}
	client := vethToClient(t)
	for _, args := range [][]string{{"ip", "link", "set", "veth-c", "address", "52:54:00:18:00:11"}, {"ip", "link", "set", "veth-c", "up"}} {
		if out, err := client(args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	// Wait for veth-s' link-local address (RA is sent from it).
	for range 50 {
		if out, _ := exec.Command("ip", "-6", "addr", "show", "dev", "veth-s", "scope", "link").Output(); strings.Contains(string(out), "fe80") &&
			!strings.Contains(string(out), "tentative") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Everything the unprivileged server touches must be reachable by it.
	dir, err := os.MkdirTemp("", "drover-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "server.test")
	copyFile(t, os.Args[0], bin, 0o755)
	tftpRoot := filepath.Join(dir, "tftp")
	os.Mkdir(tftpRoot, 0o755)
	os.WriteFile(filepath.Join(tftpRoot, "undionly.kpxe"), []byte("loader bytes"), 0o644)
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	os.Chown(data, 65534, 65534)
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	const caps = "-all,+net_bind_service,+net_raw"
	srv := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps="+caps, "--ambient-caps="+caps, "--bounding-set="+caps, "--", bin)
	srv.Env = append(os.Environ(), serveEnv+"="+data+",127.0.0.1:18790,"+tftpRoot)
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("server log:\n%s", b)
		}
	}()

	var tok []byte
	for range 100 {
		if tok, err = os.ReadFile(filepath.Join(data, AdminTokenFile)); err == nil && len(tok) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(tok) == 0 {
		t.Fatalf("no admin token: %v", err)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Process.Pid))
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Uid:" && f[1] != "65534":
			t.Errorf("server runs as uid %s", f[1])
		case len(f) == 2 && f[0] == "CapEff:" && f[1] != "0000000000002400":
			t.Errorf("server's effective capabilities %s, want only NET_BIND_SERVICE and NET_RAW (0x2400)", f[1])
		}
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "CapEff:") {
			t.Log(line)
		}
	}

	cl := api.NewClient("http://127.0.0.1:18790", strings.TrimSpace(string(tok)), nil)
	for range 50 {
		if cl.Readyz(context.Background()) == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, args := range [][]string{
		{"chdef", "-t", "site", "dhcpinterfaces=veth-s", "master=198.18.0.1", "domain=lab.test"},
		{"mkdef", "-t", "network", "-o", "lab", "net=198.18.0.0", "mask=255.255.255.0", "mgtifname=veth-s",
			"dynamicrange=198.18.0.100-198.18.0.200"},
		{"mkdef", "-t", "node", "cn1", "groups=all", "mac=52:54:00:18:00:11", "ip=198.18.0.11"},
	} {
		resp, err := cl.Run(context.Background(), api.RunRequest{Command: args[0], Args: args[1:]})
		if err != nil || resp.ExitCode != 0 {
			t.Fatalf("%v: %v %s", args, err, resp.Stderr)
		}
	}

	// RA first: the solicitation is answered from veth-s' link-local address.
	var raOut string
	for range 20 {
		out, err := client("rdisc6", "-1", "-w", "500", "veth-c")
		if err == nil && strings.Contains(out, "Router lifetime") {
			raOut = out
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	lifetime := ""
	for _, line := range strings.Split(raOut, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Router lifetime" {
			lifetime = strings.Fields(v)[0]
		}
	}
	switch {
	case lifetime == "":
		t.Errorf("no router advertisement from the unprivileged server:\n%s", raOut)
	case lifetime != "0" || strings.Contains(raOut, "Prefix"):
		t.Errorf("router advertisement with lifetime %s or a prefix:\n%s", lifetime, raOut)
	default:
		t.Logf("rdisc6: router lifetime %s, no prefix", lifetime)
	}

	script := filepath.Join(dir, "udhcpc.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = bound ] && echo \"LEASE $ip\"\nexit 0\n"), 0o755)
	out, err := client("busybox", "udhcpc", "-i", "veth-c", "-n", "-q", "-f", "-t", "20", "-T", "1", "-A", "1", "-s", script)
	if err != nil || !strings.Contains(out, "LEASE 198.18.0.11") {
		t.Fatalf("udhcpc against the unprivileged server: %v\n%s", err, out)
	}
	client("ip", "addr", "add", "198.18.0.11/24", "dev", "veth-c")
	if out, err := client("tftp", "198.18.0.1", "-c", "get", "undionly.kpxe", filepath.Join(dir, "got")); err != nil || strings.Contains(out, "Error") {
		t.Errorf("tftp: %v %s", err, out)
	}
	if out, err := client("curl", "-sS", "-f", "http://198.18.0.1:80/boot/entry.ipxe"); err != nil || !strings.Contains(out, "#!ipxe") {
		t.Errorf("HTTP boot on port 80: %v %s", err, out)
	}
	if out, err := client("busybox", "nslookup", "cn1.lab.test", "198.18.0.1"); err != nil || !strings.Contains(out, "198.18.0.11") {
		t.Errorf("DNS on port 53: %v %s", err, out)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
