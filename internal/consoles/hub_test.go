package consoles

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeConsole is a node's console: the test writes what the node prints
// into node, and reads what is typed from node.
type fakeConsoles struct {
	mu    sync.Mutex
	nodes map[string]net.Conn // the node's end
	opens int
}

func (f *fakeConsoles) open(_ context.Context, node string) (io.ReadWriteCloser, error) {
	hub, dev := net.Pipe()
	f.mu.Lock()
	f.nodes[node] = dev
	f.opens++
	f.mu.Unlock()
	return hub, nil
}

func (f *fakeConsoles) node(t *testing.T, name string) net.Conn {
	t.Helper()
	for range 100 {
		f.mu.Lock()
		c := f.nodes[name]
		f.mu.Unlock()
		if c != nil {
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("console of %s never opened", name)
	return nil
}

func TestHub(t *testing.T) {
	dir := t.TempDir()
	f := &fakeConsoles{nodes: map[string]net.Conn{}}
	h := &Hub{Dir: dir, Open: f.open, MaxLogBytes: 64}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx) }()
	for h.ctxSet() == false {
		time.Sleep(5 * time.Millisecond)
	}
	h.Watch([]string{"cn1", "../x"})
	if got := h.Watched(); len(got) != 1 || got[0] != "cn1" {
		t.Fatalf("Watched = %v", got)
	}
	dev := f.node(t, "cn1")
	c, err := h.Attach("cn1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Attach("cn2"); err != ErrNotWatched {
		t.Errorf("Attach of an unwatched node: %v", err)
	}
	io.WriteString(dev, "BIOS v1.0\r\n")
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "BIOS v1.0\r\n" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
	go io.WriteString(c, "root\n")
	n, _ = dev.Read(buf)
	if string(buf[:n]) != "root\n" {
		t.Errorf("typed %q reached the node as %q", "root\n", buf[:n])
	}
	io.WriteString(dev, strings.Repeat("x", 70)) // over MaxLogBytes: rotates
	io.WriteString(dev, "after rotation\n")
	time.Sleep(100 * time.Millisecond)
	c.Close()
	if b, _ := os.ReadFile(LogPath(dir, "cn1") + ".1"); !strings.HasPrefix(string(b), "BIOS v1.0") {
		t.Errorf("rotated log %q", b)
	}
	if b, _ := os.ReadFile(LogPath(dir, "cn1")); string(b) != "after rotation\n" {
		t.Errorf("log %q", b)
	}
	// The console drops: the hub reconnects.
	dev.Close()
	time.Sleep(1500 * time.Millisecond)
	f.mu.Lock()
	opens := f.opens
	f.mu.Unlock()
	if opens < 2 {
		t.Errorf("console opened %d times after it dropped, want a reconnect", opens)
	}
	h.Watch(nil)
	if len(h.Watched()) != 0 {
		t.Errorf("still watched: %v", h.Watched())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestOpenLog(t *testing.T) {
	h := &Hub{Dir: t.TempDir()}
	for _, bad := range []string{"", ".", "..", "../etc/passwd", "a/b"} {
		if _, err := h.OpenLog(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("OpenLog(%q): %v, want ErrBadName", bad, err)
		}
	}
	if _, err := h.OpenLog("cn9"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenLog of a node without a log: %v", err)
	}
	os.WriteFile(LogPath(h.Dir, "cn1"), []byte("x"), 0o600)
	f, err := h.OpenLog("cn1")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
