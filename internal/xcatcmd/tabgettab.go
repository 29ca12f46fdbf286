package xcatcmd

import (
	"context"
	"slices"
	"strings"
)

const gettabUsage = `Usage: gettab [-H|--with-fieldname] key=value,...  table.attribute ...
       gettab [-?|-h|--help]
`

// gettab prints columns of the first row matching key=value pairs (xCAT's
// tabutils.pm gettab): the bare value when one column is asked for and -H
// is not given, "table.column: value" lines otherwise. A table without a
// matching row that has one of the columns defined prints nothing. Values
// are the raw stored ones (no group inheritance), as in xCAT.
func (r *Runner) gettab(_ context.Context, c *call) int {
	if len(c.req.Args) == 0 {
		c.out(gettabUsage)
		return 1
	}
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"H", "with-fieldname"}},
	}, c.req.Args)
	if err != nil {
		c.out(gettabUsage)
		return 1
	}
	if p.has("h") {
		c.out(gettabUsage)
		return 0
	}
	if len(p.args) < 2 {
		c.out(gettabUsage)
		return 1
	}
	var keys []tabKV
	for _, kv := range strings.Split(p.args[0], ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		keys = append(keys, tabKV{col: k, val: v})
	}
	terse := len(p.args[1:]) == 1 && !p.has("H")
	var tables []string
	cols := map[string][]string{}
	for _, tc := range p.args[1:] {
		t, col, _ := strings.Cut(tc, ".")
		col, _, _ = strings.Cut(col, ".")
		if _, ok := cols[t]; !ok {
			tables = append(tables, t)
		}
		if !slices.Contains(cols[t], col) {
			cols[t] = append(cols[t], col)
		}
	}
	ts := r.tables()
	for _, t := range tables {
		l := ts.layout(t)
		for _, k := range keys {
			if l == nil || l.col(k.col) < 0 {
				c.errorf("Unkown key %s to %s\n", k.col, t)
				return 1
			}
		}
		if l == nil {
			c.errorf("No such table: %s\n", t)
			return 1
		}
	}
	v := r.Backend.View()
	for _, t := range tables {
		l := ts.layout(t)
		var found []string
		for _, row := range ts.lookupRows(v, l, keys) {
			vals := row.displayVals(c.req.ShowSecrets)
			any := false
			for _, col := range cols[t] {
				if ci := l.col(col); ci >= 0 && vals[ci] != "" {
					any = true
				}
			}
			if any {
				found = vals
				break
			}
		}
		if found == nil {
			continue
		}
		for _, col := range cols[t] {
			val := ""
			if ci := l.col(col); ci >= 0 {
				val = found[ci]
			}
			if terse {
				c.out("%s\n", val)
			} else {
				c.out("%s.%s: %s\n", t, col, val)
			}
		}
	}
	return 0
}
