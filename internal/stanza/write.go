package stanza

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// ErrUnwritable is wrapped by Write's error for an object whose name,
// attribute names or values would break the stanza file structure.
var ErrUnwritable = errors.New("object cannot be written as a stanza")

// WriteOptions selects the attributes Write prints.
type WriteOptions struct {
	// Attrs, when non-nil, lists exactly the attributes to print (sorted),
	// even when empty ("a="), like lsdef -z -i a,b. A nic attribute may be
	// given per interface (nicips.eth0) to print only that interface.
	Attrs []string
	// Always lists attributes printed even when empty (lsdef -z prints
	// members= for every group). Ignored when Attrs is set.
	Always []string
}

// Write writes objs in lsdef -z format: the Header line, then for each object
// in the order given an empty line, "name:", "    objtype=type" and the
// attributes with a non-empty value sorted by byte order (Perl's sort), each
// indented by four spaces. For node and group objects the nic attributes are
// written one line per interface at the sorted position of the attribute
// (nicips=eth0!1.1.1.1|1.2.1.1,eth1!x gives "    nicips.eth0=1.1.1.1|1.2.1.1"
// and "    nicips.eth1=x"); entries without a nic name or value are left
// out, as xCAT does. There is no trailing blank line.
//
// Deviation: a value that begins or ends with a double quote is written
// inside an extra pair of quotes, which the reader removes again; xCAT
// writes it bare and loses the quote when reading it back.
//
// Write writes nothing and returns an error wrapping ErrUnwritable when an
// object has an empty name, a name or attribute name containing '=' or a
// line break or beginning with '#', an empty attribute name, or a value with
// a line break.
func Write(w io.Writer, objs []inventory.Object, opt WriteOptions) error {
	for i := range objs {
		if err := checkWritable(&objs[i]); err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(Header + "\n")
	var names []string // reused across objects
	for i := range objs {
		names = writeObject(bw, &objs[i], opt, names)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("stanza: %w", err)
	}
	return nil
}

// textWriter is what the writer needs: bufio.Writer, strings.Builder and
// bytes.Buffer have it.
type textWriter interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}

// WriteObject writes one object as Write does, without the header line: an
// empty line, "name:", "    objtype=type" and the attribute lines. Callers
// that print objects one by one (lsdef) use it after writing Header.
func WriteObject(w textWriter, o *inventory.Object, opt WriteOptions) error {
	if err := checkWritable(o); err != nil {
		return err
	}
	writeObject(w, o, opt, nil)
	return nil
}

func writeObject(w textWriter, o *inventory.Object, opt WriteOptions, names []string) []string {
	w.WriteString("\n")
	w.WriteString(o.Name)
	w.WriteString(":\n    objtype=")
	w.WriteString(string(o.Type))
	w.WriteByte('\n')
	return writeAttrs(w, o, opt, names)
}

func checkWritable(o *inventory.Object) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("stanza: %s %q: %s: %w", o.Type, o.Name, fmt.Sprintf(format, args...), ErrUnwritable)
	}
	if trim(o.Name) == "" {
		return bad("empty name")
	}
	if strings.ContainsAny(o.Name, "=\n") || trimLeft(o.Name)[0] == '#' {
		return bad("name contains '=' or a line break or begins with '#'")
	}
	if strings.ContainsAny(string(o.Type), "\n") {
		return bad("type contains a line break")
	}
	for k, v := range o.Attrs {
		if trim(k) == "" {
			return bad("empty attribute name")
		}
		if strings.ContainsAny(k, "=\n") || trimLeft(k)[0] == '#' {
			return bad("attribute name %q contains '=' or a line break or begins with '#'", k)
		}
		if strings.Contains(v, "\n") {
			return bad("value of %s contains a line break", k)
		}
	}
	return nil
}

// quoteValue protects a value's leading or trailing double quote from the
// reader's quote removal.
func quoteValue(v string) string {
	if strings.HasPrefix(v, `"`) || strings.HasSuffix(v, `"`) {
		return `"` + v + `"`
	}
	return v
}

// writeAttrs writes the attribute lines of o, each indented by four spaces.
func writeAttrs(bw textWriter, o *inventory.Object, opt WriteOptions, names []string) []string {
	nics := o.Type == inventory.Node || o.Type == inventory.Group
	var nicFilter map[string][]string
	names = names[:0]
	if opt.Attrs != nil {
		for _, a := range opt.Attrs {
			if base, nic, ok := strings.Cut(a, "."); ok && nic != "" && nics && inventory.IsNicAttr(base) {
				a = base
				if nicFilter == nil {
					nicFilter = map[string][]string{}
				}
				nicFilter[base] = append(nicFilter[base], nic)
			}
			names = append(names, a)
		}
	} else {
		for k, v := range o.Attrs {
			if v != "" {
				names = append(names, k)
			}
		}
		for _, a := range opt.Always {
			if o.Attrs[a] == "" {
				names = append(names, a)
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	line := func(k, v string) {
		bw.WriteString("    ")
		bw.WriteString(k)
		bw.WriteByte('=')
		bw.WriteString(quoteValue(v))
		bw.WriteByte('\n')
	}
	for _, k := range names {
		if k == "objtype" {
			continue
		}
		v := o.Attrs[k]
		if nics && inventory.IsNicAttr(k) {
			for _, e := range expandNics(v) {
				if f := nicFilter[k]; len(f) > 0 && !slices.Contains(f, e.nic) {
					continue
				}
				line(k+"."+e.nic, e.val)
			}
			continue
		}
		line(k, v)
	}
	return names
}
