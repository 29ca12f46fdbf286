package noderange_test

import (
	"fmt"
	"testing"

	"drover.dev/drover/internal/noderange"
)

// bigSource is 100,000 nodes cn000001…cn100000 in 1,000 groups of 100 (grp0001…grp1000).
func bigSource() *fakeSource {
	s := newSource()
	for g := 1; g <= 1000; g++ {
		s.add(fmt.Sprintf("grp%04d", g), seq("cn", (g-1)*100+1, g*100, 6)...)
	}
	return s
}

func BenchmarkExpand100k(b *testing.B) {
	src := bigSource()
	for _, in := range []string{"cn[000001-100000]", "grp0001-grp1000", "/cn0.*", "cn000001-cn100000,-grp[0001-0500]"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				res, err := noderange.Expand(src, in, noderange.Options{Verify: true})
				if err != nil || len(res.Nodes) < 50000 || len(res.Missing) != 0 {
					b.Fatalf("Expand(%q) = %d nodes, %d missing, %v", in, len(res.Nodes), len(res.Missing), err)
				}
			}
		})
	}
}
