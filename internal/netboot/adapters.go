package netboot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"sync"
	"time"

	"drover.dev/drover/internal/dhcpd"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

// nodes serves dhcpd.Nodes and httpboot.Nodes from the store's in-memory
// indexes: no SQL per request.
type nodes struct{ st *store.Store }

func (n nodes) NodeByMAC(mac net.HardwareAddr) (string, inventory.Resolved, string, bool) {
	o, ok := n.st.NodeByMAC(mac.String())
	if !ok {
		return "", nil, "", false
	}
	r := inventory.Resolve(n.st.View(), o)
	return o.Name, r, r["currstate"], true
}

func (n nodes) OSImage(name string) (inventory.Resolved, bool) {
	return n.object(inventory.OSImage, name)
}

func (n nodes) BootTarget(name string) (inventory.Resolved, bool) {
	return n.object(inventory.BootTarget, name)
}

func (n nodes) object(t inventory.Type, name string) (inventory.Resolved, bool) {
	o, ok := n.st.Get(t, name)
	if !ok {
		return nil, false
	}
	return inventory.Resolved(maps.Clone(o.Attrs)), true
}

// leases is dhcpd's lease store: answers come from memory, writes are
// staged and committed to the database in batches by one writer goroutine
// (group commit), so a reply waits for its lease to be durable without
// every request paying for its own transaction.
type leases struct {
	mem *dhcpd.MemoryLeases
	st  *store.Store
	log *slog.Logger

	mu      sync.Mutex
	pending []store.LeaseWrite
	staged  uint64        // writes staged so far
	durable uint64        // writes committed (or failed) so far
	failed  []failedRange // recent failed batches
	wake    chan struct{} // wakes the writer
	flushed chan struct{} // closed after each batch, then replaced
	closed  bool
}

type failedRange struct {
	from, to uint64 // staged numbers (from, to]
	err      error
}

// maxBatch bounds one transaction.
const maxBatch = 4096

// The writer waits gatherDelay before a transaction of fewer than
// gatherBelow writes (a reply waits that much longer for its lease).
const (
	gatherDelay = 500 * time.Microsecond
	gatherBelow = 64
)

// errLeasesClosed is returned by Commit after the writer stopped.
var errLeasesClosed = errors.New("lease store closed")

func loadLeases(ctx context.Context, st *store.Store, log *slog.Logger) (*leases, error) {
	stored, err := st.Leases(ctx)
	if err != nil {
		return nil, err
	}
	ls := make([]dhcpd.Lease, 0, len(stored))
	for _, l := range stored {
		mac, err := net.ParseMAC(l.MAC)
		if err != nil {
			continue
		}
		ls = append(ls, dhcpd.Lease{MAC: mac, IP: l.IP, Node: l.Node, Network: l.Network,
			Expires: l.Expires, Updated: l.Updated, RelayInfo: l.RelayInfo})
	}
	mem, err := dhcpd.NewMemoryLeases(ls...)
	if err != nil {
		return nil, fmt.Errorf("loading leases: %w", err)
	}
	return &leases{mem: mem, st: st, log: log, wake: make(chan struct{}, 1), flushed: make(chan struct{})}, nil
}

func (l *leases) Get(mac net.HardwareAddr) (dhcpd.Lease, bool) { return l.mem.Get(mac) }

func (l *leases) ByIP(ip netip.Addr) (dhcpd.Lease, bool) { return l.mem.ByIP(ip) }

func (l *leases) Put(x dhcpd.Lease) error {
	if err := l.mem.Put(x); err != nil {
		return err
	}
	// An offer's short hold is kept in memory only: an offer binds
	// nothing, and the REQUEST that follows writes the real lease (checked
	// against the database then). This halves the writes per new client.
	if x.Offer {
		return nil
	}
	l.stage(store.LeaseWrite{Lease: store.Lease{MAC: x.MAC.String(), IP: x.IP, Node: x.Node, Network: x.Network,
		Expires: x.Expires, Updated: x.Updated, RelayInfo: x.RelayInfo}})
	return nil
}

func (l *leases) Release(mac net.HardwareAddr) error {
	if err := l.mem.Release(mac); err != nil {
		return err
	}
	l.stage(store.LeaseWrite{Lease: store.Lease{MAC: mac.String()}, Release: true})
	return nil
}

func (l *leases) stage(w store.LeaseWrite) {
	l.mu.Lock()
	l.pending = append(l.pending, w)
	l.staged++
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Commit blocks until every write staged before it is committed; it fails
// if the batch holding the last of them failed.
func (l *leases) Commit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	target := l.staged
	for l.durable < target {
		if l.closed {
			return errLeasesClosed
		}
		ch := l.flushed
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
	for _, f := range l.failed {
		if target > f.from && target <= f.to {
			return f.err
		}
	}
	return nil
}

// run is the writer: it commits staged writes until ctx ends, then
// commits what is left.
func (l *leases) run(ctx context.Context) error {
	defer func() {
		l.flush(context.WithoutCancel(ctx))
		l.mu.Lock()
		l.closed = true
		close(l.flushed)
		l.flushed = make(chan struct{})
		l.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		}
		// Let a busy moment's writes gather briefly: a transaction costs
		// more than the leases in it, so fewer, larger ones save CPU.
		l.mu.Lock()
		n := len(l.pending)
		l.mu.Unlock()
		if n < gatherBelow {
			time.Sleep(gatherDelay)
		}
		for l.flush(ctx) {
		}
	}
}

// flush commits one batch; it reports whether it wrote anything.
func (l *leases) flush(ctx context.Context) bool {
	l.mu.Lock()
	n := min(len(l.pending), maxBatch)
	batch := l.pending[:n:n]
	l.pending = l.pending[n:]
	from := l.durable
	l.mu.Unlock()
	if n == 0 {
		return false
	}
	err := l.st.WriteLeases(ctx, batch)
	if err != nil {
		// One write spoiled the batch (another server took an address):
		// commit the others one by one and forget the failed ones.
		err = nil
		for _, w := range batch {
			if e := l.st.WriteLeases(ctx, []store.LeaseWrite{w}); e != nil {
				err = e
				l.log.Warn("lease not stored", "mac", w.Lease.MAC, "ip", w.Lease.IP, "err", e)
				if mac, perr := net.ParseMAC(w.Lease.MAC); perr == nil && !w.Release {
					if cur, ok := l.mem.Get(mac); ok && cur.IP == w.Lease.IP {
						_ = l.mem.Release(mac)
					}
				}
			}
		}
	}
	l.mu.Lock()
	l.durable = from + uint64(n)
	if err != nil {
		l.failed = append(l.failed, failedRange{from: from, to: l.durable, err: err})
		if len(l.failed) > 16 {
			l.failed = l.failed[len(l.failed)-16:]
		}
	}
	close(l.flushed)
	l.flushed = make(chan struct{})
	l.mu.Unlock()
	return true
}
