package noderange_test

import (
	"slices"
	"testing"

	"drover.dev/drover/internal/noderange"
)

// FuzzExpand checks that no noderange panics or runs away, and that results are sorted,
// unique and free of empty names. Seeded from the table tests.
func FuzzExpand(f *testing.F) {
	for _, cases := range [][]testCase{manCases(), xcatTestCases(), derivedCases(), quirkCases(), missingCases()} {
		for _, tc := range cases {
			f.Add(tc.in)
		}
	}
	for _, in := range []string{"(node1,node2", "n[0-99999999999]", "a@b)", "[1-2][1-2]1[1-2]", "/node[", "mgt=~[",
		"n1-n99999999999999999999", "node1+1e3", "node010+-3", "node1+inf", "^/f,^/loop", "a\\(b)", "((((a))))"} {
		f.Add(in)
	}
	src := quirkSource()
	readFile := files(map[string]string{
		"/f":    "node5\nnode6,rack1\n#c\n-node5\n",
		"/loop": "node1,^/loop\n",
	})
	f.Fuzz(func(t *testing.T, in string) {
		for _, verify := range []bool{true, false} {
			opt := noderange.Options{Verify: verify, ReadFile: readFile, Limit: 20000, Exclude: "node12"}
			res, err := noderange.Expand(src, in, opt)
			if err != nil {
				if res.Nodes != nil || res.Missing != nil {
					t.Fatalf("Expand(%q) returned a result with error %v", in, err)
				}
				continue
			}
			if !slices.IsSorted(res.Nodes) || len(slices.Compact(slices.Clone(res.Nodes))) != len(res.Nodes) {
				t.Fatalf("Expand(%q) not sorted and unique: %q", in, res.Nodes)
			}
			if slices.Contains(res.Nodes, "") || slices.Contains(res.Nodes, "node12") {
				t.Fatalf("Expand(%q) = %q", in, res.Nodes)
			}
			if !verify && len(res.Missing) != 0 {
				t.Fatalf("Expand(%q) without verify has missing %q", in, res.Missing)
			}
			if len(res.Missing) > opt.Limit+len(in) {
				t.Fatalf("Expand(%q) has %d missing names", in, len(res.Missing))
			}
		}
	})
}
