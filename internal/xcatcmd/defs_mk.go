package xcatcmd

import (
	"context"
	"regexp"
	"strings"

	"drover.dev/drover/internal/inventory"
)

var nodeWordRE = regexp.MustCompile(`\bnode\b`)

// mkdef creates object definitions (DBobjectdefs::defmk). Everything it
// writes, the new objects and the member nodes of new groups, goes to the
// store in one transaction.
func (r *Runner) mkdef(ctx context.Context, c *call) int {
	d := r.newDefCall(ctx, c, "mkdef")
	if rc, ok := d.start(); !ok {
		return rc
	}
	o := &d.opt
	switch {
	case o.p || o.m:
		d.errorf("The '-p' and '-m' options are not valid for the mkdef command.")
		d.usage()
		return 1
	case d.stanzaOptionConflict():
		return 1
	}
	fileType := map[string]inventory.Type{}
	all := d.names
	for _, s := range d.file {
		all = append(all, s.Name)
		fileType[s.Name] = inventory.Type(s.Type)
	}
	if len(all) == 0 {
		d.errorf("No object names were provided.")
		d.usage()
		return 1
	}
	typeOf := func(n string) inventory.Type {
		if o.t != "" {
			return inventory.Type(o.t)
		}
		return fileType[n]
	}
	if !d.nameChecks(all, typeOf) {
		return 1
	}

	cli, badCLI := d.cliObjects()
	file, badFile := d.fileObjects()
	if badCLI || badFile {
		// An invalid attribute or stanza aborts the whole command.
		return 1
	}
	objs := append(file, cli...)
	if len(objs) == 0 {
		if nodeWordRE.MatchString(o.t) {
			d.errorf("No object definitions have been created or modified: no attributes were specified. The 'groups' attribute is required when creating node definitions.")
		} else {
			d.errorf("No object definitions have been created or modified: no attributes were specified.")
		}
		return 1
	}

	d.notePending(objs)
	failed := false
	var members membership
	var written []*defObj
	final := map[defRef]bool{}
	for _, obj := range objs {
		if d.mkCheck(obj, &failed) {
			written = append(written, obj)
			final[obj.ref()] = true
		}
	}
	// Group handling needs to know which nodes this command rewrites.
	for _, obj := range written {
		if obj.t != inventory.Group {
			continue
		}
		d.mkGroup(obj, &members)
	}

	var changes []inventory.Change
	for _, obj := range written {
		op := inventory.Create
		if d.exists(obj.t, obj.name) {
			op = inventory.Put
		}
		changes = append(changes, inventory.Change{Op: op, Object: inventory.Object{
			Type: obj.t, Name: obj.name, Attrs: storedAttrs(obj.t, obj.attrs),
		}})
	}
	for _, n := range members.nodes() {
		if final[defRef{inventory.Node, n}] {
			continue // the node's own definition in this command wins
		}
		node := d.own(inventory.Node, n)
		if node == nil {
			continue
		}
		node.Set("groups", members.apply(n, node.Get("groups")))
		changes = append(changes, inventory.Change{Op: inventory.Put, Object: *node})
	}
	if err := d.apply(changes); err != nil {
		d.errorf("Could not write data to the xCAT database: %v", err)
		failed = true
	}
	if failed {
		d.errorf("One or more errors occured when attempting to create or modify xCAT object definitions.")
		return 1
	}
	if len(written) > 0 {
		d.info("%d object definitions have been created or modified.", len(written))
	} else {
		d.errorf("0 object definitions have been created or modified.")
	}
	return d.rc(false)
}

// mkCheck applies defmk's per-object checks; false means the object is not
// created (reported, and failed set for errors).
func (d *defCall) mkCheck(obj *defObj, failed *bool) bool {
	o := &d.opt
	fail := func(format string, a ...any) bool {
		d.errorf(format, a...)
		*failed = true
		return false
	}
	name := obj.name
	if obj.t == inventory.Network {
		if d.exists(inventory.Network, name) {
			return fail("A network definition called '%s' already exists. Cannot create a definition for '%s'.", name, name)
		}
		net, mask := obj.attrs["net"], obj.attrs["mask"]
		if net == "" || mask == "" {
			return fail("Net or mask value should not be empty for xCAT network object '%s'.", name)
		}
		for _, n := range d.view.List(inventory.Network) {
			if n.Get("net") == net && n.Get("mask") == mask {
				return fail("A network definition called '%s' already exists that contains the same net and mask values. Cannot create a definition for '%s'.", n.Name, name)
			}
		}
	}
	if d.exists(obj.t, name) && !o.f {
		d.warnf("A definition for '%s' already exists. No changes will be made.  Run again with '-f' option to force replace.", name)
		return false
	}
	if obj.t == inventory.Node && obj.attrs["groups"] == "" {
		return fail("Attribute 'groups' is not specified for node '%s', skipping to the next node.", name)
	}
	if obj.t == inventory.Group {
		gt := obj.attrs["grouptype"]
		dynamic := gt == "dynamic" || gt == "" && o.d
		switch {
		case gt == "" && o.d && len(obj.attrs) > 0:
			return fail("Can not assign attributes to dynamic node group '%s'.", name)
		case dynamic && obj.attrs["wherevals"] == "" && len(o.w) == 0:
			d.errorf("The 'where' attributes and values were not provided for dynamic group '%s'.", name)
			return fail("Skipping to the next group.")
		case !dynamic && len(o.w) > 0 && obj.attrs["members"] != "":
			return fail("Cannot use a list of members together with the '-w' option.")
		}
	}
	if msgs := d.onlyIfErrors(obj.t, obj.attrs, nil); len(msgs) > 0 {
		for _, m := range msgs {
			d.errorf("%s", m)
		}
		*failed = true
		return false
	}
	check := inventory.Object{Type: obj.t, Name: name, Attrs: storedAttrs(obj.t, obj.attrs)}
	if obj.t == inventory.Group && check.Attrs["grouptype"] == "" && o.d {
		check.Attrs["grouptype"] = "dynamic"
		check.Attrs["wherevals"] = strings.Join(o.w, "::")
	}
	if err := inventory.Validate(d.schema, &check); err != nil {
		return fail("%s", err)
	}
	return true
}

// mkGroup completes a new group as defmk does: its grouptype, the wherevals
// of a dynamic group, and for a static group the member nodes (members= or
// the nodes matching -w), which get the group added to their groups.
func (d *defCall) mkGroup(obj *defObj, members *membership) {
	o := &d.opt
	if obj.attrs["grouptype"] == "" {
		if o.d {
			obj.attrs["grouptype"] = "dynamic"
		} else {
			obj.attrs["grouptype"] = "static"
		}
	}
	if obj.attrs["grouptype"] == "dynamic" {
		if obj.attrs["wherevals"] == "" {
			obj.attrs["wherevals"] = strings.Join(o.w, "::")
		}
		return
	}
	var list []string
	switch {
	case obj.attrs["members"] != "":
		list = d.existingMembers(obj.attrs["members"])
	case len(o.w) > 0:
		list = d.whereNodes(d.where)
	default:
		d.warnf("Cannot determine a member list for group '%s'.", obj.name)
	}
	for _, n := range list {
		members.change(n, obj.name, true)
	}
}
