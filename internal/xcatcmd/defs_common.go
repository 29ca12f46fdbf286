package xcatcmd

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/noderange"
	"drover.dev/drover/internal/stanza"
)

// processArgs results, as in DBobjectdefs::processArgs.
const (
	defOK     = iota // carry on
	defReturn        // done (help for a type, version)
	defUsage         // print the usage (after an error, if any)
	defError         // an error was printed
)

// defRef names one object.
type defRef struct {
	t    inventory.Type
	name string
}

// defCall is one run of lsdef, mkdef, chdef or rmdef: the parsed command
// line (xCAT's processArgs globals) and what the command has read.
type defCall struct {
	*call
	r      *Runner
	ctx    context.Context
	cmd    string
	view   inventory.View
	schema *inventory.Schema

	nerr int // error messages printed; any makes the exit code 1

	opt       defOpts
	attrs     map[string]string // attr=val operands (%::ATTRS)
	attrOrder []string
	gotAttrs  bool
	noderange []string         // @::noderange
	types     []inventory.Type // @::clobjtypes
	names     []string         // @::clobjnames
	listed    []defRef         // objects found from -t alone or -a
	file      []stanza.Stanza  // -z input
	fileData  bool
	where     map[string]defWhere
	// pending holds the group objects this command defines, so only_if
	// checks of nodes in the same input see their groups' values.
	pending  map[string]map[string]string
	attrList []string            // -i, nic suffixes removed
	nicNames map[string][]string // -i nicips.eth0: nicips -> eth0

	fromArgs, fromOptO, fromOptT, fromOptA, fromNR bool

	index      *inventory.Index
	groupNames map[string]bool     // every group: group objects and names in nodes' groups
	members    map[string][]string // static group members
}

func (r *Runner) newDefCall(ctx context.Context, c *call, cmd string) *defCall {
	return &defCall{
		call:   c,
		r:      r,
		ctx:    ctx,
		cmd:    cmd,
		view:   r.Backend.View(),
		schema: r.schema(),
		attrs:  map[string]string{},
		where:  map[string]defWhere{},
	}
}

func (r *Runner) schema() *inventory.Schema {
	if r.Schema != nil {
		return r.Schema
	}
	return inventory.DefaultSchema()
}

// errorf prints one "Error: " line.
func (d *defCall) errorf(format string, a ...any) {
	d.nerr++
	d.call.errorf(format+"\n", a...)
}

// warnf prints one "Warning: " line.
func (d *defCall) warnf(format string, a ...any) { d.call.warnf(format+"\n", a...) }

// info prints one line on stdout.
func (d *defCall) info(format string, a ...any) { d.call.out(format+"\n", a...) }

// rc is the exit code: 1 when an error was printed or failed is set.
func (d *defCall) rc(failed bool) int {
	if failed || d.nerr > 0 {
		return 1
	}
	return 0
}

// expand evaluates a noderange against the inventory. verify makes
// unknown names drop out instead of being returned literally.
func (d *defCall) expand(rng string, verify bool) ([]string, error) {
	if d.index == nil {
		d.index = inventory.NewIndex(d.view, d.schema)
	}
	res, err := noderange.Expand(d.index, rng, noderange.Options{
		Verify: verify, ReadFile: readFileFrom(d.req.Files), Exclude: d.excludeNodes(),
	})
	if err != nil {
		return nil, err
	}
	return res.Nodes, nil
}

// readFileFrom reads ^file noderanges from the files the client sent.
func readFileFrom(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

// perlSplit splits s on sep like Perl's split: trailing empty fields are
// dropped.
func perlSplit(s, sep string) []string {
	f := strings.Split(s, sep)
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f
}

var attrValRE = regexp.MustCompile(`^\s*(.*?)\s*=\s*(.*)$`)

// nicSuffixRE matches a per-interface nic attribute such as nicips.eth0.
var nicSuffixRE = regexp.MustCompile(`^(nic\w+)\.(.*)$`)

// processArgs parses the command line as DBobjectdefs::processArgs does
// for all four commands.
func (d *defCall) processArgs() int {
	args := d.req.Args
	lsdef := d.cmd == "lsdef"
	if len(args) == 0 {
		if !lsdef {
			return defUsage
		}
		args = []string{"-t", "node", "-s"}
	} else if len(args) == 1 && args[0] == "-S" {
		if !lsdef {
			return defUsage
		}
		args = []string{"-S", "-t", "node", "-s"}
	}
	if lsdef && len(args) == 2 && (args[0] == "-l" && args[1] == "-S" || args[0] == "-S" && args[1] == "-l") {
		args = append(slices.Clone(args), "-t", "node")
	}
	if lsdef && len(args) == 1 && args[0] == "-l" {
		args = []string{"-l", "-t", "node"}
	}
	o := &d.opt
	if err := getopt(defFlags(), args, o); err != nil {
		d.errorf("Invalid option..")
		return defUsage
	}
	if o.t == "" && !o.a && !o.h && lsdef {
		o.t, o.tSet = "node", true
	}
	switch {
	case o.x:
		d.errorf("The '-x' (XML format) option is not yet implemented.")
		return defUsage
	case o.a && o.t != "":
		d.errorf("The flags '-a' and '-t' cannot be used together.")
		return defUsage
	case o.l && o.s:
		d.errorf("The flags '-l' and '-s' cannot be used together.")
		return defUsage
	case o.nics && o.i != "":
		d.errorf("The flags '-i' and '--nics' cannot be used together.")
		return defUsage
	}
	if o.nics {
		o.i, o.iSet = "nicips,nichostnamesuffixes,nichostnameprefixes,nictypes,niccustomscripts,nicnetworks,nicaliases,nicextraparams,nicdevices", true
	}
	switch {
	case o.i != "" && o.s:
		d.errorf("The flags '-i' and '-s' cannot be used together.")
		return defUsage
	case o.c && o.i == "":
		d.errorf("The flags '-c' and '-i' must be used together.")
		return defUsage
	case d.cmd == "chdef" && o.n != "" && !d.validName(o.n, inventory.Type(o.t)):
		d.errorf(`The new object name '%s' is not valid.Please refer to "man xcatdb" for the valid "xCAT Object Name Format" `, o.n)
		return defUsage
	}

	spaced := false
	for _, a := range o.operands {
		if a == "" {
			continue
		}
		if !strings.Contains(a, "=") {
			if spaced {
				d.errorf("noderange can not contain spaces.")
				return defUsage
			}
			spaced = true
			if o.t != "" && o.t != "node" {
				d.names = perlSplit(a, ",")
				d.noderange = d.names
				d.fromArgs = true
				continue
			}
			verify := d.cmd != "mkdef" && strings.HasPrefix(a, "/")
			if verify {
				if _, err := regexp.Compile(a[1:]); err != nil {
					d.errorf("Invalid regular expression %s, check the noderange syntax.", a)
					return defError
				}
			}
			nodes, err := d.expand(a, verify)
			if err != nil {
				d.errorf("%s", err)
				return defError
			}
			if len(nodes) == 0 {
				d.errorf("No node in '%s', check the noderange syntax.", a)
				return defError
			}
			d.noderange = nodes
			continue
		}
		m := attrValRE.FindStringSubmatch(a)
		if m == nil {
			d.errorf("Incorrect 'attr=val' pair - %s.", a)
			return defError
		}
		if _, seen := d.attrs[m[1]]; !seen {
			d.attrOrder = append(d.attrOrder, m[1])
		}
		d.attrs[m[1]] = m[2]
		d.gotAttrs = true
	}

	if (o.t == "" || o.t == "node") && d.cmd == "chdef" && (o.m || o.p) {
		for _, k := range d.attrOrder {
			if nicSuffixRE.MatchString(k) {
				d.errorf("chdef does not support to change the nic related attributes with -m or -p flag.")
				return defError
			}
		}
	}
	if d.cmd == "rmdef" && (o.d || o.iSet || o.l || o.m || o.p || len(o.w) > 0 || o.x || o.z || o.s) {
		d.errorf("Invalid flag specified, see rmdef manpage for details.")
		return defUsage
	}
	if o.h && !o.tSet {
		return defUsage
	}
	if o.v {
		d.info("%s - drover", d.cmd)
		return defReturn
	}

	// Standard input is the stanza file of mkdef -z and chdef -z (xCAT's
	// client sends it only with -z).
	if o.z && (d.cmd == "mkdef" || d.cmd == "chdef") && d.req.Stdin != "" {
		d.fileData = true
		st, err := stanza.Parse(strings.NewReader(d.req.Stdin))
		if err != nil {
			d.errorf("Could not process file input data: %s", err)
			return defError
		}
		d.file = st
	}

	if o.t != "" {
		tmp := []string{o.t}
		if strings.Contains(o.t, ",") {
			if d.gotAttrs {
				d.errorf("Cannot combine multiple types with 'att=val' pairs on the command line.")
				return defError
			}
			tmp = perlSplit(o.t, ",")
		}
		for _, s := range tmp {
			t, err := inventory.ParseType(s)
			if err != nil {
				d.errorf("%s", err)
				return defError
			}
			d.types = append(d.types, t)
		}
	}
	if len(d.types) == 0 && !d.fileTypes() && !o.a && o.t == "" {
		d.types = []inventory.Type{inventory.Node}
	}
	if o.h && o.t != "" {
		d.attrHelp()
		return defReturn
	}

	switch {
	case o.o != "":
		d.fromOptO = true
		switch {
		case o.t == string(inventory.Site):
			// xCAT lists -o's name and clustersite; the site has one
			// object whatever it is called.
			d.names = append(d.names, inventory.SiteName)
		case o.t == string(inventory.Node):
			verify := d.cmd != "mkdef" && strings.HasPrefix(o.o, "/")
			nodes, err := d.expand(o.o, verify)
			if err != nil {
				d.errorf("%s", err)
				return defError
			}
			d.names = nodes
		default:
			d.names = perlSplit(o.o, ",")
		}
	case len(d.noderange) > 0 && len(d.types) > 0 && d.types[0] == inventory.Node:
		d.names = d.noderange
		d.fromNR = true
	}
	if o.t == string(inventory.Site) && o.o == "" {
		d.names = append(d.names, inventory.SiteName)
		d.fromOptO = true
	}
	if o.t != "" && !(o.o != "" || d.fileData || o.a || len(d.noderange) > 0 || len(d.names) > 0) {
		if d.cmd == "rmdef" || d.cmd == "chdef" {
			d.errorf("No object names were provided.")
			return defUsage
		}
		if d.cmd != "mkdef" {
			d.fromOptT = true
			for _, t := range d.types {
				names := d.objectNames(t)
				if len(names) == 0 {
					d.errorf("Could not get objects of type '%s'.", t)
					return defError
				}
				for _, n := range names {
					d.names = append(d.names, n)
					d.listed = append(d.listed, defRef{t, n})
				}
			}
		}
	}
	if o.a && (o.o != "" || d.fileData || len(d.noderange) > 0) {
		d.errorf("Cannot use '-a' with '-o', a noderange or file input.")
		return defError
	}
	if o.a {
		d.fromOptA = true
		for _, t := range inventory.Types() {
			for _, n := range d.objectNames(t) {
				d.names = append(d.names, n)
				d.listed = append(d.listed, defRef{t, n})
			}
		}
	}
	if len(d.names) == 0 && len(d.file) == 0 {
		d.errorf("No object names were provided.")
		return defError
	}
	if len(o.w) > 0 {
		if !d.parseWhere() {
			d.errorf("Incorrect selection string specified with -w flag.")
			return defError
		}
		if o.t == string(inventory.Group) && o.d {
			for _, k := range sortedKeys(d.where) {
				if _, ok := d.schema.Attr(inventory.Node, k); !ok || strings.Contains(k, ".") {
					d.errorf("Incorrect attribute '%s' in the selection string specified with -w flag.", k)
					return defReturn
				}
			}
		}
	}
	if o.i != "" && d.cmd != "lsdef" {
		d.errorf("The '-i' option is only valid for the lsdef command.")
		return defError
	}
	if o.i != "" {
		d.nicNames = map[string][]string{}
		for _, a := range perlSplit(o.i, ",") {
			if m := nicSuffixRE.FindStringSubmatch(a); m != nil {
				a = m[1]
				d.nicNames[a] = append(d.nicNames[a], m[2])
			}
			d.attrList = append(d.attrList, a)
		}
	}
	return defOK
}

// fileTypes reports whether the stanza input named any object type.
func (d *defCall) fileTypes() bool {
	for _, s := range d.file {
		if s.Type != "" {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// attrHelp prints the attributes of each -t type (lsdef/mkdef/chdef -h -t).
func (d *defCall) attrHelp() {
	want := map[string]bool{}
	if d.opt.i != "" {
		for _, a := range strings.Split(d.opt.i, ",") {
			if m := nicSuffixRE.FindStringSubmatch(a); m != nil {
				a = m[1]
			}
			want[a] = true
		}
	}
	for _, t := range d.types {
		if t == inventory.Site {
			if d.opt.i != "" {
				d.warnf("It is not supported to list the description of some specific site attributes, displaying the description for all site attributes instead.")
			}
			d.info("\nThere can only be one xCAT site definition. This definition consists \nof an unlimited list of user-defined attributes and values that represent \nglobal settings for the whole cluster. The following is a list \nof the attributes currently supported by xCAT.")
			var b strings.Builder
			for _, a := range d.schema.Attrs(t) {
				fmt.Fprintf(&b, " %s:  %s\n", a.Name, a.Description)
			}
			d.info("%s", strings.TrimSuffix(b.String(), "\n"))
			continue
		}
		if d.opt.i == "" {
			d.info("The valid attribute names for object type '%s' are:", t)
		}
		d.info("Attribute          Description\n")
		var lines []string
		for _, a := range d.schema.Attrs(t) {
			if d.opt.i != "" && !want[a.Name] {
				continue
			}
			space := "\t"
			if len(a.Name) < 7 {
				space = "\t\t"
			}
			lines = append(lines, a.Name+":"+space+a.Description+"\n\n")
		}
		sort.Strings(lines)
		d.info("%s", strings.TrimSuffix(strings.Join(lines, ""), "\n\n"))
	}
}

// defWhere is one -w selection: attr==val, attr=~re, attr!=val, attr!~re
// (attr=val is attr==val).
type defWhere struct {
	attr, op, val string
	re            *regexp.Regexp
}

var (
	whereEqRE    = regexp.MustCompile(`^[^=]*==`)
	whereReRE    = regexp.MustCompile(`^[^=]*=~`)
	whereNeRE    = regexp.MustCompile(`^[^=]*!=`)
	whereNreRE   = regexp.MustCompile(`[^=]*!~`)
	whereEqOneRE = regexp.MustCompile(`^[^=]*=[^=]+$`)
)

// parseWhereExpr parses one selection the way xCAT::Utils::
// parse_selection_string does.
func parseWhereExpr(m string) (defWhere, bool) {
	var w defWhere
	cut := func(sep, op string) {
		w.attr, w.val, _ = strings.Cut(m, sep)
		w.op = op
	}
	switch {
	case whereEqRE.MatchString(m):
		cut("==", "==")
	case whereReRE.MatchString(m):
		cut("=~", "=~")
	case whereNeRE.MatchString(m):
		cut("!=", "!=")
	case whereNreRE.MatchString(m):
		cut("!~", "!~")
	case whereEqOneRE.MatchString(m):
		cut("=", "==")
	default:
		return w, false
	}
	if w.op == "=~" || w.op == "!~" {
		w.val = strings.TrimPrefix(w.val, "/")
		w.val = strings.TrimSuffix(w.val, "/")
		re, err := regexp.Compile(w.val)
		if err != nil {
			return w, false
		}
		w.re = re
	}
	return w, true
}

func (d *defCall) parseWhere() bool {
	for _, m := range d.opt.w {
		w, ok := parseWhereExpr(m)
		if !ok {
			return false
		}
		d.where[w.attr] = w
	}
	return true
}

// match reports whether attrs satisfies every selection
// (xCAT::Utils::selection_string_match): an unset attribute never matches.
func (w defWhere) match(attrs map[string]string) bool {
	v, ok := attrs[w.attr]
	if !ok || v == "" {
		return false
	}
	switch w.op {
	case "==":
		return v == w.val
	case "!=":
		return v != w.val
	case "=~":
		return w.re.MatchString(v)
	default:
		return !w.re.MatchString(v)
	}
}

func (d *defCall) whereMatch(attrs map[string]string) bool {
	for _, w := range d.where {
		if !w.match(attrs) {
			return false
		}
	}
	return true
}

// loadGroups collects every group name (group objects and the names used
// in nodes' groups lists, as xCAT's getObjectsOfType('group') does) and the
// static members of each.
func (d *defCall) loadGroups() {
	if d.groupNames != nil {
		return
	}
	d.groupNames = map[string]bool{}
	d.members = map[string][]string{}
	for _, g := range d.view.List(inventory.Group) {
		d.groupNames[g.Name] = true
	}
	for _, n := range d.view.List(inventory.Node) {
		for _, g := range n.Groups() {
			d.groupNames[g] = true
			d.members[g] = append(d.members[g], n.Name)
		}
	}
}

// objectNames lists the objects of a type by name (getObjectsOfType).
func (d *defCall) objectNames(t inventory.Type) []string {
	switch t {
	case inventory.Site:
		return []string{inventory.SiteName}
	case inventory.Group:
		d.loadGroups()
		return sortedKeys(d.groupNames)
	}
	objs := d.view.List(t)
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.Name
	}
	return names
}

// exists reports whether the object is defined.
func (d *defCall) exists(t inventory.Type, name string) bool {
	switch t {
	case inventory.Site:
		return name == inventory.SiteName
	case inventory.Group:
		d.loadGroups()
		return d.groupNames[name]
	}
	_, ok := d.view.Get(t, name)
	return ok
}

// groupMembers returns a group's members as lsdef shows them.
func (d *defCall) groupMembers(name string) []string {
	if g, ok := d.view.Get(inventory.Group, name); ok && g.Get("grouptype") == "dynamic" {
		if d.index == nil {
			d.index = inventory.NewIndex(d.view, d.schema)
		}
		m, _ := d.index.GroupMembers(name)
		return m
	}
	d.loadGroups()
	return d.members[name]
}

// shown returns an object's attributes as lsdef shows them: nodes resolved
// through their groups, groups raw with their computed members, secrets
// masked unless the caller may see them. nil if the object does not exist.
func (d *defCall) shown(t inventory.Type, name string) map[string]string {
	if !d.exists(t, name) {
		return nil
	}
	out := map[string]string{}
	o, ok := d.view.Get(t, name)
	switch {
	case t == inventory.Node:
		if d.index == nil {
			d.index = inventory.NewIndex(d.view, d.schema)
		}
		res, _ := d.index.Resolve(name) // a fresh map without empty values
		out = res
	case ok:
		for k, v := range o.Attrs {
			if v != "" {
				out[k] = v
			}
		}
	}
	if t == inventory.Group {
		out["members"] = strings.Join(d.groupMembers(name), ",")
	}
	if !d.req.ShowSecrets {
		for k, v := range out {
			if v != "" && inventory.IsSecret(k) {
				out[k] = inventory.Masked
			}
		}
	}
	return out
}

// own returns a copy of the stored object, or nil.
func (d *defCall) own(t inventory.Type, name string) *inventory.Object {
	o, ok := d.view.Get(t, name)
	if !ok {
		return nil
	}
	c := o.Clone()
	return &c
}

var nodeNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// validName is xCAT's isobjnamevalid: node names are letters, digits, '-'
// and '_' (or an IPv4 address); a group name must not be a noderange that
// expands to something else.
func (d *defCall) validName(name string, t inventory.Type) bool {
	switch t {
	case "", inventory.Node:
		return nodeNameRE.MatchString(name) || isIPv4(name)
	case inventory.Group:
		res, err := noderange.Expand(inventory.NewIndex(inventory.NewMemory(), d.schema), name, noderange.Options{})
		return err == nil && len(res.Nodes) == 1 && res.Nodes[0] == name
	}
	return true
}

var ipv4RE = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$`)

func isIPv4(s string) bool {
	m := ipv4RE.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	for _, p := range m[1:] {
		n := 0
		fmt.Sscan(p, &n)
		if n > 255 {
			return false
		}
	}
	return true
}

// typeList is the list of object types in the usage texts.
func typeList(sep string) string {
	var names []string
	for _, t := range inventory.Types() {
		names = append(names, string(t))
	}
	sort.Strings(names)
	return strings.Join(names, sep)
}

// defUsage prints xCAT's usage text of a command.
func (d *defCall) usage() {
	var lines []string
	switch d.cmd {
	case "lsdef":
		lines = []string{
			"\nUsage: lsdef - List xCAT data object definitions.\n",
			"  lsdef [-h | --help ] [-t object-types]\n",
			"  lsdef [-l|--long] [-a|--all] [-t *object-types*] [-z|--stanza]",
			"        [-i attr-list] [--nics]\n",
			"  lsdef [-V | --verbose] [-t object-types] [-o object-names]",
			"        [ -l | --long] [-s | --short] [-a | --all] [-z | --stanza ] [-S]",
			"        [-i attr-list] [-w attr==val [-w attr=~val] ...] [noderange]\n",
			"\nThe following data object types are supported by xCAT:\n",
			" " + typeList(" ") + "\n",
		}
	case "mkdef":
		lines = []string{
			"\nUsage: mkdef - Create xCAT data object definitions.\n",
			"  mkdef [-h | --help ] [-t object-types]\n",
			"  mkdef [-V | --verbose] [-t object-types]",
			"      [-o object-names] [-z|--stanza ]",
			"      [-d | --dynamic] [-w attr==val [-w attr=~val] ...]",
			"      [-f | --force] [noderange] [attr=val [attr=val...]]",
			"\nThe following data object types are supported by xCAT:\n",
			" " + typeList(" ") + "\n",
		}
	case "chdef":
		lines = []string{
			"\nUsage: chdef - Change xCAT data object definitions.\n",
			"  chdef [-h | --help ] [-t object-types]\n",
			"  chdef [-t object-types] [-o object-names] [-n new-name] [node]\n",
			"  chdef [-V | --verbose] [-t object-types] [-o object-names] [-d | --dynamic]",
			"    [-z | --stanza] [-m | --minus] [-p | --plus]",
			"    [-w attr==val [-w attr=~val] ... ] [noderange] [attr=val [attr=val...]]\n",
			"\nThe following data object types are supported by xCAT:\n",
			typeList(",") + "\n",
		}
	case "rmdef":
		lines = []string{
			"\nUsage: rmdef - Remove xCAT data object definitions.\n",
			"  rmdef [-h | --help ] [-t object-types]\n",
			"  rmdef [-V | --verbose] [-t object-types] [-a | --all] [-f | --force]",
			"    [-o object-names] [noderange]\n",
			"\nThe following data object types are supported by xCAT:\n",
			" " + typeList(" ") + "\n",
		}
	}
	lines = append(lines,
		"\nUse the '-h' option together with the '-t <object-types>' option to",
		" get a list of valid attribute names for each object type.\n")
	for _, l := range lines {
		d.info("%s", l)
	}
}

// start parses the command line and handles the processArgs outcomes
// common to the four commands. It returns false when the command is done,
// with its exit code.
func (d *defCall) start() (int, bool) {
	switch d.processArgs() {
	case defReturn:
		return d.rc(false), false
	case defUsage:
		d.usage()
		return d.rc(false), false
	case defError:
		return 1, false
	}
	return 0, true
}

// apply writes the changes in one transaction.
func (d *defCall) apply(changes []inventory.Change) error {
	if len(changes) == 0 {
		return nil
	}
	return d.r.Backend.Apply(d.ctx, changes)
}

// targetRefs lists the objects a command names, without repeats: the names
// from -o, a noderange or operands (sorted), then those found from -t alone
// or -a.
func (d *defCall) targetRefs() []defRef {
	var refs []defRef
	seen := map[defRef]bool{}
	add := func(ref defRef) {
		if !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	if d.fromOptO || d.fromNR || d.fromArgs {
		names := slices.Clone(d.names)
		sort.Strings(names)
		for _, n := range names {
			add(defRef{d.types[0], n})
		}
	}
	if d.fromOptT || d.fromOptA {
		for _, ref := range d.listed {
			add(ref)
		}
	}
	return refs
}

// stanzaOptionConflict reports (as xCAT's mkdef and chdef do) -t combined
// with -a, -z or -x, and -z combined with -o or a noderange.
func (d *defCall) stanzaOptionConflict() bool {
	o := &d.opt
	switch {
	case o.t != "" && (o.a || o.z || o.x):
		d.errorf("Cannot combine '-t' and '-a', '-z', or '-x' options.")
	case o.z && (o.o != "" || len(d.noderange) > 0):
		d.errorf("Cannot use '-z' with '-o' or a noderange.")
		d.errorf("Example of -z usage:\n\t'cat stanzafile | %s -z'", d.cmd)
	default:
		return false
	}
	d.usage()
	return true
}
