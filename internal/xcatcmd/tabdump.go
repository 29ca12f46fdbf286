package xcatcmd

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

const tabdumpUsage = `Usage: tabdump [-d] [table]
       tabdump      [table]
       tabdump [-f <filename>]  [table]
       tabdump [-n <# of records>]  [auditlog | eventlog]
       tabdump [-w attr==val [-w attr=~val] ...] [table]
       tabdump [-w attr==val [-w attr=~val] ...] [-f <filename>] [table]
       tabdump [-?|-h|--help]
       tabdump {-v|--version}
       tabdump 
`

// tabVersion is what the table commands print for -v.
const tabVersion = "drover\n"

// tabdump prints a table in xCAT's CSV format, the list of tables, or the
// descriptions of a table's columns (xCAT's tabutils.pm tabdump).
func (r *Runner) tabdump(_ context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
		{names: []string{"n", "lines"}, value: true},
		{names: []string{"d"}},
		{names: []string{"f"}, value: true},
		{names: []string{"w"}, value: true},
	}, c.req.Args)
	_, nSet, nOK := p.intOpt("n")
	if err != nil || !nOK {
		c.out(tabdumpUsage)
		return 1
	}
	if p.has("v") {
		c.out(tabVersion)
		return 0
	}
	if p.has("h") {
		c.out(tabdumpUsage)
		return 0
	}
	if nSet {
		for _, o := range []string{"d", "w", "f"} {
			if p.has(o) {
				c.errorf("You  cannot use the -n and -%s flag together. \n", o)
				return 1
			}
		}
	}
	if len(p.args) > 1 {
		c.out(tabdumpUsage)
		return 1
	}
	ts := r.tables()
	if len(p.args) == 0 {
		if p.has("f") {
			c.errorf("table name missing from the command input. \n")
			return 1
		}
		var list []string
		for _, t := range ts.tableNames() {
			if p.has("d") {
				list = append(list, t+":"+descSpace(t)+tableDescription(t)+"\n")
			} else {
				list = append(list, t)
			}
		}
		sort.Strings(list)
		if p.has("d") && len(list) > 0 {
			list[len(list)-1] = strings.TrimSuffix(list[len(list)-1], "\n")
		}
		for _, s := range list {
			c.out("%s\n", s)
		}
		return 0
	}
	table := p.args[0]
	if nSet && !strings.HasPrefix(table, "auditlog") && !strings.HasPrefix(table, "eventlog") {
		c.errorf("%s table is not supported in tabdump -n. You may only use this option on the auditlog or the eventlog.\n", table)
		return 1
	}
	if strings.HasPrefix(table, "x_teal") {
		c.errorf("%s table is not supported in tabdump. Use Teal maintenance commands. \n", table)
		return 1
	}
	l := ts.layout(table)
	if p.has("d") {
		if l == nil {
			c.errorf("table %s does not exist.\n", table)
			return 1
		}
		for i, col := range l.def.Columns {
			sep := "\n\n"
			if i == len(l.def.Columns)-1 {
				sep = "\n"
			}
			c.out("%s:%s%s%s", col, descSpace(col), l.desc[i], sep)
		}
		return 0
	}
	if l == nil {
		c.errorf("No such table: %s\n", table)
		return 1
	}
	if nSet {
		// auditlog and eventlog are never stored by drover.
		c.out("Nothing to display from %s.\n", table)
		return 0
	}
	if p.has("f") {
		c.errorf("tabdump -f is not supported by drover; redirect the standard output instead\n")
		return 1
	}
	var filters []tabFilter
	for _, w := range p.opts["w"] {
		f, err := parseTabFilter(l, w)
		if err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		filters = append(filters, f)
	}
	c.out("%s\n", formatTabHeader(l.def.Columns))
	for _, row := range ts.rows(r.Backend.View(), l) {
		vals := row.displayVals(c.req.ShowSecrets)
		keep := true
		for _, f := range filters {
			if !f.match(vals[f.col]) {
				keep = false
				break
			}
		}
		if keep {
			c.out("%s\n", formatTabLine(vals))
		}
	}
	return 0
}

// descSpace is the separator tabdump -d puts after "name:".
func descSpace(name string) string {
	if len(name) < 7 {
		return "\t\t"
	}
	return "\t"
}

// tabFilter is one -w selection of tabdump: column op value, with xCAT's
// SQL semantics (an undefined value never matches).
type tabFilter struct {
	col int
	op  string // "==", "!=", "=~" (SQL LIKE), "!~" (NOT LIKE), "<", "<=", ">", ">="
	val string
}

// parseTabFilter parses attr==val, attr!=val, attr=~val, attr!~val,
// attr<val, attr<=val, attr>val, attr>=val like xCAT's buildWhereClause
// (slashes around a LIKE pattern are removed).
func parseTabFilter(l *tabLayout, expr string) (tabFilter, error) {
	eq := strings.IndexByte(expr, '=')
	before := func(c byte) int { // index of c if it comes before any '='
		i := strings.IndexByte(expr, c)
		if i >= 0 && (eq < 0 || i < eq) {
			return i
		}
		return -1
	}
	var attr string
	f := tabFilter{}
	switch {
	case eq >= 0 && strings.HasPrefix(expr[eq:], "=="):
		attr, f.op, f.val = expr[:eq], "==", expr[eq+2:]
	case eq >= 0 && strings.HasPrefix(expr[eq:], "=~"):
		attr, f.op, f.val = expr[:eq], "=~", expr[eq+2:]
	case eq > 0 && expr[eq-1] == '!':
		attr, f.op, f.val = expr[:eq-1], "!=", expr[eq+1:]
	case strings.Contains(expr, "!~"):
		i := strings.Index(expr, "!~")
		attr, f.op, f.val = expr[:i], "!~", expr[i+2:]
	case eq > 0 && expr[eq-1] == '<':
		attr, f.op, f.val = expr[:eq-1], "<=", expr[eq+1:]
	case before('<') >= 0:
		i := before('<')
		attr, f.op, f.val = expr[:i], "<", expr[i+1:]
	case eq > 0 && expr[eq-1] == '>':
		attr, f.op, f.val = expr[:eq-1], ">=", expr[eq+1:]
	case before('>') >= 0:
		i := before('>')
		attr, f.op, f.val = expr[:i], ">", expr[i+1:]
	default:
		return f, fmt.Errorf("Unsupported operator:%s  on -w flag input, could not build a Where Clause.", expr) //nolint:staticcheck // xCAT's exact text
	}
	if f.op == "=~" || f.op == "!~" {
		f.val = strings.TrimPrefix(f.val, "/")
		f.val = strings.TrimSuffix(f.val, "/")
	}
	if f.col = l.col(attr); f.col < 0 {
		return f, fmt.Errorf("%s.%s not a valid table.column description", l.def.Name, attr)
	}
	return f, nil
}

func (f tabFilter) match(v string) bool {
	if v == "" {
		return false // SQL: NULL matches no comparison
	}
	switch f.op {
	case "==":
		return v == f.val
	case "!=":
		return v != f.val
	case "=~":
		return sqlLike(f.val, v)
	case "!~":
		return !sqlLike(f.val, v)
	case "<":
		return v < f.val
	case "<=":
		return v <= f.val
	case ">":
		return v > f.val
	case ">=":
		return v >= f.val
	}
	return false
}

// sqlLike reports whether s matches the SQL LIKE pattern (% any run, _ any
// one character; ASCII letters match case-insensitively, as in SQLite).
func sqlLike(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	// Iterative wildcard matching with backtracking to the last %.
	pi, ti, star, mark := 0, 0, -1, 0
	fold := func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '%':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '_' || fold(p[pi]) == fold(t[ti])):
			pi++
			ti++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}
