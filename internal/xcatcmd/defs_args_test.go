package xcatcmd

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

func TestGetopt(t *testing.T) {
	tests := []struct {
		args    []string
		want    defOpts
		wantErr bool
	}{
		{args: []string{"-l", "-z"}, want: defOpts{l: true, z: true}},
		{args: []string{"-lz"}, want: defOpts{l: true, z: true}},
		{args: []string{"-tnode"}, want: defOpts{t: "node", tSet: true}},
		{args: []string{"-t", "node,group", "n1"}, want: defOpts{t: "node,group", tSet: true, operands: []string{"n1"}}},
		{args: []string{"-lt", "osimage"}, want: defOpts{l: true, t: "osimage", tSet: true}},
		{args: []string{"n1", "-l", "groups=all"}, want: defOpts{l: true, operands: []string{"n1", "groups=all"}}},
		{args: []string{"-w", "a==b", "-w", "c=~d"}, want: defOpts{w: []string{"a==b", "c=~d"}}},
		{args: []string{"--nics", "--stanza", "--long"}, want: defOpts{nics: true, z: true, l: true}},
		{args: []string{"--sta"}, want: defOpts{z: true}},
		{args: []string{"--s"}, wantErr: true},
		{args: []string{"--help"}, want: defOpts{h: true}},
		{args: []string{"-?"}, want: defOpts{h: true}},
		{args: []string{"-i", ""}, want: defOpts{iSet: true}},
		{args: []string{"-o"}, wantErr: true},
		{args: []string{"-q"}, wantErr: true},
		{args: []string{"--long=x"}, wantErr: true},
		{args: []string{"--", "-l"}, want: defOpts{operands: []string{"-l"}}},
		{args: []string{"-"}, want: defOpts{operands: []string{"-"}}},
		{args: []string{"-nics"}, want: defOpts{n: "ics", nSet: true}},
		{args: []string{"-S", "-f", "-p", "-m", "-d", "-c", "-a", "-V", "-v", "-x", "-s", "-h"},
			want: defOpts{S: true, f: true, p: true, m: true, d: true, c: true, a: true, V: true, v: true, x: true, s: true, h: true}},
	}
	for _, tt := range tests {
		var got defOpts
		err := getopt(defFlags(), tt.args, &got)
		if (err != nil) != tt.wantErr {
			t.Errorf("getopt(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(defOpts{})); diff != "" {
			t.Errorf("getopt(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func FuzzGetopt(f *testing.F) {
	for _, s := range []string{"-l -z", "-lz", "-tnode n1", "--nics", "--sta", "-w a==b", "--", "-o", "-i x,y n[1-3] a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var o defOpts
		args := splitFields(s)
		if err := getopt(defFlags(), args, &o); err != nil {
			return
		}
		if len(o.operands) > len(args) {
			t.Fatalf("more operands than arguments: %q -> %q", args, o.operands)
		}
	})
}

// splitFields splits on single spaces, keeping empty fields.
func splitFields(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestParseWhereExpr(t *testing.T) {
	tests := []struct {
		in            string
		attr, op, val string
		ok            bool
	}{
		{"os==rhels8", "os", "==", "rhels8", true},
		{"os=rhels8", "os", "==", "rhels8", true},
		{"os!=rhels8", "os", "!=", "rhels8", true},
		{"os=~/^rh/", "os", "=~", "^rh", true},
		{"os!~rh", "os", "!~", "rh", true},
		{"os==a==b", "os", "==", "a==b", true},
		{"os=", "", "", "", false},
		{"os", "", "", "", false},
		{"os=~(", "", "", "", false},
		{"a=b=c", "", "", "", false},
	}
	for _, tt := range tests {
		w, ok := parseWhereExpr(tt.in)
		if ok != tt.ok {
			t.Errorf("parseWhereExpr(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && (w.attr != tt.attr || w.op != tt.op || w.val != tt.val) {
			t.Errorf("parseWhereExpr(%q) = %s %s %s, want %s %s %s", tt.in, w.attr, w.op, w.val, tt.attr, tt.op, tt.val)
		}
	}
}

func FuzzParseWhereExpr(f *testing.F) {
	for _, s := range []string{"os==rhels8", "os=rhels8", "os!=x", "os=~/^rh/", "os!~rh", "=", "a=b=c"} {
		f.Add(s, "rhels8")
	}
	f.Fuzz(func(t *testing.T, expr, value string) {
		w, ok := parseWhereExpr(expr)
		if !ok {
			return
		}
		w.match(map[string]string{w.attr: value})
		w.matchValue(value)
	})
}

// FuzzDefCommands runs the object commands with arbitrary arguments and
// standard input against a small inventory: they must not panic, must set
// the exit code of an error, and must leave the inventory readable.
func FuzzDefCommands(f *testing.F) {
	seeds := []struct{ cmd, args, stdin string }{
		{"lsdef", "-l node1", ""},
		{"lsdef", "-z -t node,group", ""},
		{"lsdef", "-w os=~rh -i os,groups", ""},
		{"mkdef", "-z", "a:\n    objtype=node\n    groups=all\n"},
		{"mkdef", "-t group -o g members=node[1-2]", ""},
		{"chdef", "-p node1 groups=x", ""},
		{"chdef", "-t group rack1 -n r2", ""},
		{"chdef", "-z", "node1:\n    objtype=node\n    nicips.eth0=1.1.1.1\n"},
		{"rmdef", "-t group compute", ""},
		{"nodels", "all groups nodehm.mgt==ipmi -b", ""},
	}
	for _, s := range seeds {
		f.Add(s.cmd, s.args, s.stdin)
	}
	f.Fuzz(func(t *testing.T, cmd, args, stdin string) {
		switch cmd {
		case "lsdef", "mkdef", "chdef", "rmdef", "nodels":
		default:
			return
		}
		if longDigitRun(args) {
			return // huge noderanges (node1-node99999999) are slow, not wrong
		}
		m := inventory.NewMemory(defInventory()...)
		r := &Runner{Backend: m, Schema: inventory.DefaultSchema()}
		resp := r.Run(context.Background(), Request{Command: cmd, Args: splitFields(args), Stdin: stdin})
		if resp.ExitCode != 0 && resp.ExitCode != 1 {
			t.Fatalf("exit code %d", resp.ExitCode)
		}
		if resp.ExitCode == 0 && containsLine(resp.Stderr, "Error: ") {
			t.Fatalf("error printed with exit code 0:\n%s", resp.Stderr)
		}
		for _, ty := range inventory.Types() {
			for _, o := range m.List(ty) {
				for k, v := range o.Attrs {
					if v == "" {
						t.Fatalf("%s %s: empty value stored for %s", ty, o.Name, k)
					}
				}
			}
		}
	})
}

// longDigitRun reports whether s has five or more digits in a row.
func longDigitRun(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if n++; n >= 5 {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

func containsLine(s, prefix string) bool {
	for len(s) > 0 {
		line := s
		if i := indexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if len(line) >= len(prefix) && line[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
