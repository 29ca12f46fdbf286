package xcatcmd

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/stanza"
)

// lsdef lists object definitions (DBobjectdefs::defls).
func (r *Runner) lsdef(ctx context.Context, c *call) int {
	d := r.newDefCall(ctx, c, "lsdef")
	if rc, ok := d.start(); !ok {
		return rc
	}
	o := &d.opt
	long := o.l || len(d.noderange) > 0 || o.o != "" || o.i != "" || o.z
	if o.s {
		long = false
	}

	refs := d.targetRefs() // the objects to show, with their type
	types := d.types
	if o.a {
		types = inventory.Types()
	}
	if len(refs) == 0 {
		d.info("Could not find any objects to display.")
		return d.rc(false)
	}

	var data []string // lines printed at the end, as xCAT collects them
	var stz bytes.Buffer
	if o.z {
		data = append(data, stanza.Header)
	}
	total := 0
	checkNames := d.fromArgs || o.o != ""
	for _, t := range types {
		var objs []string
		for _, ref := range refs {
			if ref.t != t {
				continue
			}
			if t == inventory.Node && !o.S {
				if n, ok := d.view.Get(t, ref.name); ok && n.Get("hidden") == "1" {
					continue
				}
			}
			objs = append(objs, ref.name)
		}
		sort.Strings(objs)
		if t == inventory.Policy {
			sortPriorities(objs)
		}
		if len(d.objectNames(t)) == 0 {
			d.info("Could not find any objects of type '%s'.", t)
			continue
		}
		attrList, stanzaAttrs := d.lsAttrs(t)
		attrSet := make(map[string]bool, len(attrList))
		for _, a := range attrList {
			attrSet[a] = true
		}
		for _, name := range objs {
			total++
			attrs := d.shown(t, name)
			if len(d.where) > 0 && (attrs == nil || !d.whereMatch(attrs)) {
				continue
			}
			if (checkNames || t == inventory.Node && len(d.noderange) > 0) && attrs == nil {
				d.errorf("Could not find an object named '%s' of type '%s'.", name, t)
				continue
			}
			names := attrList
			if t == inventory.Site {
				names = sortedKeys(attrs)
			}
			switch {
			case long && o.z:
				obj := inventory.Object{Type: t, Name: name, Attrs: attrs}
				var opt stanza.WriteOptions
				switch {
				case t == inventory.Site && d.attrList != nil:
					opt.Attrs = []string{}
					for _, a := range d.attrList {
						if _, ok := attrs[a]; ok && !slices.Contains(opt.Attrs, a) {
							opt.Attrs = append(opt.Attrs, a)
						}
					}
				case t == inventory.Site:
				case stanzaAttrs != nil:
					opt.Attrs = stanzaAttrs
				default:
					obj.Attrs = onlyKeys(attrs, attrSet)
				}
				if t == inventory.Group && opt.Attrs == nil {
					opt.Always = []string{"members"}
				}
				stz.Reset()
				if err := stanza.WriteObject(&stz, &obj, opt); err != nil {
					d.errorf("%s", err)
					continue
				}
				// One chunk per object: "\nname:\n    objtype=...\n    a=b"
				// (the empty line before the object as in xCAT's "\n$obj:").
				data = append(data, strings.TrimSuffix(stz.String(), "\n"))
			case long:
				if len(types) > 1 {
					data = append(data, "Object name: "+name+"  ("+string(t)+")")
				} else if !o.c {
					data = append(data, "Object name: "+name)
				}
				data = append(data, d.longLines(t, name, attrs, names)...)
			case o.z:
				data = append(data, "\n"+name+":")
			case o.a:
				data = append(data, name+" ("+string(t)+")")
			default:
				data = append(data, name+"  ("+string(t)+")")
			}
		}
	}
	switch {
	case len(data) > 0:
		for _, l := range data {
			d.info("%s", l)
		}
	case total > 0:
		d.info("No object definitions have been found")
	}
	return d.rc(false)
}

// sortPriorities orders policy names by numeric priority, names that are
// not numbers last in byte order.
func sortPriorities(names []string) {
	sort.SliceStable(names, func(i, j int) bool {
		a, errA := strconv.ParseFloat(names[i], 64)
		b, errB := strconv.ParseFloat(names[j], 64)
		switch {
		case errA == nil && errB == nil && a != b:
			return a < b
		case (errA == nil) != (errB == nil):
			return errA == nil
		}
		return names[i] < names[j]
	})
}

// lsAttrs returns the attributes lsdef shows for a type: -i's list (valid
// ones only, each invalid one reported) or every attribute of the type; and
// the stanza writer's attribute list for -i (nil without -i).
func (d *defCall) lsAttrs(t inventory.Type) (names, stanzaAttrs []string) {
	if d.attrList == nil {
		for _, a := range d.schema.Attrs(t) {
			names = append(names, a.Name)
		}
		return names, nil
	}
	if t == inventory.Site {
		return nil, slices.Clone(d.attrList)
	}
	stanzaAttrs = []string{}
	for _, a := range d.attrList {
		if _, ok := d.schema.Attr(t, a); !ok || strings.Contains(a, ".") {
			d.errorf("'%s' is not a valid attribute name for an object type of '%s'.", a, t)
			continue
		}
		if slices.Contains(names, a) {
			continue
		}
		names = append(names, a)
		if nics := d.nicNames[a]; len(nics) > 0 && (t == inventory.Node || t == inventory.Group) {
			for _, n := range nics {
				stanzaAttrs = append(stanzaAttrs, a+"."+n)
			}
		} else {
			stanzaAttrs = append(stanzaAttrs, a)
		}
	}
	return names, stanzaAttrs
}

// onlyKeys returns the entries of m whose keys are in keys.
func onlyKeys(m map[string]string, keys map[string]bool) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if keys[k] {
			out[k] = v
		}
	}
	return out
}

// longLines returns the attribute lines of lsdef -l (and -c).
func (d *defCall) longLines(t inventory.Type, name string, attrs map[string]string, names []string) []string {
	names = slices.Clone(names)
	sort.Strings(names)
	nicType := t == inventory.Node || t == inventory.Group
	var out []string
	for _, a := range names {
		if a == "objtype" {
			continue
		}
		v := attrs[a]
		if d.attrList != nil {
			if !slices.Contains(d.attrList, a) {
				continue
			}
			switch {
			case t == inventory.Group && a == "members":
				out = append(out, "    members="+v)
			case strings.HasPrefix(a, "nic") && nicType:
				for _, l := range expandNicLines(a, v, d.nicNames[a]) {
					if d.opt.c {
						l = name + ": " + strings.TrimPrefix(l, "    ")
					}
					out = append(out, l)
				}
			case d.opt.c:
				out = append(out, name+": "+a+"="+v)
			default:
				out = append(out, "    "+a+"="+v)
			}
			continue
		}
		switch {
		case t == inventory.Group && a == "members":
			out = append(out, "    members="+v)
		case v == "":
		case strings.HasPrefix(a, "nic") && nicType:
			out = append(out, expandNicLines(a, v, nil)...)
		default:
			out = append(out, "    "+a+"="+v)
		}
	}
	return out
}

// expandNicLines writes a stored nic attribute one line per interface
// (DBobjUtils::expandnicsattr), optionally only for the given nics.
func expandNicLines(attr, v string, only []string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		f := strings.Split(e, "!")
		if len(f) < 2 || f[0] == "" || f[1] == "" {
			continue
		}
		if len(only) > 0 && !slices.Contains(only, f[0]) {
			continue
		}
		out = append(out, "    "+attr+"."+f[0]+"="+f[1])
	}
	return out
}
