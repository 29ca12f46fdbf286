package noderange_test

// TEMPORARY differential test against a Perl transcription of NodeRange.pm in /tmp/nroracle.
// Not part of the package; deleted before hand-off.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
		"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/noderange"
)

type oracleFixture struct {
	Nodes     [][2]string `json:"nodes"`
	Nodegroup []struct {
		Groupname, Grouptype string
		Members              []string
	} `json:"nodegroup"`
	Attrs   map[string]map[string]string `json:"attrs"`
	Tabspec map[string][]string          `json:"tabspec"`
}

type oracleSource struct{ fx oracleFixture }

func (s oracleSource) IsNode(n string) bool {
	for _, x := range s.fx.Nodes {
		if x[0] == n {
			return true
		}
	}
	return false
}
func (s oracleSource) GroupMembers(g string) ([]string, bool) {
	for _, r := range s.fx.Nodegroup {
		if r.Groupname == g && r.Grouptype == "dynamic" {
			return r.Members, true
		}
	}
	var m []string
	for _, x := range s.fx.Nodes {
		if slices.Contains(strings.Split(x[1], ","), g) {
			m = append(m, x[0])
		}
	}
	if len(m) > 0 {
		return m, true
	}
	for _, r := range s.fx.Nodegroup {
		if r.Groupname == g {
			return nil, true
		}
	}
	return nil, false
}
func (s oracleSource) Nodes() []string {
	var out []string
	for _, x := range s.fx.Nodes {
		out = append(out, x[0])
	}
	return out
}
func (s oracleSource) Attr(node, attr string) (string, bool) {
	t, c, _ := strings.Cut(attr, ".")
	if !slices.Contains(s.fx.Tabspec[t], c) {
		return "", false
	}
	if attr == "nodelist.groups" {
		for _, x := range s.fx.Nodes {
			if x[0] == node {
				return x[1], true
			}
		}
	}
	return s.fx.Attrs[attr][node], true
}

var tokens = []string{"node", "node", "node", "1", "01", "10", "5", "3", "2", "0", "00", "9", "09", "99", "-", "-", "-", ",", ",", "@", "[", "]", "(", ")", ":",
	"+", "/", ".*", "^/tmp/nroracle/files/f1", "^/tmp/nroracle/files/f2", "^/tmp/nroracle/files/f3", "=", "==", "!=", "=~", "!~", "mgt", "groups", "nodehm.cons", "nodelist.status",
	"tz", "f", "n", "all", "'", "group", "group1", "group2", "dyn1", "emptyg", "dynempty", "rack", "pad", ".", "a", "b", "x", "y", "z", "ipmi", "hmc", "[1-2]", "[01-03]", "[1,3]", "node1-node3", "+2", "n1.cluster.com", "\\", "|", "*", "?", "e", "tz00"}

var longDigits = regexp.MustCompile(`[0-9]{4}`)

func genRange(r *rand.Rand) string {
	n := 1 + r.IntN(9)
	var b strings.Builder
	for range n {
		b.WriteString(tokens[r.IntN(len(tokens))])
	}
	return b.String()
}

func TestOracleTmp(t *testing.T) {
	if os.Getenv("NR_ORACLE") == "" {
		t.Skip("NR_ORACLE not set")
	}
	data, err := os.ReadFile("/tmp/nroracle/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx oracleFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	src := oracleSource{fx}
	r := rand.New(rand.NewPCG(1, uint64(len(os.Getenv("NR_ORACLE")))))
	var inputs []string
	if f := os.Getenv("NR_INPUTS"); f != "" {
		d, _ := os.ReadFile(f)
		inputs = strings.Split(strings.TrimRight(string(d), "\n"), "\n")
	} else {
		for range 20000 {
			mode := "V"
			if r.IntN(3) == 0 {
				mode = "N"
			}
			g := genRange(r)
			if longDigits.MatchString(g) {
				continue
			}
			inputs = append(inputs, mode+"\t"+g)
		}
	}
	if os.Getenv("NR_DUMP") != "" {
		os.WriteFile("/tmp/nroracle/inputs.txt", []byte(strings.Join(inputs, "\n")+"\n"), 0o644)
		return
	}
	out, err := os.ReadFile("/tmp/nroracle/perl_out.txt")
	if err != nil {
		t.Fatal(err)
	}
	_ = time.Now
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<26)
	diffs := 0
	for i := 0; sc.Scan(); i++ {
		want := sc.Text()
		in := inputs[i]
		opt := noderange.Options{Verify: in[0] == 'V', ReadFile: os.ReadFile, Limit: 200000}
		res, err := noderange.Expand(src, in[2:], opt)
		var got string
		if err != nil {
			got = "ERR\t" + err.Error()
		} else {
			got = "OK\t" + strings.Join(res.Nodes, "\x1f") + "\t" + strings.Join(res.Missing, "\x1f")
		}
		if want == "ERR\tTIMEOUT" {
			if err == nil || !strings.Contains(err.Error(), "too large") && !strings.Contains(err.Error(), "hung") {
				fmt.Printf("TIMEOUT-CASE %q go: %q\n", in, got[:min(len(got), 200)])
			}
			continue
		}
		if got != want && os.Getenv("NR_NOPLUS") != "" && strings.Contains(in, "+") {
			continue
		}
		if got != want {
			diffs++
			if diffs <= 40 {
				fmt.Printf("DIFF %q\n  perl: %q\n  go:   %q\n", in, want, got)
			}
		}
	}
	t.Logf("%d inputs, %d diffs", len(inputs), diffs)
}
