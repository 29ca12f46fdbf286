package power

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"drover.dev/drover/internal/bmc"
	"drover.dev/drover/internal/inventory"
)

// fakeBMC is a node's BMC: its power state, and how it misbehaves.
type fakeBMC struct {
	mu       sync.Mutex
	state    bmc.PowerState
	failOpen int  // the first failOpen opens fail as unreachable
	hang     bool // calls block until ctx ends
	opens    atomic.Int32
	password string
}

type fakeClient struct{ b *fakeBMC }

func (c fakeClient) SetPower(ctx context.Context, a bmc.PowerAction) error {
	if c.b.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if a == bmc.PowerOff {
		c.b.state = bmc.StateOff
	} else {
		c.b.state = bmc.StateOn
	}
	return nil
}

func (c fakeClient) PowerState(ctx context.Context) (bmc.PowerState, error) {
	if c.b.hang {
		<-ctx.Done()
		return bmc.StateUnknown, ctx.Err()
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.b.state, nil
}

func (fakeClient) SetBootDevice(context.Context, bmc.BootDevice, bmc.BootOptions) error { return nil }
func (fakeClient) Close() error                                                         { return nil }

type fakeFleet struct {
	bmcs    map[string]*fakeBMC
	active  atomic.Int32
	maxSeen atomic.Int32
}

func (f *fakeFleet) Open(ctx context.Context, mgt string, t bmc.Target) (bmc.Client, error) {
	if mgt != "ipmi" {
		return nil, fmt.Errorf("%w %q", bmc.ErrUnknownMgt, mgt)
	}
	b := f.bmcs[t.Node]
	n := b.opens.Add(1)
	if int(n) <= b.failOpen {
		return nil, fmt.Errorf("%w: %s", bmc.ErrUnreachable, t.Address)
	}
	if b.password != "" && t.Password != b.password {
		return nil, fmt.Errorf("%w: %s", bmc.ErrAuth, t.Address)
	}
	a := f.active.Add(1)
	for {
		m := f.maxSeen.Load()
		if a <= m || f.maxSeen.CompareAndSwap(m, a) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	f.active.Add(-1)
	return fakeClient{b}, nil
}

func stateOp(ctx context.Context, c bmc.Client) (string, error) {
	s, err := c.PowerState(ctx)
	return string(s), err
}

func TestRun(t *testing.T) {
	fleet := &fakeFleet{bmcs: map[string]*fakeBMC{}}
	var nodes []Node
	for i := range 100 {
		name := fmt.Sprintf("cn%03d", 100-i) // unsorted on purpose
		fleet.bmcs[name] = &fakeBMC{state: bmc.StateOff}
		nodes = append(nodes, Node{Name: name, Mgt: "ipmi", Target: bmc.Target{Node: name, Address: name + "-bmc", Username: "admin", Password: "pw"}})
	}
	fleet.bmcs["cn001"].failOpen = 1 // answers the retry
	fleet.bmcs["cn002"].failOpen = 5 // never answers
	fleet.bmcs["cn003"].password = "other"
	fleet.bmcs["cn004"].hang = true
	nodes = append(nodes, Node{Name: "cn000", Err: fmt.Errorf("%w: the node has no bmc attribute", bmc.ErrNoAddress)})
	r := &Runner{Drivers: fleet, Concurrency: 8, Timeout: 200 * time.Millisecond}
	res := r.Run(t.Context(), nodes, stateOp)
	if len(res) != 101 || res[0].Node != "cn000" || res[100].Node != "cn100" {
		t.Fatalf("results not one per node, sorted: %d, first %s", len(res), res[0].Node)
	}
	want := map[string]string{
		"cn000": "no BMC address", "cn001": "off", "cn002": "BMC unreachable", "cn003": "authentication failed",
		"cn004": "no answer within 200ms", "cn050": "off",
	}
	for _, r := range res {
		w, ok := want[r.Node]
		if !ok {
			continue
		}
		got := r.Output
		if r.Err != nil {
			got = r.Err.Error()
		}
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q, want %q", r.Node, got, w)
		}
	}
	if n := fleet.bmcs["cn002"].opens.Load(); n != 2 {
		t.Errorf("an unreachable BMC was tried %d times, want 2", n)
	}
	if n := fleet.bmcs["cn003"].opens.Load(); n != 1 {
		t.Errorf("a wrong password was tried %d times, want 1", n)
	}
	if m := fleet.maxSeen.Load(); m > 8 {
		t.Errorf("%d opens at once, concurrency is 8", m)
	}
}

func TestNodeFromInventory(t *testing.T) {
	site := inventory.Resolved{"bmcusername": "siteuser", "bmcpassword": "sitepw"}
	hosts := func(name string) (inventory.Resolved, bool) {
		if name == "dh1" {
			return inventory.Resolved{"dockerendpoint": "unix:///run/podman/podman.sock"}, true
		}
		if name == "dh2" {
			return inventory.Resolved{}, true
		}
		return nil, false
	}
	tests := []struct {
		node    inventory.Resolved
		site    inventory.Resolved
		addr    string
		user    string
		wantErr error
	}{
		{inventory.Resolved{"mgt": "ipmi", "bmc": "10.0.0.1", "bmcusername": "u", "bmcpassword": "p"}, nil, "10.0.0.1", "u", nil},
		{inventory.Resolved{"mgt": "IPMI", "bmc": "10.0.0.1"}, site, "10.0.0.1", "siteuser", nil},
		{inventory.Resolved{"mgt": "ipmi", "bmc": "10.0.0.1"}, nil, "", "", bmc.ErrNoCredentials},
		{inventory.Resolved{"mgt": "redfish"}, site, "", "", bmc.ErrNoAddress},
		{inventory.Resolved{"bmc": "10.0.0.1"}, site, "", "", bmc.ErrUnknownMgt},
		{inventory.Resolved{"mgt": "docker", "vmhost": "tcp://198.18.0.5:2376"}, nil, "tcp://198.18.0.5:2376", "", nil},
		{inventory.Resolved{"mgt": "docker", "vmhost": "dh1"}, nil, "unix:///run/podman/podman.sock", "", nil},
		{inventory.Resolved{"mgt": "docker", "vmhost": "dh2"}, nil, "", "", bmc.ErrNoAddress},
		{inventory.Resolved{"mgt": "docker", "vmhost": "nope"}, nil, "", "", bmc.ErrNoAddress},
		{inventory.Resolved{"mgt": "docker"}, nil, "", "", bmc.ErrNoAddress},
	}
	for i, tt := range tests {
		n := NodeFromInventory("cn1", tt.node, tt.site, hosts)
		if !errors.Is(n.Err, tt.wantErr) || (tt.wantErr == nil && n.Err != nil) {
			t.Errorf("%d: err %v, want %v", i, n.Err, tt.wantErr)
			continue
		}
		if tt.wantErr == nil && (n.Target.Address != tt.addr || n.Target.Username != tt.user) {
			t.Errorf("%d: target %+v", i, n.Target)
		}
	}
}
