package noderange

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"drover.dev/drover/internal/balanced"
)

// This file reproduces the Perl behaviour NodeRange.pm relies on: split with captured
// separators, Text::Balanced's extract_bracketed, the regular expressions that pick atoms
// apart, numification and the range operator.

// extractParens is extract_bracketed($s, '()', qr/[^()]*/): the text before the first
// parenthesis, the inside of the balanced group starting there, and the rest. A backslash
// escapes the next character inside the group. ok is false when the first parenthesis is
// ")" or the group is not closed.
func extractParens(s string) (start, inner, rest string, ok bool) {
	i, j, ok := balanced.Parens(s)
	if !ok {
		return "", "", "", false
	}
	return s[:i], s[i+1 : j], s[j+1:], true
}

// splitCommas is split(/(,(?![^[]*?])(?![^\(]*?\)))/, $s): a comma separates unless the
// next "[" or "]" after it is "]", or the next "(" or ")" after it is ")".
func splitCommas(s string) []string {
	return splitTop(s, ',', true)
}

// splitAts is split(/(@(?![^\(]*?\)))/, $s).
func splitAts(s string) []string {
	return splitTop(s, '@', false)
}

func splitTop(s string, sep byte, brackets bool) []string {
	if s == "" {
		return nil
	}
	var seps []int // in reverse order
	var nextBracket, nextParen byte
	for i := len(s) - 1; i >= 0; i-- {
		switch c := s[i]; c {
		case '[', ']':
			nextBracket = c
		case '(', ')':
			nextParen = c
		case sep:
			if (!brackets || nextBracket != ']') && nextParen != ')' {
				seps = append(seps, i)
			}
		}
	}
	out := make([]string, 0, 2*len(seps)+1)
	prev := 0
	for k := len(seps) - 1; k >= 0; k-- {
		p := seps[k]
		out = append(out, s[prev:p], s[p:p+1])
		prev = p + 1
	}
	out = append(out, s[prev:])
	return trimTrailingEmpty(out)
}

// perlSplitSeps is split(/([...])/, $s) for a class of one-byte separators: fields and
// separators interleaved, a leading empty field kept, trailing empty fields dropped.
func perlSplitSeps(s string, isSep func(byte) bool) []string {
	if s == "" {
		return nil
	}
	var out []string
	prev := 0
	for i := 0; i < len(s); i++ {
		if isSep(s[i]) {
			out = append(out, s[prev:i], s[i:i+1])
			prev = i + 1
		}
	}
	out = append(out, s[prev:])
	return trimTrailingEmpty(out)
}

// perlSplitPlain is split(/,/, $s): trailing empty fields dropped.
func perlSplitPlain(s string, sep byte) []string {
	if s == "" {
		return nil
	}
	return trimTrailingEmpty(strings.Split(s, string(sep)))
}

// splitDigitRuns is split(/(\d+)/, $s).
func splitDigitRuns(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	prev := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		out = append(out, s[prev:i], s[i:j])
		prev, i = j, j
	}
	out = append(out, s[prev:])
	return trimTrailingEmpty(out)
}

func trimTrailingEmpty(out []string) []string {
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// allDigits reports whether s consists of ASCII digits (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// matchBracket is $atom =~ m/(.+?)\[(.+?)\](.*)/: at least one character before the first
// "[", at least one inside, the first "]" after that.
func matchBracket(atom string) (start, inside, ending string, ok bool) {
	if len(atom) < 2 {
		return "", "", "", false
	}
	i := strings.IndexByte(atom[1:], '[')
	if i < 0 {
		return "", "", "", false
	}
	i++
	if i+2 > len(atom) {
		return "", "", "", false
	}
	j := strings.IndexByte(atom[i+2:], ']')
	if j < 0 {
		return "", "", "", false
	}
	j += i + 2
	return atom[:i], atom[i+1 : j], atom[j+1:], true
}

// hasBracketPair is $s =~ /\[.+?\]/.
func hasBracketPair(s string) bool {
	i := strings.IndexByte(s, '[')
	return i >= 0 && i+2 <= len(s) && strings.IndexByte(s[i+2:], ']') >= 0
}

// splitOddDashes is $atom =~ m/([^-]+?(-[^-]*){k})-(.*)/ for an atom with 2k+1 dashes:
// left starts at the first non-dash and ends before the (k+1)th dash after it.
func splitOddDashes(atom string, k int) (left, right string, ok bool) {
	p := 0
	for p < len(atom) && atom[p] == '-' {
		p++
	}
	n := 0
	for j := p; j < len(atom); j++ {
		if atom[j] == '-' {
			n++
			if n == k+1 {
				return atom[p:j], atom[j+1:], true
			}
		}
	}
	return "", "", false
}

// splitIncrementFront is $front =~ /^(.*?)(\d+)(\..+)?$/: the first digit run that ends the
// string or is followed by "." and at least one more character.
func splitIncrementFront(front string) (pref, num, dom string, ok bool) {
	for i := 0; i < len(front); {
		if !isDigit(front[i]) {
			i++
			continue
		}
		j := i
		for j < len(front) && isDigit(front[j]) {
			j++
		}
		if j == len(front) || (front[j] == '.' && j+1 < len(front)) {
			return front[:i], front[i:j], front[j:], true
		}
		i = j
	}
	return "", "", "", false
}

// incrementLeftover is $3 after $atom =~ m/^(.*)([0-9]+)([^0-9\+]*)\+([0-9]+)/: the text
// between the last digit and a "+" followed by a digit, for the last such "+" ("" when the
// pattern does not match).
func incrementLeftover(atom string) string {
	for j := len(atom) - 2; j >= 0; j-- {
		if atom[j] != '+' || !isDigit(atom[j+1]) {
			continue
		}
		d := j - 1
		for d >= 0 && !isDigit(atom[d]) && atom[d] != '+' {
			d--
		}
		if d >= 0 && isDigit(atom[d]) {
			return atom[d+1 : j]
		}
	}
	return ""
}

// perlAddFormat is sprintf("%d", $startnum+$increment), zero-padded to the width of
// startnum when shorter.
func perlAddFormat(startnum, increment string) (string, error) {
	start := perlNumify(startnum)
	inc := perlNumify(increment)
	if inc.special {
		return "", ErrIntegerRange
	}
	var end int64
	if start.isInt && inc.isInt && !addOverflows(start.i, inc.i) {
		end = start.i + inc.i
	} else {
		end = castIV(start.float() + inc.float())
	}
	endnum := strconv.FormatInt(end, 10)
	if len(startnum) > len(endnum) {
		w := len(startnum)
		if end < 0 {
			endnum = "-" + strings.Repeat("0", w-len(endnum)) + endnum[1:]
		} else {
			endnum = strings.Repeat("0", w-len(endnum)) + endnum
		}
	}
	return endnum, nil
}

func addOverflows(a, b int64) bool {
	s := a + b
	return (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

// castIV is Perl's conversion of a floating-point value to an integer (Perl_cast_iv).
func castIV(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f < -9.223372036854775808e18:
		return math.MinInt64
	case f < 9.223372036854775808e18:
		return int64(f)
	case f < 1.8446744073709551616e19:
		return int64(uint64(f))
	default:
		return -1
	}
}

// perlNumber is a numified string.
type perlNumber struct {
	isInt   bool
	i       int64
	f       float64
	special bool // Inf or NaN
}

func (n perlNumber) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

// perlNumify converts a string to a number as Perl does: leading white space, sign,
// digits, fraction and exponent; anything after is ignored, no number at all is 0.
func perlNumify(s string) perlNumber {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\r\f\v", s[i]) >= 0 {
		i++
	}
	begin := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if rest := strings.ToLower(s[i:]); strings.HasPrefix(rest, "inf") || strings.HasPrefix(rest, "nan") {
		return perlNumber{special: true}
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	digits := i - intStart
	isInt := true
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if digits > 0 || j > i+1 {
			digits += j - i - 1
			i = j
			isInt = false
		}
	}
	if digits == 0 {
		return perlNumber{isInt: true}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
			isInt = false
		}
	}
	text := s[begin:i]
	if isInt {
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return perlNumber{isInt: true, i: v}
		}
	}
	f, _ := strconv.ParseFloat(text, 64) // out of range gives ±Inf, as Perl
	if math.IsInf(f, 0) {
		return perlNumber{special: true}
	}
	return perlNumber{f: f}
}

var maxIV = big.NewInt(math.MaxInt64)

// numericRange is Perl's numeric l..r for a digit string l (without a leading zero) and an
// integer string r: the first value and the count.
func numericRange(l, r string) (lo int64, n int, err error) {
	R, ok := new(big.Int).SetString(r, 10)
	if !ok {
		return 0, 0, nil
	}
	if R.Cmp(maxIV) > 0 {
		return 0, 0, ErrIntegerRange
	}
	L, _ := new(big.Int).SetString(l, 10)
	if L.Cmp(R) > 0 {
		return 0, 0, nil
	}
	count := new(big.Int).Sub(R, L)
	count.Add(count, big.NewInt(1))
	if !count.IsInt64() || count.Int64() > math.MaxInt32 {
		return 0, 0, ErrTooLarge
	}
	return L.Int64(), int(count.Int64()), nil
}

// magicCount is the length of Perl's l..r for a digit string l with a leading zero: the
// magic string increment keeps l's width and stops after r or before a string longer
// than r.
func magicCount(l, r string) (int, error) {
	if len(l) > len(r) {
		return 0, nil
	}
	L, _ := new(big.Int).SetString(l, 10)
	count := new(big.Int)
	if R, ok := new(big.Int).SetString(r, 10); ok && r[0] != '-' && r[0] != '+' &&
		(len(r) == len(l) || r[0] != '0') && R.Cmp(L) >= 0 {
		count.Sub(R, L)
		count.Add(count, big.NewInt(1))
	} else {
		count.Exp(big.NewInt(10), big.NewInt(int64(len(r))), nil)
		count.Sub(count, L)
	}
	if !count.IsInt64() || count.Int64() > math.MaxInt32 {
		return 0, ErrTooLarge
	}
	return int(count.Int64()), nil
}

// incDigits is Perl's magic increment of a digit string: "09" -> "10", "99" -> "100".
func incDigits(b []byte) []byte {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return b
		}
		b[i] = '0'
	}
	return append([]byte{'1'}, b...)
}
