package daemon

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/bmc"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/power"
	"drover.dev/drover/internal/xcatcmd"
)

type stubClient struct{ state bmc.PowerState }

func (s *stubClient) SetPower(_ context.Context, a bmc.PowerAction) error {
	if a == bmc.PowerOff {
		s.state = bmc.StateOff
	} else {
		s.state = bmc.StateOn
	}
	return nil
}
func (s *stubClient) PowerState(context.Context) (bmc.PowerState, error) { return s.state, nil }
func (s *stubClient) SetBootDevice(context.Context, bmc.BootDevice, bmc.BootOptions) error {
	return nil
}
func (s *stubClient) Close() error { return nil }
func (s *stubClient) Inventory(context.Context) ([]bmc.Fact, error) {
	return []bmc.Fact{{Name: "Manufacturer", Value: "QEMU"}, {Name: "Serial", Value: "SN1"}}, nil
}

func TestBMCOps(t *testing.T) {
	mem := inventory.NewMemory(
		inventory.Object{Type: inventory.Site, Name: inventory.SiteName, Attrs: map[string]string{"bmcusername": "admin", "bmcpassword": "pw"}},
		inventory.Object{Type: inventory.Group, Name: "ipmi", Attrs: map[string]string{"mgt": "ipmi", "bmc": "|\\z|-bmc|"}},
		inventory.Object{Type: inventory.Node, Name: "cn1", Attrs: map[string]string{"groups": "ipmi"}},
		inventory.Object{Type: inventory.Node, Name: "cn2", Attrs: map[string]string{"groups": "ipmi", "mgt": "hmc"}},
		inventory.Object{Type: inventory.Node, Name: "cn3", Attrs: map[string]string{"mgt": "ipmi"}},
	)
	var opened []bmc.Target
	reg := &bmc.Registry{}
	reg.Register("ipmi", bmc.DriverFunc(func(_ context.Context, t bmc.Target) (bmc.Client, error) {
		opened = append(opened, t)
		return &stubClient{state: bmc.StateOff}, nil
	}))
	ops := &bmcOps{view: mem.View, runner: &power.Runner{Drivers: reg, Concurrency: 1}, apply: mem.Apply}
	got := ops.Do(t.Context(), []string{"cn1", "cn2", "cn3"}, xcatcmd.BMCOp{Verb: "rpower", Arg: "boot"})
	summary := map[string]string{}
	for _, r := range got {
		summary[r.Node] = fmt.Sprint(r.Lines, r.Err)
	}
	want := map[string]string{
		"cn1": "[on] <nil>",
		"cn2": "[] unknown mgt \"hmc\" (one of ipmi)",
		"cn3": "[] no BMC address: the node has no bmc attribute",
	}
	if diff := cmp.Diff(want, summary); diff != "" {
		t.Errorf("rpower boot (-want +got):\n%s", diff)
	}
	if len(opened) != 1 || opened[0].Address != "cn1-bmc" || opened[0].Username != "admin" || opened[0].Password != "pw" {
		t.Errorf("targets opened: %+v", opened)
	}
	if o, _ := mem.View().Get(inventory.Node, "cn1"); o.Get("powerstate") != "on" || o.Get("powerstatetime") == "" {
		t.Errorf("cn1 after rpower boot: %v", o.Attrs)
	}
	if o, _ := mem.View().Get(inventory.Node, "cn3"); o.Get("powerstate") != "" {
		t.Errorf("a failed node got a power state: %v", o.Attrs)
	}
	inv := ops.Do(t.Context(), []string{"cn1"}, xcatcmd.BMCOp{Verb: "rinv"})
	if diff := cmp.Diff([]string{"Manufacturer: QEMU", "Serial: SN1"}, inv[0].Lines); diff != "" {
		t.Errorf("rinv (-want +got):\n%s", diff)
	}
	boot := ops.Do(t.Context(), []string{"cn1"}, xcatcmd.BMCOp{Verb: "rsetboot", Arg: "net"})
	if len(boot[0].Lines) != 1 || boot[0].Lines[0] != "Network" {
		t.Errorf("rsetboot net: %+v", boot[0])
	}
}
