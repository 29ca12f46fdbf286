package nodediscover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"drover.dev/drover/internal/facts"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

type harness struct {
	t   *testing.T
	st  *store.Store
	svc *Service
	mu  sync.Mutex
	set []string // nodeset calls "node state"
}

func newHarness(t *testing.T, objs ...inventory.Object) *harness {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, st: st}
	h.svc = &Service{Store: st, Nodeset: func(_ context.Context, node, state string) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.set = append(h.set, node+" "+state)
		return nil
	}}
	h.svc.reassignDelay = time.Millisecond
	t.Cleanup(h.svc.reassign.Wait)
	var ch []inventory.Change
	for _, o := range objs {
		ch = append(ch, inventory.Change{Op: inventory.Create, Object: o})
	}
	if len(ch) > 0 {
		if err := st.Apply(t.Context(), ch); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func obj(t inventory.Type, name string, kv ...string) inventory.Object {
	o := inventory.Object{Type: t, Name: name}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i], kv[i+1])
	}
	return o
}

// machine is a test machine's facts.
type machine struct {
	mac, serial, uuid string
	mem               uint64
	cpus              int
	lldp              []facts.LLDP
	extraNIC          string
}

func (m machine) body(t *testing.T) []byte {
	t.Helper()
	r := facts.Report{Schema: facts.SchemaVersion, Version: "v1.2.3", Image: "img-v1", Time: time.Now(),
		System:      facts.DMI{Vendor: "QEMU", Product: "Standard PC", Serial: m.serial, UUID: m.uuid},
		CPUs:        facts.CPUs{Model: "QEMU Virtual CPU", Sockets: 1, Cores: m.cpus, Threads: m.cpus},
		MemoryBytes: m.mem,
		NICs:        []facts.NIC{{Name: "eth0", MAC: m.mac, Link: true}},
		Disks:       []facts.Disk{{Name: "vda", SizeBytes: 20e9}},
		LLDP:        m.lldp,
	}
	if m.extraNIC != "" {
		r.NICs = append(r.NICs, facts.NIC{Name: "eth1", MAC: m.extraNIC})
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h *harness) discover(m machine, bootMAC ...string) (Answer, string) {
	h.t.Helper()
	mac := m.mac
	if len(bootMAC) > 0 {
		mac = bootMAC[0]
	}
	hw, _ := net.ParseMAC(mac)
	b, detail, err := h.svc.Discover(h.t.Context(), hw, netip.MustParseAddrPort("198.18.0.100:40000"), m.body(h.t))
	if err != nil {
		h.t.Fatalf("Discover: %v", err)
	}
	var a Answer
	if err := json.Unmarshal(b, &a); err != nil {
		h.t.Fatalf("answer %s: %v", b, err)
	}
	return a, detail
}

func (h *harness) node(name string) inventory.Resolved {
	h.t.Helper()
	v := h.st.View()
	o, ok := v.Get(inventory.Node, name)
	if !ok {
		h.t.Fatalf("node %s not defined", name)
	}
	return inventory.Resolve(v, o)
}

func (h *harness) report(mac string) store.DiscoveryReport {
	h.t.Helper()
	r, ok, err := h.st.DiscoveryReportByMAC(h.t.Context(), mac)
	if err != nil || !ok {
		h.t.Fatalf("report of %s: %v %v", mac, ok, err)
	}
	return r
}

func (h *harness) events(node string) []string {
	h.t.Helper()
	evs, err := h.st.NodeBootEvents(h.t.Context(), node, time.Time{}, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		s := e.Kind + ": " + e.Detail
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
		out = append(out, s)
	}
	return out
}

func wantEvents(t *testing.T, got []string, prefixes ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(prefixes) && strings.HasPrefix(g, prefixes[i]) {
			i++
		}
	}
	if i < len(prefixes) {
		t.Errorf("events lack %q in order; got:\n  %s", prefixes[i], strings.Join(got, "\n  "))
	}
}

var (
	m1 = machine{mac: "52:54:00:18:00:01", serial: "SN-CN1", uuid: "00000000-0000-4000-8000-525400180001", mem: 512 << 20, cpus: 2}
	m2 = machine{mac: "52:54:00:18:00:02", serial: "SN-B", uuid: "00000000-0000-4000-8000-525400180002", mem: 1 << 30, cpus: 1}
	m3 = machine{mac: "52:54:00:18:00:03", serial: "SN-C", mem: 1 << 30, cpus: 1}
)

func TestMatchBySerialRunsChain(t *testing.T) {
	h := newHarness(t, obj(inventory.Node, "cn1", "groups", "compute", "serial", "SN-CN1", "chain", "runcmd=bmcsetup,osimage=img1"))
	// The machine's DHCP, before anything knew it.
	if err := h.st.AddBootEvents(t.Context(), []store.BootEvent{{MAC: m1.mac, Kind: "dhcp", Detail: "discover"}}); err != nil {
		t.Fatal(err)
	}
	a, detail := h.discover(m1)
	if a.Action != ActionReboot {
		t.Fatalf("answer %+v (%s), want reboot", a, detail)
	}
	n := h.node("cn1")
	for k, want := range map[string]string{"mac": m1.mac, "status": "discovered", "cpucount": "2", "memory": "512MB",
		"uuid": m1.uuid, "serial": "SN-CN1", "disksize": "vda:20GB", "mtm": "Standard PC"} {
		if n[k] != want {
			t.Errorf("cn1 %s=%q, want %q", k, n[k], want)
		}
	}
	if fmt.Sprint(h.set) != "[cn1 osimage=img1]" {
		t.Errorf("nodeset calls %v", h.set)
	}
	r := h.report(m1.mac)
	if r.State != StateMatched || r.Node != "cn1" || r.Method != "mtms" || r.Count != 1 {
		t.Errorf("report %+v", r)
	}
	h.svc.reassign.Wait()
	wantEvents(t, h.events("cn1"), "dhcp: discover", "discovery: report from agent v1.2.3 (image img-v1): serial SN-CN1",
		"discovery: matched cn1 by mtms", "chain: runcmd=bmcsetup (skipped", "chain: osimage=img1", "chain: reboot")

	// The same report again: idempotent, same answer, no second "report" event.
	a, _ = h.discover(m1)
	if a.Action != ActionReboot {
		t.Errorf("repeat answer %+v", a)
	}
	if r := h.report(m1.mac); r.Count != 2 || r.State != StateMatched {
		t.Errorf("repeat report %+v", r)
	}
	reports := 0
	for _, e := range h.events("cn1") {
		if strings.HasPrefix(e, "discovery: report") {
			reports++
		}
	}
	if reports != 1 {
		t.Errorf("%d report events after a repeated report, want 1", reports)
	}
}

func TestSequential(t *testing.T) {
	h := newHarness(t, obj(inventory.Node, "cn1", "groups", "compute", "serial", "SN-CN1"))
	ctx := t.Context()
	if err := h.svc.StartSequential(ctx, xcatcmd.SeqRequest{Noderange: "cn[1-3]", Names: []string{"cn1", "cn2", "cn3"},
		Groups: []string{"compute", "rack1"}, OSImage: "img1"}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.StartSequential(ctx, xcatcmd.SeqRequest{Names: []string{"x"}}); !errors.Is(err, xcatcmd.ErrDiscoveryRunning) {
		t.Errorf("second start: %v", err)
	}
	// m2 comes first: cn1 is bound to another serial, so it gets cn2.
	if a, d := h.discover(m2); a.Action != ActionReboot {
		t.Fatalf("m2: %+v %s", a, d)
	}
	if n := h.node("cn2"); n["groups"] != "compute,rack1" || n["mac"] != m2.mac {
		t.Errorf("cn2 = %v", n)
	}
	// m1 is cn1 by serial even while sequential discovery runs; cn1 has
	// no chain, so it stands by.
	if a, _ := h.discover(m1); a.Action != ActionWait || h.report(m1.mac).Node != "cn1" {
		t.Errorf("m1: %+v %+v", a, h.report(m1.mac))
	}
	if a, _ := h.discover(m3); a.Action != ActionReboot || h.report(m3.mac).Node != "cn3" {
		t.Errorf("m3: %+v %+v", a, h.report(m3.mac))
	}
	if fmt.Sprint(h.set) != "[cn2 osimage=img1 cn3 osimage=img1]" {
		t.Errorf("nodeset calls %v (cn1 has no chain and was not discovered sequentially)", h.set)
	}
	// Exhausted: a fourth machine waits in the queue, and the event says why.
	m4 := machine{mac: "52:54:00:18:00:04", serial: "SN-D", mem: 1 << 30, cpus: 1}
	if a, _ := h.discover(m4); a.Action != ActionWait || h.report(m4.mac).State != StateQueued {
		t.Errorf("m4: %+v %+v", a, h.report(m4.mac))
	}
	evs, _ := h.st.MACBootEvents(ctx, m4.mac, time.Time{}, 0)
	if len(evs) < 2 || !strings.Contains(evs[len(evs)-1].Detail, "no free name left among 3 names") {
		t.Errorf("m4 events %+v", evs)
	}
	st, err := h.svc.StopSequential(ctx)
	if err != nil || st.Running || fmt.Sprint(st.Discovered) != "[cn2 cn3]" || len(st.Free) != 0 {
		t.Errorf("stop: %+v %v", st, err)
	}
	if _, err := h.svc.StopSequential(ctx); !errors.Is(err, xcatcmd.ErrDiscoveryNotRunning) {
		t.Errorf("second stop: %v", err)
	}
}

func TestConflicts(t *testing.T) {
	t.Run("same MAC, different serial", func(t *testing.T) {
		h := newHarness(t, obj(inventory.Node, "cn1", "groups", "all", "mac", m1.mac, "serial", "SN-OLD", "chain", "osimage=img1"))
		m := m1
		a, _ := h.discover(m)
		if r := h.report(m.mac); a.Action != ActionWait || r.State != StateFlagged || !strings.Contains(r.Reason, "serial SN-OLD") {
			t.Errorf("answer %+v report %+v", a, r)
		}
		if n := h.node("cn1"); n["serial"] != "SN-OLD" || n["status"] != "" || len(h.set) != 0 {
			t.Errorf("the flagged report changed cn1: %v, nodeset %v", n, h.set)
		}
	})
	t.Run("two machines for one node", func(t *testing.T) {
		h := newHarness(t, obj(inventory.Node, "cn1", "groups", "all", "serial", "SN-CN1"))
		if a, _ := h.discover(m1); a.Action != ActionWait || h.report(m1.mac).State != StateMatched {
			t.Fatalf("first: %+v %+v", a, h.report(m1.mac))
		}
		twin := m1
		twin.mac, twin.uuid = "52:54:00:18:00:77", ""
		a, _ := h.discover(twin)
		r := h.report(twin.mac)
		if a.Action != ActionWait || r.State != StateFlagged || !strings.Contains(r.Reason, "already discovered from "+m1.mac) {
			t.Errorf("twin: %+v %+v", a, r)
		}
		if n := h.node("cn1"); n["mac"] != m1.mac {
			t.Errorf("cn1 mac %q after the twin's report", n["mac"])
		}
	})
	t.Run("report without its boot MAC", func(t *testing.T) {
		h := newHarness(t)
		a, _ := h.discover(m2, "52:54:00:18:00:99")
		if r := h.report("52:54:00:18:00:99"); a.Action != ActionWait || r.State != StateFlagged {
			t.Errorf("%+v %+v", a, r)
		}
	})
	t.Run("bad body", func(t *testing.T) {
		h := newHarness(t)
		hw, _ := net.ParseMAC(m1.mac)
		for _, body := range []string{"", "{", `{"schema":1}`, `{"schema":1,"version":"x","time":"2026-01-01T00:00:00Z","bogus":1}`} {
			if _, _, err := h.svc.Discover(t.Context(), hw, netip.AddrPort{}, []byte(body)); !errors.Is(err, ErrBadReport) {
				t.Errorf("%q: %v", body, err)
			}
		}
		if rs, _ := h.st.DiscoveryReports(t.Context()); len(rs) != 0 {
			t.Errorf("bad bodies stored: %+v", rs)
		}
	})
}

func TestQueueApproveReject(t *testing.T) {
	h := newHarness(t, obj(inventory.Group, "compute", "chain", "osimage=img2"))
	ctx := t.Context()
	if a, _ := h.discover(m2); a.Action != ActionWait || a.After != WaitSeconds {
		t.Fatalf("queued answer %+v", a)
	}
	r := h.report(m2.mac)
	if r.State != StateQueued {
		t.Fatalf("report %+v", r)
	}
	if _, err := h.svc.Approve(ctx, "nope", "cn7"); !errors.Is(err, xcatcmd.ErrNoReport) {
		t.Errorf("approve unknown: %v", err)
	}
	got, err := h.svc.Approve(ctx, fmt.Sprint(r.ID), "cn7")
	if err != nil || got.State != StateApproved || got.Node != "cn7" {
		t.Fatalf("approve: %+v %v", got, err)
	}
	if err := h.st.Apply(ctx, []inventory.Change{{Op: inventory.Put, Object: func() inventory.Object {
		o := h.st.View()
		n, _ := o.Get(inventory.Node, "cn7")
		c := n.Clone()
		c.Set("groups", "compute")
		return c
	}()}}); err != nil {
		t.Fatal(err)
	}
	// The next registration finds cn7 by MAC and carries out its chain.
	if a, _ := h.discover(m2); a.Action != ActionReboot || fmt.Sprint(h.set) != "[cn7 osimage=img2]" {
		t.Errorf("after approval: %+v, nodeset %v", a, h.set)
	}
	if r := h.report(m2.mac); r.State != StateApproved || r.Method != "manual" {
		t.Errorf("report after approval %+v", r)
	}
	// Reject by MAC: the machine is told to power off.
	if _, a := h.discover(m3); !strings.Contains(a, "queued") {
		t.Fatalf("m3: %s", a)
	}
	if _, err := h.svc.Reject(ctx, m3.mac); err != nil {
		t.Fatal(err)
	}
	if a, _ := h.discover(m3); a.Action != ActionPowerOff {
		t.Errorf("rejected: %+v", a)
	}
	if n, err := h.svc.Remove(ctx, []string{m3.mac}); err != nil || n != 1 {
		t.Errorf("remove: %d %v", n, err)
	}
}

func TestRules(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	err := h.svc.SetRules(ctx, "# big machines\nbig: memory>=1GiB -> name=fat{n:02} groups=fat\n\nbad rule here\n")
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("bad rules: %v", err)
	}
	if text, _ := h.svc.Rules(ctx); text != "" {
		t.Errorf("rules stored after an error: %q", text)
	}
	if err := h.svc.SetRules(ctx, "big: memory>=1GiB -> name=fat{n:02} groups=fat\n"); err != nil {
		t.Fatal(err)
	}
	if a, _ := h.discover(m2); a.Action != ActionWait || h.report(m2.mac).Node != "fat01" || h.report(m2.mac).Method != "rule" {
		t.Errorf("%+v %+v", a, h.report(m2.mac))
	}
	if n := h.node("fat01"); n["groups"] != "fat" {
		t.Errorf("fat01 %v", n)
	}
	if a, _ := h.discover(m1); a.Action != ActionWait || h.report(m1.mac).State != StateQueued {
		t.Errorf("small machine: %+v %+v", a, h.report(m1.mac))
	}
}

func TestSwitchMatch(t *testing.T) {
	h := newHarness(t,
		obj(inventory.Node, "sw1", "groups", "switch", "ip", "198.18.0.2"),
		obj(inventory.Node, "cn5", "groups", "all", "switch", "sw1", "switchport", "t-vm5", "chain", "osimage=img1"))
	m := m3
	m.lldp = []facts.LLDP{{NIC: "eth0", ChassisID: "aa:bb:cc:00:00:01", PortID: "t-vm5", SysName: "sw1"}}
	if a, _ := h.discover(m); a.Action != ActionReboot || h.report(m.mac).Node != "cn5" || h.report(m.mac).Method != "switch" {
		t.Errorf("%+v %+v", a, h.report(m.mac))
	}
}
