package xcatcmd

import (
	"fmt"
	"strings"
	"testing"

	"drover.dev/drover/internal/inventory"
)

// defBenchStanza is a stanza file of n nodes in n/100 groups.
func defBenchStanza(n int) string {
	var b strings.Builder
	b.WriteString("# <xCAT data object stanza file>\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\ncn%06d:\n    objtype=node\n    groups=all,grp%04d\n    mac=02:00:00:%02x:%02x:%02x\n    mgt=ipmi\n    bmc=10.1.%d.%d\n",
			i, i%(n/100+1), i>>16&255, i>>8&255, i&255, i>>8&255, i&255)
	}
	return b.String()
}

// BenchmarkDefImport measures mkdef -z of a 100,000-node stanza file into
// an empty inventory (the store is in memory here).
func BenchmarkDefImport(b *testing.B) {
	data := defBenchStanza(100_000)
	for b.Loop() {
		m := inventory.NewMemory()
		resp := defRun(m, defStdin(data, "mkdef", "-z"))
		if resp.ExitCode != 0 {
			b.Fatal(resp.Stderr)
		}
	}
}

// BenchmarkDefExport measures lsdef -z of 100,000 nodes in 1,000 groups
// whose values the nodes inherit.
func BenchmarkDefExport(b *testing.B) {
	m := inventory.NewMemory()
	if resp := defRun(m, defStdin(defBenchStanza(100_000), "mkdef", "-z")); resp.ExitCode != 0 {
		b.Fatal(resp.Stderr)
	}
	var groups []inventory.Change
	for g := 0; g <= 1000; g++ {
		groups = append(groups, inventory.Change{Op: inventory.Put, Object: defObject(inventory.Group, fmt.Sprintf("grp%04d", g),
			"os", "rhels9", "arch", "x86_64", "ip", `|\D+(\d+)|10.0.($1/256).($1%256)|`)})
	}
	if err := m.Apply(b.Context(), groups); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		resp := defRun(m, defCmd("lsdef", "-z"))
		if resp.ExitCode != 0 || !strings.Contains(resp.Stdout, "cn100000:\n") {
			b.Fatal(resp.Stderr)
		}
	}
}
