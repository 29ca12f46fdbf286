package stanza

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// FuzzParse checks Parse never panics and that, for any input it accepts,
// writing the objects with a valid type and parsing the result gives the same
// objects.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "xcat", "*.stanza"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(string(data))
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		ss, err := Parse(strings.NewReader(in))
		if err != nil {
			if ss != nil {
				t.Fatalf("Parse returned stanzas with error %v", err)
			}
			return
		}
		var objs []inventory.Object
		for i := range ss {
			if ss[i].Name == "" {
				t.Fatalf("stanza with an empty name: %+v", ss[i])
			}
			o, err := ss[i].Object()
			if err != nil {
				continue // no or unknown objtype, or a key attribute: the caller's error
			}
			objs = append(objs, o)
		}
		var b bytes.Buffer
		if err := Write(&b, objs, WriteOptions{}); err != nil {
			t.Fatalf("Write of parsed objects: %v", err)
		}
		ss2, err := Parse(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("Parse of written objects: %v\n%s", err, b.String())
		}
		objs2 := make([]inventory.Object, 0, len(ss2))
		for i := range ss2 {
			o, err := ss2[i].Object()
			if err != nil {
				t.Fatalf("written stanza %q: %v", ss2[i].Name, err)
			}
			objs2 = append(objs2, o)
		}
		if objs == nil {
			objs = []inventory.Object{}
		}
		if diff := cmp.Diff(objs, objs2); diff != "" {
			t.Fatalf("round trip mismatch (-parsed +reparsed):\n%s\nwritten:\n%s", diff, b.String())
		}
	})
}
