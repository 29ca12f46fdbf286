package inventory

import (
	"strings"
)

// Resolved is a node's attributes as xCAT shows them (lsdef, nodels, the boot
// services): inherited from its groups and with table regular expressions
// evaluated. It never holds empty values.
type Resolved map[string]string

// groupOnlyAttrs are the nodegroup attributes: they describe the group itself
// and are never inherited by its members.
var groupOnlyAttrs = map[string]bool{
	"grouptype": true, "members": true, "membergroups": true, "wherevals": true,
}

// nodeOnlyAttrs are the nodelist attributes (NodeOnlyAttrs): groups do not
// share them.
var nodeOnlyAttrs = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range NodeOnlyAttrs() {
		m[a] = true
	}
	return m
}()

// inheritable reports whether a node may take attr from a group.
func inheritable(attr string) bool {
	return !nodeOnlyAttrs[attr] && !groupOnlyAttrs[attr] && !isDirectAttr(attr)
}

// isDirectAttr reports whether attr is one of the passwd.* attributes, which
// xCAT's getobjdefs reads from the ppcdirect table by their exact keys
// (hcp=<node>, username=<user>): never inherited, never a regex.
func isDirectAttr(attr string) bool { return strings.HasPrefix(attr, "passwd.") }

// Resolve returns a node's attributes as xCAT shows them (Table.pm
// getNodeAttribs): the node's own non-empty values win; every other
// attribute comes from the first group, in the order of the node's groups
// attribute, whose object has it (the nodelist attributes of NodeOnlyAttrs
// and the passwd.* attributes are never inherited; groups that have no
// object are skipped). Attributes
// named in the site object's hierarchicalattrs ("attr[:delimiter],...")
// are instead the node's and all its groups' values joined with the
// delimiter (default ","), duplicates removed. Every value is then passed
// through EvalRegex for the node name (nic* attributes also per interface,
// as lsdef does; passwd.* values stay raw), and a result that is empty
// counts as unset. A pattern that
// cannot be evaluated leaves the raw value.
//
// Group objects are never resolved: for any other object type Resolve
// returns a copy of its raw attributes.
func Resolve(v View, node *Object) Resolved {
	if node.Type != Node && node.Type != "" {
		out := make(Resolved, len(node.Attrs))
		for k, val := range node.Attrs {
			if val != "" {
				out[k] = val
			}
		}
		return out
	}
	return newViewResolver(v).all(node)
}

// ResolveAttr returns one resolved attribute of a node and where it came
// from: the name of the group that supplied it, "" when it is the node's own
// or unset (for nodels -b). For a hierarchical attribute fromGroup lists the
// contributing groups, comma-separated.
func ResolveAttr(v View, node *Object, attr string) (value, fromGroup string) {
	value, fromGroup, _ = newViewResolver(v).attr(node, attr)
	return value, fromGroup
}

// resolver resolves node attributes against a source of group objects.
type resolver struct {
	group func(name string) (*Object, bool)
	hier  map[string]string // attribute -> delimiter (site.hierarchicalattrs)
	re    *regexCache       // nil: compile every time
}

func newViewResolver(v View) *resolver {
	return &resolver{
		group: func(name string) (*Object, bool) { return v.Get(Group, name) },
		hier:  hierarchicalAttrs(v, DefaultSchema()),
	}
}

// hierarchicalAttrs parses site.hierarchicalattrs like xCAT's
// TableUtils::getHierarchyAttrs: "attr1:delim,attr2,..."; a missing (or
// Perl-false) delimiter is ",". Names are table columns in xCAT; a name that
// is not a node attribute is matched against the columns of the node
// attributes (outside nodelist, which never takes part).
func hierarchicalAttrs(v View, s *Schema) map[string]string {
	site, ok := v.Get(Site, SiteName)
	if !ok {
		return nil
	}
	return parseHierarchical(site.Get("hierarchicalattrs"), s)
}

func parseHierarchical(field string, s *Schema) map[string]string {
	if strings.TrimSpace(field) == "" {
		return nil
	}
	out := map[string]string{}
	for _, item := range strings.Split(field, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, delim, _ := strings.Cut(item, ":")
		name = strings.TrimSpace(name)
		delim = strings.TrimLeft(delim, " \t")
		if delim == "" || delim == "0" {
			delim = ","
		}
		if name == "" {
			continue
		}
		if _, isAttr := s.Attr(Node, name); isAttr {
			if inheritable(name) {
				out[name] = delim
			}
			continue
		}
		for _, d := range s.Attrs(Node) {
			for _, variant := range s.Variants(Node, d.Name) {
				if variant.Column == name && variant.Table != "nodelist" && inheritable(d.Name) {
					out[d.Name] = delim
				}
			}
		}
	}
	return out
}

// groupsOf returns the existing group objects of a node, in order.
func (r *resolver) groupsOf(node *Object) []*Object {
	names := node.Groups()
	out := make([]*Object, 0, len(names))
	for _, g := range names {
		if o, ok := r.group(g); ok && o != nil {
			out = append(out, o)
		}
	}
	return out
}

// all resolves every attribute of node.
func (r *resolver) all(node *Object) Resolved {
	groups := r.groupsOf(node)
	raw := make(map[string]string, len(node.Attrs)+8)
	for k, val := range node.Attrs {
		if val != "" {
			raw[k] = val
		}
	}
	for _, g := range groups {
		for k, val := range g.Attrs {
			if val == "" || !inheritable(k) {
				continue
			}
			if _, has := raw[k]; !has {
				raw[k] = val
			}
		}
	}
	for attr, delim := range r.hier {
		if val, _ := hierarchicalValue(node, groups, attr, delim); val != "" {
			raw[attr] = val
		}
	}
	for k, val := range raw { // evaluated in place: one map per node
		switch ev := r.eval(node.Name, k, val); {
		case ev == "":
			delete(raw, k)
		case ev != val:
			raw[k] = ev
		}
	}
	return Resolved(raw)
}

// attr resolves one attribute of node.
func (r *resolver) attr(node *Object, attr string) (value, from string, ok bool) {
	own := node.Attrs[attr]
	var raw string
	switch delim, hier := r.hier[attr]; {
	case hier:
		var froms []string
		raw, froms = hierarchicalValue(node, r.groupsOf(node), attr, delim)
		from = strings.Join(froms, ",")
	case own != "" || !inheritable(attr):
		raw = own
	default:
		for _, name := range node.Groups() {
			g, ok := r.group(name)
			if !ok || g == nil {
				continue
			}
			if val := g.Attrs[attr]; val != "" {
				raw, from = val, g.Name
				break
			}
		}
	}
	if raw == "" {
		return "", "", false
	}
	value = r.eval(node.Name, attr, raw)
	if value == "" {
		return "", "", false
	}
	return value, from, true
}

// hierarchicalValue joins the node's and its groups' values of attr the way
// getNodeAttribs_nosub_returnany does for site.hierarchicalattrs: each value
// followed by the delimiter, split again (trailing empty fields dropped),
// duplicates removed keeping the first. It also returns the groups that
// contributed.
func hierarchicalValue(node *Object, groups []*Object, attr, delim string) (string, []string) {
	var b strings.Builder
	var froms []string
	if own := node.Attrs[attr]; own != "" {
		b.WriteString(own)
		b.WriteString(delim)
	}
	for _, g := range groups {
		if val := g.Attrs[attr]; val != "" {
			b.WriteString(val)
			b.WriteString(delim)
			froms = append(froms, g.Name)
		}
	}
	fields := perlSplit(b.String(), delim)
	seen := make(map[string]bool, len(fields))
	out := fields[:0]
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return strings.Join(out, delim), froms
}

// eval applies xCAT's regular expressions to a raw value; "" or "\n" (Perl's
// /^$/) means unset.
func (r *resolver) eval(node, attr, raw string) string {
	val := raw
	if isRegexValue(raw) && !isDirectAttr(attr) {
		val, _ = evalRegex(node, raw, r.re)
	}
	if IsNicAttr(attr) && strings.Contains(val, "!") {
		val = evalNics(node, val, r.re)
	}
	if val == "\n" {
		return ""
	}
	return val
}

// evalNics evaluates the value of every interface of a collapsed nic*
// attribute ("eth0!v0,eth1!v1"), as xCAT's expandnicsattr does for nodes;
// interfaces whose value evaluates to empty are dropped.
func evalNics(node, collapsed string, cache *regexCache) string {
	if !strings.Contains(collapsed, "!|") && !strings.Contains(collapsed, "!/") {
		return collapsed
	}
	entries := strings.Split(collapsed, ",")
	out := entries[:0]
	for _, e := range entries {
		nic, val, found := strings.Cut(e, "!")
		if found && nic != "" && isRegexValue(val) {
			val, _ = evalRegex(node, val, cache)
			if val == "" || val == "\n" {
				continue
			}
			e = nic + "!" + val
		}
		out = append(out, e)
	}
	return strings.Join(out, ",")
}
