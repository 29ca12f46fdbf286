package discovery

import (
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"drover.dev/drover/internal/inventory"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// def returns a node object from name and attr=value pairs.
func def(name string, kv ...string) inventory.Object {
	o := inventory.Object{Type: inventory.Node, Name: name, Attrs: map[string]string{}}
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		o.Attrs[k] = v
	}
	return o
}

func group(name string, kv ...string) inventory.Object {
	o := def(name, kv...)
	o.Type = inventory.Group
	return o
}

const (
	macA = "52:54:00:00:00:0a"
	macB = "52:54:00:00:00:0b"
	macC = "52:54:00:00:00:0c"
)

// vm is a typical report: one NIC, SMBIOS serial and UUID, small hardware.
func vm(m, serial, uuid string) Facts {
	return Facts{
		BootMAC: mac(m), MACs: []net.HardwareAddr{mac(m)},
		Serial: serial, UUID: uuid, MTM: "Standard PC (Q35 + ICH9, 2009)",
		CPUModel: "QEMU Virtual CPU", CPUs: 2, MemoryBytes: 2 << 30,
		Disks: []Disk{{Name: "vda", SizeBytes: 10e9}},
	}
}

func mustRule(t *testing.T, s string) Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatalf("ParseRule(%q): %v", s, err)
	}
	return r
}

func TestMatch(t *testing.T) {
	gpuFacts := vm(macC, "GPU-1", "")
	gpuFacts.PCI = []PCIDevice{{Vendor: "10de", Device: "2330", Class: "0302"}}
	gpuFacts.MemoryBytes = 1 << 40
	gpuFacts.CPUs = 128

	lldp := func(f Facts, nb ...Neighbour) Facts { f.LLDP = nb; return f }
	dup := vm(macA, "S1", "u-1")
	dupNode := def("cn1", "groups=compute", "status=booted")
	for k, v := range Updates("cn1", dup) {
		if k != "status" {
			dupNode.Attrs[k] = v
		}
	}
	twoNICs := vm(macA, "", "")
	twoNICs.MACs = append(twoNICs.MACs, mac(macB))

	tests := []struct {
		name       string
		inv        []inventory.Object
		facts      Facts
		seq        *Sequential
		rules      []string
		reserved   []string
		want       Decision
		wantReason string // a substring of Decision.Reason
	}{
		{
			name:       "mac",
			inv:        []inventory.Object{def("cn1", "mac="+macA), def("cn2", "mac="+macB)},
			facts:      vm(macB, "S2", ""),
			want:       Decision{Outcome: Matched, Method: ByMAC, Node: "cn2"},
			wantReason: "node cn2 has MAC " + macB,
		},
		{
			name:  "mac in xCAT forms: upper case, dashes, !host and *NOIP*",
			inv:   []inventory.Object{def("cn1", "mac=52-54-00-00-00-0A!cn1-eth0|52:54:00:00:00:0C!*NOIP*")},
			facts: vm(macC, "", ""),
			want:  Decision{Outcome: Matched, Method: ByMAC, Node: "cn1"},
		},
		{
			name:  "mac inherited from a group is not how xCAT keeps macs but still counts",
			inv:   []inventory.Object{def("cn1", "groups=g"), group("g", "mac="+macA)},
			facts: vm(macA, "", ""),
			want:  Decision{Outcome: Matched, Method: ByMAC, Node: "cn1"},
		},
		{
			name:       "mac of a node with another serial is flagged",
			inv:        []inventory.Object{def("cn1", "mac="+macA, "serial=S1")},
			facts:      vm(macA, "S9", ""),
			want:       Decision{Outcome: Flagged, Method: ByMAC, Node: "cn1"},
			wantReason: "conflict: node cn1 has serial S1, the report S9",
		},
		{
			name:       "mac of a node with another uuid is flagged",
			inv:        []inventory.Object{def("cn1", "mac="+macA, "serial=S1", "uuid=u-1")},
			facts:      vm(macA, "S1", "u-2"),
			want:       Decision{Outcome: Flagged, Method: ByMAC, Node: "cn1"},
			wantReason: "uuid u-1, the report u-2",
		},
		{
			name:  "serial differing only in case and blanks is the same",
			inv:   []inventory.Object{def("cn1", "mac="+macA, "serial=abc123")},
			facts: vm(macA, " ABC123 ", ""),
			want:  Decision{Outcome: Matched, Method: ByMAC, Node: "cn1"},
		},
		{
			name:  "a report without serial cannot contradict",
			inv:   []inventory.Object{def("cn1", "mac="+macA, "serial=S1")},
			facts: vm(macA, "", ""),
			want:  Decision{Outcome: Matched, Method: ByMAC, Node: "cn1"},
		},
		{
			name:  "a placeholder serial cannot contradict",
			inv:   []inventory.Object{def("cn1", "mac="+macA, "serial=S1")},
			facts: vm(macA, "To Be Filled By O.E.M.", ""),
			want:  Decision{Outcome: Matched, Method: ByMAC, Node: "cn1"},
		},
		{
			name:       "mac of one node, serial of another",
			inv:        []inventory.Object{def("cn1", "mac="+macA), def("cn2", "serial=S2")},
			facts:      vm(macA, "S2", ""),
			want:       Decision{Outcome: Flagged, Method: ByMAC, Node: "cn1", Candidates: []string{"cn1", "cn2"}},
			wantReason: "MAC of node cn1 but the serial/uuid of node cn2",
		},
		{
			name:       "two NICs claimed by two nodes",
			inv:        []inventory.Object{def("cn1", "mac="+macA), def("cn2", "mac="+macB)},
			facts:      twoNICs,
			want:       Decision{Outcome: Flagged, Method: ByMAC, Candidates: []string{"cn1", "cn2"}},
			wantReason: "ambiguous",
		},
		{
			name:       "duplicate report",
			inv:        []inventory.Object{dupNode},
			facts:      dup,
			want:       Decision{Outcome: Duplicate, Method: ByMAC, Node: "cn1"},
			wantReason: "already holds",
		},
		{
			name:  "same machine with more memory is not a duplicate",
			inv:   []inventory.Object{dupNode},
			facts: func() Facts { f := dup; f.MemoryBytes *= 2; return f }(),
			want:  Decision{Outcome: Matched, Method: ByMAC, Node: "cn1"},
		},
		{
			name:       "mtms by serial",
			inv:        []inventory.Object{def("cn1", "serial=S1"), def("cn2", "serial=S2")},
			facts:      vm(macA, "S1", "u-1"),
			want:       Decision{Outcome: Matched, Method: ByMTMS, Node: "cn1"},
			wantReason: "node cn1 has serial S1",
		},
		{
			name:       "mtms by serial and mtm",
			inv:        []inventory.Object{def("cn1", "serial=S1", "mtm=Standard PC (Q35 + ICH9, 2009)")},
			facts:      vm(macA, "S1", ""),
			want:       Decision{Outcome: Matched, Method: ByMTMS, Node: "cn1"},
			wantReason: "and mtm",
		},
		{
			name:  "mtms match of a node that had other MACs",
			inv:   []inventory.Object{def("cn1", "serial=S1", "mac="+macB)},
			facts: vm(macA, "S1", ""),
			want: Decision{Outcome: Matched, Method: ByMTMS, Node: "cn1",
				Notes: []string{"node cn1 had other MACs (" + macB + "); the report's replace them"}},
		},
		{
			name:  "mtms serial with another mtm does not match",
			inv:   []inventory.Object{def("cn1", "serial=S1", "mtm=7984-6BU")},
			facts: vm(macA, "S1", ""),
			want:  Decision{Outcome: Queued},
		},
		{
			name:       "mtms by uuid ignores case",
			inv:        []inventory.Object{def("cn1", "uuid=0E5B1F3C-0000-4000-8000-000000000001")},
			facts:      vm(macA, "", "0e5b1f3c-0000-4000-8000-000000000001"),
			want:       Decision{Outcome: Matched, Method: ByMTMS, Node: "cn1"},
			wantReason: "has uuid",
		},
		{
			name:       "mtms serial shared by two nodes",
			inv:        []inventory.Object{def("cn1", "serial=S1"), def("cn2", "serial=S1")},
			facts:      vm(macA, "S1", ""),
			want:       Decision{Outcome: Flagged, Method: ByMTMS, Candidates: []string{"cn1", "cn2"}},
			wantReason: "ambiguous",
		},
		{
			name:       "mtms serial and uuid of different nodes",
			inv:        []inventory.Object{def("cn1", "serial=S1"), def("cn2", "uuid=u-1")},
			facts:      vm(macA, "S1", "u-1"),
			want:       Decision{Outcome: Flagged, Method: ByMTMS, Candidates: []string{"cn1", "cn2"}},
			wantReason: "ambiguous",
		},
		{
			name:       "mtms serial matches but the node's uuid differs",
			inv:        []inventory.Object{def("cn1", "serial=S1", "uuid=u-1")},
			facts:      vm(macA, "S1", "u-2"),
			want:       Decision{Outcome: Flagged, Method: ByMTMS, Node: "cn1"},
			wantReason: "conflict",
		},
		{
			name:  "placeholder serials never match",
			inv:   []inventory.Object{def("cn1", "serial=To be filled by O.E.M.")},
			facts: vm(macA, "To Be Filled By O.E.M.", ""),
			want:  Decision{Outcome: Queued},
		},
		{
			name:  "switch by system name and port number",
			inv:   []inventory.Object{def("cn1", "switch=sw1", "switchport=5"), def("cn2", "switch=sw1", "switchport=6")},
			facts: lldp(vm(macA, "", ""), Neighbour{NIC: "eth0", ChassisID: "aa:bb:cc:00:00:01", SysName: "sw1.lab", PortID: "Ethernet1/5"}),
			want:  Decision{Outcome: Matched, Method: BySwitch, Node: "cn1"},
		},
		{
			name: "switch by chassis MAC of the switch's node, port description",
			inv: []inventory.Object{def("cn1", "switch=leaf1", "switchport=swp7"),
				def("leaf1", "nodetype=switch", "mac=AA:BB:CC:00:00:01")},
			facts: lldp(vm(macA, "", ""), Neighbour{NIC: "eth0", ChassisID: "aa:bb:cc:00:00:01", PortID: "52:54:00:00:00:99", PortDesc: "swp7"}),
			want:  Decision{Outcome: Matched, Method: BySwitch, Node: "cn1"},
		},
		{
			name:  "switch inherited from a group",
			inv:   []inventory.Object{def("cn1", "groups=rack1", "switchport=3"), group("rack1", "switch=sw1")},
			facts: lldp(vm(macA, "", ""), Neighbour{SysName: "sw1", PortID: "3"}),
			want:  Decision{Outcome: Matched, Method: BySwitch, Node: "cn1"},
		},
		{
			name:  "port 5 is not Ethernet15",
			inv:   []inventory.Object{def("cn1", "switch=sw1", "switchport=5")},
			facts: lldp(vm(macA, "", ""), Neighbour{SysName: "sw1", PortID: "Ethernet15"}),
			want:  Decision{Outcome: Queued},
		},
		{
			name:  "another switch",
			inv:   []inventory.Object{def("cn1", "switch=sw1", "switchport=5")},
			facts: lldp(vm(macA, "", ""), Neighbour{SysName: "sw2", PortID: "5"}),
			want:  Decision{Outcome: Queued},
		},
		{
			name:       "two nodes on one switch port",
			inv:        []inventory.Object{def("cn1", "switch=sw1", "switchport=5"), def("cn2", "switch=sw1", "switchport=Ethernet5")},
			facts:      lldp(vm(macA, "", ""), Neighbour{SysName: "sw1", PortID: "Ethernet5"}),
			want:       Decision{Outcome: Flagged, Method: BySwitch, Candidates: []string{"cn1", "cn2"}},
			wantReason: "ambiguous",
		},
		{
			name:       "switch port of a node bound to another serial",
			inv:        []inventory.Object{def("cn1", "switch=sw1", "switchport=5", "serial=OLD")},
			facts:      lldp(vm(macA, "NEW", ""), Neighbour{SysName: "sw1", PortID: "5"}),
			want:       Decision{Outcome: Flagged, Method: BySwitch, Node: "cn1"},
			wantReason: "conflict",
		},
		{
			name: "mtms before switch",
			inv: []inventory.Object{def("cn1", "switch=sw1", "switchport=5"),
				def("cn2", "serial=S2")},
			facts: lldp(vm(macA, "S2", ""), Neighbour{SysName: "sw1", PortID: "5"}),
			want:  Decision{Outcome: Matched, Method: ByMTMS, Node: "cn2"},
		},
		{
			name:  "switch before sequential",
			inv:   []inventory.Object{def("cn7", "switch=sw1", "switchport=5")},
			facts: lldp(vm(macA, "", ""), Neighbour{SysName: "sw1", PortID: "5"}),
			seq:   &Sequential{Names: []string{"cn1", "cn2"}},
			want:  Decision{Outcome: Matched, Method: BySwitch, Node: "cn7"},
		},
		{
			name:       "sequential skips defined names with a MAC and creates the next",
			inv:        []inventory.Object{def("cn1", "mac="+macB)},
			facts:      vm(macA, "S", ""),
			seq:        &Sequential{Names: []string{"cn1", "cn2", "cn3"}, Groups: []string{"all", "compute"}},
			want:       Decision{Outcome: Matched, Method: BySequential, Node: "cn2", Create: true, Groups: []string{"all", "compute"}},
			wantReason: "cn2 is the next free name",
		},
		{
			name:  "sequential takes a predefined node without MAC",
			inv:   []inventory.Object{def("cn1", "mac="+macB), def("cn2", "groups=compute")},
			facts: vm(macA, "S", ""),
			seq:   &Sequential{Names: []string{"cn1", "cn2", "cn3"}},
			want:  Decision{Outcome: Matched, Method: BySequential, Node: "cn2"},
		},
		{
			name:     "sequential skips reserved names and nodes bound to another serial",
			inv:      []inventory.Object{def("cn2", "serial=OTHER")},
			facts:    vm(macA, "S", ""),
			seq:      &Sequential{Names: []string{"cn1", "cn2", "cn3"}},
			reserved: []string{"cn1"},
			want:     Decision{Outcome: Matched, Method: BySequential, Node: "cn3", Create: true},
		},
		{
			name:       "sequential range exhausted",
			inv:        []inventory.Object{def("cn1", "mac="+macB), def("cn2", "mac="+macC)},
			facts:      vm(macA, "S", ""),
			seq:        &Sequential{Names: []string{"cn1", "cn2"}},
			want:       Decision{Outcome: Queued, Notes: []string{"sequential discovery: no free name left among 2 names"}},
			wantReason: "no node definition",
		},
		{
			name:  "sequential range exhausted, a rule names it",
			inv:   []inventory.Object{def("cn1", "mac="+macB)},
			facts: gpuFacts,
			seq:   &Sequential{Names: []string{"cn1"}},
			rules: []string{"gpu: gpu=10de -> name=gpu{n:03} groups=gpu"},
			want: Decision{Outcome: Matched, Method: ByRule, Node: "gpu001", Create: true, Rule: "gpu", Groups: []string{"gpu"},
				Notes: []string{"sequential discovery: no free name left among 1 names"}},
			wantReason: "rule gpu matches: gpu=10de",
		},
		{
			name:  "rule takes the next free number",
			inv:   []inventory.Object{def("gpu001"), def("gpu003")},
			facts: gpuFacts,
			rules: []string{"gpu=10de -> name=gpu{n:03}"},
			want:  Decision{Outcome: Matched, Method: ByRule, Node: "gpu002", Create: true, Rule: "gpu=10de -> name=gpu{n:03}"},
		},
		{
			name:     "rule skips reserved names",
			facts:    gpuFacts,
			rules:    []string{"x: cpus>=64 -> name=big{n}"},
			reserved: []string{"big1"},
			want:     Decision{Outcome: Matched, Method: ByRule, Node: "big2", Create: true, Rule: "x"},
		},
		{
			name:  "first matching rule wins",
			facts: gpuFacts,
			rules: []string{
				"amd: gpu=1002 -> name=amd{n}",
				"fat: memory>=512GiB cpus>=64 -> name=fat{n:02} groups=compute,bigmem",
				"gpu: gpu=10de -> name=gpu{n:03}",
			},
			want: Decision{Outcome: Matched, Method: ByRule, Node: "fat01", Create: true, Rule: "fat", Groups: []string{"compute", "bigmem"}},
		},
		{
			name:  "no rule matches",
			facts: vm(macA, "S", ""),
			rules: []string{"fat: memory>=512GiB -> name=fat{n}", "gpu=10de -> name=gpu{n}"},
			want:  Decision{Outcome: Queued},
		},
		{
			name:  "nothing defined",
			facts: vm(macA, "S", "u"),
			want:  Decision{Outcome: Queued},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rules []Rule
			for _, s := range tt.rules {
				rules = append(rules, mustRule(t, s))
			}
			got := Match(Input{
				Facts:      tt.facts,
				Inventory:  inventory.NewMemory(tt.inv...),
				Sequential: tt.seq,
				Rules:      rules,
				Reserved:   tt.reserved,
			})
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Decision{}, "Reason"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Match() mismatch (-want +got):\n%s\nreason: %s", diff, got.Reason)
			}
			if got.Reason == "" || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
		})
	}
}

// TestMatchTwoReports is the acceptance case in miniature: two
// machines, one matched by serial to cn1, the other by sequential discovery
// to cn2; repeating either report after it was applied is a duplicate.
func TestMatchTwoReports(t *testing.T) {
	inv := inventory.NewMemory(def("cn1", "serial=SER-1", "groups=compute"))
	seq := &Sequential{Names: []string{"cn1", "cn2"}}
	a, b := vm(macA, "SER-1", "u-a"), vm(macB, "SER-2", "u-b")

	apply := func(d Decision, f Facts) {
		t.Helper()
		o, ok := inv.Get(inventory.Node, d.Node)
		obj := inventory.Object{Type: inventory.Node, Name: d.Node}
		if ok {
			obj = o.Clone()
		}
		for k, v := range Updates(d.Node, f) {
			obj.Set(k, v)
		}
		if err := inv.Apply(t.Context(), []inventory.Change{{Op: inventory.Put, Object: obj}}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		facts Facts
		want  Decision
	}{
		{a, Decision{Outcome: Matched, Method: ByMTMS, Node: "cn1"}},
		{b, Decision{Outcome: Matched, Method: BySequential, Node: "cn2", Create: true}},
		{a, Decision{Outcome: Duplicate, Method: ByMAC, Node: "cn1"}},
		{b, Decision{Outcome: Duplicate, Method: ByMAC, Node: "cn2"}},
	}
	for i, s := range steps {
		got := Match(Input{Facts: s.facts, Inventory: inv, Sequential: seq})
		if diff := cmp.Diff(s.want, got, cmpopts.IgnoreFields(Decision{}, "Reason"), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("report %d: (-want +got):\n%s", i, diff)
		}
		if got.Outcome == Matched {
			apply(got, s.facts)
		}
	}
}
