// Package tftpd is drover's read-only TFTP server. It serves the iPXE
// loaders (undionly.kpxe, snponly.efi, ...) from one directory and refuses
// everything else: writes, names outside the directory, symlink escapes.
//
// The protocol is github.com/pin/tftp/v3. It negotiates blksize (RFC 2348)
// and tsize (RFC 2349). It does NOT negotiate windowsize (RFC 7440): a
// client asking for it gets an OACK without it and falls back to lock-step
// transfer, which every client must accept. drover does not hand-write TFTP
// protocol code to add it; iPXE fetches only its small loader over TFTP and
// everything large over HTTP.
//
// Other library behaviour worth knowing: every TFTP error packet carries
// error code 1 with the refusal reason as its message (the library does not
// let a handler choose the code); blksize is clamped to the MTU of the
// interface a request arrived on, minus 28.
package tftpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pin/tftp/v3"
)

// DefaultRoot is where Debian's ipxe package installs the loaders.
const DefaultRoot = "/usr/lib/ipxe"

// DefaultAddr is the standard TFTP port on all addresses.
const DefaultAddr = ":69"

// ErrWriteRefused is the reason reported for every write request.
var ErrWriteRefused = errors.New("write requests are refused: read-only server")

// Op is the kind of request an Event records.
type Op string

// Request kinds.
const (
	OpRead  Op = "read"
	OpWrite Op = "write"
)

// Event records one request: a completed read, or a refusal with its reason.
type Event struct {
	Time     time.Time      // when the request arrived
	Op       Op             // OpRead or OpWrite
	Client   netip.AddrPort // client address and port
	Local    netip.Addr     // server address the request arrived on, if known
	Path     string         // file name as requested
	File     string         // resolved file, empty when refused before resolving
	Bytes    int64          // bytes sent
	Duration time.Duration  // time from request to last acknowledgement or failure
	// Options holds the options the server acknowledged (blksize, tsize),
	// when the transfer got as far as option negotiation.
	Options map[string]string
	// Err is nil for a successful read. Otherwise it is the reason: it
	// wraps ErrInvalidPath, ErrOutsideRoot, ErrNotFound, ErrNotRegular,
	// ErrWriteRefused, or is a transfer error (timeout, client abort).
	Err error
}

// Server is a read-only TFTP server. Set the fields, then call Serve or
// ServeConn once. The zero value serves DefaultRoot on DefaultAddr.
type Server struct {
	Root string       // directory served; DefaultRoot when empty
	Addr string       // UDP address for Serve, e.g. "198.18.0.1:69"; DefaultAddr when empty
	Log  *slog.Logger // nil discards
	// Events, when set, is called once for every request, from the
	// transfer's goroutine (calls may be concurrent).
	Events func(Event)
	// Listening, when set, is called with the bound address once the
	// server is ready to answer requests.
	Listening func(net.Addr)

	mu      sync.Mutex
	pending map[string]*transfer // by client ip:port, for the stats hook
}

// transfer collects what the library's hook reports about one transfer.
type transfer struct {
	opts map[string]string
}

// Serve listens on s.Addr and serves until ctx ends. It returns nil when ctx
// ends, or the error that kept it from listening.
func (s *Server) Serve(ctx context.Context) error {
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("tftp listen %s: %w", addr, err)
	}
	return s.ServeConn(ctx, conn)
}

// ServeConn serves on conn (a *net.UDPConn) until ctx ends, then closes
// conn, waits for running transfers to end and returns nil. A transfer whose
// client vanished ends after the library's retries (5 × 5 s), so shutdown
// can take that long. ServeConn takes ownership of conn.
func (s *Server) ServeConn(ctx context.Context, conn net.PacketConn) error {
	root := s.Root
	if root == "" {
		root = DefaultRoot
	}
	realRoot, err := realRoot(root)
	if err != nil {
		conn.Close()
		return err
	}
	fsRoot, err := os.OpenRoot(realRoot)
	if err != nil {
		conn.Close()
		return fmt.Errorf("tftp root: %w", err)
	}
	defer fsRoot.Close()

	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("svc", "tftpd")
	s.mu.Lock()
	s.pending = make(map[string]*transfer)
	s.mu.Unlock()

	h := &handler{s: s, root: realRoot, fsRoot: fsRoot, log: log}
	srv := tftp.NewServer(h.read, h.write)
	srv.SetHook(hook{s})

	// The library turns on IP_PKTINFO inside srv.Serve; a request that is
	// already queued by then has no packet info and gets blksize 512.
	// Turning it on here, before anyone learns the address, avoids that.
	enablePacketInfo(conn)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(conn) }()
	log.Info("tftp serving", "addr", conn.LocalAddr().String(), "root", realRoot)
	if s.Listening != nil {
		s.Listening(conn.LocalAddr())
	}
	select {
	case <-ctx.Done():
		srv.Shutdown() // closes conn, waits for transfers
		<-errc
		return nil
	case err := <-errc:
		srv.Shutdown()
		if err != nil {
			return fmt.Errorf("tftp serve: %w", err)
		}
		return nil
	}
}

type handler struct {
	s      *Server
	root   string
	fsRoot *os.Root
	log    *slog.Logger
}

func (h *handler) read(filename string, rf io.ReaderFrom) error {
	ev := Event{Time: time.Now(), Op: OpRead, Path: filename}
	var key string
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ra := ot.RemoteAddr()
		ev.Client = udpAddrPort(&ra)
		key = ev.Client.String()
	}
	if pi, ok := rf.(tftp.RequestPacketInfo); ok {
		if a, ok := netip.AddrFromSlice(pi.LocalIP()); ok {
			ev.Local = a.Unmap()
		}
	}
	t := h.s.track(key)
	defer h.s.untrack(key)

	err := h.send(&ev, rf)
	ev.Duration = time.Since(ev.Time)
	ev.Options = t.options(&h.s.mu)
	ev.Err = err
	h.emit(ev)
	return err
}

func (h *handler) send(ev *Event, rf io.ReaderFrom) error {
	resolved, err := Resolve(h.root, ev.Path)
	if err != nil {
		return err
	}
	ev.File = resolved
	rel, err := filepath.Rel(h.root, resolved)
	if err != nil {
		return fmt.Errorf("%q: %w", ev.Path, ErrOutsideRoot)
	}
	f, err := h.fsRoot.Open(rel) // os.Root: no escape even if links changed
	if err != nil {
		return fmt.Errorf("%q: %w", ev.Path, ErrOutsideRoot)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%q: %w", ev.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q: %w", ev.Path, ErrNotRegular)
	}
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ot.SetSize(fi.Size()) // tsize
	}
	n, err := rf.ReadFrom(f)
	ev.Bytes = n
	return err
}

func (h *handler) write(filename string, wt io.WriterTo) error {
	ev := Event{Time: time.Now(), Op: OpWrite, Path: filename, Err: ErrWriteRefused}
	if it, ok := wt.(tftp.IncomingTransfer); ok {
		ra := it.RemoteAddr()
		ev.Client = udpAddrPort(&ra)
	}
	if pi, ok := wt.(tftp.RequestPacketInfo); ok {
		if a, ok := netip.AddrFromSlice(pi.LocalIP()); ok {
			ev.Local = a.Unmap()
		}
	}
	h.emit(ev)
	return ErrWriteRefused
}

func (h *handler) emit(ev Event) {
	if ev.Err != nil {
		h.log.Warn("tftp refused", "op", ev.Op, "client", ev.Client.String(), "path", ev.Path, "reason", ev.Err)
	} else {
		h.log.Info("tftp sent", "client", ev.Client.String(), "path", ev.Path, "bytes", ev.Bytes, "duration", ev.Duration)
	}
	if h.s.Events != nil {
		h.s.Events(ev)
	}
}

func (s *Server) track(key string) *transfer {
	t := &transfer{}
	if key == "" {
		return t
	}
	s.mu.Lock()
	s.pending[key] = t
	s.mu.Unlock()
	return t
}

func (s *Server) untrack(key string) {
	if key == "" {
		return
	}
	s.mu.Lock()
	delete(s.pending, key)
	s.mu.Unlock()
}

func (t *transfer) options(mu *sync.Mutex) map[string]string {
	mu.Lock()
	defer mu.Unlock()
	return t.opts
}

// hook receives the library's per-transfer statistics. It runs inside
// rf.ReadFrom, on the transfer's goroutine.
type hook struct{ s *Server }

func (h hook) OnSuccess(st tftp.TransferStats) { h.record(st) }

func (h hook) OnFailure(st tftp.TransferStats, _ error) { h.record(st) }

func (h hook) record(st tftp.TransferStats) {
	if st.RemoteAddr == nil {
		return // request-level failure, no transfer
	}
	a, ok := netip.AddrFromSlice(st.RemoteAddr)
	if !ok {
		return
	}
	key := netip.AddrPortFrom(a.Unmap(), uint16(st.Tid)).String()
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if t := h.s.pending[key]; t != nil && len(st.Opts) > 0 {
		t.opts = maps.Clone(map[string]string(st.Opts))
	}
}

func udpAddrPort(a *net.UDPAddr) netip.AddrPort {
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
