package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func node(name string, attrs map[string]string) Object {
	return Object{Type: Node, Name: name, Attrs: attrs}
}

func group(name string, attrs map[string]string) Object {
	return Object{Type: Group, Name: name, Attrs: attrs}
}

func site(attrs map[string]string) Object {
	return Object{Type: Site, Name: SiteName, Attrs: attrs}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name string
		objs []Object
		node string
		want Resolved
	}{
		{
			// regexp_db.rst: the nodehm table with a mygroup row and a node1 row
			name: "regexp_db node1 overrides serialspeed",
			objs: []Object{
				group("mygroup", map[string]string{"mgt": "ipmi", "serialspeed": "19200"}),
				node("node1", map[string]string{"groups": "mygroup", "serialspeed": "115200"}),
				node("node2", map[string]string{"groups": "mygroup"}),
			},
			node: "node1",
			want: Resolved{"groups": "mygroup", "mgt": "ipmi", "serialspeed": "115200"},
		},
		{
			name: "regexp_db node2 inherits both",
			objs: []Object{
				group("mygroup", map[string]string{"mgt": "ipmi", "serialspeed": "19200"}),
				node("node1", map[string]string{"groups": "mygroup", "serialspeed": "115200"}),
				node("node2", map[string]string{"groups": "mygroup"}),
			},
			node: "node2",
			want: Resolved{"groups": "mygroup", "mgt": "ipmi", "serialspeed": "19200"},
		},
		{
			name: "cases1 doubletrouble bmc",
			objs: []Object{
				group("doubletrouble", map[string]string{"bmc": `|\z|-imm|`, "mgt": "ipmi"}),
				node("mgt02", map[string]string{"groups": "doubletrouble"}),
			},
			node: "mgt02",
			want: Resolved{"groups": "doubletrouble", "bmc": "mgt02-imm", "mgt": "ipmi"},
		},
		{
			name: "cases1 compute bmc slash form",
			objs: []Object{
				group("compute", map[string]string{"bmc": `/\z/-bmc/`}),
				node("com02", map[string]string{"groups": "compute", "mgt": "ipmi"}),
			},
			node: "com02",
			want: Resolved{"groups": "compute", "bmc": "com02-bmc", "mgt": "ipmi"},
		},
		{
			name: "cases1 hosts.ip",
			objs: []Object{
				group("compute", map[string]string{"ip": `|node(\d+)|10.0.0.($1+0)|`}),
				node("node254", map[string]string{"groups": "compute"}),
			},
			node: "node254",
			want: Resolved{"groups": "compute", "ip": "10.0.0.254"},
		},
		{
			name: "cases1 kvms",
			objs: []Object{
				group("kvms", map[string]string{
					"vmhost":        `|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|c($1)f($2)x($3)|`,
					"vmstorage":     `|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|dir:///install/vms/vm($4+0)|`,
					"vmmemory":      "3072",
					"vmcpus":        "2",
					"vmnics":        "virbr2",
					"vmnicnicmodel": "virtio",
				}),
				node("c01f02x03v04", map[string]string{"groups": "kvms", "mgt": "kvm"}),
			},
			node: "c01f02x03v04",
			want: Resolved{
				"groups": "kvms", "mgt": "kvm", "vmcpus": "2", "vmhost": "c01f02x03", "vmmemory": "3072",
				"vmnicnicmodel": "virtio", "vmnics": "virbr2", "vmstorage": "dir:///install/vms/vm4",
			},
		},
		{
			name: "cases1 sn01 ip and nicips.eth1",
			objs: []Object{
				group("g", map[string]string{
					"ip":     `|\D+(\d+)|172.21.254.($1%100)|`,
					"nicips": `eth1!|\D+(\d+)|172.20.254.($1%100)|`,
				}),
				node("xcattest_tmp_node_sn01", map[string]string{"groups": "g"}),
			},
			node: "xcattest_tmp_node_sn01",
			want: Resolved{"groups": "g", "ip": "172.21.254.1", "nicips": "eth1!172.20.254.1"},
		},
		{
			name: "cases1 sn16 ip and nicips.eth1",
			objs: []Object{
				group("g", map[string]string{
					"ip":     `|\D+(\d+)|172.21.254.($1%100)|`,
					"nicips": `eth0!10.0.0.1,eth1!|\D+(\d+)|172.20.254.($1%100)|`,
				}),
				node("xcattest_tmp_node_sn16", map[string]string{"groups": "g"}),
			},
			node: "xcattest_tmp_node_sn16",
			want: Resolved{"groups": "g", "ip": "172.21.254.16", "nicips": "eth0!10.0.0.1,eth1!172.20.254.16"},
		},
		{
			name: "nic value evaluating to empty drops the interface",
			objs: []Object{
				node("n1", map[string]string{"nicips": `eth0!|^.*$||,eth1!1.2.3.4`}),
			},
			node: "n1",
			want: Resolved{"nicips": "eth1!1.2.3.4"},
		},
		{
			name: "whole nic value as a regex",
			objs: []Object{
				node("node1", map[string]string{"nicips": `|node(\d+)|eth0!192.1.1.($1+10),bond0!10.28.41.($1+10)|`}),
			},
			node: "node1",
			want: Resolved{"nicips": "eth0!192.1.1.11,bond0!10.28.41.11"},
		},
		{
			name: "easy regex inherited",
			objs: []Object{
				group("compute", map[string]string{"ip": `|10.0.0.($1+0)|`}),
				node("node1", map[string]string{"groups": "compute"}),
			},
			node: "node1",
			want: Resolved{"groups": "compute", "ip": "10.0.0.1"},
		},
		{
			name: "group order decides",
			objs: []Object{
				group("a", map[string]string{"os": "rhels8", "arch": "x86_64"}),
				group("b", map[string]string{"os": "rhels9", "profile": "compute"}),
				node("n1", map[string]string{"groups": "b,a"}),
			},
			node: "n1",
			want: Resolved{"groups": "b,a", "os": "rhels9", "arch": "x86_64", "profile": "compute"},
		},
		{
			name: "node's own value wins",
			objs: []Object{
				group("a", map[string]string{"os": "rhels8"}),
				node("n1", map[string]string{"groups": "a", "os": "sles15"}),
			},
			node: "n1",
			want: Resolved{"groups": "a", "os": "sles15"},
		},
		{
			name: "empty strings are unset",
			objs: []Object{
				group("a", map[string]string{"os": "rhels8", "arch": ""}),
				group("b", map[string]string{"arch": "ppc64le"}),
				node("n1", map[string]string{"groups": "a,b", "os": ""}),
			},
			node: "n1",
			want: Resolved{"groups": "a,b", "os": "rhels8", "arch": "ppc64le"},
		},
		{
			name: "forced null stops inheritance",
			objs: []Object{
				group("a", map[string]string{"bmc": "x-bmc"}),
				node("n1", map[string]string{"groups": "a", "bmc": `|^.*$||`}),
			},
			node: "n1",
			want: Resolved{"groups": "a"},
		},
		{
			name: "missing groups are skipped",
			objs: []Object{
				group("b", map[string]string{"os": "rhels9"}),
				node("n1", map[string]string{"groups": "nosuch, b"}),
			},
			node: "n1",
			want: Resolved{"groups": "nosuch, b", "os": "rhels9"},
		},
		{
			name: "nodelist and nodegroup attributes are not inherited",
			objs: []Object{
				group("a", map[string]string{
					"status": "booted", "usercomment": "group note", "primarysn": "sn1",
					"grouptype": "static", "members": "n1", "wherevals": "mgt==ipmi", "membergroups": "x",
					"mgt": "ipmi",
				}),
				node("n1", map[string]string{"groups": "a"}),
			},
			node: "n1",
			want: Resolved{"groups": "a", "mgt": "ipmi"},
		},
		{
			// getobjdefs reads ppcdirect rows by hcp=<node> and username=<user>
			name: "passwd attributes are neither inherited nor evaluated",
			objs: []Object{
				group("a", map[string]string{"passwd.HMC": "abc123", "passwd.admin": "x"}),
				node("n1", map[string]string{"groups": "a", "passwd.admin": "/\\z/-pw/"}),
			},
			node: "n1",
			want: Resolved{"groups": "a", "passwd.admin": "/\\z/-pw/"},
		},
		{
			name: "hierarchicalattrs concatenate without duplicates",
			objs: []Object{
				site(map[string]string{"hierarchicalattrs": "postscripts, postbootscripts:;"}),
				group("a", map[string]string{"postscripts": "b,c", "postbootscripts": "y;z"}),
				group("b", map[string]string{"postscripts": "d,a", "postbootscripts": "x"}),
				node("n1", map[string]string{"groups": "a,b", "postscripts": "a,b", "postbootscripts": "x"}),
			},
			node: "n1",
			want: Resolved{"groups": "a,b", "postscripts": "a,b,c,d", "postbootscripts": "x;y;z"},
		},
		{
			name: "hierarchicalattrs from groups only",
			objs: []Object{
				site(map[string]string{"hierarchicalattrs": "postscripts"}),
				group("a", map[string]string{"postscripts": "p1"}),
				group("b", map[string]string{"postscripts": "p2,p1"}),
				node("n1", map[string]string{"groups": "a,b"}),
			},
			node: "n1",
			want: Resolved{"groups": "a,b", "postscripts": "p1,p2"},
		},
		{
			name: "hierarchicalattrs by table column name",
			objs: []Object{
				site(map[string]string{"hierarchicalattrs": "port"}),
				group("a", map[string]string{"switchport": "1"}),
				node("n1", map[string]string{"groups": "a", "switchport": "2"}),
			},
			node: "n1",
			want: Resolved{"groups": "a", "switchport": "2,1"},
		},
		{
			name: "without hierarchicalattrs the first value wins",
			objs: []Object{
				group("a", map[string]string{"postscripts": "b,c"}),
				node("n1", map[string]string{"groups": "a", "postscripts": "a"}),
			},
			node: "n1",
			want: Resolved{"groups": "a", "postscripts": "a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory(tc.objs...)
			n, ok := m.Get(Node, tc.node)
			if !ok {
				t.Fatalf("no node %s", tc.node)
			}
			got := Resolve(m, n)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Resolve(%s) (-want +got):\n%s", tc.node, diff)
			}
			// Index.Resolve and ResolveAttr agree with Resolve.
			ix := NewIndex(m, nil)
			if got2, _ := ix.Resolve(tc.node); !cmp.Equal(got, got2) {
				t.Errorf("Index.Resolve differs:\n%s", cmp.Diff(got, got2))
			}
			for attr, want := range tc.want {
				if v, _ := ResolveAttr(m, n, attr); v != want {
					t.Errorf("ResolveAttr(%s) = %q, want %q", attr, v, want)
				}
			}
		})
	}
}

func TestResolveGroupObjectIsRaw(t *testing.T) {
	g := group("compute", map[string]string{"ip": `|node(\d+)|10.0.0.($1+0)|`, "grouptype": "static"})
	m := NewMemory(g)
	got := Resolve(m, &g)
	want := Resolved{"ip": `|node(\d+)|10.0.0.($1+0)|`, "grouptype": "static"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve(group) (-want +got):\n%s", diff)
	}
}

func TestResolveAttr(t *testing.T) {
	m := NewMemory(
		site(map[string]string{"hierarchicalattrs": "postscripts"}),
		group("a", map[string]string{"mgt": "ipmi", "postscripts": "p1"}),
		group("b", map[string]string{"bmc": `/\z/-bmc/`, "postscripts": "p2", "os": "x"}),
		node("n1", map[string]string{"groups": "a,b", "os": "rhels9", "postscripts": "p0"}),
	)
	n, _ := m.Get(Node, "n1")
	for _, tc := range []struct {
		attr, value, from string
	}{
		{"mgt", "ipmi", "a"},
		{"bmc", "n1-bmc", "b"},
		{"os", "rhels9", ""},
		{"groups", "a,b", ""},
		{"postscripts", "p0,p1,p2", "a,b"},
		{"arch", "", ""},
	} {
		v, from := ResolveAttr(m, n, tc.attr)
		if v != tc.value || from != tc.from {
			t.Errorf("ResolveAttr(%s) = %q, %q; want %q, %q", tc.attr, v, from, tc.value, tc.from)
		}
	}
}

func TestParseHierarchical(t *testing.T) {
	s := DefaultSchema()
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"", nil},
		{"postscripts", map[string]string{"postscripts": ","}},
		{" postscripts : | , postbootscripts:0,,", map[string]string{"postscripts": "|", "postbootscripts": ","}},
		{"groups,status", map[string]string{}},                           // nodelist never takes part
		{"port:;", map[string]string{"switchport": ";", "webport": ";"}}, // switch.port and websrv.port
	} {
		got := parseHierarchical(tc.in, s)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseHierarchical(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
