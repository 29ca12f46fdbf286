package noderange_test

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// fakeSource is an in-memory inventory: nodes with their nodelist.groups, dynamic groups,
// nodegroup rows without members, and selector attributes.
type fakeSource struct {
	groups  map[string]string            // node -> nodelist.groups
	dynamic map[string][]string          // dynamic group -> members
	defined map[string]bool              // groups defined in the nodegroup table
	attrs   map[string]map[string]string // "table.column" -> node -> value
	valid   map[string]bool              // selector attributes besides nodelist.groups
	members map[string][]string          // static group -> members (built by add)
}

func newSource() *fakeSource {
	return &fakeSource{
		groups:  map[string]string{},
		dynamic: map[string][]string{},
		defined: map[string]bool{},
		attrs:   map[string]map[string]string{},
		valid:   map[string]bool{"nodehm.mgt": true, "nodehm.cons": true, "mp.mpa": true, "nodetype.os": true},
		members: map[string][]string{},
	}
}

// add defines nodes, each in the given comma-separated groups.
func (s *fakeSource) add(groups string, nodes ...string) *fakeSource {
	for _, n := range nodes {
		if old, ok := s.groups[n]; ok && old != "" && groups != "" {
			s.groups[n] = old + "," + groups
		} else if !ok || groups != "" {
			s.groups[n] = groups
		}
		if groups == "" {
			continue
		}
		for _, g := range strings.Split(groups, ",") {
			if !slices.Contains(s.members[g], n) {
				s.members[g] = append(s.members[g], n)
			}
		}
	}
	return s
}

func (s *fakeSource) attr(attr string, kv ...string) *fakeSource {
	if s.attrs[attr] == nil {
		s.attrs[attr] = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s.attrs[attr][kv[i]] = kv[i+1]
	}
	return s
}

func (s *fakeSource) IsNode(name string) bool { _, ok := s.groups[name]; return ok }

func (s *fakeSource) GroupMembers(name string) ([]string, bool) {
	if m, ok := s.dynamic[name]; ok {
		return m, true
	}
	if m := s.members[name]; len(m) > 0 {
		return m, true
	}
	return nil, s.defined[name]
}

func (s *fakeSource) Nodes() []string {
	out := make([]string, 0, len(s.groups))
	for n := range s.groups {
		out = append(out, n)
	}
	return out
}

func (s *fakeSource) Attr(node, attr string) (string, bool) {
	if attr == "nodelist.groups" {
		return s.groups[node], true
	}
	if !s.valid[attr] {
		return "", false
	}
	return s.attrs[attr][node], true
}

// seq returns prefix+i+suffix for i in [lo, hi], zero-padded to width.
func seq(prefix string, lo, hi, width int, suffix ...string) []string {
	var out []string
	for i := lo; i <= hi; i++ {
		out = append(out, fmt.Sprintf("%s%0*d%s", prefix, width, i, strings.Join(suffix, "")))
	}
	return out
}

// set returns the sorted union of names and lists of names.
func set(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("set: %T", p))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// minus returns a without the names in the others.
func minus(a []string, others ...[]string) []string {
	var out []string
	for _, n := range a {
		drop := false
		for _, o := range others {
			if slices.Contains(o, n) {
				drop = true
			}
		}
		if !drop {
			out = append(out, n)
		}
	}
	return out
}

// files is a ReadFile over an in-memory map.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		c, ok := m[p]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return []byte(c), nil
	}
}
