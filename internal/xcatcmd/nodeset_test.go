package xcatcmd

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// nodesetInventory is the inventory the nodeset tests start from.
func nodesetInventory() []inventory.Object {
	return []inventory.Object{
		obj(inventory.Site, inventory.SiteName, "master", "10.0.0.1"),
		obj(inventory.Group, "compute", "os", "rhels8", "arch", "x86_64", "profile", "compute", "provmethod", "img-net"),
		obj(inventory.OSImage, "img-inst", "provmethod", "install", "osvers", "rhels9.4", "osarch", "x86_64", "profile", "compute"),
		obj(inventory.OSImage, "img-net", "provmethod", "netboot", "osvers", "rhels8", "osarch", "x86_64", "profile", "compute"),
		obj(inventory.OSImage, "img-bt", "provmethod", "boottarget"),
		obj(inventory.OSImage, "noprov", "osvers", "rhels9.4"),
		obj(inventory.Node, "cn1", "groups", "compute"),
		obj(inventory.Node, "cn2", "groups", "compute", "currstate", "shell"),
		obj(inventory.Node, "cn3", "groups", "other", "provmethod", "img-inst"),
		obj(inventory.Node, "cn4"),
		obj(inventory.Node, "cn5", "provmethod", "img-net", "currchain", "x"),
		obj(inventory.Node, "cn6", "provmethod", "gone"),
	}
}

func nodesetRun(t *testing.T, b *countingBackend, args ...string) Response {
	t.Helper()
	r := &Runner{Backend: b, Schema: inventory.DefaultSchema()}
	return r.Run(t.Context(), Request{Command: "nodeset", Args: args})
}

func TestNodeset(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantErr    string
		wantRC     int
		wantApply  int
		wantNodes  map[string]map[string]string // the nodes' attributes afterwards
		notWritten bool                         // the inventory must be unchanged
	}{
		{
			name: "boot keeps inherited provmethod", args: []string{"cn1,cn2", "boot"},
			wantOut: "cn1: boot\ncn2: boot\n", wantApply: 1,
			wantNodes: map[string]map[string]string{
				"cn1": {"groups": "compute", "currstate": "boot"},
				"cn2": {"groups": "compute", "currstate": "boot"},
			},
		},
		{
			name: "boot keeps an install image", args: []string{"cn3", "boot"},
			wantOut: "cn3: boot\n", wantApply: 1,
			wantNodes: map[string]map[string]string{
				"cn3": {"groups": "other", "provmethod": "img-inst", "currstate": "boot"},
			},
		},
		{
			name: "boot blanks a netboot image and an unknown one", args: []string{"cn5,cn6", "boot"},
			wantOut: "cn5: boot\ncn6: boot\n", wantApply: 1,
			wantNodes: map[string]map[string]string{
				"cn5": {"currchain": "x", "currstate": "boot"},
				"cn6": {"currstate": "boot"},
			},
		},
		{
			name: "shell", args: []string{"cn4", "shell"}, wantOut: "cn4: shell\n", wantApply: 1,
			wantNodes: map[string]map[string]string{"cn4": {"currstate": "shell"}},
		},
		{
			name: "discover", args: []string{"cn4", "discover"}, wantOut: "cn4: discover\n", wantApply: 1,
			wantNodes: map[string]map[string]string{"cn4": {"currstate": "discover"}},
		},
		{
			name: "offline keeps provmethod", args: []string{"cn5", "offline"}, wantOut: "cn5: offline\n", wantApply: 1,
			wantNodes: map[string]map[string]string{"cn5": {"provmethod": "img-net", "currchain": "x", "currstate": "offline"}},
		},
		{
			name: "runimage", args: []string{"cn4", "runimage=http://10.0.0.1/img.tgz"},
			wantOut: "cn4: runimage=http://10.0.0.1/img.tgz\n", wantApply: 1,
			wantNodes: map[string]map[string]string{"cn4": {"currstate": "runimage=http://10.0.0.1/img.tgz"}},
		},
		{
			name: "sorted output for a group noderange", args: []string{"cn4,compute", "offline"},
			wantOut: "cn1: offline\ncn2: offline\ncn4: offline\n", wantApply: 1,
		},
		{
			name: "osimage install sets provmethod os and currchain", args: []string{"cn1", "osimage=img-inst"},
			wantOut: "cn1: install img-inst\n", wantApply: 1,
			wantNodes: map[string]map[string]string{
				// arch and profile resolve to the image's values already.
				"cn1": {"groups": "compute", "provmethod": "img-inst", "os": "rhels9.4", "currchain": "boot", "currstate": "install img-inst"},
			},
		},
		{
			name: "osimage boottarget", args: []string{"cn4", "osimage=img-bt"},
			wantOut: "cn4: boottarget img-bt\n", wantApply: 1,
			wantNodes: map[string]map[string]string{"cn4": {"provmethod": "img-bt", "currstate": "boottarget img-bt"}},
		},
		{
			name: "osimage netboot inherited from the group", args: []string{"cn1", "osimage=img-net"},
			wantOut: "cn1: netboot img-net\n", wantApply: 1,
			wantNodes: map[string]map[string]string{"cn1": {"groups": "compute", "currstate": "netboot img-net"}},
		},
		{
			name: "bare osimage uses each node's provmethod", args: []string{"cn1,cn3,cn5", "osimage"},
			wantOut: "cn1: netboot img-net\ncn3: install img-inst\ncn5: netboot img-net\n", wantApply: 1,
			wantNodes: map[string]map[string]string{
				"cn1": {"groups": "compute", "currstate": "netboot img-net"},
				"cn3": {"groups": "other", "provmethod": "img-inst", "os": "rhels9.4", "arch": "x86_64", "profile": "compute",
					"currchain": "boot", "currstate": "install img-inst"},
				"cn5": {"provmethod": "img-net", "os": "rhels8", "arch": "x86_64", "profile": "compute",
					"currchain": "x", "currstate": "netboot img-net"},
			},
		},
		{
			name: "bare osimage without provmethod", args: []string{"cn1,cn4,cn3", "osimage"}, wantRC: 1,
			wantErr:    "Error: OS image name must be specified in nodetype.provmethod for nodes: cn4.\n",
			notWritten: true,
		},
		{
			name: "bare osimage with a missing image", args: []string{"cn6", "osimage"}, wantRC: 1,
			wantErr: "Error: Cannot find the OS image gone on the osimage table.\n", notWritten: true,
		},
		{
			name: "missing osimage", args: []string{"cn1,cn4", "osimage=nope"}, wantRC: 1,
			wantErr: "Error: Cannot find the OS image nope on the osimage table.\n", notWritten: true,
		},
		{
			name: "osimage without provmethod", args: []string{"cn1", "osimage=noprov"}, wantRC: 1,
			wantErr: "Error: osimage.provmethod for noprov must be set.\n", notWritten: true,
		},
		{
			name: "unknown nodes", args: []string{"cn1,nosuch,cn9", "boot"}, wantRC: 1,
			wantErr: "Error: Invalid nodes and/or groups in noderange: nosuch,cn9\n", notWritten: true,
		},
		{
			name: "unknown state", args: []string{"cn1", "bogus"}, wantRC: 1,
			wantErr: "Error: Unknown state bogus requested\n", notWritten: true,
		},
		{
			name: "state with an argument it does not take", args: []string{"cn1", "boot=x"}, wantRC: 1,
			wantErr: "Error: Unknown state boot=x requested\n", notWritten: true,
		},
		{
			name: "runimage without a path", args: []string{"cn1", "runimage="}, wantRC: 1,
			wantErr: "Error: An image path should be specified to runnimage.\n", notWritten: true,
		},
		{name: "help", args: []string{"-h"}, wantOut: nodesetUsage, notWritten: true},
		{name: "version", args: []string{"-v"}, wantOut: "drover\n", notWritten: true},
		{name: "no arguments", args: nil, wantOut: nodesetUsage, wantRC: 1, notWritten: true},
		{name: "no state", args: []string{"cn1"}, wantOut: nodesetUsage, wantRC: 1, notWritten: true},
		{name: "bad option", args: []string{"-x", "cn1", "boot"}, wantOut: nodesetUsage, wantRC: 1, notWritten: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBackend{mem: inventory.NewMemory(nodesetInventory()...)}
			resp := nodesetRun(t, b, tt.args...)
			got := Response{Stdout: tt.wantOut, Stderr: tt.wantErr, ExitCode: tt.wantRC}
			if diff := cmp.Diff(got, resp); diff != "" {
				t.Errorf("nodeset %q (-want +got):\n%s", tt.args, diff)
			}
			if b.applies != tt.wantApply {
				t.Errorf("Apply called %d times, want %d", b.applies, tt.wantApply)
			}
			if tt.notWritten {
				want := inventory.NewMemory(nodesetInventory()...)
				for _, typ := range inventory.Types() {
					if diff := cmp.Diff(want.List(typ), b.mem.List(typ)); diff != "" {
						t.Errorf("%s objects changed (-want +got):\n%s", typ, diff)
					}
				}
			}
			for name, attrs := range tt.wantNodes {
				o, ok := b.mem.Get(inventory.Node, name)
				if !ok {
					t.Fatalf("node %s is gone", name)
				}
				if diff := cmp.Diff(attrs, o.Attrs); diff != "" {
					t.Errorf("node %s (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

// TestNodesetGroupsUntouched checks that nodeset writes nodes only: the
// groups keep their values and no group value is copied into a node.
func TestNodesetGroupsUntouched(t *testing.T) {
	b := &countingBackend{mem: inventory.NewMemory(nodesetInventory()...)}
	if resp := nodesetRun(t, b, "compute", "osimage=img-inst"); resp.ExitCode != 0 {
		t.Fatalf("nodeset: %+v", resp)
	}
	want := inventory.NewMemory(nodesetInventory()...)
	for _, typ := range []inventory.Type{inventory.Group, inventory.OSImage, inventory.Site} {
		if diff := cmp.Diff(want.List(typ), b.mem.List(typ)); diff != "" {
			t.Errorf("%s objects changed (-want +got):\n%s", typ, diff)
		}
	}
	o, _ := b.mem.Get(inventory.Node, "cn2")
	wantAttrs := map[string]string{"groups": "compute", "provmethod": "img-inst", "os": "rhels9.4",
		"currchain": "boot", "currstate": "install img-inst"}
	if diff := cmp.Diff(wantAttrs, o.Attrs); diff != "" {
		t.Errorf("cn2 (-want +got):\n%s", diff)
	}
}

// TestNodesetOneApply checks that a noderange of many nodes is written in
// one transaction, and that a second identical call, changing nothing,
// writes nothing.
func TestNodesetOneApply(t *testing.T) {
	objs := nodesetInventory()
	for i := range 300 {
		objs = append(objs, obj(inventory.Node, fmt.Sprintf("n%03d", i), "groups", "compute"))
	}
	b := &countingBackend{mem: inventory.NewMemory(objs...)}
	if resp := nodesetRun(t, b, "compute", "osimage=img-bt"); resp.ExitCode != 0 {
		t.Fatalf("nodeset: %+v", resp)
	}
	if b.applies != 1 {
		t.Errorf("first call: Apply called %d times, want 1", b.applies)
	}
	if resp := nodesetRun(t, b, "compute", "osimage=img-bt"); resp.ExitCode != 0 {
		t.Fatalf("nodeset: %+v", resp)
	}
	if b.applies != 1 {
		t.Errorf("second call: Apply called %d times in all, want 1", b.applies)
	}
}

// TestNodesetApplyFails checks that a failed write is reported and nothing
// is printed as done.
func TestNodesetApplyFails(t *testing.T) {
	b := &countingBackend{mem: inventory.NewMemory(nodesetInventory()...), fail: errors.New("store is read-only")}
	resp := nodesetRun(t, b, "cn1,cn2", "boot")
	want := Response{Stderr: "Error: store is read-only\n", ExitCode: 1}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if b.applies != 1 {
		t.Errorf("Apply called %d times, want 1", b.applies)
	}
}

// TestNodesetExcludeNodes checks that site.excludenodes applies.
func TestNodesetExcludeNodes(t *testing.T) {
	objs := nodesetInventory()
	objs[0].Attrs["excludenodes"] = "cn2"
	b := &countingBackend{mem: inventory.NewMemory(objs...)}
	resp := nodesetRun(t, b, "compute", "boot")
	if diff := cmp.Diff(Response{Stdout: "cn1: boot\n"}, resp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzNodeset runs nodeset with arbitrary noderanges and states: it must
// not panic, exits 0 or 1, and writes nothing when it fails.
func FuzzNodeset(f *testing.F) {
	for _, s := range [][2]string{
		{"cn1,cn2", "boot"}, {"compute", "osimage"}, {"cn1", "osimage=img-inst"}, {"cn4", "runimage=http://x/y"},
		{"cn[1-6]", "shell"}, {"cn1,nosuch", "discover"}, {"all", "offline"}, {"cn1", "osimage="}, {"-h", "x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, rng, state string) {
		b := &countingBackend{mem: inventory.NewMemory(nodesetInventory()...)}
		resp := nodesetRun(t, b, rng, state)
		if resp.ExitCode != 0 && resp.ExitCode != 1 {
			t.Fatalf("exit code %d", resp.ExitCode)
		}
		if resp.ExitCode != 0 && b.applies != 0 {
			t.Fatalf("failed (%q) but wrote", resp.Stderr)
		}
		if b.applies > 1 {
			t.Fatalf("%d Apply calls", b.applies)
		}
	})
}
