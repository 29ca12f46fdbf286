package xcatcmd

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// transcript renders a command line, its input and its result for a golden file.
func transcript(args []string, stdin string, resp Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", strings.Join(args, " "))
	if stdin != "" {
		fmt.Fprintf(&b, "--- stdin\n%s", stdin)
		if !strings.HasSuffix(stdin, "\n") {
			b.WriteString("\n")
		}
	}
	if resp.Stdout != "" {
		fmt.Fprintf(&b, "--- stdout\n%s", resp.Stdout)
	}
	if resp.Stderr != "" {
		fmt.Fprintf(&b, "--- stderr\n%s", resp.Stderr)
	}
	fmt.Fprintf(&b, "--- rc %d\n\n", resp.ExitCode)
	return b.String()
}

// checkGolden compares got with testdata/dir/name.golden (-update rewrites it).
func checkGolden(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", dir, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
