package xcatcmd

import (
	"fmt"
	"sort"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// Writing through the table projection: a table command changes cells and
// rows, tabWriter turns that into changes of inventory objects, and the
// command writes them with one Backend.Apply.

// tabColumnError is returned for a value in a column drover does not store.
type tabColumnError struct{ table, column string }

func (e *tabColumnError) Error() string {
	return fmt.Sprintf("column '%s.%s' is not stored by drover", e.table, e.column)
}

// tabTableError is returned for a write to a table drover does not store.
type tabTableError struct{ table string }

func (e *tabTableError) Error() string {
	return fmt.Sprintf("table '%s' is not stored by drover", e.table)
}

type tabObjKey struct {
	t    inventory.Type
	name string
}

// tabWork is one object touched by a command.
type tabWork struct {
	orig *inventory.Object // as read; nil for a new object
	cur  *inventory.Object // as changed; nil when deleted
}

// tabWriter is the inventory as a table command changes it. It is itself a
// View of the changed inventory, so later lookups see earlier writes.
type tabWriter struct {
	ts       *tabSchema
	base     inventory.View
	work     map[tabObjKey]*tabWork
	order    []tabObjKey
	perType  map[inventory.Type]int
	groupUse map[string]bool // names used in some node's groups (built on first use)
	warnings []string
}

func newTabWriter(ts *tabSchema, base inventory.View) *tabWriter {
	return &tabWriter{ts: ts, base: base, work: map[tabObjKey]*tabWork{}, perType: map[inventory.Type]int{}}
}

// Get implements inventory.View.
func (w *tabWriter) Get(t inventory.Type, name string) (*inventory.Object, bool) {
	if wk, ok := w.work[tabObjKey{t, name}]; ok {
		return wk.cur, wk.cur != nil
	}
	return w.base.Get(t, name)
}

// List implements inventory.View.
func (w *tabWriter) List(t inventory.Type) []*inventory.Object {
	base := w.base.List(t)
	if w.perType[t] == 0 {
		return base
	}
	out := make([]*inventory.Object, 0, len(base))
	for _, o := range base {
		if wk, ok := w.work[tabObjKey{t, o.Name}]; ok {
			if wk.cur != nil {
				out = append(out, wk.cur)
			}
			continue
		}
		out = append(out, o)
	}
	for _, k := range w.order {
		if wk := w.work[k]; k.t == t && wk.orig == nil && wk.cur != nil {
			out = append(out, wk.cur)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (w *tabWriter) entry(t inventory.Type, name string) *tabWork {
	k := tabObjKey{t, name}
	if wk, ok := w.work[k]; ok {
		return wk
	}
	wk := &tabWork{}
	if o, ok := w.base.Get(t, name); ok {
		c := o.Clone()
		wk.orig, wk.cur = o, &c
	}
	w.work[k] = wk
	w.order = append(w.order, k)
	w.perType[t]++
	return wk
}

// edit returns the object for changing, or nil if it does not exist.
func (w *tabWriter) edit(t inventory.Type, name string) *inventory.Object {
	return w.entry(t, name).cur
}

// create returns the object for changing, creating it if needed.
func (w *tabWriter) create(t inventory.Type, name string) *inventory.Object {
	wk := w.entry(t, name)
	if wk.cur == nil {
		wk.cur = &inventory.Object{Type: t, Name: name, Attrs: map[string]string{}}
	}
	return wk.cur
}

// remove deletes the object.
func (w *tabWriter) remove(t inventory.Type, name string) { w.entry(t, name).cur = nil }

// changes returns the writes that turn the read inventory into the changed
// one: a Create for each new object, a Put for each changed one and a
// Delete for each removed one, in the order the objects were first touched.
func (w *tabWriter) changes() []inventory.Change {
	var out []inventory.Change
	for _, k := range w.order {
		wk := w.work[k]
		switch {
		case wk.cur == nil && wk.orig != nil:
			out = append(out, inventory.Change{Op: inventory.Delete, Object: inventory.Object{Type: k.t, Name: k.name}})
		case wk.cur == nil:
		case wk.orig == nil:
			out = append(out, inventory.Change{Op: inventory.Create, Object: *wk.cur})
		case !wk.orig.Equal(wk.cur):
			out = append(out, inventory.Change{Op: inventory.Put, Object: *wk.cur})
		}
	}
	return out
}

// usedAsGroup reports whether name is in some node's groups.
func (w *tabWriter) usedAsGroup(name string) bool {
	if w.groupUse == nil {
		w.groupUse = map[string]bool{}
		for _, n := range w.List(inventory.Node) {
			for _, g := range n.Groups() {
				w.groupUse[g] = true
			}
		}
	}
	return w.groupUse[name]
}

// rowObject returns the object a row of table l named name belongs to (for
// site: the site object, name being the attribute). With create, a missing
// object is created: in node-keyed tables a name that is a group (an object
// or a name in some node's groups) becomes a group, anything else a node.
// It returns nil, nil when the object does not exist and create is false.
// sub is the row's site attribute or ppcdirect username.
func (w *tabWriter) rowObject(l *tabLayout, name, sub string, create bool) (*inventory.Object, error) {
	need := func(col string) error {
		return fmt.Errorf("a row of table '%s' needs a value in column '%s'", l.def.Name, col)
	}
	switch {
	case name == "":
		return nil, need(l.def.Columns[l.id])
	case l.kind == kindSite && sub == "":
		return nil, need("key")
	case l.kind == kindPpcdirect && sub == "":
		return nil, need("username")
	}
	pick := func(t inventory.Type) *inventory.Object {
		if create {
			return w.create(t, name)
		}
		return w.edit(t, name)
	}
	_, isGroup := w.Get(inventory.Group, name)
	_, isNode := w.Get(inventory.Node, name)
	switch l.kind {
	case kindSite:
		if create {
			return w.create(inventory.Site, inventory.SiteName), nil
		}
		return w.edit(inventory.Site, inventory.SiteName), nil
	case kindNodelist:
		if isGroup && !isNode {
			return nil, fmt.Errorf("'%s' is a group, not a node", name)
		}
		return pick(inventory.Node), nil
	case kindNodegroup:
		if isNode && !isGroup {
			return nil, fmt.Errorf("'%s' is a node, not a group", name)
		}
		return pick(inventory.Group), nil
	case kindNode, kindPpcdirect:
		switch {
		case isGroup:
			return pick(inventory.Group), nil
		case isNode:
			return pick(inventory.Node), nil
		case !create:
			return nil, nil
		case w.usedAsGroup(name):
			return w.create(inventory.Group, name), nil
		}
		return w.create(inventory.Node, name), nil
	case kindObject:
		return pick(l.types[0]), nil
	}
	return nil, &tabTableError{table: l.def.Name}
}

// setValue sets attr, except that the masked placeholder never replaces a
// secret: a dump made without secrets restores without clearing them.
func setValue(o *inventory.Object, attr, val string) {
	if val == inventory.Masked && inventory.IsSecret(attr) {
		return
	}
	o.Set(attr, val)
}

// unmapped checks a value for a column drover does not store: only nothing
// (or, for disable, a value meaning "not disabled") is accepted.
func unmapped(l *tabLayout, ci int, val string) error {
	col := l.def.Columns[ci]
	if val == "" || col == "disable" && (val == "0" || strings.EqualFold(val, "no")) {
		return nil
	}
	return &tabColumnError{table: l.def.Name, column: col}
}

// renameError is returned when a write would change the column naming a row.
func renameError(l *tabLayout, ci int, from, to string) error {
	return fmt.Errorf("%s.%s cannot be changed from '%s' to '%s': renaming is not supported by the table commands",
		l.def.Name, l.def.Columns[ci], from, to)
}

// setCell sets column ci of o's row in table l to val ("" clears it); sub
// is the site attribute or ppcdirect username of the row.
func (w *tabWriter) setCell(l *tabLayout, o *inventory.Object, sub string, ci int, val string) error {
	col := l.def.Columns[ci]
	switch l.kind {
	case kindUnstored:
		if val == "" {
			return nil
		}
		return &tabTableError{table: l.def.Name}
	case kindSite:
		switch col {
		case "key":
			if val != sub {
				return renameError(l, ci, sub, val)
			}
		case "value":
			if err := w.ts.s.ValidateAttr(inventory.Site, sub); err != nil {
				return err
			}
			setValue(o, sub, val)
		default:
			return unmapped(l, ci, val)
		}
		return nil
	case kindPpcdirect:
		switch col {
		case "hcp":
			if val != o.Name {
				return renameError(l, ci, o.Name, val)
			}
		case "username":
			if val != sub {
				return renameError(l, ci, sub, val)
			}
		case "password":
			attr := "passwd." + sub
			if err := w.ts.s.ValidateAttr(o.Type, attr); err != nil {
				return err
			}
			setValue(o, attr, val)
		default:
			return unmapped(l, ci, val)
		}
		return nil
	}
	if ci == l.id {
		if val != o.Name {
			return renameError(l, ci, o.Name, val)
		}
		return nil
	}
	cands := l.attrs[ci][o.Type]
	if len(cands) == 0 {
		return unmapped(l, ci, val)
	}
	table := l.def.Name
	if val == "" {
		for _, a := range cands {
			if o.Get(a) != "" && w.ts.storedIn(w, o, a, table, col) {
				o.Set(a, "")
			}
		}
		return nil
	}
	target := ""
	for _, a := range cands { // the attribute whose value the cell shows
		if o.Get(a) != "" && w.ts.storedIn(w, o, a, table, col) {
			target = a
			break
		}
	}
	if target == "" { // the attribute xCAT would store in the cell
		for _, a := range cands {
			if w.ts.storedIn(w, o, a, table, col) {
				target = a
				break
			}
		}
	}
	if target == "" {
		target = cands[0]
		var places []string
		for _, p := range w.ts.placesOf(w, o, target) {
			places = append(places, p.table+"."+p.column)
		}
		w.warnings = append(w.warnings, fmt.Sprintf("%s.%s of %s '%s' is stored as attribute '%s', which shows in %s for it",
			table, col, o.Type, o.Name, target, strings.Join(places, ",")))
	}
	setValue(o, target, val)
	return nil
}

// putRow makes o's row in table l hold vals (per column; "" undefined):
// first the columns that become empty are cleared, then the others are set
// in column order.
func (w *tabWriter) putRow(l *tabLayout, o *inventory.Object, sub string, vals []string) error {
	for ci, v := range vals {
		if v == "" && ci != l.id {
			if err := w.setCell(l, o, sub, ci, ""); err != nil {
				return err
			}
		}
	}
	for ci, v := range vals {
		if v != "" {
			if err := w.setCell(l, o, sub, ci, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteRow removes a row: from a type's own table (nodelist, osimage,
// networks, policy, boottarget) that deletes the object; from site or
// ppcdirect it unsets the attribute; from other tables it clears every
// attribute shown in the row (a group left without any attribute after its
// nodegroup row is deleted is deleted too).
func (w *tabWriter) deleteRow(l *tabLayout, r tabRow) {
	o := w.edit(r.obj.Type, r.obj.Name)
	if o == nil {
		return
	}
	switch {
	case l.kind == kindSite:
		o.Set(r.sub, "")
	case l.kind == kindPpcdirect:
		o.Set("passwd."+r.sub, "")
	case l.primary:
		w.remove(o.Type, o.Name)
	default:
		for _, a := range r.attrs {
			if a != "" {
				o.Set(a, "")
			}
		}
		if l.kind == kindNodegroup && len(o.Attrs) == 0 {
			w.remove(o.Type, o.Name)
		}
	}
}

// rowIdentity returns the object name and sub-key (site attribute or
// ppcdirect username) of a row given as column values (vals[i] for column
// cols[i]); an empty name means the row names no object.
func rowIdentity(l *tabLayout, get func(col string) string) (name, sub string) {
	switch l.kind {
	case kindSite:
		return inventory.SiteName, get("key")
	case kindPpcdirect:
		return get("hcp"), get("username")
	}
	return get(l.def.Columns[l.id]), ""
}
