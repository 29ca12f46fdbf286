package xcatcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// countingBackend is an in-memory Backend that counts Apply calls and can
// be told to fail them.
type countingBackend struct {
	mem     *inventory.Memory
	applies int
	fail    error
}

func (b *countingBackend) View() inventory.View { return b.mem.View() }

func (b *countingBackend) Apply(ctx context.Context, ch []inventory.Change) error {
	b.applies++
	if b.fail != nil {
		return b.fail
	}
	return b.mem.Apply(ctx, ch)
}

func obj(t inventory.Type, name string, kv ...string) inventory.Object {
	o := inventory.Object{Type: t, Name: name, Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Attrs[kv[i]] = kv[i+1]
	}
	return o
}

// tabInventory is the small inventory the table tests start from.
func tabInventory() []inventory.Object {
	return []inventory.Object{
		obj(inventory.Site, inventory.SiteName,
			"master", "10.0.0.1", "domain", "cluster.example", "xcatdport", "3001", "xcatiport", "3002",
			"dhcplease", "43200", "tftpdir", "/tftpboot"),
		obj(inventory.Group, "compute",
			"grouptype", "static", "mgt", "ipmi", "bmc", `/\z/-bmc/`, "bmcusername", "ADMIN", "bmcpassword", "s3cret",
			"ip", `|node(\d+)|10.0.0.($1+0)|`, "os", "rhels8.6", "arch", "x86_64", "profile", "compute",
			"postscripts", "syslog,remoteshell", "usercomment", `compute nodes, "all" of them`),
		obj(inventory.Group, "obmc", "mgt", "openbmc"),
		obj(inventory.Group, "ipmiall", "grouptype", "dynamic", "wherevals", "mgt==ipmi"),
		obj(inventory.Node, "cn1",
			"groups", "compute,all", "mac", "aa:bb:cc:00:00:01", "status", "booted",
			"nicips", "eth0!10.1.0.1,eth1!10.2.0.1", "nictypes", "eth0!Ethernet,eth1!Ethernet",
			"usercomment", `rack 1, "top"`),
		obj(inventory.Node, "cn2",
			"groups", "compute,all", "bmc", "10.0.0.102", "serialspeed", "115200", "mac", "aa:bb:cc:00:00:02"),
		obj(inventory.Node, "ob1", "groups", "obmc", "bmc", "10.0.1.1", "bmcpassword", "0penbmc"),
		obj(inventory.Node, "pdu1", "groups", "pdus", "nodetype", "pdu", "mgt", "pdu", "pdutype", "irpdu",
			"community", "private", "ip", "10.0.9.1"),
		obj(inventory.Node, "fsp1", "mgt", "fsp", "passwd.HMC", "abc123", "passwd.admin", "admin"),
		obj(inventory.OSImage, "rhels8.6-x86_64-install-compute",
			"imagetype", "linux", "osname", "Linux", "osvers", "rhels8.6", "osarch", "x86_64",
			"provmethod", "install", "profile", "compute",
			"template", "/opt/xcat/share/xcat/install/rh/compute.rhels8.tmpl",
			"pkglist", "/opt/xcat/share/xcat/install/rh/compute.rhels8.pkglist",
			"pkgdir", "/install/rhels8.6/x86_64", "usercomment", "linux image"),
		obj(inventory.OSImage, "win2019", "imagetype", "windows", "osname", "Windows", "osvers", "win2019",
			"template", `C:\templates\win.xml`, "installto", "disk0"),
		obj(inventory.Network, "mgmt", "net", "10.0.0.0", "mask", "255.255.0.0", "gateway", "10.0.0.254",
			"mgtifname", "eth0", "dynamicrange", "10.0.200.1-10.0.200.254"),
		obj(inventory.Policy, "1", "name", "root", "rule", "allow"),
		obj(inventory.Policy, "10", "name", "operator", "rule", "trusted"),
		obj(inventory.Policy, "4.4", "commands", "getpostscript", "rule", "allow"),
		obj(inventory.BootTarget, "bt1", "kernel", "xcat/custom/vmlinuz", "initrd", "xcat/custom/initrd.img",
			"kcmdline", "console=ttyS0,115200"),
	}
}

// tabStep is one command of a golden test.
type tabStep struct {
	args        []string // command and arguments
	stdin       string
	showSecrets bool
}

func cmdline(args ...string) tabStep { return tabStep{args: args} }

// runTab runs one command against the backend.
func runTab(b Backend, s tabStep) Response {
	r := &Runner{Backend: b, Schema: inventory.DefaultSchema()}
	return r.Run(context.Background(), Request{Command: s.args[0], Args: s.args[1:], Stdin: s.stdin, ShowSecrets: s.showSecrets})
}

// TestTabGolden runs command sequences against the test inventory and
// compares their transcripts with golden files.
func TestTabGolden(t *testing.T) {
	tests := []struct {
		name  string
		steps []tabStep
	}{
		{"tabdump-tables", []tabStep{
			cmdline("tabdump", "nodelist"), cmdline("tabdump", "nodehm"), cmdline("tabdump", "ipmi"),
			cmdline("tabdump", "openbmc"), cmdline("tabdump", "hosts"), cmdline("tabdump", "mac"),
			cmdline("tabdump", "nics"), cmdline("tabdump", "nodetype"), cmdline("tabdump", "postscripts"),
			cmdline("tabdump", "noderes"), cmdline("tabdump", "pdu"), cmdline("tabdump", "ppcdirect"),
			cmdline("tabdump", "site"), cmdline("tabdump", "networks"), cmdline("tabdump", "osimage"),
			cmdline("tabdump", "linuximage"), cmdline("tabdump", "winimage"), cmdline("tabdump", "nimimage"),
			cmdline("tabdump", "nodegroup"), cmdline("tabdump", "policy"), cmdline("tabdump", "boottarget"),
			cmdline("tabdump", "passwd"), cmdline("tabdump", "auditlog"),
		}},
		{"tabdump-secrets", []tabStep{
			{args: []string{"tabdump", "ipmi"}, showSecrets: true},
			{args: []string{"tabdump", "pdu"}, showSecrets: true},
			{args: []string{"gettab", "node=compute", "ipmi.password"}, showSecrets: true},
		}},
		{"tabdump-options", []tabStep{
			cmdline("tabdump", "-w", "groups==compute,all", "nodelist"),
			cmdline("tabdump", "-w", "groups=~comp%", "-w", "status==booted", "nodelist"),
			cmdline("tabdump", "-w", "groups!=compute,all", "nodelist"),
			cmdline("tabdump", "-w", "node!~/cn_/", "nodelist"),
			cmdline("tabdump", "-w", "priority>2", "policy"),
			cmdline("tabdump", "-w", "nosuch==1", "nodelist"),
			cmdline("tabdump", "-w", "groups", "nodelist"),
			cmdline("tabdump", "-d", "nodehm"),
			cmdline("tabdump", "-d", "nosuch"),
			cmdline("tabdump", "nosuch"),
			cmdline("tabdump", "nodelist", "nodehm"),
			cmdline("tabdump", "-n", "5", "nodelist"),
			cmdline("tabdump", "-n", "5", "auditlog"),
			cmdline("tabdump", "-n", "5", "-d", "auditlog"),
			cmdline("tabdump", "-f", "/tmp/x", "site"),
			cmdline("tabdump", "-x"),
			cmdline("tabdump", "-h"),
		}},
		{"tabdump-list", []tabStep{cmdline("tabdump"), cmdline("tabdump", "-d")}},
		{"chtab", []tabStep{
			cmdline("chtab", "node=cn1", "nodehm.mgt=ipmi", "ipmi.bmc=10.0.0.101", "nodehm.power=ipmi"),
			cmdline("tabdump", "nodehm"),
			cmdline("tabdump", "ipmi"),
			cmdline("chtab", "node=cn3", "nodelist.groups=compute", "hosts.ip=10.0.0.3"),
			cmdline("chtab", "node=compute", "nodehm.serialspeed=19200", "postscripts.postscripts+=otherpkgs,syslog"),
			cmdline("chtab", "node=racks", "nodepos.room=r1"),
			cmdline("tabdump", "nodelist"),
			cmdline("tabdump", "nodepos"),
			cmdline("tabdump", "postscripts"),
			cmdline("chtab", "-d", "node=cn2", "nodehm", "ipmi"),
			cmdline("chtab", "-d", "node=cn3", "nodelist"),
			cmdline("tabdump", "nodehm"),
			cmdline("tabdump", "nodelist"),
			cmdline("chtab", "mgt=openbmc", "nodehm.power=openbmc"),
			cmdline("tabdump", "nodehm"),
			cmdline("chtab", "node=ob1", "openbmc.bmc=10.0.1.11", "ipmi.bmc=10.0.1.12"),
			cmdline("tabdump", "openbmc"),
			cmdline("chtab", "imagename=win2019", "winimage.winpepath=/install/winpe", "osimage.description=Windows"),
			cmdline("tabdump", "winimage"),
			cmdline("chtab", "net=10.1.0.0,mask=255.255.0.0", "networks.netname=data", "networks.mtu=9000"),
			cmdline("tabdump", "networks"),
			cmdline("chtab", "hcp=fsp1,username=general", "ppcdirect.password=gen"),
			cmdline("chtab", "-d", "hcp=fsp1,username=HMC", "ppcdirect"),
			cmdline("tabdump", "ppcdirect"),
			cmdline("chtab", "priority=5", "policy.name=bob", "policy.rule=allow"),
			cmdline("chtab", "-d", "priority=10", "policy"),
			cmdline("tabdump", "policy"),
		}},
		{"chtab-errors", []tabStep{
			cmdline("chtab", "node=cn1", "nosuch.col=1"),
			cmdline("chtab", "node=cn1", "nodehm.nosuch=1"),
			cmdline("chtab", "key=ipmi", "passwd.username=ADMIN"),
			cmdline("chtab", "node=cn1", "bootparams.dhcpstatements=x"),
			cmdline("chtab", "node=cn1", "nodelist.node=cn9"),
			cmdline("chtab", "nokey", "nodehm.mgt=ipmi"),
			cmdline("chtab", "-d", "node=cn1"),
			cmdline("chtab", "foo=cn1", "nodehm.mgt=ipmi"),
			cmdline("chtab", "node=compute", "nodelist.groups=all"),
			cmdline("chtab", "nodehm.mgt=ipmi"),
			cmdline("chtab", "-h"),
			cmdline("tabdump", "nodehm"),
		}},
		{"site", []tabStep{
			cmdline("chtab", "key=dhcplease", "site.value=300"),
			cmdline("chtab", "key=nameservers", "site.value=10.0.0.1,10.0.0.2"),
			cmdline("gettab", "key=dhcplease", "site.value"),
			cmdline("gettab", "key=xcatdport", "site.value"),
			cmdline("chtab", "-d", "key=tftpdir", "site"),
			cmdline("chtab", "key=bad key", "site.value=1"),
			cmdline("chtab", "key=domain", "site.comments=x"),
			cmdline("tabdump", "site"),
			cmdline("tabdump", "-w", "key==xcatiport", "site"),
		}},
		{"gettab", []tabStep{
			cmdline("gettab", "node=cn1", "nodelist.groups"),
			cmdline("gettab", "node=cn1", "nodelist.groups", "nodelist.status", "nodelist.comments"),
			cmdline("gettab", "-H", "node=cn2", "ipmi.bmc"),
			cmdline("gettab", "node=compute", "ipmi.bmc", "ipmi.password", "nodehm.mgt"),
			cmdline("gettab", "node=cn1", "ipmi.bmc"),
			cmdline("gettab", "mac=aa:bb:cc:00:00:02", "mac.node"),
			cmdline("gettab", "imagename=rhels8.6-x86_64-install-compute", "linuximage.pkglist"),
			cmdline("gettab", "netname=mgmt", "networks.gateway"),
			cmdline("gettab", "priority=4.4", "policy.commands"),
			cmdline("gettab", "nosuch=1", "nodelist.groups"),
			cmdline("gettab", "node=cn1", "nosuch.x"),
			cmdline("gettab", "node=cn1"),
		}},
		{"nodeadd-noderm", []tabStep{
			cmdline("nodeadd", "cn[10-12]", "groups=compute,all", "hosts.ip=|cn(\\d+)|10.0.0.($1+0)|", "mgt=ipmi"),
			cmdline("tabdump", "nodelist"),
			cmdline("tabdump", "hosts"),
			cmdline("tabdump", "nodehm"),
			cmdline("nodeadd", "cn10,cn11", "groups,=rack1", "nodehm.power="),
			cmdline("nodeadd", "cn11", "groups^=all"),
			cmdline("nodeadd", "CN13", "groups=ipmiall"),
			cmdline("tabdump", "-w", "node=~cn1%", "nodelist"),
			cmdline("tabdump", "-w", "node=~cn1%", "nodehm"),
			cmdline("nodeadd", "cn1,cn2", "nodehm.mgt==ipmi", "nodehm.serialflow=hard"),
			cmdline("tabdump", "-w", "serialflow==hard", "nodehm"),
			cmdline("nodeadd", "cn1", "nodegroup.grouptype=static"),
			cmdline("nodeadd", "cn1", "nosuch.col=1"),
			cmdline("nodeadd", "cn1"),
			cmdline("noderm", "cn10,nosuch,cn99"),
			cmdline("noderm", "cn[10-12],CN13"),
			cmdline("noderm"),
			cmdline("tabdump", "nodelist"),
		}},
		{"tabprune", []tabStep{
			cmdline("tabprune", "eventlog", "-a"),
			cmdline("tabprune", "auditlog", "-V", "-a"),
			cmdline("tabprune", "auditlog", "-n", "10"),
			cmdline("tabprune", "auditlog", "-p", "50", "-V"),
			cmdline("tabprune", "auditlog", "-d", "7"),
			cmdline("tabprune", "auditlog", "-i", "100", "-a"),
			cmdline("tabprune", "auditlog"),
			cmdline("tabprune", "nodelist", "-a"),
			cmdline("tabprune", "-a"),
			cmdline("tabprune", "auditlog", "-n", "x"),
		}},
		{"tabrestore", []tabStep{
			{args: []string{"tabrestore", "nodehm.csv"}, stdin: "#node,power,mgt,cons,termserver,termport,conserver,serialport,serialspeed,serialflow,getmac,cmdmapping,consoleondemand,consoleenabled,comments,disable\n" +
				"\"compute\",,\"ipmi\",,,,,,\"19200\",,,,,,,\n" +
				"\"cn1\",,,,,,,,\"115200\",,,,,,,\n" +
				"\"cn5\",\"ipmi\",\"ipmi\",,,,,,,,,,,,,\n"},
			cmdline("tabdump", "nodehm"),
			cmdline("tabdump", "nodelist"),
			{args: []string{"tabrestore", "-a", "site.csv"}, stdin: "#key,value,comments,disable\n\"timezone\",\"UTC\",,\n\"xcatiport\",\"3002\",,\n"},
			cmdline("tabdump", "site"),
			{args: []string{"tabrestore", "-a", "site.csv"}, stdin: "#key,value\n\"xcatiport\",\"3003\"\n"},
			{args: []string{"tabrestore", "policy.csv"}, stdin: "#priority,name,rule,comments\n" +
				"1,root,allow,\"multi\nline \"\"comment\"\"\"\n" +
				"2,,allow,\n"},
			cmdline("tabdump", "policy"),
			{args: []string{"tabrestore", "passwd.csv"}, stdin: "#key,username,password\n"},
			{args: []string{"tabrestore", "passwd.csv"}, stdin: "#key,username,password\n\"ipmi\",\"ADMIN\",\"x\"\n"},
			{args: []string{"tabrestore", "nosuch.csv"}, stdin: "#a\n"},
			cmdline("tabrestore"),
		}},
		{"tabrestore-errors", []tabStep{
			{args: []string{"tabrestore", "nodelist.csv"}, stdin: "\"cn1\",\"compute\"\n"},
			{args: []string{"tabrestore", "nodelist.csv"}, stdin: ""},
			{args: []string{"tabrestore", "nodelist.csv"}, stdin: "#node,groups,nosuch\n"},
			{args: []string{"tabrestore", "nodelist.csv"}, stdin: "#node,groups\n" +
				"\"cn1\",\"compute\"\n" +
				"cn2,comp\"ute\n" +
				"\"cn3\",\"a\"b\"\n" +
				"\"cn4\",\"x\",\"too many\"\n" +
				"\"cn5\",\"unterminated\n"},
			{args: []string{"tabrestore", "bootparams.csv"}, stdin: "#node,kernel,dhcpstatements\n" +
				"\"cn1\",\"vmlinuz\",\n" +
				"\"cn2\",\"vmlinuz\",\"option foo\"\n" +
				"\"cn1\",\"other\",\n" +
				",\"nameless\",\n"},
			{args: []string{"tabrestore", "nodelist.csv"}, stdin: "#node,groups\n\"compute\",\"x\"\n"},
			cmdline("tabdump", "bootparams"),
			cmdline("tabdump", "nodelist"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBackend{mem: inventory.NewMemory(tabInventory()...)}
			var got strings.Builder
			for _, s := range tt.steps {
				before := b.applies
				resp := runTab(b, s)
				if n := b.applies - before; n > 1 {
					t.Errorf("%v: %d Apply calls, want at most 1", s.args, n)
				}
				got.WriteString(transcript(s.args, s.stdin, resp))
			}
			checkGolden(t, "tab", tt.name, got.String())
		})
	}
}

// TestTabrestoreAllOrNothing checks that a file with a bad line writes
// nothing at all and names the line.
func TestTabrestoreAllOrNothing(t *testing.T) {
	tests := []struct {
		name, file, stdin, wantErr string
	}{
		{"csv error", "nodelist.csv", "#node,groups\n\"cn1\",\"new\"\n\"cn7\",\"x\"\n\"cn8\",\"bad\"quote\"\n", "line 4"},
		{"bad site key", "site.csv", "#key,value\n\"timezone\",\"UTC\"\n\"bad key\",\"x\"\n", "line 3"},
		{"rename", "ppcdirect.csv", "#hcp,username,password\n\"fsp1\",\"HMC\",\"new\"\n\"fsp1\",\"nosuchuser\",\"x\"\n", "line 3"},
		{"group as node", "nodelist.csv", "#node,groups\n\"cn1\",\"new\"\n\"compute\",\"x\"\n", "line 3"},
		{"unstored value", "bootparams.csv", "#node,kernel,adddhcpstatements\n\"cn1\",\"k\",\n\"cn2\",\"k\",\"opt\"\n", "line 3"},
		{"backend failure", "nodelist.csv", "#node,groups\n\"cn1\",\"new\"\n", "disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBackend{mem: inventory.NewMemory(tabInventory()...)}
			if tt.name == "backend failure" {
				b.fail = errors.New("disk full")
			}
			before := snapshot(b.mem)
			resp := runTab(b, tabStep{args: []string{"tabrestore", tt.file}, stdin: tt.stdin})
			if resp.ExitCode == 0 || !strings.Contains(resp.Stderr, tt.wantErr) || !strings.HasPrefix(resp.Stderr, "Error: ") {
				t.Errorf("rc %d, stderr %q; want an error containing %q", resp.ExitCode, resp.Stderr, tt.wantErr)
			}
			if diff := cmp.Diff(before, snapshot(b.mem)); diff != "" {
				t.Errorf("inventory changed (-before +after):\n%s", diff)
			}
		})
	}
}

// snapshot returns every object of the inventory.
func snapshot(v inventory.View) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, t := range inventory.Types() {
		for _, o := range v.List(t) {
			out[string(t)+"/"+o.Name] = o.Clone().Attrs
		}
	}
	return out
}

// TestTabRoundTrip dumps every stored table and restores it: the inventory
// must not change, whether secrets are shown or masked.
func TestTabRoundTrip(t *testing.T) {
	ts := newTabSchema(inventory.DefaultSchema())
	for _, show := range []bool{true, false} {
		for _, table := range ts.tableNames() {
			t.Run(fmt.Sprintf("%s/secrets=%v", table, show), func(t *testing.T) {
				b := &countingBackend{mem: inventory.NewMemory(tabInventory()...)}
				before := snapshot(b.mem)
				dump := runTab(b, tabStep{args: []string{"tabdump", table}, showSecrets: show})
				if dump.ExitCode != 0 {
					t.Fatalf("tabdump: rc %d: %s", dump.ExitCode, dump.Stderr)
				}
				resp := runTab(b, tabStep{args: []string{"tabrestore", table + ".csv"}, stdin: dump.Stdout})
				if resp.ExitCode != 0 {
					t.Fatalf("tabrestore: rc %d: %s", resp.ExitCode, resp.Stderr)
				}
				if b.applies != 0 {
					t.Errorf("%d Apply calls for an unchanged table", b.applies)
				}
				if diff := cmp.Diff(before, snapshot(b.mem)); diff != "" {
					t.Errorf("inventory changed (-before +after):\n%s", diff)
				}
				again := runTab(b, tabStep{args: []string{"tabdump", table}, showSecrets: show})
				if again.Stdout != dump.Stdout {
					t.Errorf("second dump differs:\n%s\nvs\n%s", again.Stdout, dump.Stdout)
				}
			})
		}
	}
}

// TestTabRestoreIntoEmpty restores the dumps of the core tables into an
// empty inventory, in the order nodelist and nodegroup first, and checks
// that the objects come back.
func TestTabRestoreIntoEmpty(t *testing.T) {
	src := &countingBackend{mem: inventory.NewMemory(tabInventory()...)}
	dst := &countingBackend{mem: inventory.NewMemory()}
	ts := newTabSchema(inventory.DefaultSchema())
	order := []string{"nodelist", "nodegroup", "site", "osimage", "networks", "policy", "boottarget"}
	for _, name := range ts.tableNames() {
		if l := ts.layout(name); l.stored() && !strings.Contains(strings.Join(order, " "), name) {
			order = append(order, name)
		}
	}
	for _, table := range order {
		dump := runTab(src, tabStep{args: []string{"tabdump", table}, showSecrets: true})
		resp := runTab(dst, tabStep{args: []string{"tabrestore", table + ".csv"}, stdin: dump.Stdout})
		if resp.ExitCode != 0 {
			t.Fatalf("tabrestore %s: rc %d: %s", table, resp.ExitCode, resp.Stderr)
		}
	}
	want := snapshot(src.mem)
	// Implicit groups (names used only in nodes' groups) have no objects.
	if diff := cmp.Diff(want, snapshot(dst.mem)); diff != "" {
		t.Errorf("restored inventory differs (-want +got):\n%s", diff)
	}
}

// benchInventory is n nodes in n/100 groups, with BMC and nic settings.
func benchInventory(n int) *countingBackend {
	objs := []inventory.Object{obj(inventory.Site, inventory.SiteName, "master", "10.0.0.1")}
	for g := 0; g < n/100; g++ {
		objs = append(objs, obj(inventory.Group, fmt.Sprintf("rack%03d", g), "mgt", "ipmi", "bmcusername", "ADMIN"))
	}
	for i := 0; i < n; i++ {
		objs = append(objs, obj(inventory.Node, fmt.Sprintf("cn%06d", i),
			"groups", fmt.Sprintf("rack%03d,compute", i/100), "bmc", fmt.Sprintf("10.1.%d.%d", i/250, i%250),
			"mac", fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&255, i>>8&255, i&255),
			"nicips", fmt.Sprintf("eth0!10.2.%d.%d", i/250, i%250)))
	}
	return &countingBackend{mem: inventory.NewMemory(objs...)}
}

// BenchmarkTabdump reports how long tabdump takes for 10,000 nodes.
func BenchmarkTabdump(b *testing.B) {
	be := benchInventory(10_000)
	for _, table := range []string{"nodelist", "ipmi", "nics"} {
		b.Run(table, func(b *testing.B) {
			for b.Loop() {
				if resp := runTab(be, cmdline("tabdump", table)); resp.ExitCode != 0 {
					b.Fatal(resp.Stderr)
				}
			}
		})
	}
}

// BenchmarkTabrestore reports how long restoring an unchanged 10,000-node
// ipmi table takes (parse, project, compare).
func BenchmarkTabrestore(b *testing.B) {
	be := benchInventory(10_000)
	dump := runTab(be, tabStep{args: []string{"tabdump", "ipmi"}, showSecrets: true}).Stdout
	for b.Loop() {
		if resp := runTab(be, tabStep{args: []string{"tabrestore", "ipmi.csv"}, stdin: dump}); resp.ExitCode != 0 {
			b.Fatal(resp.Stderr)
		}
	}
}
