// Package nodediscover is drover's discovery service: it takes the reports
// drover-agent sends from machines booted into the discovery environment,
// decides with discovery.Match which node each machine is, writes the facts
// to that node, carries out the node's chain (xCAT's chain attribute) and
// answers the agent what to do next. Reports nothing claims wait in a queue
// for an administrator (Approve, Reject). It also keeps the state of
// sequential discovery (nodediscoverstart) and the discovery rules.
//
// Every step is a boot event of the machine's MAC (kind "discovery" or
// "chain"); once a machine is matched, its earlier events (DHCP, the
// discovery boot) are given to the node, so `drover events NODE` shows the
// whole way from power-on to the booted OS.
package nodediscover

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"drover.dev/drover/internal/discovery"
	"drover.dev/drover/internal/facts"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

// Store is what the service needs from the store (*store.Store).
type Store interface {
	View() inventory.View
	Apply(ctx context.Context, changes []inventory.Change) error
	SaveDiscoveryReport(ctx context.Context, r store.DiscoveryReport) (store.DiscoveryReport, error)
	DiscoveryReports(ctx context.Context) ([]store.DiscoveryReport, error)
	DiscoveryReportByMAC(ctx context.Context, mac string) (store.DiscoveryReport, bool, error)
	DiscoveryReportsOfNode(ctx context.Context, node string) ([]store.DiscoveryReport, error)
	DeleteDiscoveryReports(ctx context.Context, ids []int64) (int, error)
	AssignBootEvents(ctx context.Context, mac, node string, since time.Time) (int64, error)
	AddBootEvents(ctx context.Context, evs []store.BootEvent) error
	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Report states.
const (
	StateQueued   = "queued"
	StateFlagged  = "flagged"
	StateMatched  = "matched"
	StateApproved = "approved"
	StateRejected = "rejected"
)

// MethodManual is the method of a report an administrator approved.
const MethodManual = "manual"

// Event kinds the service records.
const (
	KindDiscovery = "discovery"
	KindChain     = "chain"
)

// Action is an answer's instruction to the agent (drover-agent's Action).
type Action string

// The actions drover-agent knows.
const (
	ActionWait     Action = "wait"
	ActionReboot   Action = "reboot"
	ActionPowerOff Action = "poweroff"
	ActionShell    Action = "shell"
)

// Answer is the JSON the agent gets back.
type Answer struct {
	Action Action `json:"action"`
	After  int    `json:"after"`
}

// Defaults.
const (
	// WaitSeconds is how long a queued or flagged machine waits before it
	// registers again.
	WaitSeconds = 30
	// RebootAfter is the delay before a reboot, so the agent's console
	// shows the answer.
	RebootAfter = 1
	// assignWindow bounds how far back a matched machine's events are
	// given to its node.
	assignWindow = 6 * time.Hour
)

// Meta keys.
const (
	metaSequential = "discovery.sequential"
	metaRules      = "discovery.rules"
)

// ErrBadReport is wrapped by Discover's errors for a report the agent got
// wrong (the HTTP layer answers 400).
var ErrBadReport = errors.New("invalid discovery report")

// Service is the discovery service. Set the fields, then use it; it is safe
// for concurrent use (reports are decided one at a time).
type Service struct {
	Store Store
	// Nodeset sets a node's next boot state (xCAT nodeset NODE STATE, e.g.
	// "osimage=NAME"); the chain uses it.
	Nodeset func(ctx context.Context, node, state string) error
	Log     *slog.Logger
	Now     func() time.Time // nil: time.Now

	mu sync.Mutex
	// reassign runs the delayed second pass of AssignBootEvents (events
	// still queued in the boot services' batches); tests may wait for it.
	reassign      sync.WaitGroup
	reassignDelay time.Duration // 0: 1.5 s
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Discover handles one registration from the agent of the machine that
// booted the discovery environment from mac. It returns the JSON answer
// and a one-line summary.
func (s *Service) Discover(ctx context.Context, mac net.HardwareAddr, remote netip.AddrPort, body []byte) ([]byte, string, error) {
	rep, err := facts.ParseReport(body)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadReport, err)
	}
	f := factsOf(rep, mac)
	hash := reportHash(rep)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	prev, seen, err := s.Store.DiscoveryReportByMAC(ctx, mac.String())
	if err != nil {
		return nil, "", err
	}
	r := prev
	if !seen {
		r = store.DiscoveryReport{MAC: mac.String(), Received: now}
	}
	repeat := seen && prev.Hash == hash
	r.Updated, r.Count, r.Hash, r.Facts = now, r.Count+1, hash, body
	r.UUID, r.Serial, r.MTM = f.UUID, f.Serial, f.MTM
	remoteText := ""
	if remote.IsValid() {
		remoteText = remote.String()
	}
	var evs []store.BootEvent
	event := func(node, kind, detail, reason string) {
		evs = append(evs, store.BootEvent{Time: s.now(), Node: node, MAC: mac.String(), Kind: kind,
			Detail: detail, Reason: reason, Remote: remoteText})
	}
	defer func() {
		if len(evs) > 0 {
			if err := s.Store.AddBootEvents(context.WithoutCancel(ctx), evs); err != nil {
				s.log().Error("recording discovery events", "mac", mac, "err", err)
			}
		}
	}()
	if !repeat {
		event("", KindDiscovery, fmt.Sprintf("report from agent %s%s: %s", rep.Version, imageNote(rep), summary(f)), "")
	}

	// An administrator's verdict stands while the report is the same.
	if repeat && prev.State == StateRejected {
		return s.answer(ctx, &r, Answer{Action: ActionPowerOff}, "rejected: power off")
	}

	// hold keeps the machine waiting, its report queued or flagged for
	// reason; the event is recorded when that is news.
	hold := func(state, node, method, reason string, notes []string) ([]byte, string, error) {
		if !repeat || prev.State != state || prev.Reason != reason {
			full := reason
			if len(notes) > 0 {
				full += " (" + strings.Join(notes, "; ") + ")"
			}
			if state == StateQueued {
				event(node, KindDiscovery, state+": "+full, "")
			} else {
				event(node, KindDiscovery, state, full)
			}
		}
		r.State, r.Node, r.Method, r.Reason = state, node, method, reason
		return s.answer(ctx, &r, Answer{Action: ActionWait, After: WaitSeconds}, state+": "+reason)
	}

	if !discovery.HasMAC(f.MACs, mac) {
		return hold(StateFlagged, "", "", fmt.Sprintf("the report's NICs do not include %s, the MAC it booted from", mac), nil)
	}

	seq, _, err := s.sequential(ctx)
	if err != nil {
		return nil, "", err
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return nil, "", err
	}
	in := discovery.Input{Facts: f, Inventory: s.Store.View(), Rules: rules}
	if seq.Running {
		in.Sequential = &discovery.Sequential{Names: seq.Names, Groups: seq.Groups}
	}
	d := discovery.Match(in)
	switch d.Outcome {
	case discovery.Queued:
		return hold(StateQueued, d.Node, string(d.Method), d.Reason, d.Notes)
	case discovery.Flagged:
		return hold(StateFlagged, d.Node, string(d.Method), d.Reason, d.Notes)
	}

	// Two machines for one node: another machine's report already holds
	// this node.
	if other, ok, err := s.claimedBy(ctx, d.Node, mac); err != nil {
		return nil, "", err
	} else if ok {
		return hold(StateFlagged, d.Node, string(d.Method),
			fmt.Sprintf("conflict: node %s was already discovered from %s (report %d, %s)", d.Node, other.MAC, other.ID, other.State), nil)
	}

	// Matched or Duplicate: write the facts, then the chain.
	if d.Outcome == discovery.Matched {
		if err := s.write(ctx, d.Node, d.Create, d.Groups, f); err != nil {
			return nil, "", err
		}
	}
	how := string(d.Method)
	if d.Rule != "" {
		how += " " + d.Rule
	}
	if !repeat || prev.Node != d.Node || prev.State != StateMatched && prev.State != StateApproved {
		event(d.Node, KindDiscovery, "matched "+d.Node+" by "+how+": "+d.Reason, "")
		if seq.Running && d.Method == discovery.BySequential {
			seq.Discovered = append(seq.Discovered, d.Node)
			if err := s.saveSequential(ctx, seq); err != nil {
				return nil, "", err
			}
		}
	}
	if prev.State != StateApproved || prev.Node != d.Node {
		r.State, r.Method = StateMatched, string(d.Method)
	}
	r.Node, r.Reason = d.Node, d.Reason
	s.assign(ctx, mac, d.Node, r.Received)
	osimage := ""
	if d.Method == discovery.BySequential {
		osimage = seq.OSImage
	}
	ans, detail := s.chain(ctx, d.Node, osimage, event)
	return s.answer(ctx, &r, ans, "matched "+d.Node+" by "+how+"; "+detail)
}

// answer saves r and encodes ans.
func (s *Service) answer(ctx context.Context, r *store.DiscoveryReport, ans Answer, detail string) ([]byte, string, error) {
	if _, err := s.Store.SaveDiscoveryReport(ctx, *r); err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(ans)
	if err != nil {
		return nil, "", err
	}
	return b, detail + " → " + string(ans.Action), nil
}

// write applies the facts to node (creating it in groups when create).
func (s *Service) write(ctx context.Context, node string, create bool, groups []string, f discovery.Facts) error {
	v := s.Store.View()
	var obj inventory.Object
	op := inventory.Put
	if o, ok := v.Get(inventory.Node, node); ok && !create {
		obj = o.Clone()
	} else {
		obj = inventory.Object{Type: inventory.Node, Name: node}
		op = inventory.Create
		if len(groups) == 0 {
			groups = []string{"all"}
		}
		obj.Set("groups", strings.Join(groups, ","))
	}
	for k, val := range discovery.Updates(node, f) {
		obj.Set(k, val)
	}
	if err := s.Store.Apply(ctx, []inventory.Change{{Op: op, Object: obj}}); err != nil {
		return fmt.Errorf("write discovered facts to %s: %w", node, err)
	}
	s.log().Info("node discovered", "node", node, "mac", f.BootMAC)
	return nil
}

// assign gives node the events of mac since the report was first
// received (at most assignWindow back), now and once more a little later
// for events the boot services still hold in their batches.
func (s *Service) assign(ctx context.Context, mac net.HardwareAddr, node string, since time.Time) {
	if lim := s.now().Add(-assignWindow); since.Before(lim) {
		since = lim
	}
	// The DHCP and boot of the discovery environment came before the
	// report: look back over the time the machine took to boot.
	since = since.Add(-10 * time.Minute)
	do := func(ctx context.Context) {
		if _, err := s.Store.AssignBootEvents(ctx, mac.String(), node, since); err != nil {
			s.log().Error("giving boot events to the discovered node", "node", node, "mac", mac, "err", err)
		}
	}
	do(ctx)
	s.reassign.Add(1)
	go func() {
		defer s.reassign.Done()
		d := s.reassignDelay
		if d == 0 {
			d = 1500 * time.Millisecond
		}
		time.Sleep(d)
		do(context.WithoutCancel(ctx))
	}()
}

// chain carries out node's chain attribute and returns the agent's answer.
// A sequential discovery's osimage stands in for an empty chain.
func (s *Service) chain(ctx context.Context, node, osimage string, event func(node, kind, detail, reason string)) (Answer, string) {
	v := s.Store.View()
	var chain string
	if o, ok := v.Get(inventory.Node, node); ok {
		chain = inventory.Resolve(v, o)["chain"]
	}
	steps, err := discovery.ParseChain(chain)
	if err != nil {
		event(node, KindChain, "chain "+chain, err.Error())
		return Answer{Action: ActionWait, After: WaitSeconds}, "bad chain"
	}
	if len(steps) == 0 && osimage != "" {
		steps = []discovery.Step{{Kind: discovery.StepOSImage, Arg: osimage}}
	}
	if len(steps) == 0 {
		event(node, KindChain, "standby: the node has no chain, the machine waits in the discovery environment", "")
		return Answer{Action: ActionWait, After: WaitSeconds}, "no chain"
	}
	for _, st := range steps {
		switch st.Kind {
		case discovery.StepRunCmd, discovery.StepRunImage, discovery.StepISCSIBoot:
			event(node, KindChain, st.String(), "skipped: drover-agent does not carry out "+string(st.Kind)+" steps")
			continue
		case discovery.StepStandby:
			event(node, KindChain, st.String(), "")
			return Answer{Action: ActionWait, After: WaitSeconds}, st.String()
		case discovery.StepShell:
			event(node, KindChain, st.String(), "")
			return Answer{Action: ActionShell}, st.String()
		case discovery.StepShutdown, discovery.StepOffline:
			event(node, KindChain, st.String(), "")
			return Answer{Action: ActionPowerOff, After: RebootAfter}, st.String()
		}
		state := nodesetState(st)
		if s.Nodeset == nil {
			event(node, KindChain, st.String(), "nodeset is not available")
			return Answer{Action: ActionWait, After: WaitSeconds}, "no nodeset"
		}
		if err := s.Nodeset(ctx, node, state); err != nil {
			event(node, KindChain, st.String(), "nodeset "+node+" "+state+": "+err.Error())
			return Answer{Action: ActionWait, After: WaitSeconds}, "nodeset failed"
		}
		event(node, KindChain, st.String(), "")
		event(node, KindChain, "reboot", "")
		return Answer{Action: ActionReboot, After: RebootAfter}, st.String()
	}
	event(node, KindChain, "standby: no step of the chain boots the machine, it waits in the discovery environment", "")
	return Answer{Action: ActionWait, After: WaitSeconds}, "chain done"
}

// nodesetState is the nodeset argument for a booting chain step.
func nodesetState(st discovery.Step) string {
	switch st.Kind {
	case discovery.StepOSImage:
		if st.Arg == "" {
			return "osimage"
		}
		return "osimage=" + st.Arg
	case discovery.StepBoot:
		return "boot"
	}
	// install, netboot, statelite [=profile]: xCAT's old-style states.
	return st.String()
}

// reportHash identifies a report's content, leaving out the collection
// time, so a repeated report from an unchanged machine is recognised.
func reportHash(r *facts.Report) string {
	c := *r
	c.Time = time.Time{}
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

func imageNote(r *facts.Report) string {
	if r.Image != "" {
		return " (image " + r.Image + ")"
	}
	return ""
}

// summary is the report in one line for the event log.
func summary(f discovery.Facts) string {
	var parts []string
	if f.Serial != "" {
		parts = append(parts, "serial "+f.Serial)
	}
	if f.MTM != "" {
		parts = append(parts, "mtm "+f.MTM)
	}
	if f.UUID != "" {
		parts = append(parts, "uuid "+f.UUID)
	}
	parts = append(parts, fmt.Sprintf("%d cpus, %d MiB, %d nics, %d disks", f.CPUs, f.MemoryBytes>>20, len(f.MACs), len(f.Disks)))
	for _, n := range f.LLDP {
		parts = append(parts, fmt.Sprintf("lldp %s: chassis %q port %q", n.NIC, n.ChassisID, n.PortID))
	}
	return strings.Join(parts, ", ")
}

// claimedBy returns the report of another machine (not mac) that was
// matched or approved to node, if the node still has that machine's MAC.
func (s *Service) claimedBy(ctx context.Context, node string, mac net.HardwareAddr) (store.DiscoveryReport, bool, error) {
	rs, err := s.Store.DiscoveryReportsOfNode(ctx, node)
	if err != nil {
		return store.DiscoveryReport{}, false, err
	}
	v := s.Store.View()
	o, ok := v.Get(inventory.Node, node)
	if !ok {
		return store.DiscoveryReport{}, false, nil
	}
	have := inventory.Resolve(v, o).MACs()
	for _, r := range rs {
		if r.Node != node || r.State != StateMatched && r.State != StateApproved || strings.EqualFold(r.MAC, mac.String()) {
			continue
		}
		if m, err := net.ParseMAC(r.MAC); err == nil && discovery.HasMAC(have, m) {
			return r, true, nil
		}
	}
	return store.DiscoveryReport{}, false, nil
}
