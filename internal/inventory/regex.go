package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"drover.dev/drover/internal/balanced"
)

// Limits that keep EvalRegex cheap for any input (xCAT has none; real values
// are a few dozen characters).
const (
	maxRegexValueLen = 4096    // a regex value or node name longer than this is not evaluated
	maxBracketSteps  = 256     // parenthesised parts evaluated per value
	maxRegexResult   = 1 << 16 // characters of the intermediate replacement
	maxRegexCache    = 4096    // compiled patterns an Index keeps
)

// ErrRegex is wrapped by every error EvalRegex returns.
var ErrRegex = errors.New("invalid table regular expression")

// The patterns Perl uses for an empty pattern in transRegexAttrs: an empty
// pattern means "the last successfully matched pattern", which there is the
// test that recognised the value's form.
const (
	lastMatchSlash = `^/[^/]*/[^/]*/$`
	lastMatchPipe  = `^\|.*\|$`
)

// EvalRegex evaluates an attribute value for a node the way xCAT's
// transRegexAttrs (Table.pm) does:
//
//   - "/pattern/replacement/" (exactly three slashes): the first match of
//     pattern in the node name is replaced by replacement, taken literally
//     ("/\z/-bmc/" appends "-bmc");
//   - "|pattern|replacement|": the same substitution, but every parenthesised
//     part of replacement is first evaluated as a Perl integer expression
//     with the pattern's captures ($1+0, ($1-1)/14+1, $1%100,
//     sprintf("%03d",$1), a2idx, a2zidx, dim2idx, skip, ipadd, mknum);
//   - "|replacement|" (easy regex): as above with the pattern generated from
//     the node name, one [\D0]*(\d+) per run of digits followed by .*$.
//
// Other values are returned unchanged. An empty result means the attribute
// is unset. A pattern that does not match leaves the node name as the value,
// as in xCAT.
//
// Perl regular expressions are translated to Go's RE2 syntax (\Z, \h, \e);
// what RE2 cannot express (backreferences, lookaround) is an error.
//
// The returned string is always the value drover uses, also with an error
// (which wraps ErrRegex and is for reporting): the raw value when it cannot
// be evaluated at all (a pattern RE2 cannot compile, a value beyond the size
// limits), or xCAT's result when only a parenthesised part failed (that part
// evaluates to empty, as in xCAT).
func EvalRegex(node, value string) (string, error) {
	return evalRegex(node, value, nil)
}

// regexCache holds compiled patterns; it belongs to one Index.
type regexCache struct {
	mu   sync.Mutex
	pats map[string]compiled
}

type compiled struct {
	re  *regexp.Regexp
	err error
}

func (c *regexCache) compile(pat string) (*regexp.Regexp, error) {
	if c == nil {
		return compilePerl(pat)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pats[pat]; ok {
		return p.re, p.err
	}
	re, err := compilePerl(pat)
	if c.pats == nil || len(c.pats) >= maxRegexCache {
		c.pats = make(map[string]compiled)
	}
	c.pats[pat] = compiled{re, err}
	return re, err
}

// isRegexValue reports whether value has one of the forms EvalRegex
// evaluates.
func isRegexValue(value string) bool {
	return isSlashRegex(value) || isPipeRegex(value)
}

// isSlashRegex is Perl's /^\/[^\/]*\/[^\/]*\/$/.
func isSlashRegex(v string) bool {
	return len(v) >= 3 && v[0] == '/' && v[len(v)-1] == '/' && strings.Count(v, "/") == 3
}

// isPipeRegex is Perl's /^\|.*\|$/ (. does not match a newline).
func isPipeRegex(v string) bool {
	return len(v) >= 2 && v[0] == '|' && v[len(v)-1] == '|' && !strings.Contains(v[1:len(v)-1], "\n")
}

func evalRegex(node, value string, cache *regexCache) (string, error) {
	slash := isSlashRegex(value)
	if !slash && !isPipeRegex(value) {
		return value, nil
	}
	if len(value) > maxRegexValueLen || len(node) > maxRegexValueLen {
		return value, fmt.Errorf("%w: value or node name longer than %d characters", ErrRegex, maxRegexValueLen)
	}
	exp := value[1 : len(value)-1]
	if slash {
		pat, repl, _ := strings.Cut(exp, "/")
		if pat == "" {
			pat = lastMatchSlash
		}
		re, err := cache.compile(pat)
		if err != nil {
			return value, fmt.Errorf("%w %q: %w", ErrRegex, value, err)
		}
		return substFirst(re, node, repl), nil
	}

	pat, repl, found := strings.Cut(exp, "|")
	if !found { // easy regex: the pattern comes from the node name's digit runs
		pat, repl = easyPattern(node), exp
	} else if pat == "" {
		pat = lastMatchPipe
	}
	re, err := cache.compile(pat)
	if err != nil {
		return value, fmt.Errorf("%w %q: %w", ErrRegex, value, err)
	}
	curr, next, prev, ok := extractBracketed(repl)
	if !ok { // nothing to evaluate: a plain substitution
		return substFirst(re, node, repl), nil
	}
	loc := re.FindStringSubmatchIndex(node)
	if loc == nil {
		return node, nil // every substitution fails, node name stays
	}
	caps := make([]pval, len(loc)/2)
	for i := range caps {
		if loc[2*i] < 0 {
			caps[i] = undefVal()
		} else {
			caps[i] = strVal(node[loc[2*i]:loc[2*i+1]])
		}
	}
	head, tail := node[:loc[0]], node[loc[1]:]
	var firstErr error
	retval := repl
	for step := 0; ok; step++ {
		if step == maxBracketSteps {
			return value, fmt.Errorf("%w %q: more than %d parenthesised parts", ErrRegex, value, maxBracketSteps)
		}
		v, err := evalPerlExpr(head+curr+tail, caps)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%w %q for %s: %w", ErrRegex, value, node, err)
		}
		retval = prev + v.str() + next
		if len(retval) > maxRegexResult {
			return value, fmt.Errorf("%w %q: result longer than %d characters", ErrRegex, value, maxRegexResult)
		}
		curr, next, prev, ok = extractBracketed(retval)
	}
	return head + retval + tail, firstErr
}

// substFirst is Perl's $node =~ s/re/repl/ with a literal replacement.
func substFirst(re *regexp.Regexp, node, repl string) string {
	loc := re.FindStringIndex(node)
	if loc == nil {
		return node
	}
	return node[:loc[0]] + repl + node[loc[1]:]
}

var easyDigits = regexp.MustCompile(`[\D0]*(\d+)`)

// easyPattern builds the easy-regex pattern for a node name.
func easyPattern(node string) string {
	n := len(easyDigits.FindAllStringIndex(node, -1))
	return strings.Repeat(`[\D0]*(\d+)`, n) + `.*$`
}

// extractBracketed is Text::Balanced's extract_bracketed($text, '()',
// qr/[^()]*/): it skips the text before the first parenthesis and returns
// the balanced (...) group there, the text after it and the skipped prefix.
// A backslash escapes the next character inside the group.
func extractBracketed(text string) (curr, next, prev string, ok bool) {
	i, j, ok := balanced.Parens(text)
	if !ok {
		return "", "", "", false
	}
	return text[i : j+1], text[j+1:], text[:i], true
}

// compilePerl compiles a Perl regular expression with Go's regexp after
// translating the Perl escapes RE2 spells differently.
func compilePerl(pat string) (*regexp.Regexp, error) {
	return regexp.Compile(perlToRE2(pat))
}

// perlToRE2 rewrites \Z (end, or before a final newline; node names have
// none) as \z, \h and \H as blank classes and \e as \x1b. Text between \Q and
// \E is left alone (RE2 knows \Q...\E).
func perlToRE2(pat string) string {
	if !strings.ContainsRune(pat, '\\') {
		return pat
	}
	var b strings.Builder
	quoted, inClass := false, false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c != '\\' || i+1 == len(pat) {
			switch {
			case quoted:
			case c == '[' && !inClass:
				inClass = true
				b.WriteByte(c)
				// a ] right after [ or [^ is a literal
				if i+1 < len(pat) && pat[i+1] == '^' {
					b.WriteByte('^')
					i++
				}
				if i+1 < len(pat) && pat[i+1] == ']' {
					b.WriteByte(']')
					i++
				}
				continue
			case c == '[' && inClass && i+1 < len(pat) && pat[i+1] == ':':
				if end := strings.Index(pat[i:], ":]"); end > 0 { // [:alpha:]
					b.WriteString(pat[i : i+end+2])
					i += end + 1
					continue
				}
			case c == ']' && inClass:
				inClass = false
			}
			b.WriteByte(c)
			continue
		}
		e := pat[i+1]
		i++
		if quoted {
			if e == 'E' {
				quoted = false
			}
			b.WriteByte('\\')
			b.WriteByte(e)
			continue
		}
		switch {
		case e == 'Z' && !inClass:
			b.WriteString(`\z`)
		case e == 'h':
			b.WriteString(classOf(`\t `, false, inClass))
		case e == 'H':
			b.WriteString(classOf(`\t `, true, inClass))
		case e == 'e':
			b.WriteString(`\x1b`)
		case e == 'Q' && !inClass:
			quoted = true
			b.WriteString(`\Q`)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String()
}

// classOf returns a class of the given members, negated or not, written to
// fit inside or outside a bracket expression.
func classOf(members string, negated, inClass bool) string {
	switch {
	case !negated && inClass:
		return members
	case negated && inClass:
		return `\x00-\x08\x0a-\x1f\x21-\x{10FFFF}`
	case negated:
		return "[^" + members + "]"
	}
	return "[" + members + "]"
}
