package dhcpd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// ErrAddressInUse is returned by Leases.Put when the address is leased to
// another MAC and that lease has not expired.
var ErrAddressInUse = errors.New("address leased to another mac")

// Lease is one address given to one MAC.
type Lease struct {
	MAC     net.HardwareAddr
	IP      netip.Addr
	Node    string // node name; empty for a pool lease of an unknown MAC
	Network string // network object name
	// Expires is when the lease ends. An offer holds its address briefly
	// (OfferHold) until the client requests it.
	Expires time.Time
	// Updated is when the lease was last written.
	Updated time.Time
	// RelayInfo is the raw relay agent information (option 82) of the
	// last relayed request, nil when direct.
	RelayInfo []byte
	// Offer marks a lease that only holds an offered address (OfferHold)
	// until the client's REQUEST. It binds nothing, so a persistent store
	// may keep it in memory only; the REQUEST writes the real lease.
	Offer bool
}

// Active reports whether l holds its address at t.
func (l Lease) Active(t time.Time) bool { return l.IP.IsValid() && t.Before(l.Expires) }

// Leases stores leases, one per MAC. Implementations must make Put atomic:
// it fails with ErrAddressInUse when l.IP is held by a different MAC whose
// lease is active at l.Updated, so no address is ever given to two MACs.
// The in-memory MemoryLeases is one; the store provides a persistent one.
//
// A persistent implementation may also implement Committer to batch its
// writes (group commit): Put and Release then only stage a write, which
// Get and ByIP see at once, and Handler.Handle calls Commit, after
// releasing its own lock, before it returns a reply that depends on the
// write. Many concurrent exchanges thus share one durable transaction.
type Leases interface {
	// Get returns the lease of mac.
	Get(mac net.HardwareAddr) (Lease, bool)
	// ByIP returns the lease holding ip (expired or not).
	ByIP(ip netip.Addr) (Lease, bool)
	// Put records l as mac's only lease, replacing any older one.
	Put(l Lease) error
	// Release ends mac's lease; releasing a MAC without a lease is not an error.
	Release(mac net.HardwareAddr) error
}

// Committer is the optional group-commit side of a Leases.
type Committer interface {
	// Commit blocks until every Put and Release staged before the call is
	// durable, and fails if any of them could not be stored.
	Commit() error
}

// MemoryLeases is a Leases in memory (it does not implement Committer:
// its writes are final at once), safe for concurrent use.
type MemoryLeases struct {
	mu    sync.Mutex
	byMAC map[string]Lease
	byIP  map[netip.Addr]string
}

// NewMemoryLeases returns a MemoryLeases holding initial (leases loaded at
// start). It fails if two of them hold the same address at once.
func NewMemoryLeases(initial ...Lease) (*MemoryLeases, error) {
	m := &MemoryLeases{byMAC: map[string]Lease{}, byIP: map[netip.Addr]string{}}
	for _, l := range initial {
		if err := m.Put(l); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func macKey(mac net.HardwareAddr) string { return string(mac) }

// Get implements Leases.
func (m *MemoryLeases) Get(mac net.HardwareAddr) (Lease, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.byMAC[macKey(mac)]
	return cloneLease(l), ok
}

// ByIP implements Leases.
func (m *MemoryLeases) ByIP(ip netip.Addr) (Lease, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.byIP[ip]
	if !ok {
		return Lease{}, false
	}
	return cloneLease(m.byMAC[k]), true
}

// Put implements Leases.
func (m *MemoryLeases) Put(l Lease) error {
	if len(l.MAC) == 0 || !l.IP.IsValid() {
		return fmt.Errorf("lease needs a mac and an address: %v %v", l.MAC, l.IP)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := macKey(l.MAC)
	if other, ok := m.byIP[l.IP]; ok && other != k {
		if o := m.byMAC[other]; o.Active(l.Updated) {
			return fmt.Errorf("%w: %s held by %s until %s", ErrAddressInUse, l.IP, o.MAC, o.Expires.UTC().Format(time.RFC3339))
		}
		delete(m.byMAC, other)
	}
	if old, ok := m.byMAC[k]; ok && old.IP != l.IP {
		delete(m.byIP, old.IP)
	}
	m.byMAC[k] = cloneLease(l)
	m.byIP[l.IP] = k
	return nil
}

// Release implements Leases.
func (m *MemoryLeases) Release(mac net.HardwareAddr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := macKey(mac)
	if old, ok := m.byMAC[k]; ok {
		delete(m.byIP, old.IP)
		delete(m.byMAC, k)
	}
	return nil
}

// All returns every lease, ordered by address (for persistence and tests).
func (m *MemoryLeases) All() []Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Lease, 0, len(m.byMAC))
	for _, l := range m.byMAC {
		out = append(out, cloneLease(l))
	}
	slices.SortFunc(out, func(a, b Lease) int { return a.IP.Compare(b.IP) })
	return out
}

func cloneLease(l Lease) Lease {
	l.MAC = slices.Clone(l.MAC)
	l.RelayInfo = slices.Clone(l.RelayInfo)
	return l
}
