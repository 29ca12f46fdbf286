package inventory

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Perl scalar semantics for the expressions of xCAT's table regular
// expressions: numification of strings, integer and floating-point results,
// and the functions Table.pm shares into its Safe compartment.

type pkind uint8

const (
	kUndef pkind = iota
	kStr
	kInt   // IV
	kUint  // UV above IV_MAX
	kFloat // NV
)

// pval is a Perl scalar.
type pval struct {
	kind pkind
	s    string
	n    int64 // kInt; kUint holds the bits of the unsigned value
	f    float64

	// A parenthesised list: the fields above hold its last element (its
	// value in scalar context), list all of them.
	isList bool
	list   []pval
}

func numVal(n int64) pval     { return pval{kind: kInt, n: n} }
func uintVal(u uint64) pval   { return pval{kind: kUint, n: int64(u)} }
func floatVal(f float64) pval { return pval{kind: kFloat, f: f} }
func strVal(s string) pval    { return pval{kind: kStr, s: s} }
func undefVal() pval          { return pval{} }

// unsignedVal is an unsigned result: an IV when it fits.
func unsignedVal(u uint64) pval {
	if u <= math.MaxInt64 {
		return numVal(int64(u))
	}
	return uintVal(u)
}

// str is the value as a string.
func (v pval) str() string {
	switch v.kind {
	case kUndef:
		return ""
	case kInt:
		return strconv.FormatInt(v.n, 10)
	case kUint:
		return strconv.FormatUint(uint64(v.n), 10)
	case kFloat:
		return perlFloatString(v.f)
	}
	return v.s
}

// num is the value as `use integer` sees it (SvIV).
func (v pval) num() int64 {
	switch v.kind {
	case kUndef:
		return 0
	case kInt, kUint:
		return v.n
	case kFloat:
		return castIV(v.f)
	}
	return numify(v.s)
}

// float is the value as a Perl number (SvNV).
func (v pval) float() float64 {
	switch v.kind {
	case kUndef:
		return 0
	case kInt:
		return float64(v.n)
	case kUint:
		return float64(uint64(v.n))
	case kFloat:
		return v.f
	}
	return numifyFloat(v.s)
}

// intLike reports whether Perl would treat v as an integer (SvIV_please):
// integers, integral floats within the exact range, integral numeric
// strings.
func (v pval) intLike() bool {
	switch v.kind {
	case kUndef, kInt, kUint:
		return true
	case kFloat:
		return v.f == math.Trunc(v.f) && math.Abs(v.f) < 1<<53
	}
	// a numeric string is an integer only when written as one that fits 64
	// bits (grok_number flags "12.00", "1e3" and larger values as not
	// integers)
	p, _ := numPrefix(v.s)
	if p == "" || strings.ContainsAny(p, ".eE") || !looksLikeNumber(v.s) {
		return false
	}
	x, ok := v.exact()
	return ok && (x.IsInt64() || x.IsUint64())
}

// exact returns v as an exact integer when it is one.
func (v pval) exact() (*big.Int, bool) {
	switch v.kind {
	case kUndef:
		return new(big.Int), true
	case kInt:
		return big.NewInt(v.n), true
	case kUint:
		return new(big.Int).SetUint64(uint64(v.n)), true
	case kFloat:
		if v.f != math.Trunc(v.f) || math.Abs(v.f) >= 1<<53 {
			return nil, false
		}
		return big.NewInt(int64(v.f)), true
	}
	if p, isFloat := numPrefix(v.s); p != "" && !isFloat && looksLikeNumber(v.s) {
		if b, ok := new(big.Int).SetString(strings.TrimPrefix(strings.TrimSuffix(p, "."), "+"), 10); ok {
			return b, true
		}
	}
	return nil, false
}

// numPrefix returns the longest prefix of s (after leading blanks) that Perl
// reads as a decimal number, and whether it has a fraction or exponent.
func numPrefix(s string) (string, bool) {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits := i > start
	isFloat := false
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if digits || j > i+1 {
			digits = true
			isFloat = j > i+1
			i = j
		}
	}
	if !digits {
		return "", false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
			isFloat = true
		}
	}
	return s[:i], isFloat
}

// numify is Perl's SvIV of a string: a string that is wholly an integer is
// read exactly (wrapping through the unsigned range); anything else is read
// as a floating-point number first (trailing garbage ignored) and cast.
func numify(s string) int64 {
	p, isFloat := numPrefix(s)
	if p != "" && !isFloat && looksLikeNumber(s) {
		digits := strings.TrimSuffix(p, ".")
		if n, err := strconv.ParseInt(digits, 10, 64); err == nil {
			return n
		}
		if u, err := strconv.ParseUint(strings.TrimPrefix(digits, "+"), 10, 64); err == nil {
			return int64(u)
		}
	}
	return castIV(numifyFloat(s))
}

// numifyFloat is Perl's SvNV of a string, including "Inf" and "NaN".
func numifyFloat(s string) float64 {
	p, _ := numPrefix(s)
	if p == "" {
		return infNaN(s)
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(p, "."), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0
	}
	return f
}

// infNaN reads Perl's "Inf"/"Infinity"/"NaN" strings; anything else is 0.
func infNaN(s string) float64 {
	s = strings.ToLower(strings.TrimLeft(s, " \t\n\r\f\v"))
	sign := 1
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch {
	case strings.HasPrefix(s, "inf"):
		return math.Inf(sign)
	case strings.HasPrefix(s, "nan"):
		return math.NaN()
	}
	return 0
}

// looksLikeNumber is Perl's looks_like_number: the whole string (blanks
// around it allowed) is a number.
func looksLikeNumber(s string) bool {
	t := strings.TrimLeft(s, " \t\n\r\f\v")
	p, _ := numPrefix(t)
	if p == "" {
		l := strings.ToLower(strings.TrimLeft(t, "+-"))
		return l == "inf" || l == "infinity" || l == "nan"
	}
	return strings.TrimRight(t[len(p):], " \t\n\r\f\v") == ""
}

// castIV is Perl's cast_iv: a floating-point value as a signed integer.
func castIV(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f < -9223372036854775808.0:
		return math.MinInt64
	case f < 9223372036854775808.0:
		return int64(f)
	case f < 18446744073709551616.0:
		return int64(uint64(f))
	}
	return -1 // (IV)UV_MAX
}

// perlFloatString formats f like Perl's default number output (%.15g).
func perlFloatString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

// negate is Perl's unary minus under `use integer`: a string starting with a
// letter or "_" gets a "-" in front, one starting with "+" or a non-numeric
// "-" has its sign swapped; anything else is negated as an integer.
func negate(v pval) pval {
	if v.kind == kStr && v.s != "" {
		switch c := v.s[0]; {
		case isIdentStart(c):
			return strVal("-" + v.s)
		case c == '+':
			return strVal("-" + v.s[1:])
		case c == '-' && !looksLikeNumber(v.s):
			return strVal("+" + v.s[1:])
		}
	}
	return numVal(-v.num())
}

// arith is Perl's +, - and * outside `use integer` (inside the shared
// functions): exact integer results stay integers, anything else is a
// floating-point number.
func arith(op byte, a, b pval) pval {
	x, okA := a.exact()
	y, okB := b.exact()
	if okA && okB {
		var r big.Int
		switch op {
		case '+':
			r.Add(x, y)
		case '-':
			r.Sub(x, y)
		case '*':
			r.Mul(x, y)
		}
		switch {
		case r.IsInt64():
			return numVal(r.Int64())
		case r.IsUint64():
			return uintVal(r.Uint64())
		}
		f, _ := new(big.Float).SetInt(&r).Float64()
		return floatVal(f)
	}
	fa, fb := a.float(), b.float()
	switch op {
	case '+':
		return floatVal(fa + fb)
	case '-':
		return floatVal(fa - fb)
	}
	return floatVal(fa * fb)
}

// pow is Perl's ** (pp_pow; `use integer` does not apply): an integer
// raised to a non-negative integer power is exact when the base is not a
// power of two and the result fits in 64 bits; otherwise the result is
// floating point.
func pow(l, r pval) pval {
	if v, ok := powInteger(l, r); ok {
		return v
	}
	x, y := l.float(), r.float()
	if f, ok := powExact(x, y); ok {
		return floatVal(f)
	}
	return floatVal(math.Pow(x, y))
}

// powExact computes x**y correctly rounded, as C's pow does, when y is a
// small integer: exactly in big arithmetic, then rounded once.
// An integral base is raised exactly with big integers (to 1100, beyond
// which every result overflows); any other base up to the 64th power.
func powExact(x, y float64) (float64, bool) {
	if y != math.Trunc(y) || math.Abs(y) > 1100 || math.IsInf(x, 0) || math.IsNaN(x) || x == 0 {
		return 0, false // y is NaN, infinite, fractional or too large
	}
	n := int64(math.Abs(y))
	var r *big.Float
	switch {
	case x == math.Trunc(x) && math.Abs(x) < 1<<53 && n <= 1100:
		e := new(big.Int).Exp(big.NewInt(int64(x)), big.NewInt(n), nil)
		r = new(big.Float).SetInt(e)
	case n <= 64:
		bx := new(big.Float).SetPrec(53 * 65).SetFloat64(x)
		r = new(big.Float).SetPrec(53 * 65).SetInt64(1)
		for range n {
			r.Mul(r, bx)
		}
	default:
		return 0, false
	}
	if y < 0 {
		r = new(big.Float).SetPrec(53).Quo(big.NewFloat(1), r)
	}
	f, _ := r.Float64()
	return f, true
}

// powInteger is pp_pow's integer branch; false when it does not apply.
// Like Perl it checks power*bits(base) <= 64 in wrapping 64-bit arithmetic
// and computes in wrapping 64-bit integers.
func powInteger(l, r pval) (pval, bool) {
	if !l.intLike() || !r.intLike() {
		return pval{}, false
	}
	bx, okL := l.exact()
	px, okR := r.exact()
	if !okL || !okR || px.Sign() < 0 || !px.IsUint64() || !(bx.IsInt64() || bx.IsUint64()) {
		return pval{}, false
	}
	power := px.Uint64()
	baseuok := bx.Sign() >= 0
	baseuv := new(big.Int).Abs(bx).Uint64()
	if baseuv&(baseuv-1) == 0 { // 0, 1 or a power of two: floating point
		b := float64(baseuv)
		if !baseuok {
			b = -b
		}
		return floatVal(powUint(b, power)), true
	}
	if power*uint64(bits.Len64(baseuv)) > 64 {
		return pval{}, false
	}
	result, base := uint64(1), baseuv
	for n := power; n > 0; n >>= 1 {
		if n&1 == 1 {
			result *= base
		}
		base *= base
	}
	switch {
	case baseuok || power&1 == 0:
		return unsignedVal(result), true
	case result <= math.MaxInt64:
		return numVal(-int64(result)), true
	case result == 1<<63:
		return numVal(math.MinInt64), true
	}
	return floatVal(-float64(result)), true
}

// powUint raises x to a non-negative integral power by repeated squaring.
func powUint(x float64, n uint64) float64 {
	r := 1.0
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r *= x
		}
		x *= x
	}
	return r
}

func arg(args []pval, i int) pval {
	if i < len(args) {
		return args[i]
	}
	return undefVal()
}

func argsFrom(args []pval, i int) []pval {
	if i < len(args) {
		return args[i:]
	}
	return nil
}

// ordLower is Perl's ord(lc($s)) on a byte string.
func ordLower(s string) int64 {
	if s == "" {
		return 0
	}
	c := s[0]
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	return int64(c)
}

// mknum is Table.pm's mknum: the sum of the string's bytes.
func mknum(s string) pval {
	var n int64
	for _, c := range []byte(s) {
		n += int64(c)
	}
	return numVal(n)
}

// dim2idx is Table.pm's dim2idx: dim2idx(2, 10, 3, 8, 4, 8, 5) = 797. It stops
// at the first undefined argument.
func dim2idx(args []pval) pval {
	val := numVal(0)
	mul := false
	for _, a := range args {
		if a.kind == kUndef {
			break
		}
		if mul {
			val = arith('*', val, a)
		} else {
			val = arith('+', val, arith('-', a, numVal(1)))
		}
		mul = !mul
	}
	return arith('+', val, numVal(1))
}

// skipIndex is Table.pm's skip: skip(10, '3:2,6') = 7; an index inside a
// skipped range gives -1. The index comes back unchanged (as given, e.g.
// "05") when no range lies below it.
func skipIndex(idx pval, skips string) pval {
	val := idx
	n := idx.float()
	for _, el := range perlSplit(skips, ",") {
		f := perlSplit(el, ":")
		start := arg(strVals(f), 0)
		count := numVal(1)
		if len(f) > 1 {
			count = strVal(f[1])
		}
		if !(n >= start.float()) { // NaN too
			break
		}
		if n < arith('+', start, count).float() {
			return numVal(-1)
		}
		val = arith('-', val, count)
	}
	return val
}

func strVals(ss []string) []pval {
	out := make([]pval, len(ss))
	for i, s := range ss {
		out[i] = strVal(s)
	}
	return out
}

// perlSplit is Perl's split with a literal separator: trailing empty fields
// are removed, and an empty string gives no fields.
func perlSplit(s, sep string) []string {
	if s == "" {
		return nil
	}
	f := strings.Split(s, sep)
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f
}

// ipadd is Table.pm's ipadd(b1, b2, b3, b4, toadd, skipstart, skipend),
// computed under `use integer`.
func ipadd(args []pval) (pval, error) {
	b3, b4 := arg(args, 2).num(), arg(args, 3).num()
	toadd, skipstart, skipend := arg(args, 4).num(), arg(args, 5).num(), arg(args, 6).num()
	var offset int64
	if b4 >= skipstart {
		offset = b4 - skipstart
	}
	span := 256 - skipstart - skipend
	if span == 0 {
		return pval{}, fmt.Errorf("%w: ipadd: illegal division by zero", errExpr)
	}
	b3 += (offset + toadd) / span
	b4 = (offset+toadd)%span + skipstart
	return strVal(arg(args, 0).str() + "." + arg(args, 1).str() + "." +
		strconv.FormatInt(b3, 10) + "." + strconv.FormatInt(b4, 10)), nil
}

// perlInt is Perl's int().
func perlInt(v pval) pval {
	switch v.kind {
	case kInt, kUint:
		return v
	case kUndef:
		return numVal(0)
	}
	if v.kind == kStr && v.intLike() {
		if x, ok := v.exact(); ok && (x.IsInt64() || x.IsUint64()) {
			if x.IsInt64() {
				return numVal(x.Int64())
			}
			return uintVal(x.Uint64())
		}
	}
	f := v.float()
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return floatVal(f)
	case f >= 0 && f < 18446744073709551615.5:
		return unsignedVal(uint64(f))
	case f < 0 && f > -9223372036854775808.5:
		return numVal(int64(f))
	}
	return floatVal(math.Trunc(f))
}

// perlAbs is Perl's abs().
func perlAbs(v pval) pval {
	switch v.kind {
	case kInt:
		if v.n == math.MinInt64 {
			return uintVal(1 << 63)
		}
		if v.n < 0 {
			return numVal(-v.n)
		}
		return v
	case kUint:
		return v
	case kUndef:
		return numVal(0)
	}
	if x, ok := v.exact(); ok && v.kind == kStr {
		x.Abs(x)
		if x.IsInt64() {
			return numVal(x.Int64())
		}
		if x.IsUint64() {
			return uintVal(x.Uint64())
		}
	}
	return floatVal(math.Abs(v.float()))
}

// perlSprintf implements the common part of Perl's sprintf: flags, width
// and precision (also from arguments with *), the integer, string, character
// and floating-point conversions. Infinite and NaN numbers print as words; a
// directive Perl does not know is copied to the output.
func perlSprintf(format string, args []pval) (string, error) {
	var b strings.Builder
	next := 0
	nextArg := func() pval {
		v := arg(args, next)
		next++
		return v
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ 0#", format[j]) >= 0 {
			j++
		}
		flags := format[i+1 : j]
		width, prec := "", ""
		var starArgs []int64
		if j < len(format) && format[j] == '*' {
			starArgs = append(starArgs, nextArg().num())
			j++
		} else {
			w := j
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
			width = format[w:j]
		}
		if j < len(format) && format[j] == '.' {
			if j+1 < len(format) && format[j+1] == '*' {
				starArgs = append(starArgs, nextArg().num())
				prec = ".*"
				j += 2
			} else {
				k := j + 1
				for k < len(format) && format[k] >= '0' && format[k] <= '9' {
					k++
				}
				prec = format[j:k]
				j = k
			}
		}
		for _, num := range []string{width, strings.TrimPrefix(prec, ".")} {
			if n, err := strconv.Atoi(num); num != "" && num != "*" && (err != nil || n > maxFormatWidth) {
				return "", fmt.Errorf("sprintf: width or precision over %d", maxFormatWidth)
			}
		}
		if j >= len(format) { // incomplete: Perl prints it as is
			b.WriteString(format[i:])
			break
		}
		conv := format[j]
		if strings.IndexByte("%diuxXobBcseEfFgG", conv) < 0 {
			b.WriteString(format[i : j+1])
			i = j
			continue
		}
		if len(starArgs) > 0 { // resolve * from the arguments
			k := 0
			if prec != ".*" || width == "" && format[i+1+len(flags)] == '*' {
				w := starArgs[k]
				k++
				if w < 0 {
					flags += "-"
					w = -w
				}
				width = strconv.FormatInt(w, 10)
			}
			if prec == ".*" {
				if p := starArgs[k]; p >= 0 {
					prec = "." + strconv.FormatInt(p, 10)
				} else {
					prec = ""
				}
			}
		}
		for _, num := range []string{width, strings.TrimPrefix(prec, ".")} {
			if num != "" {
				if n, err := strconv.Atoi(num); err != nil || n > maxFormatWidth {
					return "", fmt.Errorf("sprintf: width or precision over %d", maxFormatWidth)
				}
			}
		}
		if conv != '%' && conv != 's' {
			if v := arg(args, next); v.kind == kFloat || (v.kind == kStr && !v.intLike()) {
				if f := v.float(); math.IsInf(f, 0) || math.IsNaN(f) {
					next++
					word := perlFloatString(f)
					if strings.ContainsAny(flags, "+ ") && f > 0 {
						word = "+" + word
					}
					fmt.Fprintf(&b, "%"+strings.Trim(flags, "+ 0#")+width+"s", word)
					i = j
					continue
				}
			}
		}
		spec := "%" + flags + width + prec
		switch conv {
		case 'x', 'X', 'o', 'b', 'B':
			if uvOf(arg(args, next)) == 0 { // C prints no 0x prefix for zero
				spec = strings.ReplaceAll(spec, "#", "")
			}
		case 'g', 'G':
			if prec == "" {
				spec += ".6" // C's default precision; Go's %g is the shortest
			}
		}
		switch conv {
		case '%':
			fmt.Fprintf(&b, "%"+strings.Trim(flags, "+ 0#")+width+"s", "%")
		case 'd', 'i':
			fmt.Fprintf(&b, spec+"d", nextArg().num())
		case 'u':
			fmt.Fprintf(&b, spec+"d", uvOf(nextArg()))
		case 'x', 'X', 'o', 'b', 'B':
			verb := string(conv)
			if conv == 'B' {
				verb = "b"
			}
			fmt.Fprintf(&b, spec+verb, uvOf(nextArg()))
		case 's':
			fmt.Fprintf(&b, spec+"s", nextArg().str())
		case 'c': // chr(): a byte below 256, else the character in UTF-8 (U+FFFD beyond Unicode)
			n := nextArg().num()
			switch {
			case n < 0:
				return "", fmt.Errorf("sprintf: %%c of %d", n)
			case n < 256:
				fmt.Fprintf(&b, spec+"s", string([]byte{byte(n)}))
			default:
				fmt.Fprintf(&b, spec+"s", string(rune(n)))
			}
		case 'e', 'E', 'f', 'F', 'g', 'G':
			verb := string(conv)
			if conv == 'F' {
				verb = "f"
			}
			fmt.Fprintf(&b, spec+verb, nextArg().float())
		}
		i = j
	}
	return b.String(), nil
}

// uvOf is Perl's SvUV.
func uvOf(v pval) uint64 {
	if v.kind == kFloat || (v.kind == kStr && !v.intLike()) {
		f := v.float()
		switch {
		case math.IsNaN(f):
			return 0
		case f < 0:
			return uint64(castIV(f))
		case f < 18446744073709551616.0:
			return uint64(f)
		}
		return math.MaxUint64
	}
	return uint64(v.num())
}
