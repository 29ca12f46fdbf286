// Package bmc is drover's one interface to whatever powers a node: a BMC
// speaking IPMI or Redfish, or a container engine for container nodes.
// Drivers live in subpackages (ipmi, redfish, docker) and are registered
// explicitly, by the node's mgt attribute, in the composition root.
// Optional abilities (console, inventory) are one-method interfaces a
// Client may also implement, found by type assertion.
package bmc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// PowerAction is what SetPower asks for.
type PowerAction string

// Power actions, in rpower's words.
const (
	PowerOn      PowerAction = "on"
	PowerOff     PowerAction = "off"     // hard off
	PowerSoftOff PowerAction = "softoff" // ACPI shutdown request
	PowerCycle   PowerAction = "cycle"   // off, then on
	PowerReset   PowerAction = "reset"   // hard reset
)

// PowerState is what PowerState reports.
type PowerState string

// Power states.
const (
	StateOn      PowerState = "on"
	StateOff     PowerState = "off"
	StateUnknown PowerState = "unknown"
)

// BootDevice is the device the next boot (or every boot) uses.
type BootDevice string

// Boot devices, in rsetboot's words.
const (
	BootNetwork BootDevice = "net"  // PXE / network
	BootDisk    BootDevice = "hd"   // local disk
	BootCD      BootDevice = "cd"   // optical / virtual media
	BootSetup   BootDevice = "bios" // firmware setup
	BootDefault BootDevice = "def"  // clear the override
)

// BootOptions qualify SetBootDevice.
type BootOptions struct {
	Persistent bool // every boot, not only the next one (rsetboot -p)
	UEFI       bool // ask for a UEFI boot where the protocol can say so
}

// Client drives one node's power. Every call honours its context's
// deadline; Close releases sessions and connections.
type Client interface {
	SetPower(ctx context.Context, a PowerAction) error
	PowerState(ctx context.Context) (PowerState, error)
	SetBootDevice(ctx context.Context, d BootDevice, o BootOptions) error
	Close() error
}

// Consoler is a Client that can attach to the node's console (IPMI SOL,
// a container's TTY). The returned stream carries the console both ways
// until it is closed or ctx ends.
type Consoler interface {
	Console(ctx context.Context) (io.ReadWriteCloser, error)
}

// Inventorier is a Client that can describe the hardware (rinv): ordered
// name/value pairs such as "Manufacturer", "Product", "Serial".
type Inventorier interface {
	Inventory(ctx context.Context) ([]Fact, error)
}

// Fact is one line of an inventory.
type Fact struct {
	Name, Value string
}

// Target is what a driver needs to reach one node, read from the node's
// resolved attributes by the caller (bmc, bmcusername, bmcpassword,
// vmhost, ...). Attrs holds them all for driver-specific needs.
type Target struct {
	Node     string
	Address  string // bmc attribute: host or host:port; for containers the engine endpoint
	Username string
	Password string
	Attrs    map[string]string
}

// Driver opens Clients for targets.
type Driver interface {
	Open(ctx context.Context, t Target) (Client, error)
}

// DriverFunc adapts a function to Driver.
type DriverFunc func(ctx context.Context, t Target) (Client, error)

// Open implements Driver.
func (f DriverFunc) Open(ctx context.Context, t Target) (Client, error) { return f(ctx, t) }

// Errors callers can tell apart (wrapped with details).
var (
	// ErrUnknownMgt: no driver is registered for the node's mgt value.
	ErrUnknownMgt = errors.New("unknown mgt")
	// ErrNoAddress: the node has no BMC address (or engine endpoint).
	ErrNoAddress = errors.New("no BMC address")
	// ErrNoCredentials: no user name or password for the BMC.
	ErrNoCredentials = errors.New("no BMC credentials")
	// ErrAuth: the BMC refused the credentials.
	ErrAuth = errors.New("authentication failed")
	// ErrUnreachable: the BMC did not answer (timeout, refused, no route).
	ErrUnreachable = errors.New("BMC unreachable")
	// ErrUnsupported: the driver or the BMC cannot do what was asked.
	ErrUnsupported = errors.New("not supported")
)

// Registry maps mgt values to drivers. Safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	drivers map[string]Driver
}

// Register adds d for mgt (lower-cased); registering a name twice panics,
// as it is a programming error in the composition root.
func (r *Registry) Register(mgt string, d Driver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drivers == nil {
		r.drivers = map[string]Driver{}
	}
	key := strings.ToLower(mgt)
	if _, dup := r.drivers[key]; dup {
		panic(fmt.Sprintf("bmc: driver %q registered twice", key))
	}
	r.drivers[key] = d
}

// Names lists the registered mgt values, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.drivers))
	for k := range r.drivers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Open opens a client for t with the driver registered for mgt.
func (r *Registry) Open(ctx context.Context, mgt string, t Target) (Client, error) {
	r.mu.RLock()
	d, ok := r.drivers[strings.ToLower(strings.TrimSpace(mgt))]
	r.mu.RUnlock()
	if !ok {
		if strings.TrimSpace(mgt) == "" {
			return nil, fmt.Errorf("%w: the node has no mgt attribute (one of %s)", ErrUnknownMgt, strings.Join(r.Names(), ", "))
		}
		return nil, fmt.Errorf("%w %q (one of %s)", ErrUnknownMgt, mgt, strings.Join(r.Names(), ", "))
	}
	return d.Open(ctx, t)
}

// DefaultTimeout bounds one call to a BMC when the caller sets none.
const DefaultTimeout = 10 * time.Second
