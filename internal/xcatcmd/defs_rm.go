package xcatcmd

import (
	"context"

	"drover.dev/drover/internal/inventory"
)

// rmdef removes object definitions (DBobjectdefs::defrm) in one
// transaction. Removing a static group takes it out of its member nodes'
// groups lists; the nodes stay.
func (r *Runner) rmdef(ctx context.Context, c *call) int {
	d := r.newDefCall(ctx, c, "rmdef")
	if rc, ok := d.start(); !ok {
		return rc
	}
	o := &d.opt
	if o.a && !o.f {
		d.errorf("You must use the '-f' option when using the '-a' option.")
		d.usage()
		return 1
	}
	refs := d.targetRefs()

	var removed []defRef
	var members membership
	for _, ref := range refs {
		if !d.exists(ref.t, ref.name) {
			d.errorf("Could not find an object named '%s' of type '%s'.", ref.name, ref.t)
			continue
		}
		removed = append(removed, ref)
		if ref.t != inventory.Group {
			continue
		}
		if g, ok := d.view.Get(inventory.Group, ref.name); ok && g.Get("grouptype") == "dynamic" {
			continue
		}
		for _, n := range d.groupMembers(ref.name) {
			members.change(n, ref.name, false)
		}
	}
	var changes []inventory.Change
	gone := map[defRef]bool{}
	for _, ref := range removed {
		gone[ref] = true
		changes = append(changes, inventory.Change{Op: inventory.Delete, Object: inventory.Object{Type: ref.t, Name: ref.name}})
	}
	for _, n := range members.nodes() {
		if gone[defRef{inventory.Node, n}] {
			continue // removed as well
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
		d.errorf("One or more errors occured when attempting to remove xCAT object definitions.")
		return 1
	}
	if len(removed) > 0 {
		d.info("%d object definitions have been removed.", len(removed))
	} else {
		d.info("No objects have been removed from the xCAT database.")
	}
	return d.rc(false)
}
