package xcatcmd

import (
	"context"
	"slices"
	"strings"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/noderange"
)

// BMC carries out hardware control for rpower, rsetboot and rinv: the
// daemon fans Op out over the nodes through their BMC drivers. Results
// come back one per node, sorted by node name.
type BMC interface {
	Do(ctx context.Context, nodes []string, op BMCOp) []BMCResult
}

// BMCOp is one hardware operation, in xCAT's words.
type BMCOp struct {
	Verb string // "rpower", "rsetboot", "rinv", "mkvm", "rmvm" or "lsvm"
	// Arg is rpower's action (on, off, softoff, reset, cycle, boot, stat)
	// or rsetboot's device (net, hd, cd, bios, def, stat).
	Arg        string
	Persistent bool // rsetboot -p
	UEFI       bool // rsetboot -u
	Force      bool // rmvm -f: remove a running container
	// Progress, if set, is called as nodes finish (done of total).
	Progress func(done, total int)
}

// BMCResult is one node's outcome: its output lines, or the reason it
// failed.
type BMCResult struct {
	Node  string
	Lines []string
	Err   error
}

const rpowerUsage = `Usage: rpower <noderange> [on|onstandby|off|suspend|reset|boot|cycle|softoff|stat|state] [-V|--verbose] [-m table.column==expectedstatus [-m ...]] [-t timeout] [-r retrycount]
       rpower [-h|--help|-v|--version]
`

const rsetbootUsage = `Usage: rsetboot <noderange> [hd|net|cd|bios|def|stat] [-p] [-u]
       rsetboot [-h|--help|-v|--version]
`

const rinvUsage = `Usage: rinv <noderange> [all|model|serial|vpd|mprom|deviceid|guid|firm|bios|uuid|mac|dimm]
       rinv [-h|--help|-v|--version]
`

const mkvmUsage = `Usage: mkvm <noderange>
       mkvm [-h|--help|-v|--version]
Creates each node's container on its vmhost (mgt=docker) from vmimage, vmcpus,
vmmemory (MB), vmnics (the network), ip, mac, vmstorage (host:container[:ro],...)
and vmothersetting (restart=POLICY;env=K=V).
`

const rmvmUsage = `Usage: rmvm <noderange> [-f]
       rmvm [-h|--help|-v|--version]
`

const lsvmUsage = `Usage: lsvm <noderange>
       lsvm [-h|--help|-v|--version]
`

// mkvm creates container nodes (xCAT's mkvm, for mgt=docker).
func (r *Runner) mkvm(ctx context.Context, c *call) int {
	return r.hardware(ctx, c, "mkvm", mkvmUsage, nil, false)
}

// rmvm removes container nodes' containers (-f: also running ones).
func (r *Runner) rmvm(ctx context.Context, c *call) int {
	return r.hardware(ctx, c, "rmvm", rmvmUsage, nil, false)
}

// lsvm lists the containers on the nodes' engines.
func (r *Runner) lsvm(ctx context.Context, c *call) int {
	return r.hardware(ctx, c, "lsvm", lsvmUsage, nil, false)
}

var rpowerActions = []string{"on", "off", "softoff", "reset", "cycle", "boot", "stat", "state"}

var rsetbootDevices = []string{"net", "hd", "cd", "bios", "def", "stat"}

// rpower sets or reports power (xCAT's rpower): "node: on" per node, sorted.
func (r *Runner) rpower(ctx context.Context, c *call) int {
	return r.hardware(ctx, c, "rpower", rpowerUsage, rpowerActions, true)
}

// rsetboot sets the next boot device (xCAT's rsetboot).
func (r *Runner) rsetboot(ctx context.Context, c *call) int {
	return r.hardware(ctx, c, "rsetboot", rsetbootUsage, rsetbootDevices, true)
}

// rinv lists hardware inventory (xCAT's rinv); its argument is optional.
func (r *Runner) rinv(ctx context.Context, c *call) int {
	return r.hardware(ctx, c, "rinv", rinvUsage, nil, false)
}

func (r *Runner) hardware(ctx context.Context, c *call, verb, usage string, words []string, needArg bool) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
		{names: []string{"V", "verbose"}},
		{names: []string{"p"}},
		{names: []string{"u"}},
		{names: []string{"f"}},
	}, c.req.Args)
	if err != nil {
		c.out("%s", usage)
		return 1
	}
	switch {
	case p.has("h"):
		c.out("%s", usage)
		return 0
	case p.has("v"):
		c.out(tabVersion)
		return 0
	case len(p.args) < 1 || len(p.args) > 2 || (needArg && len(p.args) != 2):
		c.out("%s", usage)
		return 1
	}
	op := BMCOp{Verb: verb, Persistent: p.has("p"), UEFI: p.has("u"), Force: p.has("f"), Progress: c.req.Progress}
	if (verb == "mkvm" || verb == "rmvm" || verb == "lsvm") && len(p.args) != 1 {
		c.out("%s", usage)
		return 1
	}
	if len(p.args) == 2 {
		op.Arg = strings.ToLower(strings.TrimSpace(p.args[1]))
	}
	if words != nil && !slices.Contains(words, op.Arg) {
		c.errorf("Unsupported command: %s %s\n", verb, op.Arg)
		c.out("%s", usage)
		return 1
	}
	if op.Arg == "state" {
		op.Arg = "stat"
	}
	if r.BMC == nil {
		c.errorf("%s: hardware control is not available on this server\n", verb)
		return 1
	}

	nodes, ok := r.definedNodes(c, r.Backend.View(), p.args[0])
	if !ok {
		return 1
	}
	if len(nodes) == 0 {
		return 0
	}
	rc := 0
	for _, res := range r.BMC.Do(ctx, nodes, op) {
		if res.Err != nil {
			fprintf(&c.stderr, "%s: Error: %s\n", res.Node, strings.ReplaceAll(res.Err.Error(), "\n", "; "))
			rc = 1
			continue
		}
		for _, l := range res.Lines {
			c.out("%s: %s\n", res.Node, l)
		}
	}
	return rc
}

// definedNodes expands rng (all of it must exist, site excludenodes
// applied) to sorted, distinct node names; on error it prints xCAT's
// message and reports false.
func (r *Runner) definedNodes(c *call, view inventory.View, rng string) ([]string, bool) {
	ix := inventory.NewIndex(view, r.Schema)
	opt := noderange.Options{Verify: true, ReadFile: readFileFrom(c.req.Files)}
	if site, ok := view.Get(inventory.Site, inventory.SiteName); ok {
		opt.Exclude = site.Get("excludenodes")
	}
	res, err := noderange.Expand(ix, rng, opt)
	if err != nil {
		c.errorf("%v\n", err)
		return nil, false
	}
	if len(res.Missing) > 0 {
		c.errorf("Invalid nodes and/or groups in noderange: %s\n", strings.Join(res.Missing, ","))
		return nil, false
	}
	nodes := slices.Clone(res.Nodes)
	slices.Sort(nodes)
	return slices.Compact(nodes), true
}
