package xcatcmd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatTabLine(t *testing.T) {
	tests := []struct {
		name string
		vals []string
		want string
	}{
		{"site row", []string{"xcatiport", "3002", "", ""}, `"xcatiport","3002",,`},
		{"all set", []string{"a", "b"}, `"a","b"`},
		{"quotes doubled", []string{`say "hi"`, ""}, `"say ""hi""",`},
		{"comma kept inside quotes", []string{"a,b", "c"}, `"a,b","c"`},
		{"empty first", []string{"", "x", ""}, `,"x",`},
		{"all empty", []string{"", "", ""}, `,,`},
		{"newline kept", []string{"a\nb"}, "\"a\nb\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatTabLine(tt.vals); got != tt.want {
				t.Errorf("formatTabLine(%q) = %q, want %q", tt.vals, got, tt.want)
			}
		})
	}
}

func TestParseTabCSV(t *testing.T) {
	type rec struct {
		Line int
		Vals []string
	}
	tests := []struct {
		name     string
		data     string
		wantCols []string
		wantRecs []rec
		wantErrs []string
		wantErr  error
	}{
		{name: "no header", data: "\"a\",\"b\"\n", wantErr: errNoHeader},
		{name: "empty", data: "", wantErr: errNoHeader},
		{name: "header only", data: "#node,groups\n", wantCols: []string{"node", "groups"}},
		{name: "quoted header and trailing blanks", data: "#\"key\",\"value\"  \r\n", wantCols: []string{"key", "value"}},
		{name: "trailing empty header fields dropped", data: "#a,b,,\n", wantCols: []string{"a", "b"}},
		{
			name: "tabdump output", data: "#key,value,comments,disable\n\"xcatiport\",\"3002\",,\n\"x\",\"a,b\",\"say \"\"hi\"\"\",\n",
			wantCols: []string{"key", "value", "comments", "disable"},
			wantRecs: []rec{{2, []string{"xcatiport", "3002", "", ""}}, {3, []string{"x", "a,b", `say "hi"`, ""}}},
		},
		{
			name: "bare values and short rows", data: "#a,b,c\nx,y\n,,z\n",
			wantCols: []string{"a", "b", "c"},
			wantRecs: []rec{{2, []string{"x", "y", ""}}, {3, []string{"", "", "z"}}},
		},
		{
			name: "value spanning lines", data: "#a,b\n\"one\",\"two  \nlines\"\"\"\n\"next\",\n",
			wantCols: []string{"a", "b"},
			wantRecs: []rec{{2, []string{"one", "two\nlines\""}}, {4, []string{"next", ""}}},
		},
		{
			name: "blank lines skipped", data: "#a\n\n  \n\"x\"\n",
			wantCols: []string{"a"},
			wantRecs: []rec{{4, []string{"x"}}},
		},
		{
			name: "no final newline", data: "#a\n\"x\"",
			wantCols: []string{"a"},
			wantRecs: []rec{{2, []string{"x"}}},
		},
		{
			name: "errors reported per line", data: "#a,b\nx,y\"z\n\"p\"q,1\n\"1\",\"2\",\"3\"\nok,ok\n\"open,\n",
			wantCols: []string{"a", "b"},
			wantRecs: []rec{{5, []string{"ok", "ok"}}},
			wantErrs: []string{
				`CSV missing opening " for record with " characters on line 2, character 2: x,y"z`,
				`CSV unescaped " in record on line 3, character 0: "p"q,1`,
				`Too many fields on line 4: "1","2","3" | "3"`,
				`CSV unmatched " in record on line 6, character 0: "open,`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cols, recs, lineErrs, err := parseTabCSV(tt.data)
			if err != tt.wantErr {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var gotRecs []rec
			for _, r := range recs {
				gotRecs = append(gotRecs, rec{r.line, r.vals})
			}
			var gotErrs []string
			for _, e := range lineErrs {
				gotErrs = append(gotErrs, e.msg)
			}
			if diff := cmp.Diff(tt.wantCols, cols); diff != "" {
				t.Errorf("cols (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRecs, gotRecs); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErrs, gotErrs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzTabrestoreCSV checks that the tabrestore parser never panics, that
// every record has one value per header column, and that what it parses
// survives a tabdump/tabrestore round trip unchanged.
func FuzzTabrestoreCSV(f *testing.F) {
	seeds := []string{
		"",
		"#",
		"#key,value,comments,disable\n\"xcatiport\",\"3002\",,\n",
		"#node,groups\n\"cn1\",\"compute,all\"\ncn2,x\n",
		"#a,b\n\"one\",\"two\nlines\"\"\"\n",
		"#a,b\nx,y\"z\n\"p\"q,1\n\"1\",\"2\",\"3\"\n\"open,\n",
		"#a\n\"\n\n\n",
		"#a,b\n\"\"\"\"\"\",\"\"\n",
		"#\"a\",b\r\n\"x\"\r\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		cols, recs, _, err := parseTabCSV(data)
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString(formatTabHeader(cols) + "\n")
		for _, r := range recs {
			if len(r.vals) != len(cols) {
				t.Fatalf("record on line %d has %d values for %d columns", r.line, len(r.vals), len(cols))
			}
			if r.line < 2 {
				t.Fatalf("record on line %d", r.line)
			}
			b.WriteString(formatTabLine(r.vals) + "\n")
		}
		if len(cols) == 0 || strings.ContainsAny(strings.Join(cols, ""), "\"\n") ||
			trimTrailingSpace(cols[len(cols)-1]) != cols[len(cols)-1] {
			return // such a header does not survive being written again
		}
		cols2, recs2, errs2, err := parseTabCSV(b.String())
		if err != nil || len(errs2) > 0 {
			t.Fatalf("re-parsing the dump of %q: %v %v\ndump:\n%s", data, err, errs2, b.String())
		}
		if diff := cmp.Diff(cols, cols2); diff != "" {
			t.Fatalf("columns changed (-first +second):\n%s", diff)
		}
		var v1, v2 [][]string
		for _, r := range recs {
			if strings.Join(r.vals, "") != "" {
				v1 = append(v1, r.vals)
			}
		}
		for _, r := range recs2 {
			if strings.Join(r.vals, "") != "" {
				v2 = append(v2, r.vals)
			}
		}
		if diff := cmp.Diff(v1, v2); diff != "" {
			t.Fatalf("values changed in the round trip (-first +second):\n%s\ninput %q", diff, data)
		}
	})
}
