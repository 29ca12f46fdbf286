package chartcheck

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden keeps the rendered manifests of a few combinations in
// testdata/NAME.yaml, so a review sees what a chart change renders
// (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	ch := loadChart(t)
	for _, c := range combinations() {
		switch c.name {
		case "defaults", "multus-render-nad-macvlan", "postgres-emptydir-secret-key":
		default:
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			files, err := renderErr(ch, c.values)
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			var b strings.Builder
			for _, n := range names {
				body := strings.TrimSpace(files[n])
				if body == "" || strings.HasSuffix(n, "NOTES.txt") || isEmptyDoc(body) {
					continue
				}
				b.WriteString("---\n# Source: " + n + "\n" + body + "\n")
			}
			golden := filepath.Join("testdata", c.name+".yaml")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s differs (-want +got; -update rewrites it):\n%s", golden, diff)
			}
		})
	}
}
