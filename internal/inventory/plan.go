package inventory

import (
	"cmp"
	"maps"
	"slices"
)

// Plan computes the changes that make the inventory v match desired, with
// kubectl apply semantics: each desired object replaces all attributes of
// the stored one. A new object is a Create, a changed one a Put, an equal one
// no change. With prune, every stored object of a type that appears in
// desired or in pruneTypes and is not desired is deleted (the site object is
// never pruned). When desired names an object twice, the last one wins.
// Empty values and the type's key attribute are dropped from desired
// attributes. Changes are ordered by type (the order of Types) and name.
func Plan(v View, desired []Object, prune bool, pruneTypes []Type) []Change {
	want := map[Type]map[string]Object{}
	for _, o := range desired {
		c := normalized(o)
		if want[c.Type] == nil {
			want[c.Type] = map[string]Object{}
		}
		want[c.Type][c.Name] = c
	}
	var changes []Change
	for _, byName := range want {
		for _, o := range byName {
			cur, exists := v.Get(o.Type, o.Name)
			switch {
			case !exists || cur == nil:
				changes = append(changes, Change{Op: Create, Object: o})
			case !sameAttrs(cur.Attrs, o.Attrs):
				changes = append(changes, Change{Op: Put, Object: o})
			}
		}
	}
	if prune {
		types := map[Type]bool{}
		for t := range want {
			types[t] = true
		}
		for _, t := range pruneTypes {
			types[t] = true
		}
		for t := range types {
			if t == Site {
				continue
			}
			for _, cur := range v.List(t) {
				if _, keep := want[t][cur.Name]; !keep {
					changes = append(changes, Change{Op: Delete, Object: Object{Type: t, Name: cur.Name}})
				}
			}
		}
	}
	slices.SortFunc(changes, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(typeOrder(a.Object.Type), typeOrder(b.Object.Type)),
			cmp.Compare(a.Object.Type, b.Object.Type),
			cmp.Compare(a.Object.Name, b.Object.Name),
		)
	})
	return changes
}

// typeOrder is the position of t in Types(); unknown types sort last.
func typeOrder(t Type) int {
	if i := slices.Index(Types(), t); i >= 0 {
		return i
	}
	return len(Types())
}

// normalized returns a copy of o without empty values or the key attribute.
func normalized(o Object) Object {
	c := o.Clone()
	maps.DeleteFunc(c.Attrs, func(_, v string) bool { return v == "" })
	if k := KeyAttr(c.Type); k != "" {
		delete(c.Attrs, k)
	}
	return c
}

// sameAttrs compares attribute maps, ignoring empty values.
func sameAttrs(a, b map[string]string) bool {
	for k, v := range a {
		if v != "" && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if v != "" && a[k] != v {
			return false
		}
	}
	return true
}

// AttrDiff is one changed attribute: Old or New is "" when it is unset.
type AttrDiff struct{ Attr, Old, New string }

// ObjectDiff describes one planned change for humans (kubectl diff style).
type ObjectDiff struct {
	Op    ChangeOp
	Type  Type
	Name  string
	Attrs []AttrDiff // changed attributes, sorted by name
}

// DiffChanges describes changes against the current inventory v: for each
// change the attributes it adds, alters or removes, sorted by name. Values
// are raw; callers mask secrets (IsSecret) before showing them.
func DiffChanges(v View, changes []Change) []ObjectDiff {
	out := make([]ObjectDiff, 0, len(changes))
	for _, c := range changes {
		d := ObjectDiff{Op: c.Op, Type: c.Object.Type, Name: c.Object.Name}
		var old, next map[string]string
		if cur, ok := v.Get(c.Object.Type, c.Object.Name); ok && cur != nil {
			old = cur.Attrs
		}
		if c.Op != Delete {
			next = c.Object.Attrs
		}
		keys := slices.Collect(maps.Keys(old))
		for k := range next {
			if _, dup := old[k]; !dup {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if old[k] != next[k] {
				d.Attrs = append(d.Attrs, AttrDiff{Attr: k, Old: old[k], New: next[k]})
			}
		}
		out = append(out, d)
	}
	return out
}
