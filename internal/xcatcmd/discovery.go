package xcatcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/noderange"
)

// The discovery commands: xCAT's nodediscoverstart, nodediscoverstop,
// nodediscoverstatus, nodediscoverls and nodediscoverdef (seqdiscovery.pm),
// with xCAT's usage texts, messages and table formats, and drover's own
// `discovery` command for the approval queue and the discovery rules. All
// of them work through Runner.Discovery.

const nodediscoverstartUsage = `nodediscoverstart: Start a discovery process: Sequential or Profile.
Usage: 
    Common:
        nodediscoverstart [-h|--help|-v|--version|-V|--verbose] 
    Sequential Discovery:
        nodediscoverstart noderange=<noderange> [groups=<groups>] [osimage=<osimagename>] [-V|--verbose]
    (drover supports Sequential Discovery with the options above; hostiprange=, bmciprange=,
    rack=, chassis=, height=, unit=, -n|--dns, -s|--skipbmcsetup and Profile Discovery are
    not supported: use discovery rules, ` + "`drover discovery rules`" + `.)
`

const nodediscoverstopUsage = `nodediscoverstop: Stop the running discovery: Sequential and Profile.
Usage: 
  nodediscoverstop [-h|--help|-v|--version]    
`

const nodediscoverstatusUsage = `nodediscoverstatus: Display the discovery process status.
Usage: 
    nodediscoverstatus [-h|--help|-v|--version]     
`

const nodediscoverlsUsage = `nodediscoverls: list the discovered nodes.
Usage: 
    nodediscoverls
    nodediscoverls [-h|--help|-v|--version] 
    nodediscoverls [-t seq|profile|switch|blade|manual|undef|all] [-l] 
    nodediscoverls [-u uuid] [-l]
    
`

const nodediscoverdefUsage = `nodediscoverdef: Define the undefined discovery request, or clean the discovery entries in the discoverydata table (Which can be displayed by nodediscoverls command).
Usage: 
    nodediscoverdef -u uuid -n node
    nodediscoverdef -r -u uuid
    nodediscoverdef -r -t {seq|profile|switch|blade|manual|undef|all}
    nodediscoverdef [-h|--help|-v|--version]
    (drover: -i ID may stand for -u uuid; -t also takes mtms and mac)
`

const discoveryUsage = `Usage:
    discovery list [-o wide|json|yaml]    list the discovery reports (the approval queue)
    discovery show REPORT                 one report: summary and the full facts
    discovery approve REPORT NODE         apply a report to a node (created if needed)
    discovery reject REPORT               reject a report: the machine powers off
    discovery rules                       print the discovery rules
    discovery rules -f -                  replace the discovery rules from standard input
    discovery help                        this text
REPORT is a report's ID, or a MAC or UUID it carries.
Sequential discovery: nodediscoverstart, nodediscoverstop, nodediscoverstatus, nodediscoverls, nodediscoverdef.
`

// errNoDiscovery is printed when the runner has no Discovery.
const errNoDiscovery = "discovery is not available\n"

// helpOpts are the options every xCAT discovery command takes.
var helpOpts = []tabOpt{
	{names: []string{"h", "?", "help"}},
	{names: []string{"v", "version"}},
	{names: []string{"V", "verbose"}},
}

// discoveryOpts parses a discovery command line with helpOpts and extra;
// done reports that the command finished (usage, version or a bad option)
// with rc.
func discoveryOpts(c *call, usage string, extra ...tabOpt) (p tabCmdLine, rc int, done bool) {
	p, err := tabGetopt(append(slices.Clone(helpOpts), extra...), c.req.Args)
	switch {
	case err != nil:
		c.out("%s", usage)
		return p, 1, true
	case p.has("h"):
		c.out("%s", usage)
		return p, 0, true
	case p.has("v"):
		c.out(tabVersion)
		return p, 0, true
	}
	return p, 0, false
}

// nodediscoverstart's arguments: those xCAT takes, and why drover does not
// take some of them.
var (
	seqArgs        = []string{"noderange", "groups", "osimage"}
	seqUnsupported = map[string]string{
		"hostiprange": "define the nodes' ip attributes (mkdef, chdef) before discovery instead",
		"bmciprange":  "define the nodes' bmc attributes (mkdef, chdef) before discovery instead",
		"rack":        "set the nodes' rack with chdef after discovery instead",
		"chassis":     "set the nodes' chassis with chdef after discovery instead",
		"height":      "set the nodes' height with chdef after discovery instead",
		"unit":        "set the nodes' unit (u) with chdef after discovery instead",
	}
	profileArgs = []string{"networkprofile", "imageprofile", "hostnameformat", "hardwareprofile", "rank"}
)

// nodediscoverstart starts sequential discovery (xCAT's nodediscoverstart):
// noderange= is expanded against the inventory (the names need not exist:
// sequential discovery creates them), in xCAT's noderange order, which is
// the order names are handed out in.
func (r *Runner) nodediscoverstart(ctx context.Context, c *call) int {
	p, rc, done := discoveryOpts(c, nodediscoverstartUsage,
		tabOpt{names: []string{"n", "dns"}}, tabOpt{names: []string{"s", "skipbmcsetup"}})
	if done {
		return rc
	}
	args := map[string]*string{}
	var keys []string
	for _, a := range p.args {
		k, v, ok := strings.Cut(a, "=")
		if _, seen := args[k]; !seen {
			keys = append(keys, k)
		}
		if ok {
			args[k] = &v
		} else {
			args[k] = nil
		}
	}
	usageErr := func(format string, a ...any) int {
		c.errorf(format, a...)
		c.out("%s", nodediscoverstartUsage)
		return 1
	}
	if _, ok := args["noderange"]; !ok {
		for _, k := range profileArgs {
			if _, ok := args[k]; ok {
				c.errorf("Profile Discovery is not supported by drover; use discovery rules (drover discovery rules) to name and group machines by their facts.\n")
				return 1
			}
		}
		return usageErr("For sequential discovery, the 'noderange' option must be specified.\n")
	}
	for _, k := range keys {
		_, unsupported := seqUnsupported[k]
		if !slices.Contains(seqArgs, k) && !unsupported {
			return usageErr("Invalid arguement \"%s\".\n", k) // sic: xCAT's spelling
		}
		if args[k] == nil || *args[k] == "" {
			return usageErr("The parameter \"%s\" need a value.\n", k) // sic
		}
	}
	for _, k := range keys {
		if why, ok := seqUnsupported[k]; ok {
			c.errorf("nodediscoverstart: %s= is not supported by drover: %s.\n", k, why)
			return 1
		}
	}
	if p.has("n") {
		c.errorf("nodediscoverstart: -n|--dns is not supported by drover: drover's DNS server answers for nodes from the inventory, there is no makedns step.\n")
		return 1
	}
	if p.has("s") {
		c.errorf("nodediscoverstart: -s|--skipbmcsetup is not supported by drover: bmciprange= is not supported, and drover runs bmcsetup only when a node's chain asks for it.\n")
		return 1
	}
	if r.Discovery == nil {
		c.errorf(errNoDiscovery)
		return 1
	}

	view := r.Backend.View()
	rng := *args["noderange"]
	opt := noderange.Options{ReadFile: readFileFrom(c.req.Files)}
	if site, ok := view.Get(inventory.Site, inventory.SiteName); ok {
		opt.Exclude = site.Get("excludenodes")
	}
	res, err := noderange.Expand(inventory.NewIndex(view, r.Schema), rng, opt)
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	if len(res.Nodes) == 0 {
		c.errorf("The noderange %s gives no node names.\n", rng)
		return 1
	}
	for _, n := range res.Nodes {
		if err := inventory.ValidName(inventory.Node, n); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		if err := inventory.ValidNodeName(n); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
	}
	req := SeqRequest{Noderange: rng, Names: res.Nodes}
	if g := args["groups"]; g != nil {
		for part := range strings.SplitSeq(*g, ",") {
			if part = strings.TrimSpace(part); part != "" {
				req.Groups = append(req.Groups, part)
			}
		}
	}
	if img := args["osimage"]; img != nil {
		req.OSImage = *img
		if _, ok := view.Get(inventory.OSImage, req.OSImage); !ok {
			c.errorf("Cannot find the OS image %s on the osimage table.\n", req.OSImage)
			return 1
		}
	}
	if err := r.Discovery.StartSequential(ctx, req); err != nil {
		if errors.Is(err, ErrDiscoveryRunning) {
			c.errorf("Sequentail Discovery is running. If you want to rerun the discovery, stop the running discovery first.\n") // sic
			return 1
		}
		c.errorf("%v\n", err)
		return 1
	}

	// The free names: the service's count, or xCAT's getfreenodes (not
	// defined, or defined without a MAC) when it cannot say.
	var free []string
	if st, err := r.Discovery.Sequential(ctx); err == nil && st.Running {
		free = st.Free
	} else {
		ix := inventory.NewIndex(view, r.Schema)
		for _, n := range res.Nodes {
			if _, ok := view.Get(inventory.Node, n); !ok {
				free = append(free, n)
			} else if mac, _ := ix.Attr(n, "mac.mac"); mac == "" {
				free = append(free, n)
			}
		}
	}
	c.out("Sequential Discovery: Started:\n")
	c.out("    Number of free node names: %d\n", len(free))
	if p.has("V") {
		c.out("\n====================Free Nodes===================\n")
		c.out("%-20s%-20s%s\n", "NODE", "HOST IP", "BMC IP")
		ix := inventory.NewIndex(view, r.Schema)
		for _, n := range free {
			ip, _ := ix.Attr(n, "hosts.ip")
			bmc, _ := ix.Attr(n, "ipmi.bmc")
			if ip == "" {
				ip = "--no free--"
			}
			if bmc == "" {
				bmc = "--no free--"
			}
			c.out("%s\n", strings.TrimRight(fmt.Sprintf("%-20s%-20s%-20s", n, ip, bmc), " "))
		}
	}
	return 0
}

// nodediscoverstop stops sequential discovery and lists the nodes it
// discovered (xCAT's nodediscoverstop).
func (r *Runner) nodediscoverstop(ctx context.Context, c *call) int {
	p, rc, done := discoveryOpts(c, nodediscoverstopUsage)
	if done {
		return rc
	}
	if len(p.args) > 0 {
		c.out("%s", nodediscoverstopUsage)
		return 1
	}
	if r.Discovery == nil {
		c.errorf(errNoDiscovery)
		return 1
	}
	st, err := r.Discovery.StopSequential(ctx)
	if errors.Is(err, ErrDiscoveryNotRunning) {
		c.errorf("Sequential Discovery is stopped.\n")
		c.errorf("Profile Discovery is stopped.\n")
		return 1
	}
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	byNode := r.reportsByNode(ctx)
	c.out("Discovered %d nodes.\n", len(st.Discovered))
	if len(st.Discovered) > 0 {
		c.out("    %-20s%-10s%s\n", "NODE", "MTM", "SERIAL")
		for _, n := range st.Discovered {
			rep := byNode[n]
			c.out("%s\n", strings.TrimRight(fmt.Sprintf("    %-20s%-10s%-10s", n, rep.MTM, clip(rep.Serial, 8)), " "))
		}
	}
	return 0
}

// reportsByNode maps node names to their latest report (best effort: a
// failing Reports gives an empty map, the node names still print).
func (r *Runner) reportsByNode(ctx context.Context) map[string]DiscoveryReport {
	m := map[string]DiscoveryReport{}
	reps, err := r.Discovery.Reports(ctx)
	if err != nil {
		return m
	}
	for _, rep := range reps {
		if rep.Node != "" {
			m[rep.Node] = rep
		}
	}
	return m
}

// nodediscoverstatus reports whether sequential discovery runs (xCAT's
// nodediscoverstatus).
func (r *Runner) nodediscoverstatus(ctx context.Context, c *call) int {
	p, rc, done := discoveryOpts(c, nodediscoverstatusUsage)
	if done {
		return rc
	}
	if len(p.args) > 0 {
		c.out("%s", nodediscoverstatusUsage)
		return 1
	}
	if r.Discovery == nil {
		c.errorf(errNoDiscovery)
		return 1
	}
	st, err := r.Discovery.Sequential(ctx)
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	if !st.Running {
		c.out("Sequential Discovery is stopped.\n")
		c.out("Profile Discovery is stopped.\n")
		return 0
	}
	c.out("Sequential discovery is running.\n")
	c.out("    The parameters used for discovery: %s\n", seqParams(st))
	return 0
}

// seqParams renders a running discovery's parameters the way xCAT keeps
// them in site.__SEQDiscover: name=value, comma separated.
func seqParams(st SeqStatus) string {
	parts := []string{"noderange=" + st.Noderange}
	if len(st.Groups) > 0 {
		parts = append(parts, "groups="+strings.Join(st.Groups, ","))
	}
	if st.OSImage != "" {
		parts = append(parts, "osimage="+st.OSImage)
	}
	return strings.Join(parts, ",")
}

// xcatMethod is a report's discovery method in xCAT's words (the METHOD
// column of nodediscoverls and the -t types):
//
//   - no node yet (queued, flagged, rejected): "undef", as xCAT's
//     discoverydata entries nobody claimed;
//   - sequential → "sequential" (-t seq), switch → "switch", manual
//     approval (nodediscoverdef, discovery approve) → "manual";
//   - mtms → "mtms": xCAT's MTMS-based discovery (-t mtms is a drover
//     extension, xCAT's -t has no word for it);
//   - rule → "profile": drover's discovery rules name and group machines
//     from their facts as xCAT's Profile Discovery does from its profiles;
//   - mac → "mac": a predefined node with this MAC (xCAT boots such a
//     machine as the node without discovery, so has no word; -t mac is a
//     drover extension).
func xcatMethod(rep DiscoveryReport) string {
	if rep.Node == "" {
		return "undef"
	}
	switch rep.Method {
	case "rule":
		return "profile"
	case "":
		if rep.State == "approved" {
			return "manual"
		}
		return "undef"
	}
	return rep.Method
}

// xcatTypes are the -t words of nodediscoverls and nodediscoverdef; mtms
// and mac are drover's.
var xcatTypes = []string{"seq", "profile", "switch", "blade", "manual", "undef", "all", "mtms", "mac"}

// matchesType reports whether a report is of -t type t.
func matchesType(rep DiscoveryReport, t string) bool {
	switch t {
	case "all":
		return true
	case "seq":
		t = "sequential"
	}
	return xcatMethod(rep) == t
}

// nodediscoverls lists discovery reports (xCAT's nodediscoverls): while
// sequential discovery runs and no -t or -u is given, the nodes it
// discovered, after a "Discovered N node." line; otherwise every report of
// type -t (all by default), or the one report -u names.
func (r *Runner) nodediscoverls(ctx context.Context, c *call) int {
	p, rc, done := discoveryOpts(c, nodediscoverlsUsage,
		tabOpt{names: []string{"t"}, value: true}, tabOpt{names: []string{"u"}, value: true}, tabOpt{names: []string{"l"}})
	if done {
		return rc
	}
	if len(p.args) > 0 {
		c.out("%s", nodediscoverlsUsage)
		return 1
	}
	typ, uuid, long := p.last("t"), p.last("u"), p.has("l")
	if typ != "" && !slices.Contains(xcatTypes, typ) {
		c.errorf("The discovery type '%s' is not supported.\n", typ)
		c.out("%s", nodediscoverlsUsage)
		return 1
	}
	if r.Discovery == nil {
		c.errorf(errNoDiscovery)
		return 1
	}
	var reps []DiscoveryReport
	session := false
	switch {
	case typ == "" && uuid != "":
		rep, err := r.Discovery.Report(ctx, uuid)
		if errors.Is(err, ErrNoReport) {
			return 0 // xCAT prints nothing for an unknown uuid
		}
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		reps = []DiscoveryReport{rep}
	default:
		all, err := r.Discovery.Reports(ctx)
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		var st SeqStatus
		if typ == "" {
			if st, err = r.Discovery.Sequential(ctx); err != nil {
				c.errorf("%v\n", err)
				return 1
			}
			typ = "all"
			if st.Running {
				typ, session = "seq", true
			}
		}
		for _, rep := range all {
			if !matchesType(rep, typ) {
				continue
			}
			if session && !slices.Contains(st.Discovered, rep.Node) {
				continue // discovered before this session
			}
			reps = append(reps, rep)
		}
	}
	if session {
		c.out("Discovered %d node.\n", len(reps)) // sic: xCAT's singular
	}
	if len(reps) == 0 {
		return 0
	}
	if long {
		for _, rep := range reps {
			r.nodediscoverlsLong(c, rep)
		}
		return 0
	}
	row := func(uuid, node, method, mtm, serial string) {
		c.out("%s\n", strings.TrimRight(fmt.Sprintf("  %-40s%-20s%-15s%-10s%-13s", uuid, node, method, mtm, serial), " "))
	}
	row("UUID", "NODE", "METHOD", "MTM", "SERIAL")
	for _, rep := range reps {
		node := rep.Node
		if node == "" {
			node = "undef"
		}
		row(xcatUUID(rep), node, xcatMethod(rep), rep.MTM, clip(rep.Serial, 12))
	}
	return 0
}

// xcatUUID is what the UUID column shows: the report's UUID, or for a
// machine without one its MAC (or ID), which -u takes as well.
func xcatUUID(rep DiscoveryReport) string {
	switch {
	case rep.UUID != "":
		return rep.UUID
	case rep.MAC != "":
		return rep.MAC
	}
	return rep.ID
}

// nodediscoverlsLong prints one report as xCAT's nodediscoverls -l does:
// "Object uuid: UUID" then name=value for the discoverydata columns it
// has (memory in kB, as xCAT records /proc/meminfo's MemTotal; per-NIC
// values as NIC!value, comma separated), then drover's own: id, state,
// reason, mac, disks, agentversion, switchid (the LLDP chassis ID).
func (r *Runner) nodediscoverlsLong(c *call, rep DiscoveryReport) {
	c.out("Object uuid: %s\n", xcatUUID(rep))
	f := rep
	nic := func(get func(i int) (string, string)) string {
		var parts []string
		for i := range f.NICs {
			if name, v := get(i); v != "" {
				parts = append(parts, name+"!"+v)
			}
		}
		return strings.Join(parts, ",")
	}
	lldp := func(get func(i int) string) string {
		var parts []string
		for i := range f.LLDP {
			if v := get(i); v != "" {
				parts = append(parts, f.LLDP[i].NIC+"!"+v)
			}
		}
		return strings.Join(parts, ",")
	}
	var method string
	if rep.Node != "" {
		method = xcatMethod(rep)
	}
	var mem, cpus string
	if rep.MemoryBytes > 0 {
		mem = strconv.FormatUint(rep.MemoryBytes/1024, 10)
	}
	if rep.CPUs > 0 {
		cpus = strconv.Itoa(rep.CPUs)
	}
	var disks string
	if rep.Disks > 0 {
		disks = strconv.Itoa(rep.Disks)
	}
	attrs := [][2]string{
		{"node", rep.Node},
		{"method", method},
		{"discoverytime", xcatTime(rep.Received)},
		{"cpucount", cpus},
		{"cputype", rep.CPUModel},
		{"memory", mem},
		{"mtm", rep.MTM},
		{"serial", rep.Serial},
		{"nicdriver", nic(func(i int) (string, string) { return f.NICs[i].Name, f.NICs[i].Driver })},
		{"nichwaddr", nic(func(i int) (string, string) { return f.NICs[i].Name, f.NICs[i].MAC })},
		{"nicpci", nic(func(i int) (string, string) { return f.NICs[i].Name, f.NICs[i].PCI })},
		{"switchname", lldp(func(i int) string { return f.LLDP[i].SysName })},
		{"switchport", lldp(func(i int) string { return f.LLDP[i].PortID })},
		{"id", rep.ID},
		{"state", rep.State},
		{"reason", rep.Reason},
		{"mac", rep.MAC},
		{"disks", disks},
		{"agentversion", rep.AgentVersion},
		{"switchid", lldp(func(i int) string { return f.LLDP[i].ChassisID })},
	}
	for _, a := range attrs {
		if a[1] != "" {
			c.out("    %s=%s\n", a[0], a[1])
		}
	}
}

// xcatTime is xCAT's discoverytime format, "03-31-2013 17:05:12" (UTC).
func xcatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("01-02-2006 15:04:05")
}

// clip shortens s to n bytes, as xCAT's substr does for serials.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// nodediscoverdef approves a report to a predefined node (-u UUID -n NODE)
// or removes reports (-r -u UUID, -r -t TYPE), as xCAT's nodediscoverdef.
// -i ID is drover's: it may stand for -u (any ref Discovery.Report takes
// does, too).
func (r *Runner) nodediscoverdef(ctx context.Context, c *call) int {
	p, rc, done := discoveryOpts(c, nodediscoverdefUsage,
		tabOpt{names: []string{"u"}, value: true}, tabOpt{names: []string{"i"}, value: true},
		tabOpt{names: []string{"n"}, value: true}, tabOpt{names: []string{"t"}, value: true},
		tabOpt{names: []string{"r"}})
	if done {
		return rc
	}
	usage := func() int { c.out("%s", nodediscoverdefUsage); return 1 }
	ref, node, typ := p.last("u"), p.last("n"), p.last("t")
	if p.has("i") {
		if p.has("u") {
			return usage()
		}
		ref = p.last("i")
	}
	if len(p.args) > 0 {
		return usage()
	}
	if p.has("r") {
		if (ref == "" && typ == "") || node != "" || (ref != "" && typ != "") {
			return usage()
		}
		if typ != "" && !slices.Contains(xcatTypes, typ) {
			c.errorf("The discovery type '%s' is not supported.\n", typ)
			return usage()
		}
	} else if ref == "" || node == "" || typ != "" {
		return usage()
	}
	if r.Discovery == nil {
		c.errorf(errNoDiscovery)
		return 1
	}

	if !p.has("r") {
		view := r.Backend.View()
		ix := inventory.NewIndex(view, r.Schema)
		res, err := noderange.Expand(ix, node, noderange.Options{Verify: true, ReadFile: readFileFrom(c.req.Files)})
		if err != nil || len(res.Missing) > 0 || len(res.Nodes) != 1 {
			c.errorf("The node [%s] should be a valid xCAT node.\n", node)
			return 1
		}
		node = res.Nodes[0]
		if _, err := r.Discovery.Approve(ctx, ref, node); err != nil {
			if errors.Is(err, ErrNoReport) {
				c.errorf("Cannot find discovery entry with uuid equals %s\n", ref) // sic: no brackets, as xCAT
				return 1
			}
			c.errorf("%v\n", err)
			return 1
		}
		c.out("Defined [%s] to node %s.\n", ref, node)
		return 0
	}

	var ids []string
	if ref != "" {
		rep, err := r.Discovery.Report(ctx, ref)
		if errors.Is(err, ErrNoReport) {
			c.errorf("Cannot find discovery entry with uuid equals [%s].\n", ref)
			return 1
		}
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		ids = []string{rep.ID}
	} else {
		reps, err := r.Discovery.Reports(ctx)
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		for _, rep := range reps {
			if matchesType(rep, typ) {
				ids = append(ids, rep.ID)
			}
		}
	}
	if len(ids) > 0 {
		if _, err := r.Discovery.Remove(ctx, ids); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
	}
	c.out("Removing discovery entries finished.\n")
	return 0
}

// discovery is drover's own command for the approval queue and the
// discovery rules: list, show, approve, reject, rules, help.
func (r *Runner) discovery(ctx context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"o", "output"}, value: true},
		{names: []string{"f", "file"}, value: true},
	}, c.req.Args)
	if err != nil {
		c.errorf("discovery: %v\n", err)
		c.out("%s", discoveryUsage)
		return 1
	}
	if p.has("h") || len(p.args) == 0 || p.args[0] == "help" {
		c.out("%s", discoveryUsage)
		if len(p.args) == 0 && !p.has("h") {
			return 1
		}
		return 0
	}
	sub, args := p.args[0], p.args[1:]
	nargs := map[string]int{"list": 0, "show": 1, "approve": 2, "reject": 1, "rules": 0}
	want, ok := nargs[sub]
	if !ok {
		c.errorf("discovery: unknown subcommand %q\n", sub)
		c.out("%s", discoveryUsage)
		return 1
	}
	if len(args) != want {
		c.errorf("discovery %s: wrong number of arguments\n", sub)
		c.out("%s", discoveryUsage)
		return 1
	}
	if p.has("o") && sub != "list" || p.has("f") && sub != "rules" {
		c.errorf("discovery %s: unexpected option\n", sub)
		c.out("%s", discoveryUsage)
		return 1
	}
	if r.Discovery == nil {
		c.errorf(errNoDiscovery)
		return 1
	}
	refErr := func(ref string, err error) int {
		if errors.Is(err, ErrNoReport) {
			c.errorf("no discovery report matches %q (give a report ID, MAC or UUID; see drover discovery list)\n", ref)
		} else {
			c.errorf("%v\n", err)
		}
		return 1
	}
	switch sub {
	case "list":
		return r.discoveryList(ctx, c, p.last("o"))
	case "show":
		rep, err := r.Discovery.Report(ctx, args[0])
		if err != nil {
			return refErr(args[0], err)
		}
		r.discoveryShow(c, rep)
		return 0
	case "approve":
		ref, node := args[0], args[1]
		if err := inventory.ValidName(inventory.Node, node); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		if err := inventory.ValidNodeName(node); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		rep, err := r.Discovery.Approve(ctx, ref, node)
		if err != nil {
			return refErr(ref, err)
		}
		c.out("report %s%s approved as %s; the machine gets its chain when it registers next\n", rep.ID, parenMAC(rep), node)
		return 0
	case "reject":
		rep, err := r.Discovery.Reject(ctx, args[0])
		if err != nil {
			return refErr(args[0], err)
		}
		c.out("report %s%s rejected; the machine is told to power off when it registers next\n", rep.ID, parenMAC(rep))
		return 0
	}
	// rules
	if !p.has("f") {
		text, err := r.Discovery.Rules(ctx)
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		c.out("%s", text)
		if text != "" && !strings.HasSuffix(text, "\n") {
			c.out("\n")
		}
		return 0
	}
	if f := p.last("f"); f != "-" {
		c.errorf("discovery rules -f: only - (standard input) is supported: drover discovery rules -f - < %s\n", f)
		return 1
	}
	if strings.TrimSpace(c.req.Stdin) == "" {
		// An empty input would delete every rule: most likely the input
		// never arrived. Clearing the rules takes a comment line.
		c.errorf("discovery rules -f -: standard input is empty; the discovery rules are unchanged (to remove every rule, send a line such as '# no rules')\n")
		return 1
	}
	if err := r.Discovery.SetRules(ctx, c.req.Stdin); err != nil {
		c.errorf("discovery rules: %v\n", err)
		c.errorf("the discovery rules are unchanged\n")
		return 1
	}
	n := 0
	for line := range strings.SplitSeq(c.req.Stdin, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	c.out("discovery rules replaced: %d %s\n", n, plural(n, "rule", "rules"))
	return 0
}

func parenMAC(rep DiscoveryReport) string {
	if rep.MAC == "" {
		return ""
	}
	return " (" + rep.MAC + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// reportOut is a report in `discovery list -o json|yaml` (the summary;
// the full facts are in `discovery show`).
type reportOut struct {
	ID           string    `json:"id" yaml:"id"`
	State        string    `json:"state" yaml:"state"`
	MAC          string    `json:"mac,omitempty" yaml:"mac,omitempty"`
	UUID         string    `json:"uuid,omitempty" yaml:"uuid,omitempty"`
	Serial       string    `json:"serial,omitempty" yaml:"serial,omitempty"`
	MTM          string    `json:"mtm,omitempty" yaml:"mtm,omitempty"`
	Node         string    `json:"node,omitempty" yaml:"node,omitempty"`
	Method       string    `json:"method,omitempty" yaml:"method,omitempty"`
	Reason       string    `json:"reason,omitempty" yaml:"reason,omitempty"`
	Received     time.Time `json:"received" yaml:"received"`
	Updated      time.Time `json:"updated" yaml:"updated"`
	Count        int       `json:"count" yaml:"count"`
	CPUModel     string    `json:"cpuModel,omitempty" yaml:"cpuModel,omitempty"`
	CPUs         int       `json:"cpus,omitempty" yaml:"cpus,omitempty"`
	MemoryBytes  uint64    `json:"memoryBytes,omitempty" yaml:"memoryBytes,omitempty"`
	Disks        int       `json:"disks,omitempty" yaml:"disks,omitempty"`
	NICs         []string  `json:"nics,omitempty" yaml:"nics,omitempty"`
	AgentVersion string    `json:"agentVersion,omitempty" yaml:"agentVersion,omitempty"`
}

// discoveryList prints the reports, oldest first: a kubectl-style table
// (wide adds MTM, CPUS, MEMORY, AGENT), or JSON or YAML.
func (r *Runner) discoveryList(ctx context.Context, c *call, format string) int {
	switch format {
	case "", "wide", "json", "yaml":
	default:
		c.errorf("discovery list: unknown output format %q (want wide, json or yaml)\n", format)
		return 1
	}
	reps, err := r.Discovery.Reports(ctx)
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	switch format {
	case "json", "yaml":
		out := make([]reportOut, len(reps))
		for i, rep := range reps {
			out[i] = reportOut{ID: rep.ID, State: rep.State, MAC: rep.MAC, UUID: rep.UUID, Serial: rep.Serial, MTM: rep.MTM,
				Node: rep.Node, Method: rep.Method, Reason: rep.Reason, Received: rep.Received.UTC(), Updated: rep.Updated.UTC(),
				Count: rep.Count, CPUModel: rep.CPUModel, CPUs: rep.CPUs, MemoryBytes: rep.MemoryBytes, Disks: rep.Disks,
				NICs: rep.MACs(), AgentVersion: rep.AgentVersion}
		}
		var b []byte
		if format == "json" {
			b, err = json.MarshalIndent(out, "", "  ")
			b = append(b, '\n')
		} else {
			b, err = yaml.Marshal(out)
		}
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		c.stdout.Write(b)
		return 0
	}
	if len(reps) == 0 {
		fprintf(&c.stderr, "No discovery reports.\n")
		return 0
	}
	wide := format == "wide"
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	cols := []string{"ID", "STATE", "MAC", "SERIAL", "UUID", "NODE", "METHOD", "AGE"}
	if wide {
		cols = append(cols, "MTM", "CPUS", "MEMORY", "AGENT")
	}
	cols = append(cols, "REASON")
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	now := r.now()
	for _, rep := range reps {
		row := []string{rep.ID, rep.State, none(rep.MAC), none(rep.Serial), none(rep.UUID), none(rep.Node), none(rep.Method),
			humanAge(now.Sub(rep.Received))}
		if wide {
			cpus := "<none>"
			if rep.CPUs > 0 {
				cpus = strconv.Itoa(rep.CPUs)
			}
			row = append(row, none(rep.MTM), cpus, none(humanBytes(rep.MemoryBytes)), none(rep.AgentVersion))
		}
		row = append(row, rep.Reason)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for line := range strings.SplitSeq(strings.TrimSuffix(b.String(), "\n"), "\n") {
		c.out("%s\n", strings.TrimRight(line, " "))
	}
	return 0
}

// discoveryShow prints one report: its summary, then its facts as
// indented JSON.
func (r *Runner) discoveryShow(c *call, rep DiscoveryReport) {
	now := r.now()
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "<none>"
		}
		return t.UTC().Format(time.RFC3339) + " (" + humanAge(now.Sub(t)) + " ago)"
	}
	cpu := none(rep.CPUModel)
	if rep.CPUs > 0 {
		cpu = fmt.Sprintf("%s, %d CPUs", cpu, rep.CPUs)
	}
	nics := "<none>"
	if len(rep.NICs) > 0 {
		nics = strings.Join(rep.MACs(), ", ")
	}
	fields := [][2]string{
		{"ID", rep.ID}, {"State", rep.State}, {"Reason", none(rep.Reason)},
		{"Node", none(rep.Node)}, {"Method", none(rep.Method)},
		{"MAC", none(rep.MAC)}, {"UUID", none(rep.UUID)}, {"Serial", none(rep.Serial)}, {"MTM", none(rep.MTM)},
		{"Received", ts(rep.Received)}, {"Updated", ts(rep.Updated)}, {"Reports", strconv.Itoa(rep.Count)},
		{"CPU", cpu}, {"Memory", none(humanBytes(rep.MemoryBytes))}, {"Disks", strconv.Itoa(rep.Disks)},
		{"NICs", nics}, {"Agent", none(rep.AgentVersion)},
	}
	for _, f := range fields {
		c.out("%-10s%s\n", f[0]+":", f[1])
	}
	c.out("Facts:\n")
	if len(bytes.TrimSpace(rep.Facts)) == 0 {
		c.out("  <none>\n")
		return
	}
	var b bytes.Buffer
	if err := json.Indent(&b, rep.Facts, "  ", "  "); err != nil {
		c.out("  %s\n", strings.TrimSpace(string(rep.Facts)))
		return
	}
	c.out("  %s\n", b.String())
}

func none(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// humanBytes is a size in binary units with one decimal, "" for 0.
func humanBytes(n uint64) string {
	if n == 0 {
		return ""
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanAge is kubectl's age format: 45s, 3m20s, 12m, 2h5m, 20h, 3d4h, 40d, 2y.
func humanAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	m, h, days := s/60, s/3600, s/86400
	switch {
	case s < 120:
		return fmt.Sprintf("%ds", s)
	case m < 10:
		if s%60 == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s%60)
	case h < 3:
		return fmt.Sprintf("%dm", m)
	case h < 8:
		if m%60 == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m%60)
	case h < 48:
		return fmt.Sprintf("%dh", h)
	case days < 8:
		if h%24 == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h%24)
	case days < 365*2:
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dy", days/365)
}
