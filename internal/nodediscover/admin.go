package nodediscover

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"drover.dev/drover/internal/discovery"
	"drover.dev/drover/internal/facts"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

// seqState is sequential discovery as kept in the store's metadata.
type seqState struct {
	Running    bool      `json:"running"`
	Noderange  string    `json:"noderange"`
	Names      []string  `json:"names"`
	Groups     []string  `json:"groups,omitempty"`
	OSImage    string    `json:"osimage,omitempty"`
	Started    time.Time `json:"started"`
	Stopped    time.Time `json:"stopped,omitzero"`
	Discovered []string  `json:"discovered,omitempty"`
}

func (s *Service) sequential(ctx context.Context) (seqState, bool, error) {
	v, ok, err := s.Store.Meta(ctx, metaSequential)
	if err != nil || !ok {
		return seqState{}, false, err
	}
	var st seqState
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return seqState{}, false, fmt.Errorf("sequential discovery state: %w", err)
	}
	return st, true, nil
}

func (s *Service) saveSequential(ctx context.Context, st seqState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.Store.SetMeta(ctx, metaSequential, string(b))
}

// rules parses the stored discovery rules.
func (s *Service) rules(ctx context.Context) ([]discovery.Rule, error) {
	text, _, err := s.Store.Meta(ctx, metaRules)
	if err != nil {
		return nil, err
	}
	rules, err := ParseRules(text)
	if err != nil {
		return nil, fmt.Errorf("stored discovery rules: %w", err)
	}
	return rules, nil
}

// ParseRules parses discovery rules, one per line; blank lines and lines
// starting with # are ignored. An error names the line.
func ParseRules(text string) ([]discovery.Rule, error) {
	var out []discovery.Rule
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := discovery.ParseRule(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// StartSequential implements xcatcmd.Discovery.
func (s *Service) StartSequential(ctx context.Context, req xcatcmd.SeqRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.sequential(ctx)
	if err != nil {
		return err
	}
	if st.Running {
		return xcatcmd.ErrDiscoveryRunning
	}
	if len(req.Names) == 0 {
		return fmt.Errorf("the noderange %q names no nodes", req.Noderange)
	}
	return s.saveSequential(ctx, seqState{Running: true, Noderange: req.Noderange, Names: req.Names,
		Groups: req.Groups, OSImage: req.OSImage, Started: s.now().UTC()})
}

// StopSequential implements xcatcmd.Discovery.
func (s *Service) StopSequential(ctx context.Context) (xcatcmd.SeqStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.sequential(ctx)
	if err != nil {
		return xcatcmd.SeqStatus{}, err
	}
	if !st.Running {
		return xcatcmd.SeqStatus{}, xcatcmd.ErrDiscoveryNotRunning
	}
	st.Running, st.Stopped = false, s.now().UTC()
	if err := s.saveSequential(ctx, st); err != nil {
		return xcatcmd.SeqStatus{}, err
	}
	return s.status(st), nil
}

// Sequential implements xcatcmd.Discovery.
func (s *Service) Sequential(ctx context.Context) (xcatcmd.SeqStatus, error) {
	st, ok, err := s.sequential(ctx)
	if err != nil || !ok {
		return xcatcmd.SeqStatus{}, err
	}
	return s.status(st), nil
}

func (s *Service) status(st seqState) xcatcmd.SeqStatus {
	out := xcatcmd.SeqStatus{Running: st.Running, Noderange: st.Noderange, Groups: st.Groups, OSImage: st.OSImage,
		Started: st.Started, Stopped: st.Stopped, Discovered: st.Discovered}
	v := s.Store.View()
	done := make(map[string]bool, len(st.Discovered))
	for _, n := range st.Discovered {
		done[n] = true
	}
	for _, n := range st.Names {
		if done[n] {
			continue
		}
		if o, ok := v.Get(inventory.Node, n); ok && len(inventory.Resolve(v, o).MACs()) > 0 {
			continue
		}
		out.Free = append(out.Free, n)
	}
	return out
}

// Reports implements xcatcmd.Discovery.
func (s *Service) Reports(ctx context.Context) ([]xcatcmd.DiscoveryReport, error) {
	rs, err := s.Store.DiscoveryReports(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]xcatcmd.DiscoveryReport, len(rs))
	for i, r := range rs {
		out[i] = toReport(r)
	}
	return out, nil
}

func toReport(r store.DiscoveryReport) xcatcmd.DiscoveryReport {
	out := xcatcmd.DiscoveryReport{ID: strconv.FormatInt(r.ID, 10), MAC: r.MAC, UUID: r.UUID, Serial: r.Serial, MTM: r.MTM,
		Received: r.Received, Updated: r.Updated, Count: r.Count, State: r.State, Node: r.Node, Method: r.Method,
		Reason: r.Reason, Facts: r.Facts}
	if rep, err := facts.ParseReport(r.Facts); err == nil {
		out.CPUModel, out.CPUs, out.MemoryBytes, out.Disks = rep.CPUs.Model, rep.CPUs.Threads, rep.MemoryBytes, len(rep.Disks)
		out.AgentVersion = rep.Version
		for _, n := range rep.NICs {
			out.NICs = append(out.NICs, xcatcmd.DiscoveredNIC{Name: n.Name, MAC: n.MAC, Driver: n.Driver, PCI: n.PCI})
		}
		for _, l := range rep.LLDP {
			out.LLDP = append(out.LLDP, xcatcmd.DiscoveredNeighbour{NIC: l.NIC, ChassisID: l.ChassisID, PortID: l.PortID, SysName: l.SysName})
		}
	}
	return out
}

// find returns the report ref names: its ID, a MAC or a UUID.
func (s *Service) find(ctx context.Context, ref string) (store.DiscoveryReport, error) {
	rs, err := s.Store.DiscoveryReports(ctx)
	if err != nil {
		return store.DiscoveryReport{}, err
	}
	mac, macErr := net.ParseMAC(ref)
	for _, r := range rs {
		if strconv.FormatInt(r.ID, 10) == ref || r.UUID != "" && strings.EqualFold(r.UUID, ref) ||
			macErr == nil && strings.EqualFold(r.MAC, mac.String()) {
			return r, nil
		}
	}
	return store.DiscoveryReport{}, fmt.Errorf("%w: %s", xcatcmd.ErrNoReport, ref)
}

// Report implements xcatcmd.Discovery.
func (s *Service) Report(ctx context.Context, ref string) (xcatcmd.DiscoveryReport, error) {
	r, err := s.find(ctx, ref)
	if err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	return toReport(r), nil
}

// Approve implements xcatcmd.Discovery: the report's facts are written to
// node (created in group "all" when it does not exist) as a match would,
// so the machine is matched by its MAC when it registers next and gets
// the node's chain.
func (s *Service) Approve(ctx context.Context, ref, node string) (xcatcmd.DiscoveryReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(ctx, ref)
	if err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	rep, err := facts.ParseReport(r.Facts)
	if err != nil {
		return xcatcmd.DiscoveryReport{}, fmt.Errorf("report %d: %w", r.ID, err)
	}
	mac, err := net.ParseMAC(r.MAC)
	if err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	// The node's MAC must not already belong to another node.
	v := s.Store.View()
	for _, o := range v.List(inventory.Node) {
		if o.Name != node && discovery.HasMAC(inventory.Resolve(v, o).MACs(), mac) {
			return xcatcmd.DiscoveryReport{}, fmt.Errorf("node %s already has MAC %s", o.Name, mac)
		}
	}
	_, exists := v.Get(inventory.Node, node)
	if err := s.write(ctx, node, !exists, nil, factsOf(rep, mac)); err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	r.State, r.Node, r.Method, r.Reason = StateApproved, node, MethodManual, "approved by an administrator"
	if r, err = s.Store.SaveDiscoveryReport(ctx, r); err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	s.assign(ctx, mac, node, r.Received)
	if err := s.Store.AddBootEvents(ctx, []store.BootEvent{{Time: s.now(), Node: node, MAC: r.MAC, Kind: KindDiscovery,
		Detail: "approved as " + node, Reason: "report " + strconv.FormatInt(r.ID, 10) + " approved by an administrator"}}); err != nil {
		s.log().Error("recording discovery event", "err", err)
	}
	return toReport(r), nil
}

// Reject implements xcatcmd.Discovery.
func (s *Service) Reject(ctx context.Context, ref string) (xcatcmd.DiscoveryReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(ctx, ref)
	if err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	r.State, r.Reason = StateRejected, "rejected by an administrator"
	if r, err = s.Store.SaveDiscoveryReport(ctx, r); err != nil {
		return xcatcmd.DiscoveryReport{}, err
	}
	if err := s.Store.AddBootEvents(ctx, []store.BootEvent{{Time: s.now(), MAC: r.MAC, Kind: KindDiscovery,
		Detail: "rejected", Reason: "report " + strconv.FormatInt(r.ID, 10) + " rejected by an administrator: the machine powers off"}}); err != nil {
		s.log().Error("recording discovery event", "err", err)
	}
	return toReport(r), nil
}

// Remove implements xcatcmd.Discovery.
func (s *Service) Remove(ctx context.Context, refs []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, ref := range refs {
		r, err := s.find(ctx, ref)
		if err != nil {
			return 0, err
		}
		ids = append(ids, r.ID)
	}
	return s.Store.DeleteDiscoveryReports(ctx, ids)
}

// Rules implements xcatcmd.Discovery.
func (s *Service) Rules(ctx context.Context) (string, error) {
	text, _, err := s.Store.Meta(ctx, metaRules)
	return text, err
}

// SetRules implements xcatcmd.Discovery.
func (s *Service) SetRules(ctx context.Context, text string) error {
	if _, err := ParseRules(text); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.SetMeta(ctx, metaRules, text)
}

var _ xcatcmd.Discovery = (*Service)(nil)
