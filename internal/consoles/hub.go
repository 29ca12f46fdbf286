// Package consoles keeps nodes' consoles attached, as conserver does for
// xCAT: one upstream connection per node (IPMI Serial-over-LAN allows only
// one), everything it prints appended to a per-node log so a boot failure
// can be read afterwards, and any number of interactive clients (rcons)
// sharing it.
package consoles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Opener opens a node's console.
type Opener func(ctx context.Context, node string) (io.ReadWriteCloser, error)

// DefaultMaxLogBytes is the size at which a node's log is rotated (the
// previous one is kept as NODE.log.1).
const DefaultMaxLogBytes = 16 << 20

// Hub keeps the watched nodes' consoles attached and logged.
type Hub struct {
	Dir         string // log directory (created 0700)
	Open        Opener // required
	Log         *slog.Logger
	MaxLogBytes int64 // 0: DefaultMaxLogBytes

	mu    sync.Mutex
	ctx   context.Context
	nodes map[string]*nodeConsole
}

// Errors of Attach.
var (
	// ErrNotWatched: the hub does not keep this node's console.
	ErrNotWatched = errors.New("console not kept by the hub")
	// ErrNotConnected: the hub keeps it but is not connected right now.
	ErrNotConnected = errors.New("console kept by the hub but not connected")
	// ErrBadName: a node name that cannot name a log file.
	ErrBadName = errors.New("bad node name")
)

// OpenLog opens node's console log for reading; the error wraps
// ErrBadName for a name that is not a file name, fs.ErrNotExist when the
// node has no log.
func (h *Hub) OpenLog(node string) (*os.File, error) {
	if !validName(node) {
		return nil, fmt.Errorf("%w: %q", ErrBadName, node)
	}
	return os.Open(LogPath(h.Dir, node))
}

// LogPath is the log file of node in dir.
func LogPath(dir, node string) string { return filepath.Join(dir, node+".log") }

func (h *Hub) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// Serve runs until ctx ends; Watch may be called meanwhile.
func (h *Hub) Serve(ctx context.Context) error {
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return fmt.Errorf("console logs: %w", err)
	}
	h.mu.Lock()
	h.ctx = ctx
	if h.nodes == nil {
		h.nodes = map[string]*nodeConsole{}
	}
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	nodes := h.nodes
	h.nodes = map[string]*nodeConsole{}
	h.mu.Unlock()
	for _, n := range nodes {
		n.stop()
	}
	return nil
}

// Watch sets the nodes whose consoles are kept: new ones are attached,
// the others released. It does nothing before Serve runs.
func (h *Hub) Watch(nodes []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx == nil || h.ctx.Err() != nil {
		return
	}
	for name, n := range h.nodes {
		if !slices.Contains(nodes, name) {
			n.stop()
			delete(h.nodes, name)
		}
	}
	for _, name := range nodes {
		if _, ok := h.nodes[name]; ok || !validName(name) {
			continue
		}
		ctx, cancel := context.WithCancel(h.ctx)
		n := &nodeConsole{hub: h, name: name, cancel: cancel, done: make(chan struct{}), subs: map[*client]struct{}{}}
		h.nodes[name] = n
		go n.run(ctx)
	}
}

// Watched lists the kept nodes.
func (h *Hub) Watched() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.nodes))
	for n := range h.nodes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Attach joins node's kept console: reads get what it prints from now on,
// writes are typed into it. ErrNotWatched when the hub does not keep it.
func (h *Hub) Attach(node string) (io.ReadWriteCloser, error) {
	h.mu.Lock()
	n, ok := h.nodes[node]
	h.mu.Unlock()
	if !ok {
		return nil, ErrNotWatched
	}
	n.mu.Lock()
	connected := n.upstream != nil
	n.mu.Unlock()
	if !connected {
		return nil, ErrNotConnected
	}
	c := &client{n: n, out: make(chan []byte, 256), closed: make(chan struct{})}
	n.mu.Lock()
	n.subs[c] = struct{}{}
	n.mu.Unlock()
	return c, nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if r == '/' || r == 0 {
			return false
		}
	}
	return true
}

// nodeConsole is one kept console.
type nodeConsole struct {
	hub    *Hub
	name   string
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	upstream io.ReadWriteCloser // nil while disconnected
	subs     map[*client]struct{}
}

func (n *nodeConsole) stop() {
	n.cancel()
	<-n.done
}

// run keeps the console attached, reconnecting with backoff.
func (n *nodeConsole) run(ctx context.Context) {
	defer close(n.done)
	log := n.hub.log().With("node", n.name)
	backoff := time.Second
	for ctx.Err() == nil {
		up, err := n.hub.Open(ctx, n.name)
		if err != nil {
			log.Debug("console not reachable", "err", err, "retry", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = time.Second
		n.mu.Lock()
		n.upstream = up
		n.mu.Unlock()
		stop := context.AfterFunc(ctx, func() { up.Close() })
		n.pump(up, log)
		stop()
		up.Close()
		n.mu.Lock()
		n.upstream = nil
		n.mu.Unlock()
	}
}

// pump copies the console's output to the log and the clients until the
// console ends.
func (n *nodeConsole) pump(up io.Reader, log *slog.Logger) {
	f, size, err := n.openLog()
	if err != nil {
		log.Warn("console log", "err", err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 4096)
	for {
		k, err := up.Read(buf)
		if k > 0 {
			data := buf[:k]
			if f != nil {
				if _, werr := f.Write(data); werr != nil {
					log.Warn("console log write", "err", werr)
				}
				size += int64(k)
				if size > n.hub.maxLog() {
					f.Close()
					f, size, _ = n.rotate()
				}
			}
			n.broadcast(data)
		}
		if err != nil {
			return
		}
	}
}

func (h *Hub) maxLog() int64 {
	if h.MaxLogBytes > 0 {
		return h.MaxLogBytes
	}
	return DefaultMaxLogBytes
}

func (n *nodeConsole) openLog() (*os.File, int64, error) {
	f, err := os.OpenFile(LogPath(n.hub.Dir, n.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (n *nodeConsole) rotate() (*os.File, int64, error) {
	p := LogPath(n.hub.Dir, n.name)
	_ = os.Rename(p, p+".1")
	return n.openLog()
}

func (n *nodeConsole) broadcast(data []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.subs {
		select {
		case c.out <- append([]byte(nil), data...):
		default: // a client that does not keep up loses output, not the console
		}
	}
}

// client is one attached rcons.
type client struct {
	n       *nodeConsole
	out     chan []byte
	pending []byte
	closed  chan struct{}
	once    sync.Once
}

func (c *client) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		select {
		case b := <-c.out:
			c.pending = b
		case <-c.closed:
			return 0, io.EOF
		case <-c.n.done:
			return 0, io.EOF
		}
	}
	k := copy(p, c.pending)
	c.pending = c.pending[k:]
	return k, nil
}

func (c *client) Write(p []byte) (int, error) {
	c.n.mu.Lock()
	up := c.n.upstream
	c.n.mu.Unlock()
	if up == nil {
		return 0, errors.New("console " + c.n.name + " is not connected")
	}
	return up.Write(p)
}

func (c *client) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.n.mu.Lock()
		delete(c.n.subs, c)
		c.n.mu.Unlock()
	})
	return nil
}

// ctxSet reports whether Serve has started (tests).
func (h *Hub) ctxSet() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ctx != nil
}
