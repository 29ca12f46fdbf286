package tftpd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// External clients nobody here wrote (issue 3, acceptance 2). Each test
// skips, saying why, when its client is not installed.

func hostPort(t *testing.T, addr string) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

func runClient(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out), err
}

// TestTFTPHPAClient runs Debian's tftp-hpa client. Its 5.2 client sends no
// RFC 2347 options at all (no blksize, no tsize; `strings /usr/bin/tftp`
// has none), so it fetches at the default 512-byte block size; the
// blksize 1468 fetch by an outside client is TestCurlTFTPBlksize.
func TestTFTPHPAClient(t *testing.T) {
	bin, err := exec.LookPath("tftp")
	if err != nil {
		t.Skip("tftp-hpa client not installed (apt-get install tftp-hpa): ", err)
	}
	if out, _ := exec.Command(bin, "-V").CombinedOutput(); !bytes.Contains(out, []byte("tftp-hpa")) {
		t.Skipf("tftp is not tftp-hpa: %q", out)
	}
	_, root := testTree(t)
	want := loader(t, root, "undionly.kpxe", 70001)
	ts := startServer(t, root)
	host, port := hostPort(t, ts.addr)
	dir := t.TempDir()

	t.Run("fetch", func(t *testing.T) {
		if _, err := runClient(t, dir, bin, "-m", "binary", host, port, "-c", "get", "undionly.kpxe", "got.kpxe"); err != nil {
			t.Fatalf("tftp get: %v", err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "got.kpxe"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("fetched %d bytes (%v), want %d identical bytes", len(got), err, len(want))
		}
		if e := ts.next(t); e.Err != nil || e.Bytes != int64(len(want)) || e.Path != "undionly.kpxe" {
			t.Errorf("event = %+v", e)
		}
	})
	t.Run("refused", func(t *testing.T) {
		out, _ := runClient(t, dir, bin, "-m", "binary", host, port, "-c", "get", "../../etc/passwd", "passwd")
		if !strings.Contains(out, ErrOutsideRoot.Error()) {
			t.Errorf("tftp output does not show the refusal %q", ErrOutsideRoot)
		}
		if got, err := os.ReadFile(filepath.Join(dir, "passwd")); err == nil && len(got) > 0 {
			t.Errorf("client received %d bytes for a refused path", len(got))
		}
		if e := ts.next(t); !errors.Is(e.Err, ErrOutsideRoot) || e.Path != "../../etc/passwd" {
			t.Errorf("event = %+v", e)
		}
	})
}

// TestCurlTFTPBlksize fetches with curl's TFTP client at blksize 1468 and
// checks that the server acknowledged it, and that a ../ path is refused.
func TestCurlTFTPBlksize(t *testing.T) {
	bin, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed: ", err)
	}
	if out, _ := exec.Command(bin, "-V").CombinedOutput(); !bytes.Contains(out, []byte(" tftp")) {
		t.Skip("curl built without tftp support")
	}
	_, root := testTree(t)
	want := loader(t, root, "snponly.efi", 200003)
	ts := startServer(t, root)
	dir := t.TempDir()

	t.Run("fetch", func(t *testing.T) {
		if _, err := runClient(t, dir, bin, "-sS", "--tftp-blksize", "1468", "-o", "got.efi", "tftp://"+ts.addr+"/snponly.efi"); err != nil {
			t.Fatalf("curl: %v", err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "got.efi"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("fetched %d bytes (%v), want %d identical bytes", len(got), err, len(want))
		}
		e := ts.next(t)
		if e.Err != nil || e.Bytes != int64(len(want)) || e.Options["blksize"] != "1468" {
			t.Errorf("event = %+v, want success with blksize 1468", e)
		}
	})
	t.Run("refused", func(t *testing.T) {
		if _, err := runClient(t, dir, bin, "-sS", "--path-as-is", "-o", "passwd", "tftp://"+ts.addr+"/../../etc/passwd"); err == nil {
			t.Errorf("curl succeeded for a refused path")
		}
		if got, err := os.ReadFile(filepath.Join(dir, "passwd")); err == nil && len(got) > 0 {
			t.Errorf("client received %d bytes for a refused path", len(got))
		}
		if e := ts.next(t); !errors.Is(e.Err, ErrOutsideRoot) {
			t.Errorf("event = %+v", e)
		}
	})
}
