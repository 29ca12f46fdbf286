// Package inventory is drover's object model: the xCAT object types (node,
// group, osimage, network, site, policy, boottarget), their attribute schema,
// group inheritance with xCAT's table regular expressions, and validation.
//
// It is pure: no I/O. The store persists inventory objects, the stanza and
// manifest packages encode them, and the boot services read them.
package inventory

import (
	"maps"
	"sort"
	"strings"
)

// Type is an object type, named as xCAT names it (lsdef -t TYPE).
type Type string

// The object types drover keeps.
const (
	Node       Type = "node"
	Group      Type = "group"
	OSImage    Type = "osimage"
	Network    Type = "network"
	Site       Type = "site"
	Policy     Type = "policy"
	BootTarget Type = "boottarget"
)

// SiteName is the name of the single site object, as in xCAT.
const SiteName = "clustersite"

// Types returns every object type in the order xCAT's `lsdef -a` lists them
// (drover's own order: the most used first).
func Types() []Type {
	return []Type{Node, Group, OSImage, Network, Site, Policy, BootTarget}
}

// ParseType returns the Type named s, or an *UnknownTypeError.
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", &UnknownTypeError{Type: s}
}

// Object is one inventory object with its stored (raw) attribute values.
//
// Attrs never holds empty values (xCAT treats an empty string as unset) and
// never holds the type's key attribute (node, groupname, imagename, netname,
// priority, bprofile): the key is Name. nic* attributes are held in xCAT's
// collapsed form, e.g. nicips = "eth0!10.0.0.1,eth1!10.1.0.1".
//
// Objects handed out by a store are shared: treat them as read-only and use
// Clone before changing one.
type Object struct {
	Type  Type
	Name  string
	Attrs map[string]string
}

// Get returns the raw stored value of attr ("" when unset).
func (o *Object) Get(attr string) string { return o.Attrs[attr] }

// Set sets attr to value; an empty value unsets it.
func (o *Object) Set(attr, value string) {
	if value == "" {
		delete(o.Attrs, attr)
		return
	}
	if o.Attrs == nil {
		o.Attrs = make(map[string]string)
	}
	o.Attrs[attr] = value
}

// Clone returns a deep copy of o.
func (o Object) Clone() Object {
	o.Attrs = maps.Clone(o.Attrs)
	if o.Attrs == nil {
		o.Attrs = map[string]string{}
	}
	return o
}

// Equal reports whether o and p have the same type, name and attributes.
func (o *Object) Equal(p *Object) bool {
	return o.Type == p.Type && o.Name == p.Name && maps.Equal(o.Attrs, p.Attrs)
}

// AttrNames returns the names of o's attributes sorted the way xCAT prints
// them (Perl's default string sort: byte order).
func (o *Object) AttrNames() []string {
	names := make([]string, 0, len(o.Attrs))
	for k := range o.Attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Groups returns the node's groups attribute as a list, in order.
func (o *Object) Groups() []string { return SplitList(o.Attrs["groups"]) }

// SplitList splits an xCAT comma-separated list, dropping empty items and
// surrounding blanks.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// View is a read-only view of the whole inventory: what inheritance,
// noderanges and the xCAT commands read. Implementations must be safe for
// concurrent use.
type View interface {
	// Get returns the object, or false.
	Get(t Type, name string) (*Object, bool)
	// List returns all objects of a type sorted by name.
	List(t Type) []*Object
}

// ChangeOp says what a Change does.
type ChangeOp int

// The change operations.
const (
	// Put creates the object or replaces all its attributes.
	Put ChangeOp = iota + 1
	// Create creates the object and fails with ErrExists if it exists.
	Create
	// Delete removes the object; deleting a missing object is not an error.
	Delete
)

func (op ChangeOp) String() string {
	switch op {
	case Put:
		return "put"
	case Create:
		return "create"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// Change is one write of a transaction. For Delete only Object.Type and
// Object.Name matter.
type Change struct {
	Op     ChangeOp
	Object Object
}
