package inventory

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestZZDumpOracle(t *testing.T) {
	in, _ := os.Create("/tmp/xre/in.txt")
	out, _ := os.Create("/tmp/xre/go.txt")
	defer in.Close()
	defer out.Close()
	emit := func(node, value string) {
		if strings.ContainsAny(node+value, "\t\n\r") {
			return
		}
		got, err := EvalRegex(node, value)
		if got == "" {
			got = "<undef>"
		}
		if err != nil {
			got += "\t(err)"
		}
		in.WriteString(node + "\t" + value + "\n")
		out.WriteString(got + "\n")
	}
	for _, tc := range regexCases {
		emit(tc.node, tc.value)
	}
	files, _ := filepath.Glob(os.Getenv("HOME") + "/.cache/go-build/fuzz/drover.dev/drover/internal/inventory/FuzzEvalRegex/*")
	for _, f := range files {
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		var vals []string
		for sc.Scan() {
			l := sc.Text()
			if strings.HasPrefix(l, "string(") {
				s := strings.TrimSuffix(strings.TrimPrefix(l, "string("), ")")
				if u, err := unquote(s); err == nil {
					vals = append(vals, u)
				}
			}
		}
		fh.Close()
		if len(vals) == 2 {
			emit(vals[0], vals[1])
		}
	}
}

func unquote(s string) (string, error) { return strconv.Unquote(s) }

func TestZZGen(t *testing.T) {
	fh, err := os.Open("/tmp/xre/gen.txt")
	if err != nil {
		t.Skip("no gen file")
	}
	defer fh.Close()
	out, _ := os.Create("/tmp/xre/gen_go.txt")
	defer out.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		node, value, _ := strings.Cut(sc.Text(), "\t")
		got, err := EvalRegex(node, value)
		if got == "" {
			got = "<undef>"
		}
		if err != nil {
			got += "\t(err)"
		}
		out.WriteString(got + "\n")
	}
}
