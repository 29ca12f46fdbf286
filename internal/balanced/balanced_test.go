package balanced

import "testing"

func TestParens(t *testing.T) {
	for _, tc := range []struct {
		in          string
		open, close int
		ok          bool
	}{
		{"a,(b,c),d", 2, 6, true},
		{"((a)(b))x", 0, 7, true},
		{`(a\)b)`, 0, 5, true},
		{"a)b(c)", 0, 0, false},
		{"(abc", 0, 0, false},
		{"none", 0, 0, false},
		{`(\`, 0, 0, false},
	} {
		o, c, ok := Parens(tc.in)
		if o != tc.open || c != tc.close || ok != tc.ok {
			t.Errorf("Parens(%q) = %d, %d, %v; want %d, %d, %v", tc.in, o, c, ok, tc.open, tc.close, tc.ok)
		}
	}
}

func FuzzParens(f *testing.F) {
	for _, s := range []string{"a,(b,c),d", `(a\)b)`, "((", ")("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, c, ok := Parens(s)
		if ok && (s[o] != '(' || s[c] != ')' || c <= o) {
			t.Fatalf("Parens(%q) = %d, %d", s, o, c)
		}
	})
}
