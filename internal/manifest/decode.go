package manifest

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"drover.dev/drover/internal/inventory"
)

// Decode reads a multi-document YAML stream (documents separated by ---;
// empty documents are skipped). Each document has apiVersion (must be
// drover.dev/v1), kind, metadata.name (required, non-empty), optional
// metadata.labels and metadata.annotations (ignored) and spec, a map of
// attribute to value. Unknown fields and repeated keys are errors, as with
// kubectl.
//
// spec values: strings, numbers and booleans become their text as written
// (serialspeed: 115200 gives "115200", a quoted "1.10" and a bare 1.10 both
// give "1.10"); a list of scalars becomes a comma-joined string (groups:
// [all, compute] gives "all,compute"); for nic attributes of nodes and groups
// a map {eth0: 10.0.0.1, eth1: ...} becomes the collapsed form
// "eth0!10.0.0.1,eth1!..." sorted by nic name (the collapsed string itself
// is accepted too). null and empty values are dropped.
//
// Every attribute is checked with schema.ValidateAttr (the error is xCAT's
// message); objtype, the key attribute (inventory.KeyAttr, except site's
// master) and per-interface names (nicips.eth0) are not allowed in spec. A
// Site must be named "clustersite". Two documents for the same kind and name
// are an error. Errors are *Error values carrying the line of the offending
// node.
func Decode(r io.Reader, source string, schema *inventory.Schema) (objs []inventory.Object, err error) {
	d := &decoder{source: source, schema: schema, seen: map[string]int{}}
	defer func() {
		// yaml.v3 has panicked on malformed input before; keep a bad
		// manifest from taking the process down.
		if p := recover(); p != nil {
			objs, err = nil, &Error{Source: source, Msg: fmt.Sprintf("invalid YAML: %v", p)}
		}
	}()
	dec := yaml.NewDecoder(r)
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, d.yamlError(err)
		}
		o, ok, err := d.document(&doc)
		if err != nil {
			return nil, err
		}
		if ok {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

type decoder struct {
	source string
	schema *inventory.Schema
	seen   map[string]int // kind/name -> line of metadata.name
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{Source: d.source, Line: line, Msg: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parserProblems are the problems of libyaml's parser (as opposed to its
// scanner). yaml.v3 reports their line 0-based, one less than the line the
// scanner's errors and yaml.Node use.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into an
// *Error. Errors yaml.v3 reports without a line get line 0.
func (d *decoder) yamlError(err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{Source: d.source, Msg: "invalid YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	if parserProblems[m[2]] {
		line++
	}
	return &Error{Source: d.source, Line: line, Msg: "invalid YAML: " + m[2]}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// deref resolves an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pairs returns the key/value pairs of a mapping, rejecting non-scalar and
// repeated keys. where names the mapping in messages ("" for the top level).
func (d *decoder) pairs(m *yaml.Node, where string) ([][2]*yaml.Node, error) {
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			return nil, d.errorf(m.Content[i], "%skeys must be strings", where)
		}
		if seen[k.Value] {
			return nil, d.errorf(m.Content[i], "%s%s: repeated key", where, k.Value)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

// scalar returns a scalar's text, "" for null; ok is false for other nodes
// and for tags drover does not read as text.
func scalar(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.ShortTag() {
	case "!!null":
		return "", true
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return n.Value, true
	}
	return "", false
}

func (d *decoder) document(doc *yaml.Node) (inventory.Object, bool, error) {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return inventory.Object{}, false, nil
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return inventory.Object{}, false, nil
	}
	if root.Kind != yaml.MappingNode {
		return inventory.Object{}, false, d.errorf(root, "a document must be a mapping with apiVersion, kind, metadata and spec")
	}
	top, err := d.pairs(root, "")
	if err != nil {
		return inventory.Object{}, false, err
	}
	var apiVersion, kind, metadata, spec *yaml.Node
	for _, p := range top {
		switch p[0].Value {
		case "apiVersion":
			apiVersion = p[1]
		case "kind":
			kind = p[1]
		case "metadata":
			metadata = p[1]
		case "spec":
			spec = p[1]
		default:
			return inventory.Object{}, false, d.errorf(p[0], "unknown field %q (want apiVersion, kind, metadata, spec)", p[0].Value)
		}
	}
	if apiVersion == nil {
		return inventory.Object{}, false, d.errorf(root, "apiVersion is required")
	}
	if v, ok := scalar(apiVersion); !ok || v != APIVersion {
		return inventory.Object{}, false, d.errorf(apiVersion, "apiVersion must be %q", APIVersion)
	}
	if kind == nil {
		return inventory.Object{}, false, d.errorf(root, "kind is required")
	}
	k, _ := scalar(kind)
	t, ok := TypeOfKind(k)
	if !ok {
		names := make([]string, len(kinds))
		for i, kk := range kinds {
			names[i] = kk.kind
		}
		return inventory.Object{}, false, d.errorf(kind, "unknown kind %q (want one of %s)", k, strings.Join(names, ", "))
	}
	name, nameNode, err := d.metadata(root, metadata)
	if err != nil {
		return inventory.Object{}, false, err
	}
	if t == inventory.Site && name != inventory.SiteName {
		return inventory.Object{}, false, d.errorf(nameNode, "a Site must be named %q", inventory.SiteName)
	}
	key := k + "/" + name
	if line, dup := d.seen[key]; dup {
		return inventory.Object{}, false, d.errorf(nameNode, "%s %q is already defined on line %d", k, name, line)
	}
	d.seen[key] = nameNode.Line
	o := inventory.Object{Type: t, Name: name, Attrs: map[string]string{}}
	if spec != nil {
		if err := d.spec(&o, spec); err != nil {
			return inventory.Object{}, false, err
		}
	}
	return o, true, nil
}

func (d *decoder) metadata(root, md *yaml.Node) (string, *yaml.Node, error) {
	if md == nil {
		return "", nil, d.errorf(root, "metadata.name is required")
	}
	md = deref(md)
	if md.Kind != yaml.MappingNode {
		return "", nil, d.errorf(md, "metadata must be a mapping")
	}
	ps, err := d.pairs(md, "metadata.")
	if err != nil {
		return "", nil, err
	}
	var nameNode *yaml.Node
	for _, p := range ps {
		switch p[0].Value {
		case "name":
			nameNode = p[1]
		case "labels", "annotations":
			if v := deref(p[1]); v.Kind != yaml.MappingNode && !isNull(v) {
				return "", nil, d.errorf(p[1], "metadata.%s must be a mapping", p[0].Value)
			}
		default:
			return "", nil, d.errorf(p[0], "unknown field metadata.%s (want name, labels, annotations)", p[0].Value)
		}
	}
	if nameNode == nil {
		return "", nil, d.errorf(md, "metadata.name is required")
	}
	name, ok := scalar(nameNode)
	if !ok || name == "" {
		return "", nil, d.errorf(nameNode, "metadata.name must be a non-empty string")
	}
	return name, nameNode, nil
}

func (d *decoder) spec(o *inventory.Object, spec *yaml.Node) error {
	spec = deref(spec)
	if isNull(spec) {
		return nil
	}
	if spec.Kind != yaml.MappingNode {
		return d.errorf(spec, "spec must be a mapping of attribute to value")
	}
	ps, err := d.pairs(spec, "spec.")
	if err != nil {
		return err
	}
	nics := o.Type == inventory.Node || o.Type == inventory.Group
	for _, p := range ps {
		attr := p[0].Value
		switch {
		case attr == "objtype":
			return d.errorf(p[0], "spec.objtype: not allowed, the kind gives the type")
		case o.Type != inventory.Site && attr == inventory.KeyAttr(o.Type):
			return d.errorf(p[0], "spec.%s: not allowed, metadata.name is the %s", attr, attr)
		}
		if err := d.schema.ValidateAttr(o.Type, attr); err != nil {
			return d.errorf(p[0], "%s", err.Error())
		}
		if base, _, ok := strings.Cut(attr, "."); ok && inventory.IsNicAttr(base) && nics {
			return d.errorf(p[0], "spec.%s: write %s as a map of nic to value", attr, base)
		}
		var v string
		if nics && inventory.IsNicAttr(attr) {
			v, err = d.nicValue(attr, p[1])
		} else {
			v, err = d.value(attr, p[1])
		}
		if err != nil {
			return err
		}
		o.Set(attr, v)
	}
	return nil
}

// value converts a spec value: a scalar's text or a list of scalars joined
// with commas.
func (d *decoder) value(attr string, n *yaml.Node) (string, error) {
	if s, ok := scalar(n); ok {
		return s, nil
	}
	dn := deref(n)
	if dn.Kind == yaml.SequenceNode {
		items := make([]string, 0, len(dn.Content))
		for _, it := range dn.Content {
			s, ok := scalar(it)
			if !ok || isNull(deref(it)) {
				return "", d.errorf(it, "spec.%s: list items must be strings, numbers or booleans", attr)
			}
			items = append(items, s)
		}
		return strings.Join(items, ","), nil
	}
	return "", d.errorf(n, "spec.%s: must be a string, number, boolean or list of them", attr)
}

// nicValue converts a nic attribute: a map of nic name to value, sorted by
// nic name, or the collapsed string itself.
func (d *decoder) nicValue(attr string, n *yaml.Node) (string, error) {
	if s, ok := scalar(n); ok {
		if s != "" && !nicCanonical(s) {
			return "", d.errorf(n, "spec.%s: %q is not a map of nic to value nor nic!value,nic!value", attr, s)
		}
		return s, nil
	}
	dn := deref(n)
	if dn.Kind != yaml.MappingNode {
		return "", d.errorf(n, "spec.%s: must be a map of nic to value", attr)
	}
	ps, err := d.pairs(dn, "spec."+attr+".")
	if err != nil {
		return "", err
	}
	type entry struct{ nic, val string }
	var es []entry
	for _, p := range ps {
		nic := p[0].Value
		if !validNic(nic) {
			return "", d.errorf(p[0], "spec.%s: nic name %q must be non-empty without blanks, ',', '!' or '='", attr, nic)
		}
		v, ok := scalar(p[1])
		if !ok {
			return "", d.errorf(p[1], "spec.%s.%s: must be a string", attr, nic)
		}
		if strings.ContainsAny(v, ",!") {
			return "", d.errorf(p[1], "spec.%s.%s: value %q contains ',' or '!'", attr, nic, v)
		}
		if v != "" { // an empty value leaves the nic out, as in xCAT
			es = append(es, entry{nic, v})
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.nic, b.nic) })
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.nic + "!" + e.val
	}
	return strings.Join(parts, ","), nil
}

// nicCanonical reports whether v is exactly nic!value,nic!value with
// non-empty, distinct nic names and non-empty values.
func nicCanonical(v string) bool {
	_, ok := splitNics(v)
	return ok
}

// validNic reports whether nic is usable as a nic name: non-empty, without
// blanks, ',', '!' or '=' (the stanza format writes it as nicips.<nic>=).
func validNic(nic string) bool {
	return nic != "" && !strings.ContainsAny(nic, ",!= \t\n\r\f\v")
}

// splitNics splits a canonical collapsed nic value.
func splitNics(v string) ([][2]string, bool) {
	seen := map[string]bool{}
	var out [][2]string
	for _, e := range strings.Split(v, ",") {
		nic, val, ok := strings.Cut(e, "!")
		if !ok || !validNic(nic) || val == "" || strings.Contains(val, "!") || seen[nic] {
			return nil, false
		}
		seen[nic] = true
		out = append(out, [2]string{nic, val})
	}
	return out, true
}
