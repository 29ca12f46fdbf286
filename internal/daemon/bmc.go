package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"drover.dev/drover/internal/bmc"
	"drover.dev/drover/internal/bmc/docker"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/power"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

// bmcOps carries out rpower, rsetboot and rinv for xcatcmd: it reads each
// node's BMC settings from the inventory and fans the operation out
// through the power runner and the drivers registered by mgt.
type bmcOps struct {
	view   func() inventory.View
	runner *power.Runner
	// mgts lists the registered drivers: a node whose mgt is not among
	// them is told so before anything else is checked.
	mgts func() []string
	// apply, if set, records rpower's outcome in each node's powerstate
	// and powerstatetime (one transaction per command).
	apply func(ctx context.Context, changes []inventory.Change) error
	// events, if set, records rpower's actions (not stat) as boot events
	// of the nodes: the power-on that starts a boot timeline.
	events func(ctx context.Context, evs []store.BootEvent) error
	log    *slog.Logger
	now    func() time.Time
}

var bootWords = map[string]struct {
	dev  bmc.BootDevice
	text string
}{
	"net":  {bmc.BootNetwork, "Network"},
	"hd":   {bmc.BootDisk, "Hard Drive"},
	"cd":   {bmc.BootCD, "CD/DVD"},
	"bios": {bmc.BootSetup, "BIOS Setup"},
	"def":  {bmc.BootDefault, "boot override inactive"},
}

// nodeReader reads nodes and the site from one inventory view, for the
// BMC targets power.NodeFromInventory builds.
type nodeReader struct {
	view inventory.View
	site inventory.Resolved
}

func newNodeReader(view inventory.View) nodeReader {
	rd := nodeReader{view: view}
	if o, ok := view.Get(inventory.Site, inventory.SiteName); ok {
		rd.site = inventory.Resolved(o.Attrs)
	}
	return rd
}

// resolve returns a node's attributes resolved through its groups.
func (rd nodeReader) resolve(name string) (inventory.Resolved, bool) {
	o, ok := rd.view.Get(inventory.Node, name)
	if !ok {
		return nil, false
	}
	return inventory.Resolve(rd.view, o), true
}

func (b *bmcOps) Do(ctx context.Context, names []string, op xcatcmd.BMCOp) []xcatcmd.BMCResult {
	view := b.view()
	rd := newNodeReader(view)
	nodes := make([]power.Node, len(names))
	hosts := map[string]bool{}
	for i, n := range names {
		r, ok := rd.resolve(n)
		if !ok {
			nodes[i] = power.Node{Name: n, Err: fmt.Errorf("no such node")}
			continue
		}
		if ep := strings.TrimSpace(r["dockerendpoint"]); op.Verb == "lsvm" && ep != "" {
			// a container host: lsvm lists its containers
			nodes[i] = power.Node{Name: n, Mgt: "docker", Target: bmc.Target{Node: n, Address: ep, Attrs: map[string]string(r)}}
			hosts[n] = true
			continue
		}
		nodes[i] = power.NodeFromInventory(n, r, rd.site, rd.resolve)
		if mgt := nodes[i].Mgt; mgt != "" && b.mgts != nil && !slices.Contains(b.mgts(), mgt) {
			nodes[i].Err = fmt.Errorf("%w %q (one of %s)", bmc.ErrUnknownMgt, mgt, strings.Join(b.mgts(), ", "))
		}
	}
	specs := map[string]docker.Spec{}
	if op.Verb == "mkvm" {
		for i, n := range nodes {
			if n.Err != nil {
				continue
			}
			attrs := n.Target.Attrs
			if strings.TrimSpace(attrs["vmimage"]) == "" {
				// the node's osimage names the container image
				if img, ok := view.Get(inventory.OSImage, strings.TrimSpace(attrs["provmethod"])); ok && img.Get("containerimage") != "" {
					attrs["vmimage"] = img.Get("containerimage")
				}
			}
			spec, err := containerSpec(n.Name, attrs)
			if err != nil {
				nodes[i].Err = err
				continue
			}
			specs[n.Name] = spec
		}
	}
	runner := *b.runner
	runner.Progress = op.Progress
	results := runner.Run(ctx, nodes, b.op(op, specs, hosts))
	out := make([]xcatcmd.BMCResult, len(results))
	for i, r := range results {
		out[i] = xcatcmd.BMCResult{Node: r.Node, Err: r.Err}
		if r.Err == nil {
			out[i].Lines = strings.Split(r.Output, "\n")
		}
	}
	if op.Verb == "rpower" {
		b.cachePower(ctx, view, results)
		b.powerEvents(ctx, view, op.Arg, results)
	}
	return out
}

// powerEvents records an rpower action per node as a boot event of kind
// "power".
func (b *bmcOps) powerEvents(ctx context.Context, view inventory.View, action string, results []power.Result) {
	if b.events == nil || action == "" || action == "stat" || action == "state" {
		return
	}
	evs := make([]store.BootEvent, 0, len(results))
	for _, r := range results {
		e := store.BootEvent{Node: r.Node, Kind: "power", Detail: "rpower " + action}
		if o, ok := view.Get(inventory.Node, r.Node); ok {
			if macs := inventory.Resolve(view, o).MACs(); len(macs) > 0 {
				e.MAC = macs[0].String()
			}
		}
		if r.Err != nil {
			e.Reason = r.Err.Error()
		} else if r.Output != "" {
			e.Detail += ": " + r.Output
		}
		evs = append(evs, e)
	}
	if err := b.events(context.WithoutCancel(ctx), evs); err != nil && b.log != nil {
		b.log.Warn("recording power events", "nodes", len(evs), "err", err)
	}
}

// cachePower writes each node's power state as rpower left or read it.
func (b *bmcOps) cachePower(ctx context.Context, view inventory.View, results []power.Result) {
	if b.apply == nil {
		return
	}
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	stamp := now().Local().Format("01-02-2006 15:04:05")
	var changes []inventory.Change
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		state := "on"
		switch r.Output {
		case "off", "softoff":
			state = "off"
		case "unknown":
			continue
		}
		o, ok := view.Get(inventory.Node, r.Node)
		if !ok {
			continue
		}
		c := o.Clone()
		c.Set("powerstate", state)
		c.Set("powerstatetime", stamp)
		changes = append(changes, inventory.Change{Op: inventory.Put, Object: c})
	}
	if len(changes) == 0 {
		return
	}
	if err := b.apply(ctx, changes); err != nil && b.log != nil {
		b.log.Warn("recording power states", "nodes", len(changes), "err", err)
	}
}

// op maps an xCAT command to what is done with one node's client; the
// returned string is the node's output (lines separated by newlines).
func (b *bmcOps) op(op xcatcmd.BMCOp, specs map[string]docker.Spec, hosts map[string]bool) power.Op {
	container := func(c bmc.Client) (*docker.Client, error) {
		dc, ok := c.(*docker.Client)
		if !ok {
			return nil, fmt.Errorf("%w: %s is for container nodes (mgt=docker)", bmc.ErrUnsupported, op.Verb)
		}
		return dc, nil
	}
	switch op.Verb {
	case "mkvm":
		return func(ctx context.Context, c bmc.Client) (string, error) {
			dc, err := container(c)
			if err != nil {
				return "", err
			}
			if err := dc.Engine.Create(ctx, specs[dc.Name]); err != nil {
				return "", err
			}
			return "created", nil
		}
	case "rmvm":
		return func(ctx context.Context, c bmc.Client) (string, error) {
			dc, err := container(c)
			if err != nil {
				return "", err
			}
			if err := dc.Engine.Remove(ctx, dc.Name, op.Force); err != nil {
				return "", err
			}
			return "removed", nil
		}
	case "lsvm":
		return func(ctx context.Context, c bmc.Client) (string, error) {
			dc, err := container(c)
			if err != nil {
				return "", err
			}
			cs, err := dc.Engine.List(ctx)
			if err != nil {
				return "", err
			}
			if hosts[dc.Name] {
				if len(cs) == 0 {
					return "no containers", nil
				}
				lines := make([]string, len(cs))
				for i, ct := range cs {
					lines[i] = strings.TrimSpace(fmt.Sprintf("%s %s %s %s", ct.Name, ct.State, ct.Image, addrOrEmpty(ct.IP)))
				}
				return strings.Join(lines, "\n"), nil
			}
			for _, ct := range cs {
				if ct.Name == dc.Name {
					ip := ""
					if ct.IP.IsValid() {
						ip = " " + ct.IP.String()
					}
					return ct.State + " " + ct.Image + ip, nil
				}
			}
			return "", fmt.Errorf("%w: no container %s (run mkvm)", docker.ErrNoContainer, dc.Name)
		}
	case "rpower":
		return func(ctx context.Context, c bmc.Client) (string, error) {
			switch op.Arg {
			case "stat":
				s, err := c.PowerState(ctx)
				return string(s), err
			case "boot": // xCAT: on if off, reset if on
				s, err := c.PowerState(ctx)
				if err != nil {
					return "", err
				}
				if s == bmc.StateOn {
					return "on reset", c.SetPower(ctx, bmc.PowerReset)
				}
				return "on", c.SetPower(ctx, bmc.PowerOn)
			case "cycle":
				return "off on", c.SetPower(ctx, bmc.PowerCycle)
			}
			return op.Arg, c.SetPower(ctx, bmc.PowerAction(op.Arg))
		}
	case "rsetboot":
		return func(ctx context.Context, c bmc.Client) (string, error) {
			w, ok := bootWords[op.Arg]
			if !ok {
				return "", fmt.Errorf("%w: rsetboot %s", bmc.ErrUnsupported, op.Arg)
			}
			return w.text, c.SetBootDevice(ctx, w.dev, bmc.BootOptions{Persistent: op.Persistent, UEFI: op.UEFI})
		}
	case "rinv":
		return func(ctx context.Context, c bmc.Client) (string, error) {
			inv, ok := c.(bmc.Inventorier)
			if !ok {
				return "", fmt.Errorf("%w: this node's driver has no inventory", bmc.ErrUnsupported)
			}
			facts, err := inv.Inventory(ctx)
			if err != nil {
				return "", err
			}
			lines := make([]string, len(facts))
			for i, f := range facts {
				lines[i] = f.Name + ": " + f.Value
			}
			return strings.Join(lines, "\n"), nil
		}
	}
	return func(context.Context, bmc.Client) (string, error) {
		return "", errors.New("unknown hardware command " + op.Verb)
	}
}

// containerSpec reads a container node's mkvm settings: vmimage, vmcpus,
// vmmemory (MB), vmnics (the engine network; the first of a list), ip,
// mac (the first), vmstorage (comma-separated host:container[:ro]) and
// vmothersetting (semicolon-separated restart=POLICY and env=K=V pairs).
func containerSpec(node string, a map[string]string) (docker.Spec, error) {
	s := docker.Spec{Name: node, Image: strings.TrimSpace(a["vmimage"])}
	if s.Image == "" {
		return s, fmt.Errorf("%w: no vmimage for the container (nor a containerimage on the osimage its provmethod names)", docker.ErrInvalidSpec)
	}
	if v := strings.TrimSpace(a["vmcpus"]); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return s, fmt.Errorf("%w: vmcpus %q", docker.ErrInvalidSpec, v)
		}
		s.CPUs = f
	}
	if v := strings.TrimSpace(a["vmmemory"]); v != "" {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb <= 0 {
			return s, fmt.Errorf("%w: vmmemory %q (megabytes)", docker.ErrInvalidSpec, v)
		}
		s.MemoryBytes = mb << 20
	}
	if v := strings.TrimSpace(a["vmnics"]); v != "" {
		s.Network, _, _ = strings.Cut(v, ",")
		s.Network = strings.TrimSpace(s.Network)
	}
	if v := strings.TrimSpace(a["ip"]); v != "" && s.Network != "" {
		ip, err := netip.ParseAddr(v)
		if err != nil {
			return s, fmt.Errorf("%w: ip %q", docker.ErrInvalidSpec, v)
		}
		s.IP = ip
	}
	if v := strings.TrimSpace(a["mac"]); v != "" && s.Network != "" {
		first, _, _ := strings.Cut(strings.NewReplacer("|", ",", "!", ",").Replace(v), ",")
		m, err := net.ParseMAC(strings.TrimSpace(first))
		if err != nil {
			return s, fmt.Errorf("%w: mac %q", docker.ErrInvalidSpec, v)
		}
		s.MAC = m
	}
	for _, v := range strings.Split(a["vmstorage"], ",") {
		if v = strings.TrimSpace(v); v != "" {
			s.Volumes = append(s.Volumes, v)
		}
	}
	for _, kv := range strings.Split(a["vmothersetting"], ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "":
		case "restart":
			s.Restart = v
		case "env":
			s.Env = append(s.Env, v)
		default:
			return s, fmt.Errorf("%w: vmothersetting %q (want restart=POLICY or env=K=V)", docker.ErrInvalidSpec, kv)
		}
	}
	return s, nil
}

// Console opens a node's console through its driver (rcons). Closing the
// stream closes the driver's client too.
func (b *bmcOps) Console(ctx context.Context, node string) (io.ReadWriteCloser, error) {
	rd := newNodeReader(b.view())
	r, ok := rd.resolve(node)
	if !ok {
		return nil, fmt.Errorf("%w: node %q", inventory.ErrNotFound, node)
	}
	n := power.NodeFromInventory(node, r, rd.site, rd.resolve)
	if n.Err != nil {
		return nil, n.Err
	}
	c, err := b.runner.Drivers.Open(ctx, n.Mgt, n.Target)
	if err != nil {
		return nil, err
	}
	cons, ok := c.(bmc.Consoler)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("%w: mgt=%s has no console", bmc.ErrUnsupported, n.Mgt)
	}
	stream, err := cons.Console(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &consoleStream{ReadWriteCloser: stream, client: c}, nil
}

type consoleStream struct {
	io.ReadWriteCloser
	client bmc.Client
}

func (s *consoleStream) Close() error {
	err := s.ReadWriteCloser.Close()
	return errors.Join(err, s.client.Close())
}

func addrOrEmpty(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
