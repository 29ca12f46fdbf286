package xcatcmd

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"drover.dev/drover/internal/inventory"
)

const tabrestoreUsage = `Usage: tabrestore <tablename>.csv
       tabrestore -a <tablename>.csv
       tabrestore [-?|-h|--help]
       tabrestore [-v|--version]
`

// tabrestore replaces a table with the rows of a CSV file, or with -a adds
// them (xCAT's tabrestore). The client sends the file's contents as
// standard input and its base name as the argument; the table is the base
// name up to the first ".". Every error is reported with its line, and then
// nothing is written: the whole table is written in one Backend.Apply.
//
// Replacing a table replaces its projection: objects with a row that is not
// in the file lose it (for nodelist, osimage, networks, policy and
// boottarget that deletes them), and the attributes of the rows in the file
// become exactly the file's values.
func (r *Runner) tabrestore(ctx context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
		{names: []string{"a", "addrows"}},
	}, c.req.Args)
	if err != nil {
		c.out(tabrestoreUsage)
		return 1
	}
	if p.has("v") {
		c.out(tabVersion)
		return 0
	}
	if p.has("h") {
		c.out(tabrestoreUsage)
		return 0
	}
	if len(p.args) == 0 {
		c.out(tabrestoreUsage)
		return 2
	}
	base := p.args[0]
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	table, _, _ := strings.Cut(base, ".")
	if strings.HasPrefix(table, "x_teal") {
		c.errorf("%s is not supported in tabrestore. Use Teal maintenance commands. \n", table)
		return 1
	}
	ts := r.tables()
	l := ts.layout(table)
	if l == nil {
		c.errorf("Unable to open %s\n", table)
		return 4
	}
	cols, recs, lineErrs, err := parseTabCSV(c.req.Stdin)
	if err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	colIdx := make([]int, len(cols))
	for i, col := range cols {
		if colIdx[i] = l.col(col); colIdx[i] < 0 {
			c.errorf("The header line indicates that column '%s' should exist, which is not defined in the schema for '%s'\n", col, table)
			return 1
		}
	}
	// Every bad line is reported, in line order, and then nothing is written.
	report := func() int {
		sort.SliceStable(lineErrs, func(i, j int) bool { return lineErrs[i].line < lineErrs[j].line })
		for _, e := range lineErrs {
			c.errorf("%s\n", e.msg)
		}
		return 4
	}
	w := newTabWriter(ts, r.Backend.View())
	if !l.stored() {
		for _, rec := range recs {
			for _, v := range rec.vals {
				if v != "" {
					c.errorf("%v\n", &tabTableError{table: table})
					return 1
				}
			}
		}
		if len(lineErrs) > 0 {
			return report()
		}
		return 0
	}
	// The rows of the file, each as a full table row.
	type fileRow struct {
		rec       tabRecord
		vals      []string
		name, sub string
	}
	var rows []fileRow
	for _, rec := range recs {
		vals := make([]string, len(l.def.Columns))
		for i, v := range rec.vals {
			vals[colIdx[i]] = v
		}
		get := func(col string) string { return vals[l.col(col)] }
		name, sub := rowIdentity(l, get)
		rows = append(rows, fileRow{rec: rec, vals: vals, name: name, sub: sub})
	}
	lineErr := func(fr fileRow, err error) {
		lineErrs = append(lineErrs, &tabLineError{line: fr.rec.line, msg: fmt.Sprintf("%v on line %d: %s", err, fr.rec.line, fr.rec.text)})
	}
	// Identify each file row's object before anything changes.
	type rowKey struct {
		t         inventory.Type
		name, sub string
	}
	seen := map[rowKey]int{}
	keyOf := make([]*rowKey, len(rows))
	ident := newTabWriter(ts, r.Backend.View())
	for i, fr := range rows {
		o, err := ident.rowObject(l, fr.name, fr.sub, true)
		if err != nil {
			lineErr(fr, err)
			continue
		}
		k := rowKey{o.Type, o.Name, fr.sub}
		if first, dup := seen[k]; dup {
			lineErr(fr, fmt.Errorf("duplicate row for %s (first on line %d)", describeRowKey(l, fr.name, fr.sub), first))
			continue
		}
		seen[k] = fr.rec.line
		keyOf[i] = &k
	}
	add := p.has("a")
	if !add {
		for _, row := range ts.rows(w, l) {
			if _, keep := seen[rowKey{row.obj.Type, row.obj.Name, row.sub}]; !keep {
				w.deleteRow(l, row)
			}
		}
	}
	for i, fr := range rows {
		k := keyOf[i]
		if k == nil {
			continue // already reported
		}
		if add {
			if cur := existingRow(ts, w, l, k.t, k.name, k.sub); cur != nil {
				if !sameRow(l, cur, fr.vals) {
					lineErr(fr, fmt.Errorf("a row for %s already exists in table %s", describeRowKey(l, fr.name, fr.sub), table))
				}
				continue
			}
		}
		o, err := w.rowObject(l, fr.name, fr.sub, true)
		if err == nil && o.Type != k.t {
			err = fmt.Errorf("'%s' changed from %s to %s while restoring", o.Name, k.t, o.Type)
		}
		if err == nil {
			err = w.putRow(l, o, fr.sub, fr.vals)
		}
		if err != nil {
			lineErr(fr, err)
		}
	}
	if len(lineErrs) > 0 {
		return report()
	}
	return r.tabApply(ctx, c, w)
}

// describeRowKey names a row for messages: node=cn1, key=dhcplease, ...
func describeRowKey(l *tabLayout, name, sub string) string {
	switch l.kind {
	case kindSite:
		return "key=" + sub
	case kindPpcdirect:
		return "hcp=" + name + ",username=" + sub
	}
	return l.def.Columns[l.id] + "=" + name
}

// existingRow returns the current row of an object in the table, or nil.
func existingRow(ts *tabSchema, v inventory.View, l *tabLayout, t inventory.Type, name, sub string) *tabRow {
	o, ok := v.Get(t, name)
	if !ok {
		return nil
	}
	for _, row := range ts.objectRows(v, l, o) {
		if row.sub == sub {
			return &row
		}
	}
	return nil
}

// sameRow reports whether a row already holds vals (a masked secret in
// vals matches any value).
func sameRow(l *tabLayout, cur *tabRow, vals []string) bool {
	for i, v := range vals {
		if v == cur.vals[i] {
			continue
		}
		if a := cur.attrs[i]; v == inventory.Masked && a != "" && inventory.IsSecret(a) {
			continue
		}
		if l.def.Columns[i] == "disable" && (v == "0" || strings.EqualFold(v, "no")) {
			continue
		}
		return false
	}
	return true
}
