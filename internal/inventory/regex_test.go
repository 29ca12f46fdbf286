package inventory

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type regexCase struct {
	name, node, value string
	want              string
	wantErr           bool
}

// regexCases are xCAT's documented examples (schema.md §4, regexp_db.rst,
// mkdef/cases1) and the corners of Table.pm's transRegexAttrs.
var regexCases = []regexCase{
	// not a regular expression: unchanged
	{name: "plain value", node: "n1", value: "ipmi", want: "ipmi"},
	{name: "empty", node: "n1", value: "", want: ""},
	{name: "single bar", node: "n1", value: "|", want: "|"},
	{name: "two slashes", node: "n1", value: "/a/", want: "/a/"},
	{name: "four slashes", node: "n1", value: "/a/b/c/", want: "/a/b/c/"},
	{name: "bar only at start", node: "n1", value: "|abc", want: "|abc"},
	{name: "collapsed nic value is not a regex", node: "n1", value: `eth1!|\D+(\d+)|1.2.3.($1+0)|`, want: `eth1!|\D+(\d+)|1.2.3.($1+0)|`},

	// mkdef/cases1 worked examples
	{name: "doubletrouble bmc", node: "mgt02", value: `|\z|-imm|`, want: "mgt02-imm"},
	{name: "compute bmc slash form", node: "com02", value: `/\z/-bmc/`, want: "com02-bmc"},
	{name: "hosts.ip", node: "node254", value: `|node(\d+)|10.0.0.($1+0)|`, want: "10.0.0.254"},
	{name: "kvms vm.host", node: "c01f02x03v04", value: `|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|c($1)f($2)x($3)|`, want: "c01f02x03"},
	{name: "kvms vm.storage", node: "c01f02x03v04", value: `|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|dir:///install/vms/vm($4+0)|`, want: "dir:///install/vms/vm4"},
	{name: "sn01 ip", node: "xcattest_tmp_node_sn01", value: `|\D+(\d+)|172.21.254.($1%100)|`, want: "172.21.254.1"},
	{name: "sn16 ip", node: "xcattest_tmp_node_sn16", value: `|\D+(\d+)|172.21.254.($1%100)|`, want: "172.21.254.16"},

	// regexp_db.rst
	{name: "regexp_db node1 ip", node: "node1", value: `|node(\d+)|10.0.0.($1+0)|`, want: "10.0.0.1"},
	{name: "leading zeros removed", node: "node007", value: `|node(\d+)|10.0.0.($1+0)|`, want: "10.0.0.7"},

	// easy regex
	{name: "easy regex", node: "node1", value: `|10.0.0.($1+0)|`, want: "10.0.0.1"},
	{name: "easy regex two numbers", node: "rack02node14", value: `|10.($1+0).0.($2+0)|`, want: "10.2.0.14"},
	{name: "easy regex zeros skipped", node: "n0012", value: `|($1)|`, want: "12"},
	{name: "easy regex no digits", node: "login", value: `|x($1+0)|`, want: "x0"},
	{name: "easy regex plain", node: "node1", value: `|static|`, want: "static"},
	{name: "easy regex empty is unset", node: "node01", value: `||`, want: ""},

	// substitution details
	{name: "partial match keeps the rest", node: "node5", value: `/node/host/`, want: "host5"},
	{name: "first match only", node: "a1a2", value: `/a/b/`, want: "b1a2"},
	{name: "no match keeps node name", node: "login1", value: `/^node/x/`, want: "login1"},
	{name: "arith no match keeps node name", node: "login1", value: `|node(\d+)|10.0.0.($1+0)|`, want: "login1"},
	{name: "replacement is literal", node: "node5", value: `/node(\d+)/x$1/`, want: "x$1"},
	{name: "force blank", node: "node5", value: `|^.*$||`, want: ""},
	{name: "slash force blank", node: "node5", value: `/^.*$//`, want: ""},
	{name: "empty pattern is the last match", node: "node5", value: `||x|`, want: "node5"},
	{name: "empty slash pattern", node: "node5", value: `//x/`, want: "node5"},
	{name: "Perl \\Z", node: "sw1", value: `/\Z/-mgmt/`, want: "sw1-mgmt"},
	{name: "Perl \\A", node: "sw1", value: `/\A/mgmt-/`, want: "mgmt-sw1"},
	{name: "dot in pattern", node: "n1.cluster", value: `/\..*$//`, want: "n1"},

	// arithmetic
	{name: "rack from index", node: "node29", value: `|node(\d+)|rack(($1-1)/14+1)|`, want: "rack3"},
	{name: "modulo", node: "n1234", value: `|n(\d+)|10.1.($1/100).($1%100)|`, want: "10.1.12.34"},
	{name: "precedence", node: "n7", value: `|n(\d+)|($1+2*3)|`, want: "13"},
	{name: "unary minus", node: "n7", value: `|n(\d+)|(-$1+10)|`, want: "3"},
	{name: "truncating division", node: "n7", value: `|n(\d+)|((0-$1)/2)|`, want: "-3"},
	{name: "capture kept as string", node: "n007", value: `|n(\d+)|($1)|`, want: "007"},
	{name: "braced capture", node: "n7", value: `|n(\d+)|(${1}+1)|`, want: "8"},
	{name: "missing capture is 0", node: "n7", value: `|n(\d+)|($2+1)|`, want: "1"},
	{name: "octal literal", node: "n7", value: `|n(\d+)|($1+010)|`, want: "15"},
	{name: "hex literal", node: "n7", value: `|n(\d+)|($1+0x10)|`, want: "23"},
	{name: "underscores", node: "n7", value: `|n(\d+)|($1+1_000)|`, want: "1007"},
	{name: "comma operator", node: "n7", value: `|n(\d+)|(1,$1)|`, want: "7"},
	{name: "empty parens", node: "n7", value: `|n(\d+)|a()b|`, want: "ab"},
	{name: "bareword is a string", node: "n7", value: `|n(\d+)|(abc)|`, want: "abc"},
	{name: "float literal truncated by integer ops", node: "n7", value: `|n(\d+)|($1*1.5)|`, want: "7"},
	{name: "sprintf", node: "n5", value: `|\D+(\d+)|node(sprintf("%03d",$1))|`, want: "node005"},
	{name: "sprintf hex", node: "n255", value: `|\D+(\d+)|(sprintf('%02x',$1))|`, want: "ff"},
	{name: "sprintf string", node: "n5", value: `|\D+(\d+)|(sprintf("%-3s|", $1))|`, want: "5  |"},
	{name: "a2idx", node: "rackc", value: `|rack(\w)|(a2idx($1))|`, want: "3"},
	{name: "a2idx upper case", node: "rackC", value: `|rack(\w)|(a2idx($1))|`, want: "3"},
	{name: "a2zidx", node: "rackc", value: `|rack(\w)|(a2zidx($1))|`, want: "2"},
	{name: "dim2idx", node: "r2k3c4n5", value: `|r(\d+)k(\d+)c(\d+)n(\d+)|(dim2idx($1, 10, $2, 8, $3, 8, $4))|`, want: "797"},
	{name: "skip one", node: "n10", value: `|n(\d+)|(skip($1,'3'))|`, want: "9"},
	{name: "skip range", node: "n10", value: `|n(\d+)|(skip($1,'3:2'))|`, want: "8"},
	{name: "skip ranges", node: "n10", value: `|n(\d+)|(skip($1,'3:2,6'))|`, want: "7"},
	{name: "skip inside range", node: "n4", value: `|n(\d+)|(skip($1,'3:2'))|`, want: "-1"},
	{name: "skip below keeps string", node: "n02", value: `|n(\d+)|(skip($1,'3:2'))|`, want: "02"},
	{name: "ipadd", node: "n0", value: `|n(\d+)|(ipadd(10, 10, 10, 10, $1, 0, 0))|`, want: "10.10.10.10"},
	{name: "ipadd 10", node: "n10", value: `|n(\d+)|(ipadd(10, 10, 10, 10, $1, 0, 0))|`, want: "10.10.10.20"},
	{name: "ipadd 245", node: "n245", value: `|n(\d+)|(ipadd(10, 10, 10, 10, $1, 0, 0))|`, want: "10.10.10.255"},
	{name: "ipadd crosses octet", node: "n246", value: `|n(\d+)|(ipadd(10, 10, 10, 10, $1, 0, 0))|`, want: "10.10.11.0"},
	{name: "ipadd skips", node: "n250", value: `|n(\d+)|(ipadd(10, 10, 10, 10, $1, 1, 1))|`, want: "10.10.11.6"},
	{name: "mknum", node: "ab", value: `|(.*)|(mknum($1))|`, want: "195"},

	// Perl scalar semantics, checked against perl 5.36 running Table.pm's
	// transRegexAttrs
	{name: "string negation", node: "n7", value: `|n(\d+)|(-abc)|`, want: "-abc"},
	{name: "string negation of a minus", node: "n7", value: `|n(\d+)|(-'-x')|`, want: "+x"},
	{name: "lists flatten into arguments", node: "n7", value: `|n(\d+)|(sprintf('%s-%s',(1,2),$1))|`, want: "1-2"},
	{name: "empty list last in scalar context", node: "n7", value: `|n(\d+)|(1,())|`, want: ""},
	{name: "unsigned literal", node: "n7", value: `|n(\d+)|(18446744073709551615)|`, want: "18446744073709551615"},
	{name: "integer wraps", node: "n7", value: `|n(\d+)|(18446744073709551615+1)|`, want: "0"},
	{name: "exact integer power", node: "n7", value: `|n(\d+)|(15**16)|`, want: "6568408355712890625"},
	{name: "power of two is floating point", node: "n7", value: `|n(\d+)|(2**50)|`, want: "1.12589990684262e+15"},
	{name: "power beyond 64 bits is floating point", node: "n7", value: `|n(\d+)|(3**33)|`, want: "5.55906056655552e+15"},
	{name: "power overflow check wraps like Perl", node: "n7", value: `|n(\d+)|(250**9223372036854775808)|`, want: "0"},
	{name: "huge number to integer", node: "n7", value: `|n(\d+)|(99999999999999999999+0)|`, want: "-1"},
	{name: "sprintf of infinity", node: "n7", value: `|n(\d+)|(sprintf('%d',9**9**9))|`, want: "Inf"},
	{name: "sprintf alternate zero", node: "n7", value: `|n(\d+)|(sprintf('%#x',0))|`, want: "0"},
	{name: "sprintf %g precision", node: "n7", value: `|n(\d+)|(sprintf('%g',1234567))|`, want: "1.23457e+06"},
	{name: "sprintf star width", node: "n7", value: `|n(\d+)|(sprintf('%*d',5,$1))|`, want: "    7"},
	{name: "sprintf negative star width", node: "n7", value: `|n(\d+)|(sprintf('%-*d.',-4,$1))|`, want: "7   ."},
	{name: "sprintf unknown directive", node: "n7", value: `|n(\d+)|(sprintf('%z',$1))|`, want: "%z"},
	{name: "sprintf percent width", node: "n7", value: `|n(\d+)|(sprintf('%5%'))|`, want: "    %"},
	{name: "double-quoted interpolation", node: "n7", value: `|n(\d+)|("x$1y${1}z\$1")|`, want: "x7y7z$1"},
	{name: "repetition", node: "n7", value: `|n(\d+)|($1 x 3)|`, want: "777"},
	{name: "int of empty list", node: "n7", value: `|n(\d+)|(int(()))|`, want: "0"},
	{name: "skip with NaN start", node: "n7", value: `|n(\d+)|(skip($1,'nan'))|`, want: "7"},
	{name: "dim2idx in floating point", node: "n7", value: `|n(\d+)|(dim2idx(2.5,2))|`, want: "4"},
	{name: "dim2idx beyond IV", node: "n7", value: `|n(\d+)|(dim2idx(9223372036854775807,2))|`, want: "18446744073709551613"},
	{name: "abs of IV_MIN", node: "n7", value: `|n(\d+)|(abs(-9223372036854775807-1))|`, want: "9223372036854775808"},
	{name: "int truncates", node: "n7", value: `|n(\d+)|(int(-2.5))|`, want: "-2"},
	{name: "int of a huge string", node: "n7", value: `|n(\d+)|(int('1e20'))|`, want: "1e+20"},
	{name: "negative division truncates", node: "n7", value: `|n(\d+)|($1/-2)|`, want: "-3"},
	{name: "negative modulus", node: "n7", value: `|n(\d+)|(-$1%3)|`, want: "-1"},
	{name: "numeric prefix", node: "n7", value: `|n(\d+)|(' 12abc'+1)|`, want: "13"},
	{name: "trailing garbage numifies through a float", node: "n7", value: `|n(\d+)|("9223372036854775807--1"*12)|`, want: "0"},

	// failures: xCAT's result (the failing part is empty) plus an error
	{name: "division by zero", node: "n5", value: `|n(\d+)|x($1/0)y|`, want: "xy", wantErr: true},
	{name: "modulus zero", node: "n5", value: `|n(\d+)|x($1%0)y|`, want: "xy", wantErr: true},
	{name: "partial match calls a sub", node: "node5", value: `|(\d+)|($1+1)|`, want: "node", wantErr: true},
	{name: "unknown function", node: "n5", value: `|n(\d+)|(system("ls"))|`, want: "", wantErr: true},
	{name: "illegal octal", node: "n5", value: `|n(\d+)|($1+08)|`, want: "", wantErr: true},
	{name: "power", node: "n5", value: `|n(\d+)|($1**2)|`, want: "25"},
	{name: "power binds tighter than unary minus", node: "n5", value: `|n(\d+)|(-2**2+$1)|`, want: "1"},
	{name: "power is right associative", node: "n2", value: `|n(\d+)|($1**3**2)|`, want: "512"},
	{name: "negative power", node: "n2", value: `|n(\d+)|($1**-1)|`, want: "0.5"},
	{name: "ipadd span zero", node: "n5", value: `|n(\d+)|(ipadd(1,2,3,4,$1,128,128))|`, want: "", wantErr: true},
	{name: "int of a list", node: "n7", value: `|n(\d+)|(int((1,2)))|`, want: "", wantErr: true},
	{name: "file test operator", node: "n7", value: `|n(\d+)|(-e 1)|`, want: "", wantErr: true},
	{name: "increment of a constant", node: "n7", value: `|n(\d+)|(--$1)|`, want: "", wantErr: true},
	// patterns RE2 cannot use: the raw value stays
	{name: "backreference", node: "aa", value: `|(a)\1|x|`, want: `|(a)\1|x|`, wantErr: true},
	{name: "lookahead", node: "aa", value: `/a(?=a)/x/`, want: `/a(?=a)/x/`, wantErr: true},
	{name: "bad pattern", node: "aa", value: `|(a|x|`, want: `|(a|x|`, wantErr: true},
}

func TestEvalRegex(t *testing.T) {
	for _, tc := range regexCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EvalRegex(tc.node, tc.value)
			if (err != nil) != tc.wantErr {
				t.Fatalf("EvalRegex(%q, %q) error = %v, want error %v", tc.node, tc.value, err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrRegex) {
				t.Errorf("error %v does not wrap ErrRegex", err)
			}
			if got != tc.want {
				t.Errorf("EvalRegex(%q, %q) = %q, want %q", tc.node, tc.value, got, tc.want)
			}
		})
	}
}

func TestEvalRegexCachedAgrees(t *testing.T) {
	c := &regexCache{}
	for _, tc := range regexCases {
		got, err := evalRegex(tc.node, tc.value, c)
		want, wantErr := EvalRegex(tc.node, tc.value)
		if got != want || (err != nil) != (wantErr != nil) {
			t.Errorf("%s: cached %q, %v; uncached %q, %v", tc.name, got, err, want, wantErr)
		}
	}
}

func TestEvalRegexLimits(t *testing.T) {
	long := "|n(\\d+)|" + strings.Repeat("($1)", 300) + "|"
	if got, err := EvalRegex("n1", long); err == nil || got != long {
		t.Errorf("300 parenthesised parts: got %q, %v; want raw value and an error", got, err)
	}
	huge := "|" + strings.Repeat("a", maxRegexValueLen) + "|"
	if got, err := EvalRegex("n1", huge); err == nil || got != huge {
		t.Errorf("huge value: got error %v, want raw value and an error", err)
	}
	wide := `|n(\d+)|(sprintf("%99999d",$1))|`
	if _, err := EvalRegex("n1", wide); err == nil {
		t.Errorf("huge sprintf width: no error")
	}
	deep := "|n(\\d+)|" + strings.Repeat("(", 200) + "$1" + strings.Repeat(")", 200) + "|"
	if _, err := EvalRegex("n1", deep); err == nil {
		t.Errorf("deep nesting: no error")
	}
	// a capture that reintroduces its own expression cannot loop forever
	if _, err := EvalRegex("($1)", `|(.*)|($1)|`); err == nil {
		t.Errorf("self-reproducing expression: no error")
	}
}

func TestExtractBracketed(t *testing.T) {
	type result struct {
		Curr, Next, Prev string
		OK               bool
	}
	for _, tc := range []struct {
		in   string
		want result
	}{
		{"10.0.0.($1+0)", result{"($1+0)", "", "10.0.0.", true}},
		{"c($1)f($2)", result{"($1)", "f($2)", "c", true}},
		{"rack(($1-1)/14+1)x", result{"(($1-1)/14+1)", "x", "rack", true}},
		{`a(\))b)`, result{`(\))`, "b)", "a", true}},
		{"plain", result{}},
		{"a)b(c)", result{}},
		{"a(b", result{}},
	} {
		var got result
		got.Curr, got.Next, got.Prev, got.OK = extractBracketed(tc.in)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("extractBracketed(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestPerlToRE2(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`\z`, `\z`},
		{`\Z`, `\z`},
		{`a\hb`, `a[\t ]b`},
		{`[\h\d]`, `[\t \d]`},
		{`\Q\Z\E\Z`, `\Q\Z\E\z`},
		{`[[:alpha:]\h]`, `[[:alpha:]\t ]`},
		{`[]\h]`, `[]\t ]`},
		{`\e`, `\x1b`},
	} {
		if got := perlToRE2(tc.in); got != tc.want {
			t.Errorf("perlToRE2(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNumify(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"01", 1}, {" 12abc", 12}, {"abc", 0}, {"-5", -5}, {"+5", 5}, {"1.9", 1},
		{"1e3", 1000}, {"0x10", 0}, {"", 0}, {"5.", 5}, {".5", 0}, {"NaN", 0},
		// beyond the signed range Perl goes through the unsigned one (cast_iv)
		{"9223372036854775808", -1 << 63}, {"18446744073709551615", -1},
		{"99999999999999999999", -1}, {"-99999999999999999999", -1 << 63}, {"Inf", -1},
	} {
		if got := numify(tc.in); got != tc.want {
			t.Errorf("numify(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func FuzzEvalRegex(f *testing.F) {
	for _, tc := range regexCases {
		f.Add(tc.node, tc.value)
	}
	f.Add("n1", `|n(\d+)|(sprintf("%*d",$1))|`)
	f.Add("n1", `|n(\d+)|(-9223372036854775807-1)/-1|`)
	f.Add("n1", `|n(\d+)|((-9223372036854775807-1)/-1)|`)
	f.Add("n1", `|n(\d+)|((-9223372036854775807-1)%-1)|`)
	f.Fuzz(func(t *testing.T, node, value string) {
		got, err := EvalRegex(node, value)
		if err != nil && !errors.Is(err, ErrRegex) {
			t.Errorf("error %v does not wrap ErrRegex", err)
		}
		if !isRegexValue(value) && (got != value || err != nil) {
			t.Errorf("EvalRegex(%q, %q) changed a plain value: %q, %v", node, value, got, err)
		}
		if len(got) > len(node)+maxRegexResult+len(value) {
			t.Errorf("result of %d bytes", len(got))
		}
	})
}
