package nodediscover

import (
	"strings"
	"testing"
)

// FuzzParseRules: any text parses or fails with a line number; what
// parses prints back to rules that parse the same.
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		"", "# none\n", "big: memory>=1GiB -> name=fat{n:02} groups=fat\n",
		"gpu=10de -> name=gpu{n:03} groups=gpu\n\nbad rule\n",
		"a: cputype~\"Xeon Gold\" mac~^52:54 -> name=x{n}\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		rules, err := ParseRules(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		var b strings.Builder
		for _, r := range rules {
			b.WriteString(r.String() + "\n")
		}
		again, err := ParseRules(b.String())
		if err != nil || len(again) != len(rules) {
			t.Fatalf("printed rules %q do not parse back: %v", b.String(), err)
		}
	})
}
