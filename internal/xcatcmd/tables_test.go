package xcatcmd

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

func TestTabLayouts(t *testing.T) {
	ts := newTabSchema(inventory.DefaultSchema())
	tests := []struct {
		table   string
		kind    tabKind
		id      string
		primary bool
	}{
		{"nodelist", kindNodelist, "node", true},
		{"nodegroup", kindNodegroup, "groupname", false},
		{"nodehm", kindNode, "node", false},
		{"ipmi", kindNode, "node", false},
		{"nics", kindNode, "node", false},
		{"switches", kindNode, "switch", false},
		{"mpa", kindNode, "mpa", false},
		{"ppchcp", kindNode, "hcp", false},
		{"ppcdirect", kindPpcdirect, "hcp", false},
		{"site", kindSite, "key", false},
		{"osimage", kindObject, "imagename", true},
		{"linuximage", kindObject, "imagename", false},
		{"winimage", kindObject, "imagename", false},
		{"nimimage", kindObject, "imagename", false},
		{"networks", kindObject, "netname", true},
		{"policy", kindObject, "priority", true},
		{"boottarget", kindObject, "bprofile", true},
		{"passwd", kindUnstored, "", false},
		{"auditlog", kindUnstored, "", false},
		{"discoverydata", kindUnstored, "", false},
		{"litefile", kindUnstored, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			l := ts.layout(tt.table)
			if l == nil {
				t.Fatal("no layout")
			}
			id := ""
			if l.stored() {
				id = l.def.Columns[l.id]
			}
			got := []any{l.kind, id, l.primary}
			want := []any{tt.kind, tt.id, tt.primary}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("kind, id column, primary (-want +got):\n%s", diff)
			}
		})
	}
	// Every attribute of every type is stored in some stored table.
	for _, typ := range inventory.Types() {
		if typ == inventory.Site {
			continue
		}
		for _, a := range inventory.DefaultSchema().Attrs(typ) {
			if a.Name == inventory.KeyAttr(typ) {
				continue
			}
			found := false
			for _, v := range ts.variants[typ][a.Name] {
				if l := ts.layout(v.table); l != nil && l.stored() {
					found = true
				}
			}
			if !found {
				t.Errorf("%s attribute %s (%s.%s) has no stored table", typ, a.Name, a.Table, a.Column)
			}
		}
	}
}

func TestTabCellVariants(t *testing.T) {
	ts := newTabSchema(inventory.DefaultSchema())
	view := inventory.NewMemory(
		obj(inventory.Group, "obmc", "mgt", "openbmc"),
		obj(inventory.Node, "a", "bmc", "1.1.1.1"),
		obj(inventory.Node, "b", "bmc", "2.2.2.2", "mgt", "openbmc"),
		obj(inventory.Node, "c", "bmc", "3.3.3.3", "groups", "obmc"),
		obj(inventory.Node, "d", "bmc", "4.4.4.4", "mgt", "ipmi,openbmc"),
		obj(inventory.Node, "e", "nodetype", "pdu", "username", "u"),
		obj(inventory.Node, "f", "nodetype", "switch", "username", "ssh", "snmpusername", "snmp"),
		obj(inventory.OSImage, "i", "imagetype", "windows", "template", "w.xml", "usercomment", "c"),
	)
	tests := []struct {
		typ         inventory.Type
		name, table string
		column      string
		want        string
	}{
		{inventory.Node, "a", "ipmi", "bmc", "1.1.1.1"}, // no mgt: the first variant
		{inventory.Node, "a", "openbmc", "bmc", ""},
		{inventory.Node, "b", "openbmc", "bmc", "2.2.2.2"},
		{inventory.Node, "b", "ipmi", "bmc", ""},
		{inventory.Node, "c", "openbmc", "bmc", "3.3.3.3"}, // mgt from the group
		{inventory.Node, "d", "ipmi", "bmc", "4.4.4.4"},    // \bipmi\b matches: both
		{inventory.Node, "d", "openbmc", "bmc", "4.4.4.4"},
		{inventory.Node, "e", "pdu", "username", "u"},
		{inventory.Node, "e", "pdu", "nodetype", "pdu"},
		{inventory.Node, "e", "nodetype", "nodetype", "pdu"},
		{inventory.Node, "e", "ppchcp", "username", ""},
		{inventory.Node, "f", "switches", "sshusername", "ssh"},
		{inventory.Node, "f", "switches", "username", "snmp"},
		{inventory.OSImage, "i", "winimage", "template", "w.xml"},
		{inventory.OSImage, "i", "linuximage", "template", ""},
		{inventory.OSImage, "i", "linuximage", "comments", "c"}, // no variant for windows: the first
		{inventory.OSImage, "i", "osimage", "comments", ""},     // not mapped by xCAT
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.table+"."+tt.column, func(t *testing.T) {
			o, _ := view.Get(tt.typ, tt.name)
			l := ts.layout(tt.table)
			got, _ := ts.cell(view, l, o, l.col(tt.column))
			if got != tt.want {
				t.Errorf("cell = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWordMatch(t *testing.T) {
	tests := []struct {
		s, word string
		want    bool
	}{
		{"ipmi", "ipmi", true},
		{"ipmi,openbmc", "openbmc", true},
		{"openbmc", "bmc", false},
		{"ipmi2", "ipmi", false},
		{"osi,ppc", "ppc", true},
		{"", "ipmi", false},
		{"x", "", false},
	}
	for _, tt := range tests {
		if got := wordMatch(tt.s, tt.word); got != tt.want {
			t.Errorf("wordMatch(%q, %q) = %v, want %v", tt.s, tt.word, got, tt.want)
		}
	}
}

func TestSQLLike(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"comput%", "compute", true},
		{"comput%", "computer,all", true},
		{"%pute", "compute", true},
		{"c_mpute", "compute", true},
		{"COMPUTE", "compute", true},
		{"comp", "compute", false},
		{"%a%b%", "xxaxxbxx", true},
		{"%a%b%", "xxbxxaxx", false},
		{"%", "", true},
		{"_", "", false},
	}
	for _, tt := range tests {
		if got := sqlLike(tt.pattern, tt.s); got != tt.want {
			t.Errorf("sqlLike(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestParseTabFilter(t *testing.T) {
	l := newTabSchema(inventory.DefaultSchema()).layout("nodelist")
	tests := []struct {
		expr    string
		want    tabFilter
		wantErr bool
	}{
		{"groups==compute", tabFilter{col: 1, op: "==", val: "compute"}, false},
		{"groups==a==b", tabFilter{col: 1, op: "==", val: "a==b"}, false},
		{"groups=~/comp%/", tabFilter{col: 1, op: "=~", val: "comp%"}, false},
		{"groups!=x", tabFilter{col: 1, op: "!=", val: "x"}, false},
		{"groups!~x%", tabFilter{col: 1, op: "!~", val: "x%"}, false},
		{"status<=b", tabFilter{col: 2, op: "<=", val: "b"}, false},
		{"status<b=c", tabFilter{col: 2, op: "<", val: "b=c"}, false},
		{"status>=b", tabFilter{col: 2, op: ">=", val: "b"}, false},
		{"status>b", tabFilter{col: 2, op: ">", val: "b"}, false},
		{"groups", tabFilter{}, true},
		{"nosuch==1", tabFilter{}, true},
	}
	for _, tt := range tests {
		got, err := parseTabFilter(l, tt.expr)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseTabFilter(%q) error = %v, want error %v", tt.expr, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parseTabFilter(%q) = %+v, want %+v", tt.expr, got, tt.want)
		}
	}
}

func TestTabGetopt(t *testing.T) {
	specs := []tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"w"}, value: true},
		{names: []string{"n", "lines"}, value: true},
		{names: []string{"d"}},
	}
	tests := []struct {
		args     []string
		wantOpts map[string][]string
		wantArgs []string
		wantErr  bool
	}{
		{[]string{"-w", "a==b", "nodelist", "-wc==d"}, map[string][]string{"w": {"a==b", "c==d"}}, []string{"nodelist"}, false},
		{[]string{"-dn5", "auditlog"}, map[string][]string{"d": {""}, "n": {"5"}}, []string{"auditlog"}, false},
		{[]string{"--lines=3", "--he"}, map[string][]string{"n": {"3"}, "h": {""}}, nil, false},
		{[]string{"-?"}, map[string][]string{"h": {""}}, nil, false},
		{[]string{"--", "-d"}, map[string][]string{}, []string{"-d"}, false},
		{[]string{"-"}, map[string][]string{}, []string{"-"}, false},
		{[]string{"-x"}, nil, nil, true},
		{[]string{"-w"}, nil, nil, true},
		{[]string{"--nosuch"}, nil, nil, true},
		{[]string{"--help=1"}, nil, nil, true},
	}
	for _, tt := range tests {
		p, err := tabGetopt(specs, tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("tabGetopt(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(tt.wantOpts, p.opts); diff != "" {
			t.Errorf("tabGetopt(%q) options (-want +got):\n%s", tt.args, diff)
		}
		if diff := cmp.Diff(tt.wantArgs, p.args); diff != "" {
			t.Errorf("tabGetopt(%q) operands (-want +got):\n%s", tt.args, diff)
		}
	}
}

// TestTabWrites checks the objects chtab, nodeadd and tabrestore leave
// behind, and that each command makes one Apply.
func TestTabWrites(t *testing.T) {
	tests := []struct {
		name  string
		steps []tabStep
		want  map[string]map[string]string // objects that differ from tabInventory (nil: deleted)
	}{
		{
			name:  "chtab sets node and group attributes",
			steps: []tabStep{cmdline("chtab", "node=cn1", "nodehm.mgt=kvm", "vm.host=hv1"), cmdline("chtab", "node=compute", "ipmi.username=USERID")},
			want: map[string]map[string]string{
				"node/cn1": {"groups": "compute,all", "mac": "aa:bb:cc:00:00:01", "status": "booted",
					"nicips": "eth0!10.1.0.1,eth1!10.2.0.1", "nictypes": "eth0!Ethernet,eth1!Ethernet",
					"usercomment": `rack 1, "top"`, "mgt": "kvm", "vmhost": "hv1"},
				"group/compute": {"grouptype": "static", "mgt": "ipmi", "bmc": `/\z/-bmc/`, "bmcusername": "USERID",
					"bmcpassword": "s3cret", "ip": `|node(\d+)|10.0.0.($1+0)|`, "os": "rhels8.6", "arch": "x86_64",
					"profile": "compute", "postscripts": "syslog,remoteshell", "usercomment": `compute nodes, "all" of them`},
			},
		},
		{
			name:  "chtab creates a node and a group",
			steps: []tabStep{cmdline("chtab", "node=cn9", "nodelist.groups=newgrp"), cmdline("chtab", "node=newgrp", "nodehm.mgt=ipmi")},
			want: map[string]map[string]string{
				"node/cn9":     {"groups": "newgrp"},
				"group/newgrp": {"mgt": "ipmi"},
			},
		},
		{
			name:  "chtab -d nodelist deletes the node",
			steps: []tabStep{cmdline("chtab", "-d", "node=ob1", "nodelist")},
			want:  map[string]map[string]string{"node/ob1": nil},
		},
		{
			name:  "chtab -d nodegroup deletes an empty group",
			steps: []tabStep{cmdline("chtab", "-d", "groupname=ipmiall", "nodegroup")},
			want:  map[string]map[string]string{"group/ipmiall": nil},
		},
		{
			name:  "masked secret keeps the value",
			steps: []tabStep{cmdline("chtab", "node=compute", "ipmi.password=******", "ipmi.username=root")},
			want: map[string]map[string]string{
				"group/compute": {"grouptype": "static", "mgt": "ipmi", "bmc": `/\z/-bmc/`, "bmcusername": "root",
					"bmcpassword": "s3cret", "ip": `|node(\d+)|10.0.0.($1+0)|`, "os": "rhels8.6", "arch": "x86_64",
					"profile": "compute", "postscripts": "syslog,remoteshell", "usercomment": `compute nodes, "all" of them`},
			},
		},
		{
			name:  "noderm of a group removes its nodes",
			steps: []tabStep{cmdline("noderm", "compute")},
			want:  map[string]map[string]string{"node/cn1": nil, "node/cn2": nil},
		},
		{
			name:  "nodeadd stores an empty value as the null regex",
			steps: []tabStep{cmdline("nodeadd", "cn5", "groups=compute", "hosts.ip=")},
			want:  map[string]map[string]string{"node/cn5": {"groups": "compute", "ip": "|^.*$||"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBackend{mem: inventory.NewMemory(tabInventory()...)}
			want := snapshot(b.mem)
			for k, v := range tt.want {
				if v == nil {
					delete(want, k)
				} else {
					want[k] = v
				}
			}
			for _, s := range tt.steps {
				before := b.applies
				if resp := runTab(b, s); resp.ExitCode != 0 {
					t.Fatalf("%v: rc %d: %s%s", s.args, resp.ExitCode, resp.Stdout, resp.Stderr)
				}
				if b.applies-before != 1 {
					t.Errorf("%v: %d Apply calls, want 1", s.args, b.applies-before)
				}
			}
			if diff := cmp.Diff(want, snapshot(b.mem)); diff != "" {
				t.Errorf("inventory (-want +got):\n%s", diff)
			}
		})
	}
}
