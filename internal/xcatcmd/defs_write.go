package xcatcmd

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// defObj is one object of a mkdef or chdef command with the attributes
// given for it (empty values included: chdef unsets them).
type defObj struct {
	t     inventory.Type
	name  string
	attrs map[string]string
}

func (o *defObj) ref() defRef { return defRef{o.t, o.name} }

// notePending records the groups among objs for onlyIfErrors.
func (d *defCall) notePending(objs []*defObj) {
	for _, o := range objs {
		if o.t != inventory.Group {
			continue
		}
		if d.pending == nil {
			d.pending = map[string]map[string]string{}
		}
		d.pending[o.name] = o.attrs
	}
}

// cliObjects builds the objects named on the command line with the
// attr=val operands (DBobjectdefs' %::CLIATTRS). Every invalid attribute is
// reported, once per object as xCAT does, and makes bad true.
func (d *defCall) cliObjects() (objs []*defObj, bad bool) {
	if len(d.attrs) == 0 && d.opt.t != string(inventory.Group) || len(d.names) == 0 || len(d.types) == 0 {
		return nil, false
	}
	t := d.types[0]
	seen := map[string]bool{}
	for _, name := range d.names {
		if seen[name] {
			continue
		}
		seen[name] = true
		obj := &defObj{t: t, name: name, attrs: map[string]string{}}
		for _, a := range d.attrOrder {
			base := a
			if m := nicSuffixRE.FindStringSubmatch(a); m != nil {
				base = m[1]
			}
			if a == "objtype" || d.schema.ValidateAttr(t, a) != nil {
				d.errorf("'%s' is not a valid attribute name for an object type of '%s'.", base, t)
				d.errorf("Skipping to the next attribute.")
				bad = true
				continue
			}
			if d.maskedSecret(name, a, d.attrs[a]) {
				continue
			}
			obj.attrs[a] = d.attrs[a]
		}
		if t == inventory.Node || t == inventory.Group {
			d.collapseNics(obj)
		}
		objs = append(objs, obj)
	}
	return objs, bad
}

// fileObjects builds the objects of the -z stanza input. A stanza without
// objtype or with an invalid attribute is reported and makes bad true; its
// valid attributes are kept.
func (d *defCall) fileObjects() (objs []*defObj, bad bool) {
	for _, s := range d.file {
		if s.Type == "" {
			d.errorf("No objtype value was specified for '%s'. Cannot create object definition.", s.Name)
			bad = true
			continue
		}
		t, err := inventory.ParseType(s.Type)
		if err != nil {
			d.errorf("%s", err)
			bad = true
			continue
		}
		name := s.Name
		if t == inventory.Site {
			name = inventory.SiteName // the one site object, whatever the stanza calls it
		}
		obj := &defObj{t: t, name: name, attrs: map[string]string{}}
		for _, k := range sortedKeys(s.Attrs) {
			if d.schema.ValidateAttr(t, k) != nil {
				d.errorf("'%s' is not a valid attribute name for an object type of '%s'.", k, t)
				bad = true
				continue
			}
			if d.maskedSecret(name, k, s.Attrs[k]) {
				continue
			}
			obj.attrs[k] = s.Attrs[k]
		}
		objs = append(objs, obj)
	}
	return objs, bad
}

// maskedSecret reports (with a warning) a secret attribute whose value is
// the mask lsdef prints in place of secrets: a listing taken without the
// secrets and fed back must not replace them with the mask. drover's
// addition; xCAT has no masking.
func (d *defCall) maskedSecret(name, attr, value string) bool {
	if value != inventory.Masked || !inventory.IsSecret(attr) {
		return false
	}
	d.warnf("The value of '%s' for '%s' is the mask %s of a listing without secrets; the attribute is left unchanged.", attr, name, inventory.Masked)
	return true
}

// collapseNics turns nic<attr>.<nic>=value operands into the stored
// nic<attr>=nic!value,... form, merged into the object's current value as
// DBobjectdefs::setFINALattrs does: a given interface replaces its entry,
// an empty value removes it, new interfaces are appended.
func (d *defCall) collapseNics(obj *defObj) {
	per := map[string]map[string]string{}
	for k, v := range obj.attrs {
		base, nic, ok := strings.Cut(k, ".")
		if !ok || nic == "" || !inventory.IsNicAttr(base) {
			continue
		}
		if per[base] == nil {
			per[base] = map[string]string{}
		}
		per[base][nic] = v
		delete(obj.attrs, k)
	}
	var cur *inventory.Object
	if o, ok := d.view.Get(obj.t, obj.name); ok {
		cur = o
	}
	for _, base := range sortedKeys(per) {
		given := per[base]
		var entries []string
		seen := map[string]bool{}
		if cur != nil {
			for _, e := range strings.Split(cur.Get(base), ",") {
				nic, val, _ := strings.Cut(e, "!")
				if nic == "" {
					continue
				}
				seen[nic] = true
				if nv, ok := given[nic]; ok {
					val = nv
				}
				if val != "" {
					entries = append(entries, nic+"!"+val)
				}
			}
		}
		for _, nic := range sortedKeys(given) {
			if !seen[nic] && given[nic] != "" {
				entries = append(entries, nic+"!"+given[nic])
			}
		}
		obj.attrs[base] = strings.Join(entries, ",")
	}
}

// storedAttrs returns the attributes to store for obj: the non-empty ones,
// without objtype, the type's key attribute and a group's members (which
// are kept in the member nodes' groups).
func storedAttrs(t inventory.Type, attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	key := inventory.KeyAttr(t)
	for k, v := range attrs {
		switch {
		case v == "", k == "objtype":
		case t != inventory.Site && k == key:
		case t == inventory.Group && k == "members":
		default:
			out[k] = v
		}
	}
	return out
}

// matchWord is Perl's $value =~ /\b$word\b/.
func matchWord(value, word string) bool {
	if value == "" {
		return false
	}
	re, err := regexp.Compile(`\b` + regexp.QuoteMeta(word) + `\b`)
	return err == nil && re.MatchString(value)
}

// onlyIfErrors checks xCAT's only_if conditions (validate_only_if_attrs):
// an attribute whose every schema variant has a condition such as
// mgt=ipmi may be set only when the condition attribute has a matching
// value among the given attributes, the object's current (for nodes
// resolved) values, or the groups given in its groups attribute.
func (d *defCall) onlyIfErrors(t inventory.Type, given, current map[string]string) []string {
	if t != inventory.Node && t != inventory.Group {
		return nil
	}
	var groups []*inventory.Object
	for _, g := range inventory.SplitList(given["groups"]) {
		if attrs, ok := d.pending[g]; ok {
			groups = append(groups, &inventory.Object{Type: inventory.Group, Name: g, Attrs: attrs})
		}
		if o, ok := d.view.Get(inventory.Group, g); ok {
			groups = append(groups, o)
		}
	}
	var msgs []string
	for _, a := range sortedKeys(given) {
		if given[a] == "" {
			continue
		}
		var cond string
		var vals []string
		ok := false
		for _, v := range d.schema.Variants(t, a) {
			if v.OnlyIf == "" {
				ok = true
				break
			}
			ca, cv, _ := strings.Cut(v.OnlyIf, "=")
			if matchWord(given[ca], cv) || matchWord(current[ca], cv) ||
				slices.ContainsFunc(groups, func(g *inventory.Object) bool { return matchWord(g.Get(ca), cv) }) {
				ok = true
				break
			}
			cond = ca
			if !slices.Contains(vals, cv) {
				vals = append(vals, cv)
			}
		}
		if !ok && len(vals) > 0 {
			msgs = append(msgs, fmt.Sprintf("Cannot set the attr='%s' attribute unless %s value is %s.", a, cond, strings.Join(vals, " or ")))
		}
	}
	return msgs
}

// nameChecks reports node names with '.' or otherwise invalid object names
// (fatal) and warns about node names with capitals, as defmk does before
// anything else. typeOf gives each name's type ("" when unknown).
func (d *defCall) nameChecks(names []string, typeOf func(string) inventory.Type) bool {
	var withDomain, invalid, capitals []string
	for _, n := range names {
		t := typeOf(n)
		if !d.validName(n, t) {
			invalid = append(invalid, n)
		}
		if t == "" || t == inventory.Node {
			switch {
			case strings.ContainsAny(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
				capitals = append(capitals, n)
			case strings.Contains(n, "."):
				withDomain = append(withDomain, n)
			}
		}
	}
	if len(withDomain) > 0 {
		d.errorf("The object name '%s' is invalid, Cannot use '.' in node name.", strings.Join(withDomain, ","))
		return false
	}
	if len(invalid) > 0 {
		d.errorf(`The object name '%s' is invalid, please refer to "man xcatdb" for the valid "xCAT Object Name Format"`, strings.Join(invalid, ","))
		return false
	}
	if len(capitals) > 0 {
		d.warnf("The node name '%s' contains capital letters which may not be resolved correctly by the dns server.", strings.Join(capitals, ","))
	}
	return true
}

// membership collects the group changes of member nodes (the groups
// attribute of each node) that a command makes besides its own objects.
type membership struct {
	add, del map[string][]string // node -> groups
}

func (m *membership) change(node, group string, add bool) {
	if m.add == nil {
		m.add, m.del = map[string][]string{}, map[string][]string{}
	}
	if add {
		m.add[node] = append(m.add[node], group)
	} else {
		m.del[node] = append(m.del[node], group)
	}
}

// nodes returns the nodes whose groups change, sorted.
func (m *membership) nodes() []string {
	set := map[string]bool{}
	for n := range m.add {
		set[n] = true
	}
	for n := range m.del {
		set[n] = true
	}
	return sortedKeys(set)
}

// apply changes a node's groups list: removed groups go, added ones are
// appended unless present.
func (m *membership) apply(node string, groups string) string {
	list := inventory.SplitList(groups)
	list = slices.DeleteFunc(list, func(g string) bool { return slices.Contains(m.del[node], g) })
	for _, g := range m.add[node] {
		if !slices.Contains(list, g) {
			list = append(list, g)
		}
	}
	return strings.Join(list, ",")
}

// whereNodes returns the nodes matching the -w selections (or the given
// conditions), sorted.
func (d *defCall) whereNodes(where map[string]defWhere) []string {
	var out []string
	for _, n := range d.view.List(inventory.Node) {
		attrs := d.shown(inventory.Node, n.Name)
		ok := true
		for _, w := range where {
			if !w.match(attrs) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

// existingMembers expands a members= value (noderange, not verified) and
// keeps the existing nodes, reporting the others as xCAT does.
func (d *defCall) existingMembers(rng string) []string {
	nodes, err := d.expand(rng, false)
	if err != nil {
		d.errorf("%s", err)
		return nil
	}
	var out []string
	for _, n := range nodes {
		if _, ok := d.view.Get(inventory.Node, n); !ok {
			d.errorf("Could not find a node named '%s', skipping to the next node.", n)
			continue
		}
		out = append(out, n)
	}
	return out
}
