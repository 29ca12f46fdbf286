package xcatcmd

import (
	"context"
	"errors"
	"time"
)

// Discovery is what the discovery commands (nodediscoverstart,
// nodediscoverstop, nodediscoverls, nodediscoverstatus, nodediscoverdef
// and drover's own `discovery`) need from the discovery service, which
// receives the agents' reports, matches them and keeps the queue. The
// daemon provides it; nil makes the commands fail with "discovery is not
// available".
type Discovery interface {
	// StartSequential starts sequential discovery over req.Names (in
	// order). It fails with ErrDiscoveryRunning when one is running.
	StartSequential(ctx context.Context, req SeqRequest) error
	// StopSequential stops the running sequential discovery and returns
	// its final status; ErrDiscoveryNotRunning when none runs.
	StopSequential(ctx context.Context) (SeqStatus, error)
	// Sequential returns the status of the running sequential discovery,
	// or of the last one (Running false); the zero SeqStatus when there
	// never was one.
	Sequential(ctx context.Context) (SeqStatus, error)
	// Reports lists every discovery report the server holds, oldest first.
	Reports(ctx context.Context) ([]DiscoveryReport, error)
	// Report returns one report by ID, or by a MAC or UUID the report has;
	// ErrNoReport when none.
	Report(ctx context.Context, ref string) (DiscoveryReport, error)
	// Approve applies report ref to node (created when it does not exist)
	// the way a match would: facts written, status discovered, the node's
	// chain carried out when the machine registers next.
	Approve(ctx context.Context, ref, node string) (DiscoveryReport, error)
	// Reject marks report ref rejected: the machine is told to power off
	// when it registers next.
	Reject(ctx context.Context, ref string) (DiscoveryReport, error)
	// Remove deletes reports (nodediscoverdef -r).
	Remove(ctx context.Context, refs []string) (int, error)
	// Rules returns the discovery rules as text, one per line.
	Rules(ctx context.Context) (string, error)
	// SetRules validates and replaces the discovery rules (text, one rule
	// per line, # comments and blank lines allowed); a bad line is an
	// error naming its line and nothing changes.
	SetRules(ctx context.Context, text string) error
}

// Errors a Discovery returns.
var (
	ErrDiscoveryRunning    = errors.New("sequential discovery is already running")
	ErrDiscoveryNotRunning = errors.New("sequential discovery is not running")
	ErrNoReport            = errors.New("no such discovery report")
)

// SeqRequest starts sequential discovery (nodediscoverstart noderange=...).
type SeqRequest struct {
	Noderange string   // as typed
	Names     []string // expanded, in order
	Groups    []string // groups=...: given to nodes sequential discovery creates
	OSImage   string   // osimage=...: carried out after discovery when the node has no chain
}

// SeqStatus is a sequential discovery's state.
type SeqStatus struct {
	Running   bool
	Noderange string
	Groups    []string
	OSImage   string
	Started   time.Time
	Stopped   time.Time // zero while running
	// Free are the names not handed out yet; Discovered the nodes
	// discovered since Started, in order.
	Free       []string
	Discovered []string
}

// DiscoveryReport is one machine's discovery report as the server keeps it.
type DiscoveryReport struct {
	ID       string // short stable ID for approve/reject
	MAC      string // the MAC it booted from
	UUID     string
	Serial   string
	MTM      string
	Received time.Time // first report
	Updated  time.Time // latest report
	Count    int       // reports received from this machine
	// State is "queued", "flagged", "matched", "approved" or "rejected".
	State  string
	Node   string // the node it was matched or approved to
	Method string // matching rule: mac, mtms, switch, sequential, rule, manual
	Reason string // why, in words
	// Summary facts.
	CPUModel    string
	CPUs        int
	MemoryBytes uint64
	Disks       int
	NICs        []DiscoveredNIC
	// LLDP lists the neighbours the machine heard, per NIC.
	LLDP         []DiscoveredNeighbour
	AgentVersion string
	// Facts is the full report as the agent sent it (JSON).
	Facts []byte
}

// DiscoveredNIC is one network interface of a discovered machine.
type DiscoveredNIC struct {
	Name, MAC, Driver, PCI string
}

// DiscoveredNeighbour is one LLDP neighbour a NIC heard: normally the
// switch and port it is cabled to.
type DiscoveredNeighbour struct {
	NIC, ChassisID, PortID, SysName string
}

// MACs lists the report's NIC MACs.
func (r DiscoveryReport) MACs() []string {
	var out []string
	for _, n := range r.NICs {
		out = append(out, n.MAC)
	}
	return out
}
