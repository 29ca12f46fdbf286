package xcatcmd

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/noderange"
)

const nodeaddUsage = `Usage: nodeadd <noderange> groups=<groupnames> [table.column=value] [...]
       nodeadd {-v | --version}
       nodeadd [-? | -h | --help]
`

const nodermUsage = `Usage:
  noderm noderange
  noderm {-v|--version}
  noderm [-?|-h|--help]
`

// tabShortNames are tabutils.pm's short names for common columns.
func tabShortName(s string) (table, column string, ok bool) {
	switch s {
	case "groups", "tags":
		return "nodelist", "groups", true
	case "mgt":
		return "nodehm", "mgt", true
	}
	return "", "", false
}

// tabExpand expands a noderange with xCAT's rules (site.excludenodes
// applies), reading ^file elements from the files the client sent.
func (r *Runner) tabExpand(v inventory.View, rng string, verify bool, files map[string]string) (noderange.Result, error) {
	opt := noderange.Options{
		Verify: verify,
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
	}
	if site, ok := v.Get(inventory.Site, inventory.SiteName); ok {
		opt.Exclude = site.Get("excludenodes")
	}
	return noderange.Expand(inventory.NewIndex(v, r.Schema), rng, opt)
}

// tabCriterion is a nodeadd selection (table.column==value and the like).
type tabCriterion struct {
	l     *tabLayout
	col   int
	op    string // "==", "!=", "=~", "!~"
	val   string
	regex *regexp.Regexp
}

// nodeadd adds nodes, or changes them, with table.column=value settings
// (xCAT's nodech in add mode): the noderange is expanded without
// verification, "groups", "tags" and "mgt" are short names, a value may be
// added to (table.column,=value) or removed from (table.column^=value) a
// comma list, an empty value stores '|^.*$||' (which stops group
// inheritance), and table.column==value, !=, =~ and !~ select among the
// nodes. Everything is written in one Backend.Apply.
func (r *Runner) nodeadd(ctx context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
	}, c.req.Args)
	if err != nil {
		c.out(nodeaddUsage)
		return 1
	}
	if p.has("h") {
		c.out(nodeaddUsage)
		return 0
	}
	if p.has("v") {
		c.out(tabVersion)
		return 0
	}
	if len(p.args) < 2 {
		c.out(nodeaddUsage)
		return 1
	}
	view := r.Backend.View()
	res, err := r.tabExpand(view, p.args[0], false, c.req.Files)
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	nodes := res.Nodes
	var upper []string
	for _, n := range nodes {
		if strings.ToLower(n) != n {
			upper = append(upper, n)
		}
	}
	if len(upper) > 0 {
		c.warnf("The node name '%s' contains capital letters which may not be resolved correctly by the dns server.\n", strings.Join(upper, ","))
	}
	ts := r.tables()
	rc := 0
	var criteria []tabCriterion
	var tables []string
	updates := map[string][]tabUpdate{}
	for _, a := range p.args[1:] {
		if !strings.Contains(a, "=") && !strings.Contains(a, "!~") {
			c.errorf("Malformed argument %s ignored.\n", a)
			rc = 1
			continue
		}
		if cr, isCrit, err := parseTabCriterion(ts, a); isCrit {
			if err != nil {
				c.errorf("%v\n", err)
				return 1
			}
			criteria = append(criteria, cr)
			continue
		}
		temp, val, _ := strings.Cut(a, "=")
		val = strings.TrimPrefix(val, "@")
		if val == "" {
			val = "|^.*$||" // xCAT: force a null entry that overrides the groups' values
		}
		u := tabUpdate{op: "=", val: val}
		if t, ok := strings.CutSuffix(temp, ","); ok {
			temp, u.op = t, ",="
		} else if t, ok := strings.CutSuffix(temp, "^"); ok {
			temp, u.op = t, "^="
		}
		table, col, ok := tabShortName(temp)
		if !ok {
			table, col, _ = strings.Cut(temp, ".")
		}
		l := ts.layout(table)
		if l == nil || l.col(col) < 0 {
			c.errorf("%s.%s not a valid table.column description\n", table, col)
			return 1
		}
		if l.kind != kindNode && l.kind != kindNodelist && l.stored() {
			c.errorf("table '%s' is not keyed by node\n", table)
			return 1
		}
		u.col, u.column = col, l.col(col)
		if _, seen := updates[table]; !seen {
			tables = append(tables, table)
		}
		updates[table] = append(updates[table], u)
	}
	nodes = filterByCriteria(ts, view, nodes, criteria)
	w := newTabWriter(ts, view)
	for _, t := range tables {
		l := ts.layout(t)
		if !l.stored() {
			if err := chtabTable(w, l, nil, updates[t]); err != nil {
				c.errorf("%v\n", err)
				return 1
			}
			continue
		}
		for _, n := range nodes {
			if err := r.nodeaddRow(c, w, l, n, updates[t]); err != nil {
				c.errorf("%v\n", err)
				return 1
			}
		}
	}
	if rc2 := r.tabApply(ctx, c, w); rc2 != 0 {
		return rc2
	}
	return rc
}

// nodeaddRow applies one table's nodeadd settings to one node.
func (r *Runner) nodeaddRow(c *call, w *tabWriter, l *tabLayout, name string, ups []tabUpdate) error {
	if _, isGroup := w.Get(inventory.Group, name); isGroup {
		return fmt.Errorf("'%s' is a group, not a node", name)
	}
	// Values set so far for this row, for ,= and ^= (xCAT's %uhsh).
	set := map[int]string{}
	var order []int
	for _, u := range ups {
		if u.col == "groups" && u.op == "=" && l.kind == kindNodelist {
			for _, g := range strings.Split(u.val, ",") {
				if gobj, ok := w.Get(inventory.Group, g); ok && gobj.Get("grouptype") == "dynamic" {
					c.out("nodegroup %s is a dynamic node group, should not add a node into a dynamic node group statically.\n\n", g)
				}
			}
		}
		val := u.val
		if u.op != "=" {
			cur, ok := set[u.column]
			if !ok {
				if o, exists := w.Get(inventory.Node, name); exists {
					cur, _ = w.ts.cell(w, l, tabResolved(w, o), u.column)
				}
			}
			items := strings.Split(cur, ",")
			has := cur != "" && slices.Contains(items, u.val)
			switch {
			case u.op == ",=" && cur == "":
				val = u.val
			case u.op == ",=" && !has:
				val = u.val + "," + cur
			case u.op == ",=":
				continue
			case has: // ^=
				val = strings.Join(slices.DeleteFunc(items, func(s string) bool { return s == u.val }), ",")
			default:
				continue
			}
		}
		if _, ok := set[u.column]; !ok {
			order = append(order, u.column)
		}
		set[u.column] = val
	}
	if len(order) == 0 {
		return nil
	}
	o := w.create(inventory.Node, name)
	for _, ci := range order {
		if err := w.setCell(l, o, "", ci, set[ci]); err != nil {
			return err
		}
	}
	return nil
}

// parseTabCriterion parses a nodeadd selection; isCrit is false when the
// argument is an assignment.
func parseTabCriterion(ts *tabSchema, a string) (cr tabCriterion, isCrit bool, err error) {
	eq := strings.IndexByte(a, '=')
	var temp string
	switch {
	case eq >= 0 && strings.HasPrefix(a[eq:], "=="):
		temp, cr.op, cr.val = a[:eq], "==", a[eq+2:]
	case eq > 0 && a[eq-1] == '!':
		temp, cr.op, cr.val = a[:eq-1], "!=", a[eq+1:]
	case eq >= 0 && strings.HasPrefix(a[eq:], "=~"):
		temp, cr.op, cr.val = a[:eq], "=~", a[eq+2:]
	case strings.Contains(a, "!~") && (eq < 0 || strings.Index(a, "!~") < eq):
		i := strings.Index(a, "!~")
		temp, cr.op, cr.val = a[:i], "!~", a[i+2:]
	default:
		return cr, false, nil
	}
	if cr.op == "=~" || cr.op == "!~" {
		cr.val = strings.TrimSuffix(strings.TrimPrefix(cr.val, "/"), "/")
		if cr.regex, err = regexp.Compile(cr.val); err != nil {
			return cr, true, fmt.Errorf("Invalid regular expression %s: %w", cr.val, err) //nolint:staticcheck // xCAT's wording
		}
	}
	table, col, ok := tabShortName(temp)
	if !ok {
		table, col, _ = strings.Cut(temp, ".")
	}
	if cr.l = ts.layout(table); cr.l == nil || cr.l.col(col) < 0 {
		return cr, true, fmt.Errorf("%s.%s not a valid table.column description", table, col)
	}
	cr.col = cr.l.col(col)
	return cr, true, nil
}

// filterByCriteria keeps the nodes whose resolved values satisfy every
// selection; like xCAT, a node without a row in the table is kept.
func filterByCriteria(ts *tabSchema, v inventory.View, nodes []string, criteria []tabCriterion) []string {
	if len(criteria) == 0 {
		return nodes
	}
	var out []string
	for _, n := range nodes {
		keep := true
		o, exists := v.Get(inventory.Node, n)
		for _, cr := range criteria {
			if !exists || !keep {
				break
			}
			row, ok := ts.objectRow(v, cr.l, tabResolved(v, o))
			if !ok || cr.l.kind != kindNode && cr.l.kind != kindNodelist {
				continue
			}
			val := row.vals[cr.col]
			switch cr.op {
			case "==":
				keep = val == cr.val
			case "!=":
				keep = val != cr.val
			case "=~":
				keep = cr.regex.MatchString(val)
			case "!~":
				keep = !cr.regex.MatchString(val)
			}
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}

// noderm removes nodes (xCAT's noderm: the nodes' rows in every node table,
// which in drover is the node objects), in one Backend.Apply. The noderange
// is verified: unknown names are an error and nothing is removed.
func (r *Runner) noderm(ctx context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
	}, c.req.Args)
	if err != nil {
		c.out(nodermUsage)
		return 1
	}
	if p.has("h") {
		c.out(nodermUsage)
		return 0
	}
	if p.has("v") {
		c.out(tabVersion)
		return 0
	}
	if len(p.args) == 0 {
		c.out(nodermUsage)
		return 1
	}
	view := r.Backend.View()
	res, err := r.tabExpand(view, p.args[0], true, c.req.Files)
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	if len(res.Missing) > 0 {
		c.errorf("Invalid nodes and/or groups in noderange: %s\n", strings.Join(res.Missing, ","))
		return 1
	}
	w := newTabWriter(r.tables(), view)
	for _, n := range res.Nodes {
		w.remove(inventory.Node, n)
	}
	return r.tabApply(ctx, c, w)
}

// tabResolved is a node with its attributes as xCAT resolves them (own
// values, then its groups', table regular expressions evaluated): what
// getNodeAttribs returns, used by nodeadd's selections and ,= and ^=.
func tabResolved(v inventory.View, o *inventory.Object) *inventory.Object {
	return &inventory.Object{Type: o.Type, Name: o.Name, Attrs: inventory.Resolve(v, o)}
}
