package inventory

import (
	"slices"
	"sync"
)

// Index is a precomputed lookup over a View for noderange expansion: the
// sorted node names, the static membership of every group (built in one pass
// over the nodes) and the group objects. Attribute values are resolved only
// when asked for (Attr, dynamic groups), one attribute at a time. An Index is
// a snapshot: build a new one after the inventory changes. It is safe for
// concurrent use.
type Index struct {
	nodes   []string
	byName  map[string]*Object
	groups  map[string]*Object   // group objects
	static  map[string][]string  // group name -> sorted member nodes
	columns map[string]columnRef // "table.column" -> what it reads
	res     *resolver

	mu      sync.Mutex
	dynamic map[string][]string // computed members of dynamic groups
}

// columnRef says what a table.column selector reads for a node.
type columnRef struct {
	attr     string // node attribute, "" for a column drover does not keep
	nodeName bool   // the table's node column: the node's own name
}

// NewIndex builds an Index over v. It reads every node and group once and
// resolves nothing.
func NewIndex(v View, s *Schema) *Index {
	if s == nil {
		s = DefaultSchema()
	}
	nodeObjs := v.List(Node)
	groupObjs := v.List(Group)
	ix := &Index{
		nodes:   make([]string, 0, len(nodeObjs)),
		byName:  make(map[string]*Object, len(nodeObjs)),
		groups:  make(map[string]*Object, len(groupObjs)),
		static:  map[string][]string{},
		columns: columnMap(s),
		dynamic: map[string][]string{},
	}
	for _, g := range groupObjs {
		ix.groups[g.Name] = g
	}
	sorted := true
	for i, n := range nodeObjs {
		if i > 0 && n.Name <= nodeObjs[i-1].Name {
			sorted = false
		}
		ix.nodes = append(ix.nodes, n.Name)
		ix.byName[n.Name] = n
		for _, g := range n.Groups() {
			members := ix.static[g]
			if len(members) > 0 && members[len(members)-1] == n.Name {
				continue // listed twice in the same node
			}
			ix.static[g] = append(members, n.Name)
		}
	}
	if !sorted { // View.List promises sorted names; be robust anyway
		slices.Sort(ix.nodes)
		ix.nodes = slices.Compact(ix.nodes)
		for g, m := range ix.static {
			slices.Sort(m)
			ix.static[g] = slices.Compact(m)
		}
	}
	ix.res = &resolver{
		group: func(name string) (*Object, bool) {
			g, ok := ix.groups[name]
			return g, ok
		},
		hier: hierarchicalAttrs(v, s),
		re:   &regexCache{},
	}
	return ix
}

// columnMap maps every "table.column" of a node-keyed table to the node
// attribute stored there (nodehm.mgt -> mgt, ipmi.bmc -> bmc).
func columnMap(s *Schema) map[string]columnRef {
	m := map[string]columnRef{}
	for _, td := range s.Tables() {
		if td.NodeCol == "" {
			continue
		}
		for _, c := range td.Columns {
			m[td.Name+"."+c] = columnRef{nodeName: c == td.NodeCol}
		}
	}
	for _, d := range s.Attrs(Node) {
		for _, variant := range s.Variants(Node, d.Name) {
			key := variant.Table + "." + variant.Column
			if ref, ok := m[key]; ok && (ref.nodeName || ref.attr != "") {
				continue // the first attribute stored in a column names it
			}
			m[key] = columnRef{attr: d.Name}
		}
	}
	return m
}

// IsNode reports whether name is a node.
func (ix *Index) IsNode(name string) bool {
	_, ok := ix.byName[name]
	return ok
}

// Nodes returns every node name, sorted (a copy).
func (ix *Index) Nodes() []string { return slices.Clone(ix.nodes) }

// GroupMembers returns the sorted members of a group (see the function
// GroupMembers); ok is false when there is no group object and no node uses
// the name.
func (ix *Index) GroupMembers(name string) (members []string, ok bool) {
	g, exists := ix.groups[name]
	if exists && isDynamic(g) {
		ix.mu.Lock()
		m, done := ix.dynamic[name]
		ix.mu.Unlock()
		if !done {
			nodes := make([]*Object, len(ix.nodes))
			for i, n := range ix.nodes {
				nodes[i] = ix.byName[n]
			}
			m = dynamicMembers(g, nodes, ix.res.attr)
			ix.mu.Lock()
			ix.dynamic[name] = m
			ix.mu.Unlock()
		}
		return slices.Clone(m), true
	}
	m := ix.static[name]
	return slices.Clone(m), exists || len(m) > 0
}

// Attr returns a node's resolved value of a selector attribute: "groups" or
// "tags" (nodelist.groups), "mgt" (nodehm.mgt), or "table.column" of a
// node-keyed table, mapped to the node attribute stored there. A column
// drover does not keep reads as "", the table's node column as the node's
// name. ok is false for anything else.
func (ix *Index) Attr(node, attr string) (value string, ok bool) {
	var ref columnRef
	switch attr {
	case "groups", "tags":
		ref.attr = "groups"
	case "mgt":
		ref.attr = "mgt"
	default:
		if ref, ok = ix.columns[attr]; !ok {
			return "", false
		}
	}
	o, isNode := ix.byName[node]
	switch {
	case !isNode:
		return "", true
	case ref.nodeName:
		return node, true
	case ref.attr == "":
		return "", true
	}
	value, _, _ = ix.res.attr(o, ref.attr)
	return value, true
}

// Resolve returns a node's resolved attributes using the index's group
// objects; false for an unknown node.
func (ix *Index) Resolve(node string) (Resolved, bool) {
	o, ok := ix.byName[node]
	if !ok {
		return nil, false
	}
	return ix.res.all(o), true
}
