package inventory

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// GroupMembers returns the sorted member node names of a group (xCAT's
// DBobjUtils::getGroupMembers). A group whose object has grouptype=dynamic
// has the nodes that match its wherevals (see ParseWhere); any other group
// has the nodes whose own groups attribute lists it. ok is false when there
// is no group object and no node uses the name.
func GroupMembers(v View, group string) (members []string, ok bool) {
	gobj, exists := v.Get(Group, group)
	nodes := v.List(Node)
	if exists && isDynamic(gobj) {
		r := newViewResolver(v)
		return dynamicMembers(gobj, nodes, r.attr), true
	}
	for _, n := range nodes {
		if slices.Contains(n.Groups(), group) {
			members = append(members, n.Name)
		}
	}
	slices.Sort(members)
	return members, exists || len(members) > 0
}

func isDynamic(g *Object) bool { return g.Get("grouptype") == "dynamic" }

// WhereOp is a comparison of a dynamic group's selection string.
type WhereOp string

// The operators of wherevals (and lsdef -w).
const (
	WhereEq       WhereOp = "=="
	WhereNe       WhereOp = "!="
	WhereMatch    WhereOp = "=~"
	WhereNotMatch WhereOp = "!~"
)

// WhereCond is one attr<op>value condition.
type WhereCond struct {
	Attr  string
	Op    WhereOp
	Value string // for =~ and !~ the regular expression, surrounding slashes removed
}

// ParseWhere parses a dynamic group's wherevals, conditions joined by "::",
// as xCAT's Utils::parse_selection_string does: each item is tried as
// attr==val, attr=~val, attr!=val, attr!~val, then attr=val (the same as
// ==); the regex of =~ and !~ loses one leading and one trailing "/". Like
// xCAT (which keeps them in a hash), a later condition on the same attribute
// replaces an earlier one. An item that fits none of the forms is an error.
func ParseWhere(wherevals string) ([]WhereCond, error) {
	var conds []WhereCond
	for _, item := range perlSplit(wherevals, "::") {
		c, ok := parseWhereItem(item)
		if !ok {
			return nil, fmt.Errorf("incorrect attr*val pair %q in %q", item, wherevals)
		}
		if i := slices.IndexFunc(conds, func(x WhereCond) bool { return x.Attr == c.Attr }); i >= 0 {
			conds = slices.Delete(conds, i, i+1)
		}
		conds = append(conds, c)
	}
	return conds, nil
}

func parseWhereItem(m string) (WhereCond, bool) {
	noEq := func(s string) bool { return !strings.Contains(s, "=") }
	if attr, val, ok := strings.Cut(m, "=="); ok && noEq(attr) {
		return WhereCond{attr, WhereEq, val}, true
	}
	if attr, val, ok := strings.Cut(m, "=~"); ok && noEq(attr) {
		return WhereCond{attr, WhereMatch, trimSlashes(val)}, true
	}
	if attr, val, ok := strings.Cut(m, "!="); ok && noEq(attr) {
		return WhereCond{attr, WhereNe, val}, true
	}
	if attr, val, ok := strings.Cut(m, "!~"); ok { // xCAT's test is not anchored here
		return WhereCond{attr, WhereNotMatch, trimSlashes(val)}, true
	}
	if attr, val, ok := strings.Cut(m, "="); ok && val != "" && noEq(val) {
		return WhereCond{attr, WhereEq, val}, true
	}
	return WhereCond{}, false
}

func trimSlashes(s string) string {
	s = strings.TrimPrefix(s, "/")
	return strings.TrimSuffix(s, "/")
}

// whereMatcher is a parsed selection string ready to test nodes.
type whereMatcher struct {
	conds []WhereCond
	res   []*regexp.Regexp
}

func newWhereMatcher(wherevals string) (*whereMatcher, error) {
	conds, err := ParseWhere(wherevals)
	if err != nil {
		return nil, err
	}
	m := &whereMatcher{conds: conds, res: make([]*regexp.Regexp, len(conds))}
	for i, c := range conds {
		if c.Op == WhereMatch || c.Op == WhereNotMatch {
			re, err := compilePerl(c.Value)
			if err != nil {
				return nil, fmt.Errorf("condition %s%s%s: %w", c.Attr, c.Op, c.Value, err)
			}
			m.res[i] = re
		}
	}
	return m, nil
}

// match reports whether every condition holds for the node. As in xCAT's
// Utils::selection_string_match, an attribute the node does not have (after
// inheritance) fails every condition, != and !~ included; the attribute
// "node" is the node's name.
func (m *whereMatcher) match(node *Object, attr func(*Object, string) (string, string, bool)) bool {
	for i, c := range m.conds {
		var val string
		if c.Attr == "node" {
			val = node.Name
		} else {
			v, _, ok := attr(node, c.Attr)
			if !ok {
				return false
			}
			val = v
		}
		var hold bool
		switch c.Op {
		case WhereEq:
			hold = val == c.Value
		case WhereNe:
			hold = val != c.Value
		case WhereMatch:
			hold = m.res[i].MatchString(val)
		case WhereNotMatch:
			hold = !m.res[i].MatchString(val)
		}
		if !hold {
			return false
		}
	}
	return true
}

// dynamicMembers returns the sorted nodes matching a dynamic group's
// wherevals. Unlike xCAT, a wherevals that does not parse, or is empty,
// selects no node rather than every node (Validate refuses both).
func dynamicMembers(g *Object, nodes []*Object, attr func(*Object, string) (string, string, bool)) []string {
	m, err := newWhereMatcher(g.Get("wherevals"))
	if err != nil || len(m.conds) == 0 {
		return nil
	}
	var members []string
	for _, n := range nodes {
		if m.match(n, attr) {
			members = append(members, n.Name)
		}
	}
	slices.Sort(members)
	return members
}
