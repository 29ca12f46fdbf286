package xcatcmd

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// fakeBMC answers every node, except cn3 which fails.
type fakeBMC struct{ got []BMCOp }

func (f *fakeBMC) Do(_ context.Context, nodes []string, op BMCOp) []BMCResult {
	f.got = append(f.got, op)
	var out []BMCResult
	for _, n := range nodes {
		if n == "cn3" {
			out = append(out, BMCResult{Node: n, Err: errors.New("BMC unreachable: 10.0.0.3:623")})
			continue
		}
		line := op.Arg
		if op.Verb == "rinv" {
			line = "Serial: SN-" + n
		}
		out = append(out, BMCResult{Node: n, Lines: []string{line}})
	}
	return out
}

func TestHardwareCommands(t *testing.T) {
	objs := []inventory.Object{obj(inventory.Node, "cn1"), obj(inventory.Node, "cn2"), obj(inventory.Node, "cn3")}
	tests := []struct {
		args    []string
		cmd     string
		wantOut string
		wantErr string
		wantRC  int
		wantOp  *BMCOp
	}{
		{cmd: "rpower", args: []string{"cn1,cn2", "on"}, wantOut: "cn1: on\ncn2: on\n", wantOp: &BMCOp{Verb: "rpower", Arg: "on"}},
		{cmd: "rpower", args: []string{"cn[1-3]", "state"}, wantOut: "cn1: stat\ncn2: stat\n",
			wantErr: "cn3: Error: BMC unreachable: 10.0.0.3:623\n", wantRC: 1, wantOp: &BMCOp{Verb: "rpower", Arg: "stat"}},
		{cmd: "rsetboot", args: []string{"cn1", "net", "-p", "-u"}, wantOut: "cn1: net\n",
			wantOp: &BMCOp{Verb: "rsetboot", Arg: "net", Persistent: true, UEFI: true}},
		{cmd: "rinv", args: []string{"cn2"}, wantOut: "cn2: Serial: SN-cn2\n", wantOp: &BMCOp{Verb: "rinv"}},
		{cmd: "rpower", args: []string{"cn1", "explode"}, wantOut: rpowerUsage, wantErr: "Error: Unsupported command: rpower explode\n", wantRC: 1},
		{cmd: "rpower", args: []string{"cn1"}, wantOut: rpowerUsage, wantRC: 1},
		{cmd: "rpower", args: []string{"cn9", "on"}, wantErr: "Error: Invalid nodes and/or groups in noderange: cn9\n", wantRC: 1},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+tt.args[len(tt.args)-1], func(t *testing.T) {
			f := &fakeBMC{}
			r := &Runner{Backend: &countingBackend{mem: inventory.NewMemory(objs...)}, Schema: inventory.DefaultSchema(), BMC: f}
			resp := r.Run(t.Context(), Request{Command: tt.cmd, Args: tt.args})
			if resp.Stdout != tt.wantOut || resp.Stderr != tt.wantErr || resp.ExitCode != tt.wantRC {
				t.Errorf("got stdout %q stderr %q rc %d; want %q %q %d", resp.Stdout, resp.Stderr, resp.ExitCode, tt.wantOut, tt.wantErr, tt.wantRC)
			}
			if tt.wantOp != nil && (len(f.got) != 1 || !cmp.Equal(*tt.wantOp, f.got[0])) {
				t.Errorf("ops %+v, want %+v", f.got, *tt.wantOp)
			}
			if tt.wantOp == nil && len(f.got) != 0 {
				t.Errorf("ran %+v on bad input", f.got)
			}
		})
	}
	r := &Runner{Backend: &countingBackend{mem: inventory.NewMemory(objs...)}, Schema: inventory.DefaultSchema()}
	if resp := r.Run(t.Context(), Request{Command: "rpower", Args: []string{"cn1", "on"}}); resp.ExitCode != 1 {
		t.Errorf("rpower without BMC support: %+v", resp)
	}
}
