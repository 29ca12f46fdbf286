package tftpd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pin/tftp/v3"
)

// eventWait bounds how long a test waits for an event that must come; it
// guards against hangs and is not a timing assertion.
const eventWait = 30 * time.Second

type testServer struct {
	addr   string
	events chan Event
}

// startServer serves root on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, root string) *testServer {
	t.Helper()
	ts := &testServer{events: make(chan Event, 64)}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	s := &Server{
		Root:      root,
		Events:    func(e Event) { ts.events <- e },
		Listening: func(a net.Addr) { ready <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeConn(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeConn: %v", err)
		}
	})
	select {
	case a := <-ready:
		ts.addr = a.String()
	case err := <-done:
		t.Fatalf("ServeConn returned early: %v", err)
	}
	return ts
}

func (ts *testServer) next(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-ts.events:
		return e
	case <-time.After(eventWait):
		t.Fatal("no event recorded")
		return Event{}
	}
}

func (ts *testServer) client(t *testing.T, blksize int) *tftp.Client {
	t.Helper()
	c, err := tftp.NewClient(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	c.SetRetries(3)
	if blksize > 0 {
		c.SetBlockSize(blksize)
	}
	c.RequestTSize(true)
	return c
}

// loader writes a file with a non-trivial pattern that is not a multiple of
// any block size.
func loader(t *testing.T, root, name string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i/1468)
	}
	if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFetchBlksizeTsize(t *testing.T) {
	_, root := testTree(t)
	want := loader(t, root, "big.kpxe", 1600003)
	ts := startServer(t, root)

	for _, tc := range []struct {
		name    string
		path    string
		blksize int
		wantOpt map[string]string
	}{
		{"blksize 1468", "big.kpxe", 1468, map[string]string{"blksize": "1468", "tsize": "1600003"}},
		{"leading slash", "/big.kpxe", 1468, map[string]string{"blksize": "1468", "tsize": "1600003"}},
		{"default blksize", "big.kpxe", 0, map[string]string{"tsize": "1600003"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wt, err := ts.client(t, tc.blksize).Receive(tc.path, "octet")
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			size, ok := wt.(tftp.IncomingTransfer).Size()
			if !ok || size != int64(len(want)) {
				t.Errorf("tsize = %d, %v; want %d", size, ok, len(want))
			}
			var buf bytes.Buffer
			n, err := wt.WriteTo(&buf)
			if err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			if n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("got %d bytes, want %d identical bytes", n, len(want))
			}
			e := ts.next(t)
			if e.Err != nil {
				t.Fatalf("event error: %v", e.Err)
			}
			if diff := cmp.Diff(tc.wantOpt, e.Options); diff != "" {
				t.Errorf("negotiated options (-want +got):\n%s", diff)
			}
			if e.Op != OpRead || e.Path != tc.path || e.Bytes != int64(len(want)) ||
				e.File != filepath.Join(root, "big.kpxe") || e.Duration <= 0 ||
				!e.Client.Addr().IsLoopback() || e.Client.Port() == 0 || !e.Local.IsLoopback() {
				t.Errorf("event = %+v", e)
			}
		})
	}
}

func TestFetchEmptyFile(t *testing.T) {
	_, root := testTree(t)
	loader(t, root, "empty", 0)
	ts := startServer(t, root)
	wt, err := ts.client(t, 1468).Receive("empty", "octet")
	if err != nil {
		t.Fatal(err)
	}
	n, err := wt.WriteTo(io.Discard)
	if err != nil || n != 0 {
		t.Fatalf("WriteTo = %d, %v; want 0, nil", n, err)
	}
	if e := ts.next(t); e.Err != nil || e.Bytes != 0 {
		t.Errorf("event = %+v", e)
	}
}

func TestRefusedReads(t *testing.T) {
	_, root := testTree(t)
	ts := startServer(t, root)
	for _, tc := range []struct {
		path string
		want error
	}{
		{"../../etc/passwd", ErrOutsideRoot},
		{"/etc/passwd", ErrNotFound},
		{"link-out", ErrOutsideRoot},
		{"link-etc", ErrOutsideRoot},
		{"dir-out/outside.txt", ErrOutsideRoot},
		{"missing.efi", ErrNotFound},
		{"sub", ErrNotRegular},
	} {
		t.Run(tc.path, func(t *testing.T) {
			wt, err := ts.client(t, 1468).Receive(tc.path, "octet")
			if err == nil {
				var buf bytes.Buffer
				_, err = wt.WriteTo(&buf)
				if err == nil {
					t.Fatalf("Receive(%q) succeeded with %q", tc.path, buf.String())
				}
			}
			if want := tc.want.Error(); !strings.Contains(err.Error(), want) {
				t.Errorf("client error %q does not mention %q", err, want)
			}
			e := ts.next(t)
			if !errors.Is(e.Err, tc.want) {
				t.Errorf("event error = %v, want %v", e.Err, tc.want)
			}
			if e.Op != OpRead || e.Path != tc.path || e.Bytes != 0 || !e.Client.Addr().IsLoopback() {
				t.Errorf("event = %+v", e)
			}
		})
	}
}

func TestWriteRefused(t *testing.T) {
	_, root := testTree(t)
	ts := startServer(t, root)
	rf, err := ts.client(t, 0).Send("upload.bin", "octet")
	if err == nil {
		_, err = rf.ReadFrom(strings.NewReader("payload"))
	}
	if err == nil || !strings.Contains(err.Error(), ErrWriteRefused.Error()) {
		t.Errorf("write: error = %v, want refusal", err)
	}
	e := ts.next(t)
	if e.Op != OpWrite || e.Path != "upload.bin" || !errors.Is(e.Err, ErrWriteRefused) || !e.Client.Addr().IsLoopback() {
		t.Errorf("event = %+v", e)
	}
	if _, err := os.Stat(filepath.Join(root, "upload.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("upload.bin exists after refused write: %v", err)
	}
}

func TestServeAddrAndShutdown(t *testing.T) {
	_, root := testTree(t)
	loader(t, root, "x.efi", 3000)
	ready := make(chan net.Addr, 1)
	s := &Server{Root: root, Addr: "127.0.0.1:0", Listening: func(a net.Addr) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve returned early: %v", err)
	}
	c, err := tftp.NewClient(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	wt, err := c.Receive("x.efi", "octet")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := wt.WriteTo(io.Discard); err != nil || n != 3000 {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
}

func TestServeErrors(t *testing.T) {
	s := &Server{Root: filepath.Join(t.TempDir(), "missing"), Addr: "127.0.0.1:0"}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("Serve with missing root: want error")
	}
	s = &Server{Root: t.TempDir(), Addr: "not an address"}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("Serve with bad address: want error")
	}
}
