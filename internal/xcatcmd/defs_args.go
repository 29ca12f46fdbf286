package xcatcmd

import (
	"fmt"
	"strings"
)

// defOpts holds the options of lsdef, mkdef, chdef and rmdef. Like xCAT's
// DBobjectdefs::processArgs, one option table serves all four commands and
// each command rejects what it does not take.
type defOpts struct {
	a, c, d, f, h, l, s, m, p, V, v, x, z, S bool
	nocache, nics                            bool

	i, n, o, t             string
	iSet, nSet, oSet, tSet bool
	w                      []string

	operands []string
}

// defFlag describes one option: its single-letter name (0 if none), its
// long names and whether it takes a value.
type defFlag struct {
	short byte
	long  []string
	value bool
	set   func(o *defOpts, v string)
}

// defFlags is xCAT's GetOptions table of DBobjectdefs.pm without the
// options that need files of an xCAT management node (--template,
// --osimage, -u) or other xCAT services (-C, --cleanup); those are rejected
// as invalid options.
func defFlags() []defFlag {
	b := func(f func(o *defOpts) *bool) func(o *defOpts, _ string) {
		return func(o *defOpts, _ string) { *f(o) = true }
	}
	return []defFlag{
		{'a', []string{"all"}, false, b(func(o *defOpts) *bool { return &o.a })},
		{'c', []string{"compress"}, false, b(func(o *defOpts) *bool { return &o.c })},
		{'d', []string{"dynamic"}, false, b(func(o *defOpts) *bool { return &o.d })},
		{'f', []string{"force"}, false, b(func(o *defOpts) *bool { return &o.f })},
		{'i', nil, true, func(o *defOpts, v string) { o.i, o.iSet = v, true }},
		{'h', []string{"help"}, false, b(func(o *defOpts) *bool { return &o.h })},
		{'?', nil, false, b(func(o *defOpts) *bool { return &o.h })},
		{'l', []string{"long"}, false, b(func(o *defOpts) *bool { return &o.l })},
		{'s', []string{"short"}, false, b(func(o *defOpts) *bool { return &o.s })},
		{'m', []string{"minus"}, false, b(func(o *defOpts) *bool { return &o.m })},
		{'n', nil, true, func(o *defOpts, v string) { o.n, o.nSet = v, true }},
		{'o', nil, true, func(o *defOpts, v string) { o.o, o.oSet = v, true }},
		{'p', []string{"plus"}, false, b(func(o *defOpts) *bool { return &o.p })},
		{'t', nil, true, func(o *defOpts, v string) { o.t, o.tSet = v, true }},
		{'V', []string{"verbose"}, false, b(func(o *defOpts) *bool { return &o.V })},
		{'v', []string{"version"}, false, b(func(o *defOpts) *bool { return &o.v })},
		{'w', nil, true, func(o *defOpts, v string) { o.w = append(o.w, v) }},
		{'x', []string{"xml"}, false, b(func(o *defOpts) *bool { return &o.x })},
		{'z', []string{"stanza"}, false, b(func(o *defOpts) *bool { return &o.z })},
		{0, []string{"nocache"}, false, b(func(o *defOpts) *bool { return &o.nocache })},
		{'S', nil, false, b(func(o *defOpts) *bool { return &o.S })},
		{0, []string{"nics"}, false, b(func(o *defOpts) *bool { return &o.nics })},
	}
}

// getopt parses args the way Perl's Getopt::Long does with the
// configuration xCAT uses for these commands ("bundling", case sensitive,
// permute): single-letter options start with "-" and may be bundled (-lz,
// -tnode), long options start with "--" and may be abbreviated to a unique
// prefix (--stanza, --sta), a value option takes the rest of its bundle or
// the next argument, operands may appear anywhere, and "--" ends the
// options.
func getopt(flags []defFlag, args []string, o *defOpts) error {
	byShort := map[byte]*defFlag{}
	for i := range flags {
		if flags[i].short != 0 {
			byShort[flags[i].short] = &flags[i]
		}
	}
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch {
		case a == "--":
			o.operands = append(o.operands, args[k+1:]...)
			return nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			f, err := longFlag(flags, name)
			if err != nil {
				return err
			}
			switch {
			case f.value && hasVal:
				f.set(o, val)
			case f.value:
				if k+1 >= len(args) {
					return fmt.Errorf("option %s requires an argument", name)
				}
				k++
				f.set(o, args[k])
			case hasVal:
				return fmt.Errorf("option %s does not take an argument", name)
			default:
				f.set(o, "")
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				f := byShort[a[j]]
				if f == nil {
					return fmt.Errorf("unknown option: %c", a[j])
				}
				if !f.value {
					f.set(o, "")
					continue
				}
				if j+1 < len(a) {
					f.set(o, a[j+1:])
				} else {
					if k+1 >= len(args) {
						return fmt.Errorf("option %c requires an argument", a[j])
					}
					k++
					f.set(o, args[k])
				}
				break
			}
		default:
			o.operands = append(o.operands, a)
		}
	}
	return nil
}

// longFlag finds a long option by its name or a unique prefix of it.
func longFlag(flags []defFlag, name string) (*defFlag, error) {
	var found *defFlag
	n := 0
	for i := range flags {
		for _, l := range flags[i].long {
			if l == name {
				return &flags[i], nil
			}
			if name != "" && strings.HasPrefix(l, name) && found != &flags[i] {
				found = &flags[i]
				n++
			}
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("unknown option: %s", name)
	}
	return found, nil
}
