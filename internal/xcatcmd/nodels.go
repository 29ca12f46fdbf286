package xcatcmd

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/noderange"
)

// nodelsShortName resolves nodels' short column names (tabutils.pm
// %shortnames).
func nodelsShortName(name string) (table, column string, ok bool) {
	switch name {
	case "groups", "tags":
		return "nodelist", "groups", true
	case "mgt":
		return "nodehm", "mgt", true
	}
	return "", "", false
}

// nodelsColumn is one requested column of nodels.
type nodelsColumn struct {
	table, column string
	label         string // as the user typed it (table.column for whole tables)
	show          bool   // given at least once without a filter
	filter        *defWhere
}

// nodels lists nodes and, optionally, their table.column values
// (tabutils.pm nodels).
func (r *Runner) nodels(ctx context.Context, c *call) int {
	d := r.newDefCall(ctx, c, "nodels")
	// xcatclient's split: leading options, then the noderange, then the
	// arguments for the plugin.
	var pre, rest []string
	rng, haveRange := "", false
	for i, a := range c.req.Args {
		if strings.HasPrefix(a, "-") {
			pre = append(pre, a)
			continue
		}
		rng, haveRange = a, true
		rest = c.req.Args[i+1:]
		break
	}
	var help, withName, blame, version, hidden bool
	flags := []defFlag{
		{'h', []string{"help"}, false, func(*defOpts, string) { help = true }},
		{'?', nil, false, func(*defOpts, string) { help = true }},
		{'H', []string{"with-fieldname"}, false, func(*defOpts, string) { withName = true }},
		{'b', []string{"blame"}, false, func(*defOpts, string) { blame = true }},
		{'v', []string{"version"}, false, func(*defOpts, string) { version = true }},
		{'S', nil, false, func(*defOpts, string) { hidden = true }},
	}
	var opts defOpts
	if err := getopt(flags, append(pre, rest...), &opts); err != nil {
		d.nodelsUsage()
		return 1
	}
	switch {
	case help:
		d.nodelsUsage()
		return 0
	case version:
		d.info("drover")
		return 0
	}

	d.index = inventory.NewIndex(d.view, d.schema)
	var nodes []string
	if haveRange {
		res, err := noderange.Expand(d.index, rng, noderange.Options{
			Verify: true, ReadFile: readFileFrom(c.req.Files), Exclude: d.excludeNodes(),
		})
		if err != nil {
			d.errorf("%s", err)
			return 1
		}
		if len(res.Missing) > 0 {
			d.errorf("Invalid nodes and/or groups in noderange: %s", strings.Join(res.Missing, ","))
			return 1
		}
		nodes = res.Nodes
	} else {
		nodes = d.index.Nodes()
	}
	if !hidden {
		kept := nodes[:0:0]
		for _, n := range nodes {
			if o, ok := d.view.Get(inventory.Node, n); ok && o.Get("hidden") == "1" {
				continue
			}
			kept = append(kept, n)
		}
		nodes = kept
	}
	if len(opts.operands) == 0 {
		for _, n := range nodes {
			d.info("%s", n)
		}
		return 0
	}

	cols, terse, ok := d.nodelsColumns(opts.operands)
	if !ok {
		return 1
	}
	if withName {
		terse = 0
	}
	for _, n := range nodes {
		var lines []string
		keep, must := true, false
		for _, col := range cols {
			value, from := d.nodelsValue(n, col, blame)
			if col.filter != nil {
				if !col.filter.matchValue(value) {
					keep = false
					break
				}
				must = true
				if !col.show {
					continue
				}
			}
			if from != "" {
				value += " (inherited from group " + from + ")"
			}
			line := n + ": "
			if terse <= 0 {
				line += col.label + ": "
			}
			lines = append(lines, line+value)
		}
		switch {
		case !keep:
		case len(lines) > 0:
			for _, l := range lines {
				d.info("%s", l)
			}
		case must:
			d.info("%s", n)
		}
	}
	return d.rc(false)
}

var (
	nodelsNeRE  = regexp.MustCompile(`^[^=]*!=`)
	nodelsReRE  = regexp.MustCompile(`^[^=]*=~`)
	nodelsEqRE  = regexp.MustCompile(`[^=]*==`)
	nodelsNreRE = regexp.MustCompile(`[^=]*!~`)
)

// nodelsColumns parses nodels' column arguments. terse counts down from 2
// for each table.column or short name (whole tables set it to 0): labels are
// printed when it is not positive.
func (d *defCall) nodelsColumns(args []string) (cols []*nodelsColumn, terse int, ok bool) {
	terse = 2
	byKey := map[string]*nodelsColumn{}
	addCol := func(table, column, label string, filter *defWhere) bool {
		key := table + "." + column
		col := byKey[key]
		if col == nil {
			col = &nodelsColumn{table: table, column: column}
			byKey[key] = col
			cols = append(cols, col)
		}
		col.label = label
		if filter == nil {
			col.show = true
			return true
		}
		if col.filter != nil {
			d.errorf("Multiple selection critera for %s", label)
			return false
		}
		col.filter = filter
		return true
	}
	for _, arg := range args {
		temp := arg
		var filter *defWhere
		cut := func(sep, op string) {
			var val string
			temp, val, _ = strings.Cut(arg, sep)
			if op == "=~" || op == "!~" {
				val = strings.TrimSuffix(strings.TrimPrefix(val, "/"), "/")
			}
			filter = &defWhere{op: op, val: val}
		}
		switch {
		case nodelsNeRE.MatchString(arg):
			cut("!=", "!=")
		case nodelsReRE.MatchString(arg):
			cut("=~", "=~")
		case nodelsEqRE.MatchString(arg):
			cut("==", "==")
		case nodelsNreRE.MatchString(arg):
			cut("!~", "!~")
		}
		if filter != nil && filter.re == nil && (filter.op == "=~" || filter.op == "!~") {
			re, err := regexp.Compile(filter.val)
			if err != nil {
				d.errorf("%s not a valid regular expression: %v", filter.val, err)
				continue
			}
			filter.re = re
		}
		var table, column string
		if t, c, isShort := nodelsShortName(temp); isShort {
			table, column = t, c
			terse--
		} else if t, c, dotted := strings.Cut(temp, "."); dotted {
			table, column = t, c
			terse--
		} else if td, isTable := d.schema.Table(temp); isTable {
			terse = 0
			for _, c := range td.Columns {
				if byKey[temp+"."+c] == nil {
					addCol(temp, c, temp+"."+c, nil)
				}
			}
			continue
		} else {
			d.errorf("%s not a valid table.column description", temp)
			continue
		}
		td, isTable := d.schema.Table(table)
		if !isTable || !slices.Contains(td.Columns, column) {
			d.errorf("%s.%s not a valid table.column description", table, column)
			continue
		}
		if !addCol(table, column, temp, filter) {
			return nil, 0, false
		}
	}
	return cols, terse, true
}

// nodelsValue returns a node's value of a column, resolved through its
// groups, and with blame the group it came from. Secrets are masked unless
// the caller may see them.
func (d *defCall) nodelsValue(node string, col *nodelsColumn, blame bool) (value, from string) {
	value, _ = d.index.Attr(node, col.table+"."+col.column)
	attr := d.columnAttr(col.table, col.column)
	if blame && value != "" && attr != "" {
		if o, ok := d.view.Get(inventory.Node, node); ok {
			_, from = inventory.ResolveAttr(d.view, o, attr)
		}
	}
	if value != "" && !d.req.ShowSecrets && (inventory.IsSecret(attr) || inventory.IsSecret(col.column)) {
		value = inventory.Masked
	}
	return value, from
}

// columnAttr returns the node attribute stored in table.column (the first
// in schema order), "" if none.
func (d *defCall) columnAttr(table, column string) string {
	for _, a := range d.schema.Attrs(inventory.Node) {
		for _, v := range d.schema.Variants(inventory.Node, a.Name) {
			if v.Table == table && v.Column == column {
				return a.Name
			}
		}
	}
	return ""
}

// matchValue applies a nodels filter; a missing value compares as "".
func (w *defWhere) matchValue(v string) bool {
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

// excludeNodes is site.excludenodes, the nodes every noderange leaves out.
func (d *defCall) excludeNodes() string {
	if s, ok := d.view.Get(inventory.Site, inventory.SiteName); ok {
		return s.Get("excludenodes")
	}
	return ""
}

func (d *defCall) nodelsUsage() {
	d.info("Usage:")
	d.info("  nodels [noderange] [-b|--blame] [-H|--with-fieldname] [table.attribute | shortname] [-S][...]")
	d.info("  nodels {-v|--version}")
	d.info("  nodels [-?|-h|--help]")
}
