// Package stanza reads and writes xCAT stanza files: the format of
// `lsdef -z` output and `mkdef -z` / `chdef -z` input.
//
// Parse follows xCAT's reader (DBobjUtils::readFileInput and
// collapsenicsattr) line for line, except that it rejects the input xCAT
// silently ignores. Write produces `lsdef -z` output byte for byte
// (DBobjectdefs::defls and DBobjUtils::expandnicsattr).
package stanza

import (
	"fmt"
	"io"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// Header is the first line of every stanza file lsdef -z writes. The reader
// treats it as an ordinary comment.
const Header = "# <xCAT data object stanza file>"

// Stanza is one object stanza of a file, with defaults already applied as
// xCAT applies them.
type Stanza struct {
	Name string
	// Type is the objtype value as written ("" if the stanza had none); the
	// caller validates it.
	Type string
	// Attrs holds every attribute line, including empty values (chdef uses
	// them to unset). For node and group stanzas the nic<attr>.<nic>=v lines
	// are collapsed into nic<attr>="nic!v,nic2!v2" in order of appearance.
	// objtype is not included.
	Attrs map[string]string
	// Line is the line number of the header.
	Line int
}

// ParseError reports a bad line.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Object converts the stanza to an inventory object: the type must be a
// known object type (xCAT's message when it is missing), empty values are
// dropped, and the key attribute (e.g. node=) is dropped when it repeats the
// object name; any other value of it is an error. Attribute names are not
// checked against the schema.
func (s *Stanza) Object() (inventory.Object, error) {
	if s.Type == "" {
		// xCAT's message text, hence the capital and the period.
		return inventory.Object{}, fmt.Errorf("No objtype value was specified for '%s'. Cannot create object definition.", s.Name)
	}
	t, err := inventory.ParseType(s.Type)
	if err != nil {
		return inventory.Object{}, err
	}
	o := inventory.Object{Type: t, Name: s.Name, Attrs: make(map[string]string, len(s.Attrs))}
	key := inventory.KeyAttr(t)
	for k, v := range s.Attrs {
		if v == "" {
			continue
		}
		if t != inventory.Site && k == key {
			if v != s.Name {
				return inventory.Object{}, fmt.Errorf("stanza %q: %s=%s does not match the object name", s.Name, k, v)
			}
			continue
		}
		o.Attrs[k] = v
	}
	return o, nil
}

// isSpace reports whether c is whitespace for Perl's \s on byte strings.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func trimLeft(s string) string {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return s[i:]
}

func trimRight(s string) string {
	i := len(s)
	for i > 0 && isSpace(s[i-1]) {
		i--
	}
	return s[:i]
}

func trim(s string) string { return trimLeft(trimRight(s)) }

// unquote applies xCAT's s/^\s*"\s*// and s/\s*"\s*$// to a trimmed value:
// one leading and one trailing double quote are removed with the blanks next
// to them.
func unquote(v string) string {
	if strings.HasPrefix(v, `"`) {
		v = trimLeft(v[1:])
	}
	if strings.HasSuffix(v, `"`) {
		v = trimRight(v[:len(v)-1])
	}
	return v
}

// attrList is a stanza's attributes in order of first appearance, with the
// line each value came from.
type attrList struct {
	keys  []string
	vals  map[string]string
	lines map[string]int
}

func newAttrList() *attrList {
	return &attrList{vals: map[string]string{}, lines: map[string]int{}}
}

func (a *attrList) set(k, v string, line int) {
	if _, ok := a.vals[k]; !ok {
		a.keys = append(a.keys, k)
	}
	a.vals[k] = v
	a.lines[k] = line
}

// defaultType returns the object type of a default stanza header. xCAT
// treats every header name containing "default" specially: it splits the
// name on "-" and, when the second field is true in Perl's sense, the stanza
// holds defaults for that type; otherwise the object is silently dropped.
// drover accepts exactly "default-<type>" and rejects the rest.
func defaultType(name string) (string, error) {
	if t, ok := strings.CutPrefix(name, "default-"); ok && t != "" && t != "0" && !strings.Contains(t, "-") {
		return t, nil
	}
	f := strings.Split(name, "-")
	if len(f) > 1 && f[1] != "" && f[1] != "0" {
		return "", fmt.Errorf("header %q: xCAT reads it as a default stanza for type %q; write default-<type>: for defaults", name+":", f[1])
	}
	return "", fmt.Errorf("header %q: xCAT ignores stanzas whose name contains \"default\" (use default-<type>: for defaults)", name+":")
}

type object struct {
	name  string
	line  int
	attrs *attrList
}

// Parse reads a stanza file.
//
// Unlike xCAT, which silently ignores them, Parse rejects bad input: a line
// that is neither blank, comment, header nor attr=value inside a stanza, an
// attribute line before the first header, an empty attribute or object
// name, a repeated object name, a header containing "default" that is not
// default-<type>, and, in node and group stanzas, nic values that cannot
// round-trip (a per-interface value containing ',' or '!', a nic name
// containing a blank, ',', '!' or '=', or a whole nic<attr>= value that is not
// nic!value,nic!value with distinct nics and no blanks around the values).
// Each gives a *ParseError with the line number, and no stanzas.
//
// Everything else follows xCAT: default-<type>: stanzas are cumulative and
// are applied when an objtype line is read, overwriting attributes set
// earlier in that stanza (an empty default value gives the object an empty
// value); the object name is everything before the last colon (IPv6 network
// names like fd59::/64); names, attributes and values are trimmed and one
// leading and one trailing double quote are removed from values; values may
// contain '=', ':', spaces and '#'; CRLF line ends are trimmed like other
// trailing blanks. (A leading UTF-8 byte order mark is skipped; xCAT would
// take it for part of the first line.)
//
// Deviation: xCAT takes any line ending in ':' for a header, so an attribute
// whose value ends in ':' (url=http://x:) is an invalid header to it that
// disables the rest of the stanza. Parse reads a line with '=' before its
// last ':' as an attribute line, since as a header it would be invalid
// anyway.
func Parse(r io.Reader) ([]Stanza, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("stanza: %w", err)
	}
	var (
		objs     []*object
		byName   = map[string]*object{}
		defaults = map[string]*attrList{}
		cur      *object   // current object stanza
		curDef   *attrList // current default stanza
	)
	// A UTF-8 byte order mark (editors add one) is not part of the first line.
	text := strings.TrimPrefix(string(data), "\ufeff")
	for i, l := range strings.Split(text, "\n") {
		n := i + 1
		tl := trimLeft(l)
		if tl == "" || tl[0] == '#' {
			continue
		}
		t := trimRight(l)
		if head, ok := strings.CutSuffix(t, ":"); ok && !strings.Contains(head, "=") {
			name := trim(head)
			if name == "" {
				return nil, &ParseError{Line: n, Msg: "empty object name"}
			}
			if strings.Contains(name, "default") {
				typ, err := defaultType(name)
				if err != nil {
					return nil, &ParseError{Line: n, Msg: err.Error()}
				}
				if defaults[typ] == nil {
					defaults[typ] = newAttrList()
				}
				cur, curDef = nil, defaults[typ]
				continue
			}
			if prev, dup := byName[name]; dup {
				return nil, &ParseError{Line: n, Msg: fmt.Sprintf("object %q is already defined on line %d", name, prev.line)}
			}
			cur, curDef = &object{name: name, line: n, attrs: newAttrList()}, nil
			byName[name] = cur
			objs = append(objs, cur)
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, &ParseError{Line: n, Msg: fmt.Sprintf("invalid line %q: want a header \"name:\" or \"attr=value\"", trim(l))}
		}
		k, v = trim(k), unquote(trim(v))
		if k == "" {
			return nil, &ParseError{Line: n, Msg: fmt.Sprintf("empty attribute name in %q", trim(l))}
		}
		switch {
		case curDef != nil:
			curDef.set(k, v, n)
		case cur != nil:
			cur.attrs.set(k, v, n)
			if k == "objtype" {
				if d := defaults[v]; d != nil {
					for _, dk := range d.keys {
						cur.attrs.set(dk, d.vals[dk], d.lines[dk])
					}
				}
			}
		default:
			return nil, &ParseError{Line: n, Msg: fmt.Sprintf("attribute line %q before the first header", trim(l))}
		}
	}
	out := make([]Stanza, 0, len(objs))
	for _, o := range objs {
		s, err := o.stanza()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// stanza finishes an object: it takes out objtype and, for node and group
// objects, collapses the nic lines (DBobjUtils::collapsenicsattr).
func (o *object) stanza() (Stanza, error) {
	s := Stanza{Name: o.name, Type: o.attrs.vals["objtype"], Line: o.line, Attrs: make(map[string]string, len(o.attrs.keys))}
	nics := s.Type == string(inventory.Node) || s.Type == string(inventory.Group)
	var bases []string
	entries := map[string][]string{}
	for _, k := range o.attrs.keys {
		if k == "objtype" {
			continue
		}
		v := o.attrs.vals[k]
		if nics {
			if base, nic, ok := strings.Cut(k, "."); ok && nic != "" && inventory.IsNicAttr(base) {
				line := o.attrs.lines[k]
				if !validNic(nic) {
					return Stanza{}, &ParseError{Line: line, Msg: fmt.Sprintf("%s: nic name %q contains a blank, ',', '!' or '='", k, nic)}
				}
				if strings.ContainsAny(v, ",!") {
					return Stanza{}, &ParseError{Line: line, Msg: fmt.Sprintf("%s: value %q contains ',' or '!'", k, v)}
				}
				if _, seen := entries[base]; !seen {
					bases = append(bases, base)
					entries[base] = nil
				}
				if v != "" { // an empty value removes that nic
					entries[base] = append(entries[base], nic+"!"+v)
				}
				continue
			}
		}
		s.Attrs[k] = v
	}
	for _, base := range bases {
		// The collapsed value replaces a plain nic<attr>= line; when every
		// interface was emptied xCAT leaves the plain value alone.
		if len(entries[base]) > 0 {
			s.Attrs[base] = strings.Join(entries[base], ",")
		}
	}
	if nics {
		for k, v := range s.Attrs {
			if inventory.IsNicAttr(k) && v != "" && !nicCanonical(v) {
				return Stanza{}, &ParseError{Line: o.attrs.lines[k], Msg: fmt.Sprintf("%s: value %q is not a list nic!value,nic!value with distinct nics", k, v)}
			}
		}
	}
	return s, nil
}
