package manifest

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"drover.dev/drover/internal/inventory"
)

// Encode writes objs as a multi-document YAML stream in the order given, each
// document apiVersion, kind, metadata.name and spec with the attributes
// sorted by name. nic attributes of nodes and groups are written as maps of
// nic to value when their stored value is sorted by nic name (the form Decode
// produces), otherwise as the collapsed string. Values YAML would read as
// something other than a string (numbers, true, null, ...) are quoted, so
// Decode(Encode(x)) == x.
//
// An object of an unknown type, with an empty name, or holding its type's
// key attribute or objtype is an error; nothing is written then.
func Encode(w io.Writer, objs []inventory.Object) error {
	docs := make([]*yaml.Node, 0, len(objs))
	for i := range objs {
		doc, err := document(&objs[i])
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return nil // an empty stream; yaml.v3 cannot close an encoder that wrote nothing
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, doc := range docs {
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// str returns a string node. Multi-line strings are written as literal
// blocks only in the plain cases yaml.v3 reads back exactly (it loses a
// whitespace-only block at the end of a stream, for one); the rest are
// double-quoted.
func str(s string) *yaml.Node {
	n := &yaml.Node{}
	n.SetString(s)
	if strings.Contains(s, "\n") && !literalSafe(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func literalSafe(s string) bool {
	body := strings.TrimSuffix(s, "\n")
	if body == "" || strings.HasSuffix(body, "\n") {
		return false
	}
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.TrimSpace(l) != l {
			return false
		}
		for _, r := range l {
			if r < ' ' || r == 0x7f {
				return false
			}
		}
	}
	return true
}

func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
}

func document(o *inventory.Object) (*yaml.Node, error) {
	kind := KindOf(o.Type)
	if kind == "" {
		return nil, fmt.Errorf("manifest: object %q: %w", o.Name, &inventory.UnknownTypeError{Type: string(o.Type)})
	}
	if o.Name == "" {
		return nil, fmt.Errorf("manifest: %s with an empty name", kind)
	}
	spec := mapping()
	nics := o.Type == inventory.Node || o.Type == inventory.Group
	for _, k := range o.AttrNames() {
		v := o.Attrs[k]
		if v == "" {
			continue
		}
		if k == "objtype" || (o.Type != inventory.Site && k == inventory.KeyAttr(o.Type)) {
			return nil, fmt.Errorf("manifest: %s %q: attribute %q cannot be written in spec", kind, o.Name, k)
		}
		val := str(v)
		if nics && inventory.IsNicAttr(k) {
			if es, ok := splitNics(v); ok && slices.IsSortedFunc(es, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) }) {
				val = mapping()
				for _, e := range es {
					val.Content = append(val.Content, str(e[0]), str(e[1]))
				}
			}
		}
		spec.Content = append(spec.Content, str(k), val)
	}
	if len(spec.Content) == 0 {
		spec.Style = yaml.FlowStyle
	}
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{mapping(
		str("apiVersion"), str(APIVersion),
		str("kind"), str(kind),
		str("metadata"), mapping(str("name"), str(o.Name)),
		str("spec"), spec,
	)}}, nil
}
