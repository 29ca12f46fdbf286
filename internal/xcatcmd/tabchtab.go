package xcatcmd

import (
	"context"
	"regexp"
	"slices"
	"strings"
)

const chtabUsage = `Usage:
 To add or update rows for tables:
   chtab keycolname=keyvalue[,keycolname=keyvalue...] tablename.colname=newvalue [tablename.colname=newvalue...]
 To delete rows from tables:
   chtab -d|--delete keycolname=keyvalue[,keycolname=keyvalue...] tablename [tablename...]
 To display usage and other information:
   chtab [-h|--help|-v|--Version]

   -d|--delete  Delete the rows from a list of tables.
   -v|--version Display the version of this command.
   -h|--help    Display this usage information. 
   keycolname=keyvalue   a column name-and-value pair that identifies the rows in a table to be changed.
   tablename.colname=newvalue    the new value for the specified row and column of the table.
`

// chtabAssign matches a first argument that is already a table.column=value
// assignment rather than the key pairs.
var chtabAssign = regexp.MustCompile(`([^.=]+)\.([^.=]+)=(.+)`)

// tabUpdate is one table.column=value (or +=value) of chtab or nodeadd.
type tabUpdate struct {
	col    string
	val    string
	op     string // "=", "+=" (chtab append), ",=" (nodeadd add), "^=" (nodeadd remove)
	column int
}

// chtab adds, changes or deletes table rows (xCAT's chtab): rows are found
// by the key pairs; a change updates every matching row or, when none
// matches, adds one made of the keys and the new values. All changes are
// written at once, or none.
func (r *Runner) chtab(ctx context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"d", "delete"}},
		{names: []string{"h", "help"}},
		{names: []string{"v", "version"}},
	}, c.req.Args)
	if err != nil {
		c.out(chtabUsage)
		return 1
	}
	if p.has("h") {
		c.out(chtabUsage)
		return 0
	}
	if p.has("v") {
		c.out("chtab %s", tabVersion)
		return 0
	}
	if len(p.args) == 0 {
		c.out(chtabUsage)
		return 1
	}
	args := p.args[1:]
	var keys []tabKV
	pairs := strings.Split(p.args[0], ",")
	if chtabAssign.MatchString(pairs[0]) {
		args = p.args
	} else {
		for _, kv := range pairs {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				c.out("Incorrect argument \"%s\".\n", kv)
				c.out(chtabUsage)
				return 1
			}
			keys = append(keys, tabKV{col: k, val: v})
		}
	}
	if len(keys) == 0 {
		c.errorf("chtab needs keycolname=keyvalue pairs to find the rows to change\n")
		return 1
	}
	ts := r.tables()
	w := newTabWriter(ts, r.Backend.View())
	if p.has("d") {
		if len(args) == 0 {
			c.out("Missing table name.\n")
			c.out(chtabUsage)
			return 1
		}
		for _, t := range args {
			l := ts.layout(t)
			if l == nil {
				c.errorf("Table %s does not exist.\n", t)
				return 1
			}
			if err := checkKeys(l, keys); err != nil {
				c.errorf("%v\n", err)
				return 1
			}
			for _, row := range ts.lookupRows(w, l, keys) {
				w.deleteRow(l, row)
			}
		}
		return r.tabApply(ctx, c, w)
	}
	var tables []string
	updates := map[string][]tabUpdate{}
	for _, a := range args {
		t, rest, _ := strings.Cut(a, ".")
		l := ts.layout(t)
		if l == nil {
			c.errorf("Table %s does not exist.\n", t)
			return 1
		}
		u := tabUpdate{op: "="}
		if col, val, ok := strings.Cut(rest, "+="); ok {
			u.col, u.val, u.op = col, val, "+="
		} else {
			u.col, u.val, _ = strings.Cut(rest, "=")
		}
		if u.column = l.col(u.col); u.column < 0 {
			c.errorf("%s.%s not a valid table.column description\n", t, u.col)
			return 1
		}
		if _, ok := updates[t]; !ok {
			tables = append(tables, t)
		}
		// Like xCAT, a later value for the same column replaces an earlier one.
		updates[t] = slices.DeleteFunc(updates[t], func(x tabUpdate) bool { return x.column == u.column })
		updates[t] = append(updates[t], u)
	}
	for _, t := range tables {
		l := ts.layout(t)
		if err := checkKeys(l, keys); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
		if err := chtabTable(w, l, keys, updates[t]); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
	}
	return r.tabApply(ctx, c, w)
}

// checkKeys checks that every key is a column of the table.
func checkKeys(l *tabLayout, keys []tabKV) error {
	for _, k := range keys {
		if l.col(k.col) < 0 {
			return &tabKeyError{key: k.col, table: l.def.Name}
		}
	}
	return nil
}

// tabKeyError is gettab's and chtab's error for a key that is not a column.
type tabKeyError struct{ key, table string }

func (e *tabKeyError) Error() string { return "Unkown key " + e.key + " to " + e.table }

// chtabTable applies one table's updates: to every row matching the keys,
// or to a new row made of the keys and the updates.
func chtabTable(w *tabWriter, l *tabLayout, keys []tabKV, ups []tabUpdate) error {
	ts := w.ts
	if !l.stored() {
		for _, u := range ups {
			if u.val != "" {
				return &tabTableError{table: l.def.Name}
			}
		}
		return nil
	}
	rows := ts.lookupRows(w, l, keys)
	// A += value is merged with the column's value in the first matching
	// row that has one, as xCAT's chtab reads it.
	for i, u := range ups {
		if u.op != "+=" {
			continue
		}
		cur := ""
		for _, row := range rows {
			if row.vals[u.column] != "" {
				cur = row.vals[u.column]
				break
			}
		}
		ups[i].val = mergeList(cur, u.val)
	}
	if len(rows) > 0 {
		for _, row := range rows {
			o := w.edit(row.obj.Type, row.obj.Name)
			for _, u := range ups {
				if err := w.setCell(l, o, row.sub, u.column, u.val); err != nil {
					return err
				}
			}
		}
		return nil
	}
	vals := map[string]string{}
	for _, k := range keys {
		vals[k.col] = k.val
	}
	for _, u := range ups {
		vals[u.col] = u.val
	}
	name, sub := rowIdentity(l, func(col string) string { return vals[col] })
	o, err := w.rowObject(l, name, sub, true)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := w.setCell(l, o, sub, l.col(k.col), k.val); err != nil {
			return err
		}
	}
	for _, u := range ups {
		if err := w.setCell(l, o, sub, u.column, u.val); err != nil {
			return err
		}
	}
	return nil
}

// mergeList appends the items of add that cur does not have (chtab +=).
func mergeList(cur, add string) string {
	if cur == "" {
		return add
	}
	var out []string
	seen := map[string]bool{}
	for _, it := range append(strings.Split(cur, ","), strings.Split(add, ",")...) {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return strings.Join(out, ",")
}

// tabApply prints the writer's warnings and writes its changes in one
// Backend.Apply.
func (r *Runner) tabApply(ctx context.Context, c *call, w *tabWriter) int {
	for _, m := range w.warnings {
		c.warnf("%s\n", m)
	}
	changes := w.changes()
	if len(changes) == 0 {
		return 0
	}
	if err := r.Backend.Apply(ctx, changes); err != nil {
		c.errorf("%v\n", err)
		return 1
	}
	return 0
}
