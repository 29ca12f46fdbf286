package xcatcmd

import (
	"context"
	"slices"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// chdef changes object definitions, creating the missing ones
// (DBobjectdefs::defch). All its writes go to the store in one
// transaction.
func (r *Runner) chdef(ctx context.Context, c *call) int {
	d := r.newDefCall(ctx, c, "chdef")
	if rc, ok := d.start(); !ok {
		return rc
	}
	o := &d.opt
	if o.n != "" {
		return d.rename()
	}
	switch {
	case o.f:
		d.errorf("The '-f' option is not valid for the chdef command.")
		d.usage()
		return 1
	case d.stanzaOptionConflict():
		return 1
	}
	if len(d.names) == 0 && len(d.file) == 0 {
		d.errorf("No object names were provided.")
		d.usage()
		return 1
	}

	cli, badCLI := d.cliObjects()
	file, badFile := d.fileObjects()
	failed := badCLI || badFile
	var (
		kept, created       []*defObj
		withDomain, invalid []string
		members             membership
	)
	d.notePending(append(file, cli...))
	for _, obj := range append(file, cli...) {
		if obj.t == inventory.Node && strings.Contains(obj.name, ".") {
			withDomain = append(withDomain, obj.name)
			continue
		}
		if !d.validName(obj.name, obj.t) {
			invalid = append(invalid, obj.name)
			continue
		}
		defined := d.exists(obj.t, obj.name)
		if !d.chCheck(obj, defined, &members, &failed) {
			continue
		}
		if !defined {
			created = append(created, obj)
		}
		kept = append(kept, obj)
	}
	if len(withDomain) > 0 {
		d.errorf("The object name '%s' is invalid, Cannot use '.' in node name.", strings.Join(withDomain, ","))
	}
	if len(invalid) > 0 {
		d.errorf(`The object name '%s' is invalid, please refer to "man xcatdb" for the valid "xCAT Object Name Format"`, strings.Join(invalid, ","))
	}

	// The objects to write: member nodes first get their groups changed,
	// then every object gets its attributes.
	work := map[defRef]*inventory.Object{}
	var order []defRef
	get := func(ref defRef) *inventory.Object {
		if w, ok := work[ref]; ok {
			return w
		}
		w := d.own(ref.t, ref.name)
		if w == nil {
			w = &inventory.Object{Type: ref.t, Name: ref.name, Attrs: map[string]string{}}
		}
		work[ref] = w
		order = append(order, ref)
		return w
	}
	for _, n := range members.nodes() {
		if _, ok := d.view.Get(inventory.Node, n); !ok {
			continue
		}
		w := get(defRef{inventory.Node, n})
		w.Set("groups", members.apply(n, w.Get("groups")))
	}
	updated := 0
	var newNames []string
	for _, obj := range kept {
		if d.chAttrs(obj, get(obj.ref())) || obj.t == inventory.Group {
			updated++
		}
	}
	for _, obj := range created {
		newNames = append(newNames, obj.name)
	}

	var changes []inventory.Change
	for _, ref := range order {
		w := work[ref]
		w.Attrs = storedAttrs(w.Type, w.Attrs)
		if err := inventory.Validate(d.schema, w); err != nil {
			d.errorf("%s", err)
			failed = true
			continue
		}
		changes = append(changes, inventory.Change{Op: inventory.Put, Object: *w})
	}
	if err := d.apply(changes); err != nil {
		d.errorf("Could not write data to the xCAT database: %v", err)
		failed = true
	}
	if failed {
		d.errorf("One or more errors occured when attempting to create or modify xCAT object definitions.")
		return 1
	}
	if updated > 0 {
		d.info("%d object definitions have been created or modified.", updated)
	} else {
		d.info("No object definitions have been created or modified.")
	}
	if len(newNames) > 0 {
		d.info("New object definitions '%s' have been created.", strings.Join(newNames, ","))
		var capitals []string
		for _, obj := range created {
			if obj.t == inventory.Node && strings.ContainsAny(obj.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				capitals = append(capitals, obj.name)
			}
		}
		if len(capitals) > 0 {
			d.warnf("The node name '%s' contains capital letters which may not be resolved correctly by the dns server.", strings.Join(capitals, ","))
		}
	}
	return d.rc(false)
}

// chCheck applies defch's per-object checks and group handling; false
// means the object is skipped.
func (d *defCall) chCheck(obj *defObj, defined bool, members *membership, failed *bool) bool {
	o := &d.opt
	fail := func(format string, a ...any) bool {
		d.errorf(format, a...)
		*failed = true
		return false
	}
	name := obj.name
	if obj.t == inventory.Network {
		net, mask := obj.attrs["net"], obj.attrs["mask"]
		if !defined && (net == "" || mask == "") {
			return fail("Net or mask value should not be empty for xCAT network object '%s'.", name)
		}
		if defined {
			cur := d.own(inventory.Network, name)
			if cur.Get("net") == "" && net == "" {
				return fail("Attribute 'net' is not specified for network entry '%s', skipping.", name)
			}
			if cur.Get("mask") == "" && mask == "" {
				return fail("Attribute 'mask' is not specified for network entry '%s', skipping.", name)
			}
		} else {
			for _, n := range d.view.List(inventory.Network) {
				if n.Get("net") == net && n.Get("mask") == mask {
					return fail("A network definition called '%s' already exists that contains the same net and mask values. Cannot create a definition for '%s'.", n.Name, name)
				}
			}
		}
	}
	if !defined && obj.t == inventory.Node && obj.attrs["groups"] == "" {
		return fail("Attribute 'groups' is not specified for node '%s', skipping to the next node.", name)
	}
	if !defined && o.m {
		return fail("The '-m' option is not valid since the '%s' definition does not exist.", name)
	}
	if obj.t == inventory.Group && !d.chGroup(obj, defined, members, failed) {
		return false
	}
	if !defined && obj.t == inventory.OSImage {
		if _, ok := obj.attrs["imagetype"]; !ok {
			obj.attrs["imagetype"] = "NIM"
		}
	}
	var current map[string]string
	if defined {
		current = d.current(obj.t, name)
	}
	if msgs := d.onlyIfErrors(obj.t, obj.attrs, current); len(msgs) > 0 {
		for _, m := range msgs {
			d.errorf("%s", m)
		}
		return false
	}
	return true
}

// current returns the values chdef -p and -m work on: a node's resolved
// attributes, any other object's own.
func (d *defCall) current(t inventory.Type, name string) map[string]string {
	if t == inventory.Node {
		if d.index == nil {
			d.index = inventory.NewIndex(d.view, d.schema)
		}
		res, _ := d.index.Resolve(name)
		return res
	}
	if o, ok := d.view.Get(t, name); ok {
		return o.Attrs
	}
	return nil
}

// chGroup handles a group of chdef: its type and, for a static group, the
// member list (members=, or the nodes matching wherevals/-w), which replaces
// the current members, or with -p/-m is added to or removed from them.
func (d *defCall) chGroup(obj *defObj, defined bool, members *membership, failed *bool) bool {
	o := &d.opt
	fail := func(format string, a ...any) bool {
		d.errorf(format, a...)
		*failed = true
		return false
	}
	name := obj.name
	if o.d && len(obj.attrs) > 0 {
		return fail("Can not assign attributes to dynamic node group '%s'.", name)
	}
	var gt string
	if defined {
		if g, ok := d.view.Get(inventory.Group, name); ok {
			gt = g.Get("grouptype")
		}
		if gt == "dynamic" && len(obj.attrs) > 0 {
			return fail("Can not assign attributes to dynamic node group '%s'.", name)
		}
	} else {
		switch {
		case obj.attrs["grouptype"] != "":
			gt = obj.attrs["grouptype"]
		case o.d:
			gt = "dynamic"
		default:
			gt = "static"
		}
	}
	if obj.attrs["wherevals"] == "" && len(o.w) > 0 {
		obj.attrs["wherevals"] = strings.Join(o.w, "::")
	}
	var list []string
	if gt == "" || gt == "static" {
		switch {
		case len(o.w) > 0 && obj.attrs["members"] != "":
			return fail("Cannot use a list of members together with the '-w' option.")
		case obj.attrs["members"] != "":
			list = d.existingMembers(obj.attrs["members"])
		case obj.attrs["wherevals"] != "":
			where := map[string]defWhere{}
			for _, m := range perlSplit(obj.attrs["wherevals"], "::") {
				w, ok := parseWhereExpr(m)
				if !ok {
					return fail("Incorrect selection string")
				}
				where[w.attr] = w
			}
			list = d.whereNodes(where)
		}
	}
	if !defined {
		if obj.attrs["grouptype"] == "" {
			if o.d {
				obj.attrs["grouptype"] = "dynamic"
				if obj.attrs["wherevals"] == "" {
					d.errorf("The 'where' attributes and values were not provided for dynamic group '%s'.", name)
					return fail("Skipping to the next group.")
				}
			} else {
				obj.attrs["grouptype"] = "static"
			}
		}
		if obj.attrs["grouptype"] == "static" {
			for _, n := range list {
				members.change(n, name, true)
			}
		}
		return true
	}
	if len(list) == 0 {
		return true
	}
	switch {
	case o.m:
		for _, n := range list {
			members.change(n, name, false)
		}
	case o.p:
		for _, n := range list {
			members.change(n, name, true)
		}
	default:
		for _, n := range d.groupMembers(name) {
			members.change(n, name, false)
		}
		for _, n := range list {
			members.change(n, name, true)
		}
	}
	return true
}

// chAttrs sets obj's given attributes on w: replacing the value, or with
// -p adding the listed items that are not there yet, with -m removing them
// (each item that is not there is an error, as is -m on an unset
// attribute; that attribute is then left alone). It reports whether an
// attribute was set.
func (d *defCall) chAttrs(obj *defObj, w *inventory.Object) bool {
	o := &d.opt
	var current map[string]string
	if o.p || o.m {
		current = d.current(obj.t, obj.name)
	}
	delim := ","
	if obj.t == inventory.Group {
		if g, ok := d.view.Get(inventory.Group, obj.name); ok && g.Get("grouptype") == "dynamic" {
			delim = "::"
		}
	}
	key := inventory.KeyAttr(obj.t)
	set := false
	for _, k := range sortedKeys(obj.attrs) {
		if k == "objtype" || obj.t != inventory.Site && k == key || obj.t == inventory.Group && k == "members" {
			continue
		}
		v := obj.attrs[k]
		switch {
		case o.p:
			if cur := current[k]; cur != "" {
				list := perlSplit(cur, delim)
				for _, item := range perlSplit(v, delim) {
					if !slices.Contains(list, item) {
						list = append(list, item)
					}
				}
				v = strings.Join(list, delim)
			}
		case o.m:
			cur := current[k]
			if cur == "" {
				d.errorf("No value got for attribute '%s' for the '%s' definition.", k, obj.name)
				continue
			}
			list := perlSplit(cur, delim)
			minus := perlSplit(v, delim)
			bad := false
			for _, item := range minus {
				if slices.Contains(list, item) {
					continue
				}
				bad = true
				if d.opt.t == string(inventory.Group) {
					d.errorf("%s is not a member of '%s'.", obj.name, item)
				} else {
					d.errorf("%s is not in the attribute of '%s' for the '%s' definition.", item, k, obj.name)
				}
			}
			if bad {
				continue
			}
			list = slices.DeleteFunc(list, func(s string) bool { return slices.Contains(minus, s) })
			v = strings.Join(list, delim)
		}
		w.Set(k, v)
		set = true
	}
	return set
}

// rename is chdef -n: the object gets a new name. For a group the member
// nodes' groups lists follow the new name.
func (d *defCall) rename() int {
	o := &d.opt
	if o.d || o.p || o.m || o.z || len(o.w) > 0 {
		d.errorf("Cannot combine '-n' and '-d','-p','-m','-z','-w' options.")
		d.usage()
		return 1
	}
	if len(d.names) > 1 {
		d.errorf("The '-n' option (changing object name) can only work on one object.")
		d.usage()
		return 1
	}
	if len(d.names) == 0 || len(d.types) == 0 {
		d.errorf("No object names were provided.")
		return 1
	}
	t, old := d.types[0], d.names[0]
	if t == inventory.Site || !d.exists(t, old) {
		d.errorf("The %s is not a valid object.", old)
		return 1
	}
	if d.exists(t, o.n) {
		d.errorf("Object %s already exists.", o.n)
		return 1
	}
	var changes []inventory.Change
	if obj := d.own(t, old); obj != nil {
		changes = append(changes, inventory.Change{Op: inventory.Delete, Object: inventory.Object{Type: t, Name: old}})
		obj.Name = o.n
		changes = append(changes, inventory.Change{Op: inventory.Create, Object: *obj})
	}
	if t == inventory.Group {
		for _, n := range d.groupMembers(old) {
			node := d.own(inventory.Node, n)
			if node == nil {
				continue
			}
			groups := inventory.SplitList(node.Get("groups"))
			for i, g := range groups {
				if g == old {
					groups[i] = o.n
				}
			}
			node.Set("groups", strings.Join(groups, ","))
			changes = append(changes, inventory.Change{Op: inventory.Put, Object: *node})
		}
	}
	if err := d.apply(changes); err != nil {
		d.errorf("Could not write data to the xCAT database: %v", err)
		return 1
	}
	d.info("Changed the object name from %s to %s.", old, o.n)
	return d.rc(false)
}
