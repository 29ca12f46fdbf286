package inventory

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file evaluates the parenthesised parts of xCAT's |pattern|replacement|
// values. xCAT hands them to Perl (Safe->reval('use integer;' . $expr));
// drover implements the part of Perl that such values use, checked against
// perl 5.36 running Table.pm's code: + - * / % and unary minus with `use
// integer` semantics (truncating division, wrapping 64-bit integers), **,
// the repetition operator x, capture variables ($1, ${1}), numeric and
// quoted string literals, barewords (strings, as without `use strict`),
// lists (the comma operator; flattened into function arguments), and the
// functions Table.pm shares into the compartment (mknum, a2idx, a2zidx,
// dim2idx, skip, ipadd) plus sprintf, int and abs. Anything else is an
// error, where Perl would mostly die too. perlval.go has Perl's value
// semantics.

// Limits that keep evaluation cheap for any input.
const (
	maxExprDepth   = 64   // nesting of parentheses and calls
	maxExprLen     = 4096 // characters of one expression
	maxFormatWidth = 1024 // sprintf width and precision
)

var errExpr = errors.New("perl expression")

// exprParser is a recursive-descent parser that evaluates while it parses.
type exprParser struct {
	src   string
	pos   int
	caps  []pval // caps[0] is $0 (unused); caps[i] is $i
	depth int
}

// evalPerlExpr evaluates src (one parenthesised part after the node name's
// match was replaced by it) with the given capture groups.
func evalPerlExpr(src string, caps []pval) (pval, error) {
	if len(src) > maxExprLen {
		return pval{}, fmt.Errorf("%w: expression longer than %d characters", errExpr, maxExprLen)
	}
	p := &exprParser{src: src, caps: caps}
	v, err := p.parseComma()
	if err != nil {
		return pval{}, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return pval{}, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return v, nil
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s in %q", errExpr, fmt.Sprintf(format, args...), p.src)
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *exprParser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// atRepeat reports whether the repetition operator x comes next: an x
// followed by a digit or by something that does not continue a word.
func (p *exprParser) atRepeat() bool {
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != 'x' {
		return false
	}
	if p.pos+1 == len(p.src) {
		return true
	}
	c := p.src[p.pos+1]
	return c >= '0' && c <= '9' || !isIdentChar(c) && c != '='
}

// noIncDec refuses ++ and --: Perl reads them as increment and decrement,
// which cannot modify the constants and captures these expressions hold.
func (p *exprParser) noIncDec() error {
	p.skipSpace()
	if p.pos+1 < len(p.src) && p.src[p.pos] == p.src[p.pos+1] && (p.src[p.pos] == '-' || p.src[p.pos] == '+') {
		return p.errorf("can't modify constant item in %s", p.src[p.pos:p.pos+2])
	}
	return nil
}

func (p *exprParser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return p.errorf("expression nests deeper than %d", maxExprDepth)
	}
	return nil
}

// parseComma: expr (',' expr)*, the comma operator in scalar context (the
// value is the last one).
func (p *exprParser) parseComma() (pval, error) {
	_, last, err := p.parseList()
	return last, err
}

// parseList parses comma-separated expressions up to a ")" or the end. It
// returns them as Perl sees them in list context, parenthesised lists
// flattened (f((1,2),3) has three arguments and f(()) none), and the value
// in scalar context: that of the last expression (undef for none).
func (p *exprParser) parseList() (elems []pval, last pval, err error) {
	last = undefVal()
	for {
		if c := p.peek(); c == ')' || c == 0 {
			return elems, last, nil // empty list or trailing comma
		}
		v, err := p.parseAdd()
		if err != nil {
			return nil, last, err
		}
		if v.isList {
			elems = append(elems, v.list...)
		} else {
			elems = append(elems, v)
		}
		last = v
		last.isList, last.list = false, nil
		if p.peek() != ',' {
			return elems, last, nil
		}
		p.pos++
	}
}

func (p *exprParser) parseAdd() (pval, error) {
	v, err := p.parseMul()
	if err != nil {
		return v, err
	}
	for {
		c := p.peek()
		if c != '+' && c != '-' {
			return v, nil
		}
		if err := p.noIncDec(); err != nil {
			return v, err
		}
		p.pos++
		r, err := p.parseMul()
		if err != nil {
			return r, err
		}
		if c == '+' {
			v = numVal(v.num() + r.num())
		} else {
			v = numVal(v.num() - r.num())
		}
	}
}

func (p *exprParser) parseMul() (pval, error) {
	v, err := p.parseUnary()
	if err != nil {
		return v, err
	}
	for {
		c := p.peek()
		if p.atRepeat() {
			p.pos++
			r, err := p.parseUnary()
			if err != nil {
				return r, err
			}
			n := max(r.num(), 0)
			unit := v.str()
			if n > 0 && int64(len(unit)) > maxRegexResult/n {
				return v, p.errorf("repetition longer than %d characters", maxRegexResult)
			}
			v = strVal(strings.Repeat(unit, int(n)))
			continue
		}
		if c != '*' && c != '/' && c != '%' {
			return v, nil
		}
		p.pos++
		r, err := p.parseUnary()
		if err != nil {
			return r, err
		}
		a, b := v.num(), r.num()
		switch c {
		case '*':
			v = numVal(a * b)
		case '/':
			if b == 0 {
				return v, p.errorf("illegal division by zero")
			}
			v = numVal(a / b)
		case '%':
			if b == 0 {
				return v, p.errorf("illegal modulus zero")
			}
			v = numVal(a % b)
		}
	}
}

func (p *exprParser) parseUnary() (pval, error) {
	if err := p.noIncDec(); err != nil {
		return pval{}, err
	}
	switch p.peek() {
	case '-':
		p.pos++
		if p.pos+1 < len(p.src) && strings.IndexByte("rwxoRWXOezsfdlpSbctugkTBAMC", p.src[p.pos]) >= 0 && !isIdentChar(p.src[p.pos+1]) {
			return pval{}, p.errorf("file test operator -%c", p.src[p.pos])
		}
		if err := p.enter(); err != nil {
			return pval{}, err
		}
		v, err := p.parseUnary()
		p.depth--
		return negate(v), err
	case '+':
		p.pos++
		if err := p.enter(); err != nil {
			return pval{}, err
		}
		v, err := p.parseUnary()
		p.depth--
		return v, err
	}
	return p.parsePow()
}

// parsePow: primary ('**' unary)?, right-associative and binding tighter
// than unary minus on its left (-2**2 is -4); see pow.
func (p *exprParser) parsePow() (pval, error) {
	v, err := p.parsePrimary()
	if err != nil {
		return v, err
	}
	if p.peek() != '*' || p.pos+1 >= len(p.src) || p.src[p.pos+1] != '*' {
		return v, nil
	}
	p.pos += 2
	if err := p.enter(); err != nil {
		return pval{}, err
	}
	e, err := p.parseUnary()
	p.depth--
	if err != nil {
		return e, err
	}
	return pow(v, e), nil
}

func (p *exprParser) parsePrimary() (pval, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		if err := p.enter(); err != nil {
			return pval{}, err
		}
		elems, v, err := p.parseList()
		if err != nil {
			return pval{}, err
		}
		if p.peek() != ')' {
			return pval{}, p.errorf("missing )")
		}
		p.pos++
		p.depth--
		// its scalar value, and its elements for a function's arguments
		v.isList, v.list = true, elems
		return v, nil
	case c == '$':
		return p.parseVar()
	case c >= '0' && c <= '9', c == '.':
		return p.parseNumber()
	case c == '\'':
		return p.parseSingleQuoted()
	case c == '"':
		return p.parseDoubleQuoted()
	case isIdentStart(c):
		return p.parseIdent()
	case c == 0:
		return pval{}, p.errorf("unexpected end")
	}
	return pval{}, p.errorf("unexpected %q", string(c))
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// parseVar reads $N, ${N} or $name (an unset global: undef).
func (p *exprParser) parseVar() (pval, error) {
	p.pos++ // '$'
	v, n, ok := p.varRef(p.src, p.pos)
	if !ok {
		return pval{}, p.errorf("unsupported variable")
	}
	p.pos = n
	return v, nil
}

// varRef resolves the variable whose name starts at s[i] (just after '$') and
// returns its value and the index after the reference.
func (p *exprParser) varRef(s string, i int) (pval, int, bool) {
	braced := i < len(s) && s[i] == '{'
	j := i
	if braced {
		j++
	}
	k := j
	switch {
	case k < len(s) && s[k] >= '0' && s[k] <= '9':
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
	case k < len(s) && isIdentStart(s[k]):
		for k < len(s) && isIdentChar(s[k]) {
			k++
		}
	default:
		return pval{}, i, false
	}
	name := s[j:k]
	if braced {
		if k >= len(s) || s[k] != '}' {
			return pval{}, i, false
		}
		k++
	}
	if name[0] >= '0' && name[0] <= '9' {
		idx, err := strconv.Atoi(name)
		if err != nil || idx == 0 {
			return pval{}, i, false // $0 is the program name: not meaningful here
		}
		if idx < len(p.caps) {
			return p.caps[idx], k, true
		}
	}
	return undefVal(), k, true
}

// parseNumber reads a Perl numeric literal: decimal (with _ separators), 0x
// hex, 0b binary, leading-0 octal, or a decimal fraction/exponent (a
// floating-point number; `use integer` truncates it when it meets an
// operator).
func (p *exprParser) parseNumber() (pval, error) {
	start := p.pos
	s := p.src
	if s[p.pos] == '0' && p.pos+1 < len(s) && (s[p.pos+1] == 'x' || s[p.pos+1] == 'X' || s[p.pos+1] == 'b' || s[p.pos+1] == 'B') {
		base := 16
		if s[p.pos+1] == 'b' || s[p.pos+1] == 'B' {
			base = 2
		}
		p.pos += 2
		d := p.pos
		for p.pos < len(s) && (isHexDigit(s[p.pos]) || s[p.pos] == '_') {
			p.pos++
		}
		digits := strings.ReplaceAll(s[d:p.pos], "_", "")
		if digits == "" {
			return numVal(0), nil
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil {
			return pval{}, p.errorf("bad number %q", s[start:p.pos])
		}
		return unsignedVal(n), nil
	}
	for p.pos < len(s) && (s[p.pos] >= '0' && s[p.pos] <= '9' || s[p.pos] == '_') {
		p.pos++
	}
	intPart := strings.ReplaceAll(s[start:p.pos], "_", "")
	isFloat := false
	if p.pos+1 < len(s) && s[p.pos] == '.' && s[p.pos+1] >= '0' && s[p.pos+1] <= '9' {
		isFloat = true
		p.pos++
		for p.pos < len(s) && (s[p.pos] >= '0' && s[p.pos] <= '9' || s[p.pos] == '_') {
			p.pos++
		}
	}
	if p.pos < len(s) && (s[p.pos] == 'e' || s[p.pos] == 'E') && intPart != "" {
		j := p.pos + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			isFloat = true
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			p.pos = j
		}
	}
	if intPart == "" && !isFloat {
		return pval{}, p.errorf("unexpected %q", s[start:start+1])
	}
	if isFloat {
		f, err := strconv.ParseFloat(strings.ReplaceAll(s[start:p.pos], "_", ""), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return pval{}, p.errorf("bad number %q", s[start:p.pos])
		}
		return floatVal(f), nil
	}
	base := 10
	if len(intPart) > 1 && intPart[0] == '0' {
		base = 8
	}
	n, err := strconv.ParseUint(intPart, base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return floatVal(numifyFloat(intPart)), nil
		}
		return pval{}, p.errorf("illegal octal digit in %q", intPart)
	}
	return unsignedVal(n), nil
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (p *exprParser) parseSingleQuoted() (pval, error) {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\\' || p.src[p.pos+1] == '\''):
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '\'':
			p.pos++
			return strVal(b.String()), nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return pval{}, p.errorf("unterminated string")
}

func (p *exprParser) parseDoubleQuoted() (pval, error) {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return strVal(b.String()), nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				return pval{}, p.errorf("unterminated string")
			}
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'e':
				b.WriteByte(0x1b)
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(e)
			}
		case '$':
			v, n, ok := p.varRef(p.src, p.pos+1)
			if !ok {
				b.WriteByte('$')
				p.pos++
				continue
			}
			b.WriteString(v.str())
			p.pos = n
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return pval{}, p.errorf("unterminated string")
}

// parseIdent reads a function call or a bareword (a string, as in Perl
// without `use strict`).
func (p *exprParser) parseIdent() (pval, error) {
	start := p.pos
	for p.pos < len(p.src) && (isIdentChar(p.src[p.pos]) || (p.src[p.pos] == ':' && p.pos+1 < len(p.src) && p.src[p.pos+1] == ':')) {
		if p.src[p.pos] == ':' {
			p.pos++
		}
		p.pos++
	}
	name := p.src[start:p.pos]
	switch name {
	case "s", "m", "q", "qq", "qw", "qx", "qr", "tr", "y":
		return pval{}, p.errorf("quote-like operator %s", name)
	}
	if p.peek() != '(' {
		return strVal(name), nil
	}
	p.pos++
	if err := p.enter(); err != nil {
		return pval{}, err
	}
	args, _, err := p.parseList()
	if err != nil {
		return pval{}, err
	}
	if p.peek() != ')' {
		return pval{}, p.errorf("missing ) after arguments of %s", name)
	}
	p.pos++
	p.depth--
	return p.call(name, args)
}

// call runs one of the functions xCAT's regex compartment offers.
func (p *exprParser) call(name string, args []pval) (pval, error) {
	switch name {
	case "mknum":
		return mknum(arg(args, 0).str()), nil
	case "a2idx": // ord(lc(shift)) - 96
		return numVal(ordLower(arg(args, 0).str()) - 96), nil
	case "a2zidx": // ord(lc(shift)) - 97
		return numVal(ordLower(arg(args, 0).str()) - 97), nil
	case "dim2idx":
		return dim2idx(args), nil
	case "skip":
		return skipIndex(arg(args, 0), arg(args, 1).str()), nil
	case "ipadd":
		return ipadd(args)
	case "sprintf":
		s, err := perlSprintf(arg(args, 0).str(), argsFrom(args, 1))
		if err != nil {
			return pval{}, p.errorf("%v", err)
		}
		return strVal(s), nil
	case "int", "abs": // named unary operators: one argument, () is undef
		if len(args) > 1 {
			return pval{}, p.errorf("too many arguments for %s", name)
		}
		if name == "int" {
			return perlInt(arg(args, 0)), nil
		}
		return perlAbs(arg(args, 0)), nil
	}
	return pval{}, p.errorf("undefined subroutine &%s", name)
}
