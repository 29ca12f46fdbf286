package xcatcmd

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// This file projects drover's objects onto xCAT's table layout (the
// `table.column` view of tabdump, gettab, chtab, tabrestore, nodeadd):
//
//   - node-keyed tables (nodehm, ipmi, hosts, nics, ...) have one row per
//     node and per group object that has a value in one of the table's
//     columns, with the node or group name in the node column, exactly as
//     xCAT stores group defaults in the same tables (schema.md §1, §4);
//   - nodelist has a row for every node, nodegroup one for every group;
//   - osimage/linuximage/winimage/nimimage, networks, policy and boottarget
//     are keyed by the object name (imagename, netname, priority, bprofile);
//   - site has one row per attribute of the clustersite object;
//   - ppcdirect has one row per node or group and passwd.<username> value.
//
// Every value is the raw stored value: no inheritance and no evaluation of
// table regular expressions. Columns named comments show the usercomment
// attribute where xCAT's schema maps it; disable and unmapped columns are
// empty. Tables drover does not store have no rows.

// tabKind says how a table's rows come from inventory objects.
type tabKind int

const (
	kindUnstored  tabKind = iota // drover keeps nothing in the table
	kindNode                     // a row per node or group with a value in the table
	kindNodelist                 // a row per node
	kindNodegroup                // a row per group object
	kindObject                   // a row per object, keyed by the type's key attribute
	kindSite                     // a row per attribute of the site object
	kindPpcdirect                // a row per passwd.<username> attribute of a node or group
)

// tabLayout is how one xCAT table maps onto inventory objects.
type tabLayout struct {
	def   inventory.TableDef
	kind  tabKind
	types []inventory.Type // object types with rows in the table, in row order
	id    int              // index of the column that names the object
	// primary: the table is the type's own table (nodelist, osimage,
	// networks, policy, boottarget): deleting a row deletes the object, and
	// every object has a row even when all its other columns are empty.
	primary bool
	// attrs[i][t] are the attributes of type t stored in column i, in
	// schema order (several when only_if variants share a column).
	attrs []map[inventory.Type][]string
	// desc[i] is the description of column i (tabdump -d).
	desc []string
}

// stored reports whether drover keeps anything in the table.
func (l *tabLayout) stored() bool { return l.kind != kindUnstored }

// col returns the index of column name, or -1.
func (l *tabLayout) col(name string) int { return slices.Index(l.def.Columns, name) }

// tabVariant is one place (table.column) an attribute is stored in, with
// its only_if condition.
type tabVariant struct {
	table, column     string
	condAttr, condVal string // empty when unconditional
}

// tabSchema is the table projection of an inventory schema.
type tabSchema struct {
	s        *inventory.Schema
	layouts  map[string]*tabLayout
	variants map[inventory.Type]map[string][]tabVariant
}

// newTabSchema derives the table projection from the attribute schema.
func newTabSchema(s *inventory.Schema) *tabSchema {
	ts := &tabSchema{
		s:        s,
		layouts:  map[string]*tabLayout{},
		variants: map[inventory.Type]map[string][]tabVariant{},
	}
	for _, td := range s.Tables() {
		ts.layouts[td.Name] = &tabLayout{
			def:   td,
			attrs: make([]map[inventory.Type][]string, len(td.Columns)),
			desc:  make([]string, len(td.Columns)),
		}
	}
	keyTable := map[inventory.Type]string{} // the table holding each type's key attribute
	for _, t := range inventory.Types() {
		if t == inventory.Site {
			continue // any site.key is an attribute; handled by kindSite
		}
		ts.variants[t] = map[string][]tabVariant{}
		for _, a := range s.Attrs(t) {
			for _, v := range s.Variants(t, a.Name) {
				tv := tabVariant{table: v.Table, column: v.Column}
				tv.condAttr, tv.condVal, _ = strings.Cut(v.OnlyIf, "=")
				ts.variants[t][a.Name] = append(ts.variants[t][a.Name], tv)
				l := ts.layouts[v.Table]
				if l == nil {
					continue
				}
				ci := l.col(v.Column)
				if ci < 0 {
					continue
				}
				if l.desc[ci] == "" {
					l.desc[ci] = v.Description
				}
				if a.Name == inventory.KeyAttr(t) {
					keyTable[t] = v.Table
					continue // the key is the object name, not an attribute
				}
				if l.attrs[ci] == nil {
					l.attrs[ci] = map[inventory.Type][]string{}
				}
				if !slices.Contains(l.attrs[ci][t], a.Name) {
					l.attrs[ci][t] = append(l.attrs[ci][t], a.Name)
				}
				if !slices.Contains(l.types, t) {
					l.types = append(l.types, t)
				}
			}
		}
	}
	for _, l := range ts.layouts {
		ts.classify(l, keyTable)
		for i, c := range l.def.Columns {
			if l.desc[i] != "" {
				continue
			}
			switch {
			case c == "comments":
				l.desc[i] = "Any user-written notes."
			case c == "disable":
				l.desc[i] = "Set to 'yes' or '1' to comment out this row."
			case l.kind == kindNode && i == l.id:
				l.desc[i] = "The node name or group name."
			}
		}
	}
	return ts
}

// classify sets the layout's kind, row types and identity column.
func (ts *tabSchema) classify(l *tabLayout, keyTable map[inventory.Type]string) {
	name := l.def.Name
	switch {
	case name == "site":
		l.kind, l.id = kindSite, l.col("key")
		l.types = []inventory.Type{inventory.Site}
		l.desc[l.col("key")] = "Attribute name."
		l.desc[l.col("value")] = "The value of the attribute specified in the \"key\" column."
		return
	case name == "ppcdirect":
		l.kind, l.id = kindPpcdirect, l.col("hcp")
		l.types = []inventory.Type{inventory.Group, inventory.Node}
		return
	case len(l.types) == 0:
		l.kind = kindUnstored
		return
	}
	if name == keyTable[inventory.Node] {
		l.kind, l.id, l.primary = kindNodelist, l.col(inventory.KeyAttr(inventory.Node)), true
		l.types = []inventory.Type{inventory.Node}
		return
	}
	if name == keyTable[inventory.Group] {
		l.kind, l.id = kindNodegroup, l.col(inventory.KeyAttr(inventory.Group))
		l.types = []inventory.Type{inventory.Group}
		return
	}
	if slices.Contains(l.types, inventory.Node) || slices.Contains(l.types, inventory.Group) {
		l.kind, l.id = kindNode, l.col(l.def.NodeCol)
		l.types = []inventory.Type{inventory.Group, inventory.Node}
		if l.id < 0 {
			l.kind = kindUnstored // no column can name the node
		}
		return
	}
	t := l.types[0]
	l.kind, l.id = kindObject, l.col(inventory.KeyAttr(t))
	l.types = []inventory.Type{t}
	l.primary = keyTable[t] == name
	if l.id < 0 {
		l.kind = kindUnstored
	}
}

// tables returns the table projection of the Runner's schema.
func (r *Runner) tables() *tabSchema {
	s := r.Schema
	if s == nil {
		s = inventory.DefaultSchema()
	}
	return newTabSchema(s)
}

// layout returns the named table's layout, or nil if xCAT has no such table.
func (ts *tabSchema) layout(table string) *tabLayout { return ts.layouts[table] }

// tableNames returns every table name, sorted.
func (ts *tabSchema) tableNames() []string {
	names := make([]string, 0, len(ts.layouts))
	for n := range ts.layouts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// condValue returns the value an only_if condition is checked against: the
// object's own value, or for a node the first of its groups' values (xCAT
// checks the groups' values too when it decides where a value is stored).
func condValue(v inventory.View, o *inventory.Object, attr string) string {
	if val := o.Get(attr); val != "" || o.Type != inventory.Node || v == nil {
		return val
	}
	for _, g := range o.Groups() {
		if gobj, ok := v.Get(inventory.Group, g); ok {
			if val := gobj.Get(attr); val != "" {
				return val
			}
		}
	}
	return ""
}

// wordMatch reports whether word occurs in s as a whole word (Perl's
// /\bword\b/, which xCAT uses for only_if conditions).
func wordMatch(s, word string) bool {
	if word == "" {
		return false
	}
	isWord := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i:i+len(word)] != word {
			continue
		}
		if (i == 0 || !isWord(s[i-1]) || !isWord(word[0])) &&
			(i+len(word) == len(s) || !isWord(s[i+len(word)]) || !isWord(word[len(word)-1])) {
			return true
		}
	}
	return false
}

// placesOf returns where attr of object o is stored: every variant that is
// unconditional or whose only_if condition holds for o, or the first
// variant when none does.
func (ts *tabSchema) placesOf(v inventory.View, o *inventory.Object, attr string) []tabVariant {
	vs := ts.variants[o.Type][attr]
	if len(vs) <= 1 {
		return vs
	}
	var out []tabVariant
	for _, tv := range vs {
		if tv.condAttr == "" || wordMatch(condValue(v, o, tv.condAttr), tv.condVal) {
			out = append(out, tv)
		}
	}
	if len(out) == 0 {
		return vs[:1]
	}
	return out
}

// storedIn reports whether attr of o is stored in table.column.
func (ts *tabSchema) storedIn(v inventory.View, o *inventory.Object, attr, table, column string) bool {
	for _, tv := range ts.placesOf(v, o, attr) {
		if tv.table == table && tv.column == column {
			return true
		}
	}
	return false
}

// tabRow is one projected table row.
type tabRow struct {
	obj   *inventory.Object
	sub   string   // site: the attribute; ppcdirect: the username
	vals  []string // per column; "" is undefined
	attrs []string // per column: the attribute the value comes from
}

// cell returns the value of column ci in o's row and the attribute it comes
// from.
func (ts *tabSchema) cell(v inventory.View, l *tabLayout, o *inventory.Object, ci int) (val, attr string) {
	if ci == l.id {
		return o.Name, ""
	}
	for _, a := range l.attrs[ci][o.Type] {
		if val := o.Get(a); val != "" && ts.storedIn(v, o, a, l.def.Name, l.def.Columns[ci]) {
			return val, a
		}
	}
	return "", ""
}

// objectRow returns o's row in a node or object table; ok is false when o
// has no row there.
func (ts *tabSchema) objectRow(v inventory.View, l *tabLayout, o *inventory.Object) (tabRow, bool) {
	r := tabRow{obj: o, vals: make([]string, len(l.def.Columns)), attrs: make([]string, len(l.def.Columns))}
	has := l.primary || l.kind == kindNodegroup
	for ci := range l.def.Columns {
		r.vals[ci], r.attrs[ci] = ts.cell(v, l, o, ci)
		if ci != l.id && r.vals[ci] != "" {
			has = true
		}
	}
	return r, has
}

// siteRow returns the site table row of attribute key.
func siteRow(l *tabLayout, o *inventory.Object, key string) tabRow {
	r := tabRow{obj: o, sub: key, vals: make([]string, len(l.def.Columns)), attrs: make([]string, len(l.def.Columns))}
	r.vals[l.col("key")] = key
	r.vals[l.col("value")], r.attrs[l.col("value")] = o.Get(key), key
	return r
}

// ppcdirectRow returns the ppcdirect row of o's passwd.<user> attribute.
func ppcdirectRow(l *tabLayout, o *inventory.Object, user string) tabRow {
	r := tabRow{obj: o, sub: user, vals: make([]string, len(l.def.Columns)), attrs: make([]string, len(l.def.Columns))}
	r.vals[l.id] = o.Name
	r.vals[l.col("username")] = user
	pw := l.col("password")
	r.vals[pw], r.attrs[pw] = o.Get("passwd."+user), "passwd."+user
	return r
}

// objectRows returns the rows of one object (none, one, or for site and
// ppcdirect one per attribute).
func (ts *tabSchema) objectRows(v inventory.View, l *tabLayout, o *inventory.Object) []tabRow {
	switch l.kind {
	case kindSite:
		if o.Name != inventory.SiteName {
			return nil
		}
		var rows []tabRow
		for _, k := range o.AttrNames() {
			rows = append(rows, siteRow(l, o, k))
		}
		return rows
	case kindPpcdirect:
		var rows []tabRow
		for _, a := range o.AttrNames() {
			user, ok := strings.CutPrefix(a, "passwd.")
			if ok && ts.storedIn(v, o, a, l.def.Name, "password") {
				rows = append(rows, ppcdirectRow(l, o, user))
			}
		}
		return rows
	case kindUnstored:
		return nil
	}
	if r, ok := ts.objectRow(v, l, o); ok {
		return []tabRow{r}
	}
	return nil
}

// rows returns every row of the table, in tabdump order: for node-keyed
// tables the group rows first (they hold the defaults), then the nodes;
// policies by numeric priority; everything else by name.
func (ts *tabSchema) rows(v inventory.View, l *tabLayout) []tabRow {
	var rows []tabRow
	for _, t := range l.types {
		objs := v.List(t)
		if t == inventory.Policy {
			objs = slices.Clone(objs)
			sortPolicies(objs)
		}
		for _, o := range objs {
			rows = append(rows, ts.objectRows(v, l, o)...)
		}
	}
	return rows
}

// sortPolicies sorts policy objects by numeric priority (xCAT sorts the
// policy table on the priority field before evaluating it), names that are
// not numbers last.
func sortPolicies(objs []*inventory.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, errA := strconv.ParseFloat(objs[i].Name, 64)
		b, errB := strconv.ParseFloat(objs[j].Name, 64)
		switch {
		case errA == nil && errB == nil && a != b:
			return a < b
		case (errA == nil) != (errB == nil):
			return errA == nil
		}
		return objs[i].Name < objs[j].Name
	})
}

// displayVals returns the row's values with secrets masked unless show.
func (r tabRow) displayVals(show bool) []string {
	out, cloned := r.vals, false
	for i, a := range r.attrs {
		if !show && a != "" && r.vals[i] != "" && inventory.IsSecret(a) {
			if !cloned {
				out, cloned = slices.Clone(r.vals), true
			}
			out[i] = inventory.Masked
		}
	}
	return out
}

// lookupRows returns the rows whose columns equal keys (an empty key value
// matches an undefined column), in table order. When the keys name the
// object directly only that object is looked at.
func (ts *tabSchema) lookupRows(v inventory.View, l *tabLayout, keys []tabKV) []tabRow {
	match := func(r tabRow) bool {
		for _, k := range keys {
			if r.vals[l.col(k.col)] != k.val {
				return false
			}
		}
		return true
	}
	var candidates []tabRow
	idName, direct := "", false
	for _, k := range keys {
		if l.col(k.col) == l.id && l.kind != kindSite && k.val != "" {
			idName, direct = k.val, true
		}
	}
	if l.kind == kindSite {
		direct = true
	}
	if direct {
		for _, t := range l.types {
			name := idName
			if l.kind == kindSite {
				name = inventory.SiteName
			}
			if o, ok := v.Get(t, name); ok {
				candidates = append(candidates, ts.objectRows(v, l, o)...)
			}
		}
	} else {
		candidates = ts.rows(v, l)
	}
	var out []tabRow
	for _, r := range candidates {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// tabKV is one column=value pair of a command line.
type tabKV struct{ col, val string }
