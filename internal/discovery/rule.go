package discovery

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Rule is a discovery rule: when every selector holds for a report that no
// node definition claims, the machine becomes a new node named from
// Template and put in Groups.
//
// Its text form (ParseRule, String) is
//
//	[NAME:] SELECTOR... -> name=TEMPLATE [groups=G1,G2]
//
// where -> is a word of its own, for example
//
//	bigmem: memory>=512GiB cpus>=64 -> name=fat{n:02} groups=compute,bigmem
//	gpu=10de -> name=gpu{n:03} groups=gpu
type Rule struct {
	Name      string
	Selectors []Selector
	Groups    []string
	Template  Template
}

// Selector is one condition on the facts: Key Op Value.
//
// Keys and the operators they take:
//
//	memory, disksize   = != < <= > >=   a size: bytes, or a number with a
//	                                    unit K M G T P (powers of 1024, also
//	                                    KiB..PiB) or KB MB GB TB PB (powers
//	                                    of 1000); units ignore case
//	cpus, disks, gpus  = != < <= > >=   a count (gpus: PCI display
//	                                    controllers, class 03)
//	serial, mtm, uuid, cputype          = != (ignoring case) ~ !~ (RE2
//	                                    regular expression, unanchored)
//	mac                                 = != a MAC address; ~ !~ a regular
//	                                    expression on the lower-case
//	                                    colon form; true when any NIC matches
//	                                    (!= and !~: when none does)
//	gpu, pci                            = != VENDOR or VENDOR:DEVICE in
//	                                    hexadecimal: a display controller
//	                                    (gpu) or any PCI device (pci) with
//	                                    those IDs is present (=) or absent (!=)
//
// A value may be written in double quotes with Go escapes
// (cputype~"Xeon Gold").
type Selector struct {
	Key, Op, Value string

	num uint64         // memory, disksize, counts
	re  *regexp.Regexp // ~ and !~
}

// Template names a machine a rule matched: Prefix, the number n, Suffix. n
// is the smallest number from 1 whose name is free. Its text form is
// PREFIX{n}SUFFIX or PREFIX{n:0W}SUFFIX (zero-padded to W digits, Python
// style).
type Template struct {
	Prefix, Suffix string
	Width          int // zero-padded width; 0: as is
}

// ErrSyntax is wrapped by every error of ParseRule, ParseSelector,
// ParseTemplate and ParseChain.
var ErrSyntax = errors.New("syntax error")

// ParseError says what is wrong with a rule, chain or selector text.
type ParseError struct {
	Text string // the offending text
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s: %q: %s", ErrSyntax, e.Text, e.Msg) }

// Unwrap returns ErrSyntax.
func (e *ParseError) Unwrap() error { return ErrSyntax }

func syntaxErr(text, format string, args ...any) error {
	return &ParseError{Text: text, Msg: fmt.Sprintf(format, args...)}
}

// ParseRule parses a rule in its text form (see Rule).
func ParseRule(s string) (Rule, error) {
	var r Rule
	all, err := fields(s)
	if err != nil {
		return r, err
	}
	arrow := -1
	for i, w := range all {
		if w == "->" {
			arrow = i
			break
		}
	}
	if arrow < 0 {
		return r, syntaxErr(s, "missing -> between selectors and actions")
	}
	words, acts := all[:arrow], all[arrow+1:]
	if len(words) > 0 && strings.HasSuffix(words[0], ":") && !strings.ContainsAny(words[0], "=<>~!\"") {
		r.Name = strings.TrimSuffix(words[0], ":")
		if !validWord(r.Name) {
			return r, syntaxErr(words[0], "bad rule name")
		}
		words = words[1:]
	}
	if len(words) == 0 {
		return r, syntaxErr(s, "no selector")
	}
	for _, w := range words {
		sel, err := ParseSelector(w)
		if err != nil {
			return r, err
		}
		r.Selectors = append(r.Selectors, sel)
	}
	seen := map[string]bool{}
	for _, a := range acts {
		k, v, ok := strings.Cut(a, "=")
		if !ok || seen[k] {
			return r, syntaxErr(a, "want one name=TEMPLATE and at most one groups=LIST")
		}
		seen[k] = true
		switch k {
		case "name":
			if r.Template, err = ParseTemplate(v); err != nil {
				return r, err
			}
		case "groups":
			for g := range strings.SplitSeq(v, ",") {
				if !validWord(g) {
					return r, syntaxErr(a, "bad group name %q", g)
				}
				r.Groups = append(r.Groups, g)
			}
		default:
			return r, syntaxErr(a, "unknown action %q (want name= or groups=)", k)
		}
	}
	if !seen["name"] {
		return r, syntaxErr(s, "missing name=TEMPLATE")
	}
	return r, nil
}

// String returns the rule's canonical text form, which ParseRule accepts.
func (r Rule) String() string {
	var b strings.Builder
	if r.Name != "" {
		b.WriteString(r.Name + ": ")
	}
	for i, s := range r.Selectors {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.String())
	}
	b.WriteString(" -> name=" + r.Template.String())
	if len(r.Groups) > 0 {
		b.WriteString(" groups=" + strings.Join(r.Groups, ","))
	}
	return b.String()
}

// validWord reports whether s is a usable rule, group or node name part.
func validWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// fields splits s at blanks outside double-quoted strings.
func fields(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return out, nil
		}
		i := 0
		for i < len(s) && !strings.ContainsRune(" \t\r\n", rune(s[i])) {
			if s[i] == '"' {
				q, err := strconv.QuotedPrefix(s[i:])
				if err != nil {
					return nil, syntaxErr(s, "unterminated quoted value")
				}
				i += len(q)
				continue
			}
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
}

// selector keys by kind.
func keyKind(k string) byte {
	switch k {
	case "memory", "disksize":
		return 's' // size
	case "cpus", "disks", "gpus":
		return 'n' // count
	case "serial", "mtm", "uuid", "cputype":
		return 't' // text
	case "mac":
		return 'm'
	case "gpu", "pci":
		return 'p'
	}
	return 0
}

// ParseSelector parses one selector, e.g. "memory>=512GiB" (see Selector).
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	i := strings.IndexAny(s, "=<>~!")
	if i <= 0 {
		return sel, syntaxErr(s, "want KEY OP VALUE")
	}
	sel.Key = s[:i]
	rest := s[i:]
	for _, op := range []string{">=", "<=", "!=", "!~", "=", "<", ">", "~"} {
		if strings.HasPrefix(rest, op) {
			sel.Op = op
			break
		}
	}
	if sel.Op == "" {
		return sel, syntaxErr(s, "bad operator")
	}
	raw := rest[len(sel.Op):]
	if strings.HasPrefix(raw, `"`) {
		q, err := strconv.QuotedPrefix(raw)
		if err != nil || q != raw {
			return sel, syntaxErr(s, "bad quoted value")
		}
		raw, _ = strconv.Unquote(q)
	}
	if raw == "" {
		return sel, syntaxErr(s, "empty value")
	}
	sel.Value = raw
	kind := keyKind(sel.Key)
	ops := map[byte]string{'s': "= != < <= > >=", 'n': "= != < <= > >=", 't': "= != ~ !~", 'm': "= != ~ !~", 'p': "= !="}[kind]
	if kind == 0 {
		return sel, syntaxErr(s, "unknown key %q", sel.Key)
	}
	if !strings.Contains(" "+ops+" ", " "+sel.Op+" ") {
		return sel, syntaxErr(s, "%s takes %s", sel.Key, ops)
	}
	var err error
	switch {
	case sel.Op == "~" || sel.Op == "!~":
		if sel.re, err = regexp.Compile(raw); err != nil {
			return sel, syntaxErr(s, "bad regular expression: %v", err)
		}
	case kind == 's':
		if sel.num, err = parseSize(raw); err != nil {
			return sel, syntaxErr(s, "%v", err)
		}
	case kind == 'n':
		if sel.num, err = strconv.ParseUint(raw, 10, 32); err != nil {
			return sel, syntaxErr(s, "bad count")
		}
	case kind == 'm':
		mac, err := net.ParseMAC(raw)
		if err != nil {
			return sel, syntaxErr(s, "bad MAC address")
		}
		sel.Value = mac.String()
	case kind == 'p':
		v, d, hasDev := strings.Cut(strings.ToLower(raw), ":")
		if !isHexID(v) || hasDev && !isHexID(d) {
			return sel, syntaxErr(s, "want VENDOR or VENDOR:DEVICE as 4 hex digits")
		}
		sel.Value = strings.ToLower(raw)
	}
	return sel, nil
}

func isHexID(s string) bool {
	if len(s) != 4 {
		return false
	}
	_, err := strconv.ParseUint(s, 16, 16)
	return err == nil
}

// String returns the selector's text form, quoting the value when needed.
func (s Selector) String() string {
	v := s.Value
	if v == "" || v == "->" || strings.ContainsAny(v, " \t\r\n\"") {
		v = strconv.Quote(v)
	}
	return s.Key + s.Op + v
}

// parseSize parses a byte count with an optional unit.
func parseSize(s string) (uint64, error) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 20 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	var mult uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mult = 1
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	case "t", "tib":
		mult = 1 << 40
	case "p", "pib":
		mult = 1 << 50
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	case "pb":
		mult = 1e15
	default:
		return 0, fmt.Errorf("bad size unit %q", s[i:])
	}
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n * mult, nil
}

// ParseTemplate parses a node name template: PREFIX{n}SUFFIX or
// PREFIX{n:0W}SUFFIX with W from 1 to 9; prefix and suffix may hold letters,
// digits, '-', '_' and '.', and the name must start with a letter.
func ParseTemplate(s string) (Template, error) {
	var t Template
	open := strings.Index(s, "{")
	end := strings.Index(s, "}")
	if open < 0 || end < open {
		return t, syntaxErr(s, "template needs {n}")
	}
	t.Prefix, t.Suffix = s[:open], s[end+1:]
	switch spec := s[open+1 : end]; {
	case spec == "n":
	case len(spec) == 4 && strings.HasPrefix(spec, "n:0") && spec[3] >= '1' && spec[3] <= '9':
		t.Width = int(spec[3] - '0')
	default:
		return t, syntaxErr(s, "want {n} or {n:0W}")
	}
	for _, part := range []string{t.Prefix, t.Suffix} {
		if part != "" && !validWord(part) {
			return t, syntaxErr(s, "bad character in template")
		}
	}
	if c := t.Prefix + "0"; !(c[0] >= 'a' && c[0] <= 'z' || c[0] >= 'A' && c[0] <= 'Z') {
		return t, syntaxErr(s, "node names must start with a letter")
	}
	return t, nil
}

// String returns the template's text form.
func (t Template) String() string {
	spec := "{n}"
	if t.Width > 0 {
		spec = fmt.Sprintf("{n:0%d}", t.Width)
	}
	return t.Prefix + spec + t.Suffix
}

// Format returns the name for number n.
func (t Template) Format(n int) string {
	return fmt.Sprintf("%s%0*d%s", t.Prefix, t.Width, n, t.Suffix)
}

// Matches reports whether every selector of r holds for f.
func (r Rule) Matches(f Facts) bool {
	for _, s := range r.Selectors {
		if !s.Holds(f) {
			return false
		}
	}
	return true
}

// Holds reports whether the selector holds for f. Unknown text facts are
// "": serial=X does not hold for a machine without a serial.
func (s Selector) Holds(f Facts) bool {
	switch keyKind(s.Key) {
	case 's', 'n':
		var have uint64
		switch s.Key {
		case "memory":
			have = f.MemoryBytes
		case "disksize":
			have = f.diskTotal()
		case "cpus":
			have = uint64(max(f.CPUs, 0))
		case "disks":
			have = uint64(len(f.Disks))
		case "gpus":
			for _, d := range f.PCI {
				if d.IsGPU() {
					have++
				}
			}
		}
		return compare(have, s.Op, s.num)
	case 't':
		have := map[string]string{"serial": f.Serial, "mtm": f.MTM, "uuid": f.UUID, "cputype": f.CPUModel}[s.Key]
		return s.text(have)
	case 'm':
		found := false
		for _, m := range f.allMACs() {
			if s.positive(m.String()) {
				found = true
				break
			}
		}
		return found == (s.Op == "=" || s.Op == "~")
	case 'p':
		vendor, device, hasDev := strings.Cut(s.Value, ":")
		present := false
		for _, d := range f.PCI {
			if (s.Key == "pci" || d.IsGPU()) && strings.EqualFold(d.Vendor, vendor) && (!hasDev || strings.EqualFold(d.Device, device)) {
				present = true
				break
			}
		}
		return present == (s.Op == "=")
	}
	return false
}

// positive evaluates the selector's test without negation.
func (s Selector) positive(have string) bool {
	if s.re != nil {
		return s.re.MatchString(have)
	}
	return sameID(have, s.Value)
}

func (s Selector) text(have string) bool {
	ok := s.positive(have)
	if s.Op == "!=" || s.Op == "!~" {
		return !ok
	}
	return ok
}

func compare(have uint64, op string, want uint64) bool {
	switch op {
	case "=":
		return have == want
	case "!=":
		return have != want
	case "<":
		return have < want
	case "<=":
		return have <= want
	case ">":
		return have > want
	case ">=":
		return have >= want
	}
	return false
}
