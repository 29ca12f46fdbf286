package inventory

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// noderangeIndex is the interface package noderange declares; Index must
// satisfy it structurally.
type noderangeIndex interface {
	IsNode(name string) bool
	GroupMembers(name string) (members []string, ok bool)
	Nodes() []string
	Attr(node, attr string) (value string, ok bool)
}

var _ noderangeIndex = (*Index)(nil)

func TestIndex(t *testing.T) {
	m := groupFixture(dyn("ipmis", "mgt==ipmi"))
	ix := NewIndex(m, DefaultSchema())

	if diff := cmp.Diff([]string{"login1", "n1", "n2", "n3", "sw1"}, ix.Nodes()); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
	ix.Nodes()[0] = "changed"
	if ix.Nodes()[0] != "login1" {
		t.Errorf("Nodes returns the index's own slice")
	}
	for name, want := range map[string]bool{"n1": true, "sw1": true, "compute": false, "rack1": false, "": false} {
		if got := ix.IsNode(name); got != want {
			t.Errorf("IsNode(%q) = %v, want %v", name, got, want)
		}
	}
	for _, g := range []string{"ipmis", "ipmis"} { // second call from the cache
		got, ok := ix.GroupMembers(g)
		if diff := cmp.Diff([]string{"n1", "n3"}, got); diff != "" || !ok {
			t.Errorf("GroupMembers(%s) ok=%v (-want +got):\n%s", g, ok, diff)
		}
	}
}

func TestIndexAttr(t *testing.T) {
	m := groupFixture()
	ix := NewIndex(m, nil)
	for _, tc := range []struct {
		node, attr string
		want       string
		wantOK     bool
	}{
		{"n1", "groups", "compute,rack1", true},
		{"n1", "tags", "compute,rack1", true},
		{"n1", "nodelist.groups", "compute,rack1", true},
		{"n1", "mgt", "ipmi", true},
		{"n2", "mgt", "openbmc", true},
		{"n1", "nodehm.mgt", "ipmi", true},
		{"n1", "ipmi.bmc", "n1-bmc", true},
		{"n1", "openbmc.bmc", "n1-bmc", true},
		{"n1", "nodetype.os", "rhels9", true},
		{"n1", "nodelist.status", "booted", true},
		{"n1", "nodelist.node", "n1", true},
		{"n1", "nodehm.comments", "", true}, // a column without a node attribute
		{"sw1", "nodehm.mgt", "", true},
		{"nosuch", "nodehm.mgt", "", true},
		{"n1", "bmc", "", false}, // only groups, tags and mgt are short names
		{"n1", "nodehm.nosuch", "", false},
		{"n1", "nosuch.mgt", "", false},
		{"n1", "site.value", "", false}, // not a node table
		{"n1", "", "", false},
	} {
		got, ok := ix.Attr(tc.node, tc.attr)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Attr(%s, %s) = %q, %v; want %q, %v", tc.node, tc.attr, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestColumnMap(t *testing.T) {
	cols := columnMap(DefaultSchema())
	for key, want := range map[string]columnRef{
		"nodehm.mgt":        {attr: "mgt"},
		"ipmi.bmc":          {attr: "bmc"},
		"ipmi.username":     {attr: "bmcusername"},
		"openbmc.password":  {attr: "bmcpassword"},
		"nodelist.groups":   {attr: "groups"},
		"nodelist.comments": {attr: "usercomment"},
		"nodelist.node":     {nodeName: true},
		"switch.port":       {attr: "switchport"},
		"ppcdirect.hcp":     {nodeName: true},
		"nics.nicips":       {attr: "nicips"},
		"nodehm.comments":   {},
	} {
		got, ok := cols[key]
		if !ok || got != want {
			t.Errorf("columns[%s] = %+v, %v; want %+v", key, got, ok, want)
		}
	}
}

// bigInventory is n nodes in n/100 groups of 100, every group giving a few
// attributes, one of them a regular expression.
func bigInventory(n int) *Memory {
	objs := make([]Object, 0, n+n/100+1)
	groups := max(n/100, 1)
	for g := range groups {
		objs = append(objs, group(fmt.Sprintf("rack%04d", g), map[string]string{
			"mgt": "ipmi", "bmc": `/\z/-bmc/`, "ip": `|\D+(\d+)|10.0.($1/250).($1%250)|`,
			"os": "rhels9", "arch": "x86_64", "profile": "compute", "postscripts": "syslog,setupntp",
		}))
	}
	for i := range n {
		objs = append(objs, node(fmt.Sprintf("node%06d", i), map[string]string{
			"groups": fmt.Sprintf("rack%04d,all,compute", i%groups),
			"mac":    fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff),
		}))
	}
	return NewMemory(objs...)
}

func BenchmarkNewIndex100k(b *testing.B) {
	m := bigInventory(100_000)
	s := DefaultSchema()
	b.ReportAllocs()
	b.ResetTimer()
	var ix *Index
	for b.Loop() {
		ix = NewIndex(m, s)
	}
	b.StopTimer()
	members, _ := ix.GroupMembers("compute")
	b.ReportMetric(float64(len(ix.Nodes())), "nodes")
	b.ReportMetric(float64(len(members)), "members(compute)")
}

func BenchmarkResolve(b *testing.B) {
	m := bigInventory(1000)
	n, _ := m.Get(Node, "node000123")
	b.ReportAllocs()
	var r Resolved
	for b.Loop() {
		r = Resolve(m, n)
	}
	if r.IP().String() != "10.0.0.123" {
		b.Fatalf("ip = %s", r["ip"])
	}
}

func BenchmarkIndexAttr100k(b *testing.B) {
	m := bigInventory(100_000)
	ix := NewIndex(m, nil)
	nodes := ix.Nodes()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, ok := ix.Attr(nodes[i%len(nodes)], "ipmi.bmc"); !ok {
			b.Fatal("unknown attribute")
		}
		i++
	}
}

func BenchmarkDynamicGroup100k(b *testing.B) {
	m := bigInventory(100_000)
	extra := listAll(m)
	extra = append(extra, dyn("ten", `ip=~^10\.0\.0\.`))
	m = NewMemory(extra...)
	b.ReportAllocs()
	b.ResetTimer()
	var members []string
	for b.Loop() {
		members, _ = NewIndex(m, nil).GroupMembers("ten")
	}
	b.ReportMetric(float64(len(members)), "members")
}
