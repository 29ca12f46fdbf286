package manifest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// FuzzDecode checks Decode never panics and that accepted input round-trips
// through Encode and Decode.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add(tc.in)
	}
	f.Add("apiVersion: drover.dev/v1\nkind: Site\nmetadata: {name: clustersite}\nspec: {\"123\": \"~\", x: \" lead\", y: \"a\\nb\"}\n")
	schema := inventory.DefaultSchema()
	f.Fuzz(func(t *testing.T, in string) {
		objs, err := Decode(strings.NewReader(in), "fuzz", schema)
		if err != nil {
			if objs != nil {
				t.Fatalf("Decode returned objects with error %v", err)
			}
			return
		}
		var b bytes.Buffer
		if err := Encode(&b, objs); err != nil {
			t.Fatalf("Encode of decoded objects: %v", err)
		}
		got, err := Decode(bytes.NewReader(b.Bytes()), "encoded", schema)
		if err != nil {
			t.Fatalf("Decode of encoded objects: %v\n%s", err, b.String())
		}
		if diff := cmp.Diff(objs, got); diff != "" {
			t.Fatalf("round trip mismatch (-decoded +redecoded):\n%s\nencoded:\n%s", diff, b.String())
		}
	})
}
