package xcatcmd

import (
	"fmt"
	"strconv"
	"strings"
)

// tabOpt is one option of a table command: its names (single letters and
// long names; the first is the one it is known by) and whether it takes a
// value.
type tabOpt struct {
	names []string
	value bool
}

// tabCmdLine is a parsed table command line.
type tabCmdLine struct {
	opts map[string][]string // by the option's first name: every value given ("" for flags)
	args []string            // operands, in order
}

func (p tabCmdLine) has(name string) bool { _, ok := p.opts[name]; return ok }

// last returns the last value given for an option.
func (p tabCmdLine) last(name string) string {
	v := p.opts[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// intOpt returns an integer option's value; ok is false if the option was
// given with a value that is not an integer (Getopt::Long's "=i").
func (p tabCmdLine) intOpt(name string) (n int, set, ok bool) {
	if !p.has(name) {
		return 0, false, true
	}
	n, err := strconv.Atoi(p.last(name))
	return n, true, err == nil
}

// tabGetopt parses args like Perl's Getopt::Long with "bundling": single
// letters after "-" may be bundled, a value option takes the rest of its
// bundle or the next argument, long options start with "--" (a unique
// prefix is enough, "--name=value" works), operands may appear anywhere and
// "--" ends the options. A lone "-" is an operand.
func tabGetopt(specs []tabOpt, args []string) (tabCmdLine, error) {
	p := tabCmdLine{opts: map[string][]string{}}
	find := func(name string, long bool) (*tabOpt, error) {
		var prefix *tabOpt
		n := 0
		for i := range specs {
			for _, nm := range specs[i].names {
				if long != (len(nm) > 1) {
					continue
				}
				if nm == name {
					return &specs[i], nil
				}
				if long && strings.HasPrefix(nm, name) && prefix != &specs[i] {
					prefix = &specs[i]
					n++
				}
			}
		}
		if n == 1 {
			return prefix, nil
		}
		return nil, fmt.Errorf("unknown option: %s", name)
	}
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch {
		case a == "--":
			p.args = append(p.args, args[k+1:]...)
			return p, nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			o, err := find(name, true)
			if err != nil {
				return p, err
			}
			switch {
			case o.value && !hasVal:
				if k+1 >= len(args) {
					return p, fmt.Errorf("option %s requires an argument", name)
				}
				k++
				val = args[k]
			case !o.value && hasVal:
				return p, fmt.Errorf("option %s does not take an argument", name)
			}
			p.opts[o.names[0]] = append(p.opts[o.names[0]], val)
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				o, err := find(a[j:j+1], false)
				if err != nil {
					return p, err
				}
				if !o.value {
					p.opts[o.names[0]] = append(p.opts[o.names[0]], "")
					continue
				}
				val := a[j+1:]
				if val == "" {
					if k+1 >= len(args) {
						return p, fmt.Errorf("option %s requires an argument", a[j:j+1])
					}
					k++
					val = args[k]
				}
				p.opts[o.names[0]] = append(p.opts[o.names[0]], val)
				break
			}
		default:
			p.args = append(p.args, a)
		}
	}
	return p, nil
}
