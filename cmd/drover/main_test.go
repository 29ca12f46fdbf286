package main

import (
	"bytes"
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

// TestBinary runs the real binary the way a newcomer does: serve on a fresh
// data directory, then the CLI (also through an xCAT-named link) against it.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "drover")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "DROVER_URL=", "DROVER_TOKEN=", "DROVER_CONFIG=")
	data := filepath.Join(dir, "data")
	var serverErr bytes.Buffer
	srv := exec.Command(bin, "serve", "--data", data, "--listen", addr)
	srv.Env = env
	srv.Stderr = &serverErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exit: %v\n%s", err, serverErr.String())
			}
		case <-time.After(20 * time.Second):
			srv.Process.Kill()
			t.Errorf("server did not stop on SIGTERM within 20s")
		}
	}
	defer stop()

	ready := false
	for i := 0; i < 300 && !ready; i++ {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == 200
		}
	}
	if !ready {
		t.Fatalf("server not ready:\n%s", serverErr.String())
	}

	// First start: token file 0600, client config written, no default password.
	st, err := os.Stat(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("admin.token mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "drover", "config")); err != nil {
		t.Errorf("client config not written: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/v1/objects/node")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("unauthenticated list: %d, want 401", resp.StatusCode)
	}

	run := func(stdin string, args ...string) (string, string, int) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	if out, errs, code := run("", bin, "mkdef", "cn[1-3]", "groups=all"); code != 0 {
		t.Fatalf("mkdef: rc %d\n%s%s", code, out, errs)
	}
	links := filepath.Join(dir, "links")
	if out, errs, code := run("", bin, "install-links", links); code != 0 {
		t.Fatalf("install-links: rc %d\n%s%s", code, out, errs)
	}
	out, errs, code := run("", filepath.Join(links, "nodels"), "all")
	if code != 0 || out != "cn1\ncn2\ncn3\n" {
		t.Errorf("nodels via link: rc %d, out %q, err %q", code, out, errs)
	}
	_, errs, code = run("", filepath.Join(links, "lsdef"), "nosuchnode")
	if code != 1 || !strings.HasPrefix(errs, "Error:") {
		t.Errorf("lsdef nosuchnode: rc %d, stderr %q; want rc 1 and an Error: line", code, errs)
	}

	// Restart keeps the data and does not make a new token.
	stop()
	tok1, _ := os.ReadFile(filepath.Join(data, "admin.token"))
	srv = exec.Command(bin, "serve", "--data", data, "--listen", addr)
	srv.Env = env
	serverErr.Reset()
	srv.Stderr = &serverErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped = false
	for i := 0; i < 300; i++ {
		time.Sleep(50 * time.Millisecond)
		if out, _, code = run("", bin, "nodels"); code == 0 {
			break
		}
	}
	if out != "cn1\ncn2\ncn3\n" {
		t.Errorf("after restart nodels = %q\n%s", out, serverErr.String())
	}
	tok2, _ := os.ReadFile(filepath.Join(data, "admin.token"))
	if !bytes.Equal(tok1, tok2) {
		t.Error("restart replaced the admin token")
	}
}
