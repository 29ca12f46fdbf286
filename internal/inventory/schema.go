package inventory

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// The attribute lists and table layouts are extracted from xCAT's Schema.pm
// (%defspec and %tabspec); see schema/README.md.
//
//go:embed schema/*.txt
var schemaFS embed.FS

// AttrDef describes one attribute of an object type.
type AttrDef struct {
	Name string
	// Table and Column say where xCAT stores the attribute (e.g. ipmi.bmc).
	Table, Column string
	// OnlyIf is xCAT's only_if condition ("mgt=ipmi"), empty if none.
	OnlyIf string
	// Description is the first sentence of xCAT's description.
	Description string
}

// TableDef describes one xCAT table as tabdump shows it.
type TableDef struct {
	Name    string
	Keys    []string
	NodeCol string // the column holding the node/group name for node-keyed tables ("" if none)
	Columns []string
}

// Schema is the attribute schema of every object type and the xCAT table
// layout. It is immutable; get it with DefaultSchema.
type Schema struct {
	attrs  map[Type][]AttrDef            // unique names in Schema.pm order, first variant
	byName map[Type]map[string][]AttrDef // every variant per name
	tables []TableDef
	tabIdx map[string]int
}

// Sentinel errors callers branch on.
var (
	ErrExists   = errors.New("object already exists")
	ErrNotFound = errors.New("object not found")
)

// UnknownTypeError is returned for an object type drover does not know.
type UnknownTypeError struct{ Type string }

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("Type '%s' is not a valid xCAT object type.", e.Type)
}

// UnknownAttrError is returned for an attribute the type does not have.
type UnknownAttrError struct {
	Type Type
	Attr string
}

func (e *UnknownAttrError) Error() string {
	return fmt.Sprintf("'%s' is not a valid attribute name for an object type of '%s'.", e.Attr, e.Type)
}

// keyAttrs is each type's objkey: the attribute that holds the object name.
// The site object has none: its name is always clustersite and its objkey in
// xCAT (master) is an ordinary site attribute.
var keyAttrs = map[Type]string{
	Node: "node", Group: "groupname", OSImage: "imagename", Network: "netname",
	Policy: "priority", BootTarget: "bprofile",
}

// KeyAttr returns the type's key attribute (xCAT's objkey), "" for site.
func KeyAttr(t Type) string { return keyAttrs[t] }

// nicAttrs are stored as "nic!value,nic!value" and written one line per nic.
var nicAttrs = map[string]bool{
	"nicips": true, "nichostnamesuffixes": true, "nichostnameprefixes": true, "nictypes": true,
	"niccustomscripts": true, "nicnetworks": true, "nicaliases": true, "nicextraparams": true,
	"nicdevices": true, "nicsadapter": true,
}

// IsNicAttr reports whether attr is one of xCAT's per-interface nic* attributes.
func IsNicAttr(attr string) bool { return nicAttrs[attr] }

// NodeOnlyAttrs are the nodelist attributes that groups do not share.
func NodeOnlyAttrs() []string {
	return []string{"node", "groups", "status", "statustime", "appstatus", "appstatustime",
		"primarysn", "hidden", "updatestatus", "updatestatustime", "zonename", "usercomment"}
}

var defaultSchema = sync.OnceValue(func() *Schema {
	s, err := loadSchema()
	if err != nil {
		panic("inventory: embedded schema is broken: " + err.Error()) // a build defect, caught by tests
	}
	return s
})

// splitOnlyIf splits a description's leading "[only_if COND]" off.
func splitOnlyIf(desc string) (onlyIf, rest string) {
	if strings.HasPrefix(desc, "[only_if ") {
		if i := strings.Index(desc, "]"); i > 0 {
			return desc[len("[only_if "):i], strings.TrimSpace(desc[i+1:])
		}
	}
	return "", desc
}

// DefaultSchema returns xCAT's schema as embedded in the binary.
func DefaultSchema() *Schema { return defaultSchema() }

func loadSchema() (*Schema, error) {
	s := &Schema{
		attrs:  map[Type][]AttrDef{},
		byName: map[Type]map[string][]AttrDef{},
		tabIdx: map[string]int{},
	}
	for _, t := range Types() {
		data, err := schemaFS.ReadFile("schema/schema-" + string(t) + "-attrs.txt")
		if err != nil {
			return nil, err
		}
		s.byName[t] = map[string][]AttrDef{}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), "\t", 3)
			if len(f) < 2 {
				continue
			}
			d := AttrDef{Name: f[0]}
			d.Table, d.Column, _ = strings.Cut(f[1], ".")
			if len(f) == 3 {
				d.OnlyIf, d.Description = splitOnlyIf(f[2])
			}
			if _, dup := s.byName[t][d.Name]; !dup {
				s.attrs[t] = append(s.attrs[t], d)
			}
			s.byName[t][d.Name] = append(s.byName[t][d.Name], d)
		}
	}
	extra, err := schemaFS.ReadFile("schema/drover-extra-attrs.txt")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(extra), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("drover-extra-attrs.txt: bad line %q", line)
		}
		t := Type(f[0])
		d := AttrDef{Name: f[1]}
		d.OnlyIf, d.Description = splitOnlyIf(f[3])
		d.Table, d.Column, _ = strings.Cut(f[2], ".")
		if _, dup := s.byName[t][d.Name]; !dup {
			s.attrs[t] = append(s.attrs[t], d)
		}
		s.byName[t][d.Name] = append(s.byName[t][d.Name], d)
	}
	data, err := schemaFS.ReadFile("schema/tables.txt")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("tables.txt: bad line %q", line)
		}
		td := TableDef{Name: f[0], Keys: strings.Split(f[1], ","), NodeCol: f[2], Columns: strings.Split(f[3], ",")}
		if td.NodeCol == "" {
			for _, c := range td.Columns {
				if c == "node" {
					td.NodeCol = "node"
				}
			}
		}
		s.tabIdx[td.Name] = len(s.tables)
		s.tables = append(s.tables, td)
	}
	return s, nil
}

// Attrs returns the type's attributes (one entry per name, Schema.pm order).
// The site type accepts any attribute name; Attrs lists the documented ones.
func (s *Schema) Attrs(t Type) []AttrDef { return s.attrs[t] }

// Attr returns the definition of attr for type t. For attributes with
// several only_if variants it returns the first; use Variants for all.
// nic attributes may be given per interface ("nicips.eth0").
func (s *Schema) Attr(t Type, attr string) (AttrDef, bool) {
	v := s.Variants(t, attr)
	if len(v) == 0 {
		return AttrDef{}, false
	}
	return v[0], true
}

// Variants returns every definition of attr for type t (several when xCAT
// stores it in different tables depending on an only_if condition).
func (s *Schema) Variants(t Type, attr string) []AttrDef {
	if v, ok := s.byName[t][attr]; ok {
		return v
	}
	if base, nic, ok := strings.Cut(attr, "."); ok && nic != "" && nicAttrs[base] {
		return s.byName[t][base]
	}
	return nil
}

// ValidateAttr returns an *UnknownAttrError unless attr is a valid attribute
// name for type t. Like xCAT, the site type accepts any name, and "objtype"
// is always accepted (it is consumed by the stanza reader).
func (s *Schema) ValidateAttr(t Type, attr string) error {
	if attr == "objtype" {
		return nil
	}
	if t == Site {
		if attr == "" || strings.ContainsAny(attr, " \t\n=") {
			return &UnknownAttrError{Type: t, Attr: attr}
		}
		return nil
	}
	if len(s.Variants(t, attr)) == 0 {
		return &UnknownAttrError{Type: t, Attr: attr}
	}
	return nil
}

// Tables returns every xCAT table in schema order.
func (s *Schema) Tables() []TableDef { return s.tables }

// Table returns the named table.
func (s *Schema) Table(name string) (TableDef, bool) {
	i, ok := s.tabIdx[name]
	if !ok {
		return TableDef{}, false
	}
	return s.tables[i], true
}

// IsSecret reports whether an attribute holds a secret that listings and
// dumps mask unless asked for (bmcpassword, password, passwd.*, ...).
func IsSecret(attr string) bool {
	a := strings.ToLower(attr)
	return strings.Contains(a, "password") || strings.HasPrefix(a, "passwd.") ||
		a == "authkey" || a == "privkey" || a == "community" || a == "adminpassword"
}

// Masked is what a masked secret value reads as.
const Masked = "******"
