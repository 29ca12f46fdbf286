package xcatcmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// defStep is one command of a test scenario.
type defStep struct {
	args    []string
	stdin   string
	secrets bool
	files   map[string]string
}

func defCmd(args ...string) defStep { return defStep{args: args} }

func defStdin(stdin string, args ...string) defStep { return defStep{args: args, stdin: stdin} }

func defSecret(args ...string) defStep { return defStep{args: args, secrets: true} }

func defRun(b Backend, s defStep) Response {
	r := &Runner{Backend: b, Schema: inventory.DefaultSchema()}
	return r.Run(context.Background(), Request{
		Command: s.args[0], Args: s.args[1:], Stdin: s.stdin, ShowSecrets: s.secrets, Files: s.files,
	})
}

func defObject(t inventory.Type, name string, kv ...string) inventory.Object {
	o := inventory.Object{Type: t, Name: name, Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Attrs[kv[i]] = kv[i+1]
	}
	return o
}

// defInventory is the inventory most scenarios start from.
func defInventory() []inventory.Object {
	return []inventory.Object{
		defObject(inventory.Group, "compute", "grouptype", "static", "mgt", "ipmi", "bmc", "/\\z/-bmc/",
			"bmcusername", "ADMIN", "bmcpassword", "grouppw", "ip", "|node(\\d+)|10.0.0.($1+0)|",
			"os", "rhels8", "arch", "x86_64", "postscripts", "syslog,remoteshell"),
		defObject(inventory.Group, "rack1", "grouptype", "static", "os", "rocky9", "serialspeed", "19200"),
		defObject(inventory.Node, "node1", "groups", "compute,rack1,all", "mac", "aa:bb:cc:dd:ee:01", "serialspeed", "115200"),
		defObject(inventory.Node, "node2", "groups", "rack1,compute,all", "mac", "aa:bb:cc:dd:ee:02", "bmcpassword", "nodepw"),
		defObject(inventory.Node, "node10", "groups", "compute,all", "nicips", "eth0!10.1.0.10,ib0!10.2.0.10", "usercomment", "a b"),
		defObject(inventory.Node, "svc1", "groups", "service,all", "mgt", "openbmc", "hidden", "1"),
		defObject(inventory.OSImage, "rocky9-x86_64-install-compute", "imagetype", "linux", "osvers", "rocky9",
			"osarch", "x86_64", "provmethod", "install", "profile", "compute"),
		defObject(inventory.Network, "mgmt", "net", "10.0.0.0", "mask", "255.255.0.0", "gateway", "10.0.0.254"),
		defObject(inventory.Site, inventory.SiteName, "master", "10.0.0.1", "domain", "cluster.local", "xcatdport", "3001"),
		defObject(inventory.Policy, "1", "name", "root", "rule", "allow"),
		defObject(inventory.Policy, "4.4", "commands", "getpostscript", "rule", "allow"),
		defObject(inventory.Policy, "10", "name", "ops", "rule", "allow"),
		defObject(inventory.BootTarget, "rescue", "kernel", "rescue/vmlinuz", "initrd", "rescue/initrd.img"),
	}
}

// TestDefGolden runs command sequences and compares their transcripts with
// golden files. Each scenario starts from its own inventory.
func TestDefGolden(t *testing.T) {
	example := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xcat", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name  string
		inv   []inventory.Object
		steps []defStep
	}{
		{"lsdef_formats", defInventory(), []defStep{
			defCmd("lsdef"),
			defCmd("lsdef", "-S"),
			defCmd("lsdef", "-l", "node1"),
			defSecret("lsdef", "node1,node2", "-i", "bmc,bmcpassword,groups,os,serialspeed"),
			defSecret("lsdef", "-z", "node1"),
			defCmd("lsdef", "-s", "node[1-2]"),
			defCmd("lsdef", "-s", "-z", "node[1-2]"),
			defCmd("lsdef", "-c", "-i", "ip,nicips.ib0", "node10"),
			defCmd("lsdef", "node10", "--nics"),
			defCmd("lsdef", "node10", "-z", "-i", "nicips.eth0,usercomment,bogus"),
			defCmd("lsdef", "-t", "node,group"),
			defCmd("lsdef", "-t", "node,osimage", "-l", "-o", "node10"),
			defCmd("lsdef", "-t", "group", "-l"),
			defCmd("lsdef", "-t", "group", "-z", "rack1,nosuch"),
			defCmd("lsdef", "-t", "osimage", "-z"),
			defCmd("lsdef", "-t", "network", "-l"),
			defCmd("lsdef", "-t", "site"),
			defCmd("lsdef", "-t", "site", "-l"),
			defCmd("lsdef", "-t", "site", "-i", "domain,nosuch"),
			defCmd("lsdef", "-t", "policy"),
			defCmd("lsdef", "-t", "policy", "-o", "4.4", "-l"),
			defCmd("lsdef", "-t", "boottarget", "-z"),
			defCmd("lsdef", "-a"),
			defCmd("lsdef", "-a", "-l", "-S"),
			defCmd("lsdef", "-w", "os==rocky9"),
			defCmd("lsdef", "-w", "os=~/rhels/", "-w", "serialspeed!=19200", "-l"),
			defCmd("lsdef", "-w", "os!~rock", "-s"),
			defCmd("lsdef", "-w", "bogus"),
			defCmd("lsdef", "-l", "svc1"),
			defCmd("lsdef", "-l", "svc1", "-S"),
			defCmd("lsdef", "nosuch,node1", "-i", "mac"),
			defCmd("lsdef", "-t", "osimage", "-o", "nosuch"),
			defCmd("lsdef", "/node[0-9]+"),
			defCmd("lsdef", "/no(de"),
			defCmd("lsdef", "/zzz.*"),
			defCmd("lsdef", "-t", "osimage", "-i", "osvers,groups"),
			defCmd("lsdef", "-t", "bogus"),
			defCmd("lsdef", "-t", "node,group", "foo=bar"),
			defCmd("lsdef", "node1", "node2"),
			defCmd("lsdef", "-l", "-s"),
			defCmd("lsdef", "-a", "-t", "node"),
			defCmd("lsdef", "-i", "mac", "-s"),
			defCmd("lsdef", "-c"),
			defCmd("lsdef", "--nics", "-i", "mac"),
			defCmd("lsdef", "-x"),
			defCmd("lsdef", "--bogus"),
			defCmd("lsdef", "-v"),
			defCmd("lsdef", "-t", "network", "-h"),
			defCmd("lsdef", "-t", "site", "-h"),
			defCmd("lsdef", "-h"),
		}},
		{"lsdef_empty", nil, []defStep{
			defCmd("lsdef"),
			defCmd("lsdef", "-t", "osimage"),
			defCmd("lsdef", "-t", "site", "-l"),
			defCmd("lsdef", "node1"),
			defCmd("lsdef", "-a"),
		}},
		{"inheritance", nil, []defStep{
			defCmd("mkdef", "-t", "group", "-o", "doubletrouble", `bmc=|\z|-imm|`, "mgt=ipmi"),
			defCmd("mkdef", "mgt02", "groups=doubletrouble"),
			defCmd("lsdef", "mgt02", "-i", "bmc"),
			defCmd("lsdef", "-t", "group", "doubletrouble", "-z"),
			defCmd("lsdef", "-t", "group", "-o", "doubletrouble,nosuch", "-s", "-z"),
			defCmd("chdef", "-t", "group", "-o", "compute", "mgt=ipmi", `bmc=/\z/-bmc/`, `ip=|node(\d+)|10.0.0.($1+0)|`, "serialspeed=19200"),
			defCmd("mkdef", "com02", "groups=compute", "mgt=ipmi"),
			defCmd("mkdef", "node254", "groups=compute"),
			defCmd("lsdef", "com02,node254", "-i", "bmc,ip,serialspeed"),
			defCmd("chdef", "-t", "group", "-o", "kvms", `vmhost=|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|c($1)f($2)x($3)|`,
				`vmstorage=|\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)|dir:///install/vms/vm($4+0)|`, "vmmemory=3072", "vmcpus=2", "vmnics=virbr2", "vmnicnicmodel=virtio"),
			defCmd("mkdef", "-t", "node", "-o", "c01f02x03v04", "groups=kvms", "mgt=kvm"),
			defCmd("lsdef", "c01f02x03v04"),
			defCmd("chdef", "-t", "group", "-o", "g", `ip=|\D+(\d+)|172.21.254.($1%100)|`, `nicips.eth1=|\D+(\d+)|172.20.254.($1%100)|`),
			defCmd("mkdef", "xcattest_tmp_node_sn[01-16]", "groups=g"),
			defCmd("lsdef", "xcattest_tmp_node_sn01,xcattest_tmp_node_sn16", "-c", "-i", "ip,nicips.eth1"),
			defCmd("lsdef", "-t", "group", "-o", "g", "-l"),
			defCmd("lsdef", "-t", "group", "-o", "compute", "-z"),
			defCmd("chdef", "node254", "serialspeed=115200"),
			defCmd("lsdef", "node254", "-i", "serialspeed"),
			defCmd("chdef", "node254", "serialspeed="),
			defCmd("lsdef", "node254", "-i", "serialspeed"),
			defCmd("nodels", "com02,node254", "nodehm.serialspeed", "-b"),
		}},
		{"mkdef", defInventory(), []defStep{
			defCmd("mkdef", "-t", "node", "-o", "cn1,cn2", "groups=all,compute", "mac=aa:bb:cc:00:00:01"),
			defCmd("lsdef", "cn1,cn2", "-i", "groups,mac"),
			defCmd("mkdef", "cn[3-4]", "groups=all"),
			defCmd("mkdef", "cn1", "groups=all"),
			defCmd("mkdef", "-f", "cn1", "groups=rack1", "nodetype=osi"),
			defCmd("lsdef", "cn1", "-z"),
			defCmd("mkdef", "cn5"),
			defCmd("mkdef", "cn5", "mac=x"),
			defCmd("mkdef", "-t", "osimage", "-o", "img1"),
			defCmd("mkdef", "cn5", "groups=all", "bogus=1", "macc=2"),
			defCmd("mkdef", "cn5,cn6", "groups=all", "bogus=1"),
			defCmd("lsdef", "cn5"),
			defCmd("mkdef", "cn.example.com", "groups=all"),
			defCmd("mkdef", "-t", "node", "-o", "cn_7,cn%8", "groups=all"),
			defCmd("mkdef", "CN9", "groups=all"),
			defCmd("mkdef", "cn10", "groups=all", "nicips.eth0=1.1.1.1", "nicips.ib0=2.2.2.2", "nichostnamesuffixes.eth0=-eth0"),
			defCmd("lsdef", "cn10", "-l"),
			defCmd("mkdef", "cn11", "groups=all", "bmc=10.9.9.9"),
			defCmd("mkdef", "cn11", "groups=compute", "bmc=10.9.9.9"),
			defCmd("mkdef", "cn12", "groups=all", "mgt=openbmc", "bmc=10.9.9.10", "bmcusername=root"),
			defCmd("mkdef", "-t", "network", "-o", "mgmt2", "net=10.0.0.0", "mask=255.255.0.0"),
			defCmd("mkdef", "-t", "network", "-o", "mgmt", "net=10.5.0.0", "mask=255.255.0.0"),
			defCmd("mkdef", "-t", "network", "-o", "data", "net=10.6.0.0"),
			defCmd("mkdef", "-t", "network", "-o", "data", "net=10.6.0.0", "mask=255.255.0.0", "mtu=9000"),
			defCmd("mkdef", "-t", "group", "-o", "gpu", "members=node1,node10,nosuch", "os=rhels9"),
			defCmd("lsdef", "-t", "group", "gpu", "-l"),
			defCmd("lsdef", "node1,node10", "-i", "groups,os"),
			defCmd("mkdef", "-t", "group", "-o", "bigmem", "-w", "os==rocky9"),
			defCmd("lsdef", "-t", "group", "bigmem", "-i", "members"),
			defCmd("mkdef", "-t", "group", "-o", "dyn", "-d", "-w", "os==rocky9", "-w", "serialspeed==19200"),
			defCmd("lsdef", "-t", "group", "dyn", "-l"),
			defCmd("mkdef", "-t", "group", "-o", "empty", "os=rhels9"),
			defCmd("lsdef", "-t", "group", "empty", "-z"),
			defCmd("mkdef", "-t", "group", "-o", "dyn2", "-d"),
			defCmd("mkdef", "-t", "group", "-o", "dyn3", "-d", "os=x"),
			defCmd("mkdef", "-t", "group", "-o", "g[1-2]"),
			defCmd("mkdef", "-t", "policy", "-o", "5", "name=admin", "rule=allow"),
			defCmd("mkdef", "-t", "node,group", "-o", "x", "groups=all"),
			defCmd("mkdef", "-p", "cn20", "groups=all"),
			defCmd("mkdef", "-z", "-o", "x"),
			defCmd("mkdef", "-t", "node", "a", "b"),
			defCmd("mkdef", "-t", "node", "-i", "mac", "cn20", "groups=all"),
			defCmd("mkdef"),
			defCmd("mkdef", "-h"),
			defCmd("mkdef", "-t", "boottarget", "-h"),
		}},
		{"mkdef_stanza", defInventory(), []defStep{
			defStdin(example("example-test-default-node.stanza"), "mkdef", "-z"),
			defCmd("lsdef", "testnode", "-i", "groups,xcatmaster,nfsserver"),
			defStdin("default-node:\n    groups=all,compute\ntestnode2:\n    objtype=node\n    xcatmaster= MS02.ppd.pok.com\n", "mkdef", "-z"),
			defCmd("lsdef", "testnode2", "-i", "groups,xcatmaster"),
			defStdin("default-node:\n    groups=all,compute\nt3:\n    groups=mine\n    objtype=node\n    usercomment=\"a b\"\n    mac  =   aa:bb\n    os=\n    kcmdline=x=y # not a comment\n# comment\nt4:\n    objtype=node\n    groups=\n", "mkdef", "-z"),
			defCmd("lsdef", "t3,t4", "-l"),
			defStdin("t5:\n    objtype=node\n    groups=all\n    nicips.eth0=1.1.1.1\n    nicips.eth1=2.2.2.2\n\r\nfd59::/64:\r\n    objtype=network\r\n    net=fd59::\r\n    mask=/64\r\n", "mkdef", "-z"),
			defCmd("lsdef", "t5", "-z"),
			defCmd("lsdef", "-t", "network", "-o", "fd59::/64", "-z"),
			defStdin("t6:\n    objtype=node\n    groups=all\nt7:\n    groups=all\n", "mkdef", "-z"),
			defStdin("t6:\n    objtype=node\n    groups=all\nt7:\n    objtype=node\n    groups=all\n    bogus=1\n", "mkdef", "-z"),
			defStdin("t6:\n    objtype=node\n    groups=all\nt8.x:\n    objtype=node\n    groups=all\n", "mkdef", "-z"),
			defStdin("t6:\n    objtype=node\n    groups=all\nt8:\n    objtype=node\n    mac=x\nnode1:\n    objtype=node\n    groups=all\nnet9:\n    objtype=network\n    net=10.9.0.0\n", "mkdef", "-z"),
			defCmd("lsdef", "t6,t8"),
			defStdin("node1:\n    objtype=node\n    groups=all\n", "mkdef", "-z"),
			defStdin("node1:\n    objtype=node\n    groups=all\n", "mkdef", "-z", "-f"),
			defCmd("lsdef", "node1", "-l"),
			defStdin("testnode\n    objtype=node\n    groups=all\n", "mkdef", "-z"),
			defStdin("x:\n    objtype=node\n    =MS02.ppd.pok.com\n", "mkdef", "-z"),
			defStdin("\n# only comments\n", "mkdef", "-z"),
			defStdin("x:\n    objtype=thing\n    a=b\n", "mkdef", "-z"),
			defStdin("t9:\n    objtype=node\n    groups=all\n", "mkdef", "-z", "-t", "node"),
		}},
		{"chdef", defInventory(), []defStep{
			defCmd("chdef", "node1", "os=sles15", "serialspeed="),
			defCmd("lsdef", "node1", "-i", "os,serialspeed"),
			defCmd("chdef", "-p", "node1", "postscripts=confignetwork,syslog"),
			defCmd("lsdef", "node1", "-i", "postscripts"),
			defCmd("chdef", "-m", "node1", "postscripts=remoteshell"),
			defCmd("lsdef", "node1", "-i", "postscripts"),
			defCmd("chdef", "-m", "node1", "postscripts=nosuch", "os=sles15"),
			defCmd("chdef", "-m", "node1", "cons=ipmi"),
			defCmd("chdef", "-p", "node1", "nicips.eth0=1.1.1.1"),
			defCmd("chdef", "node10", "nicips.eth0=10.1.0.11", "nicips.ib0=", "nicips.eth2=10.3.0.10"),
			defCmd("lsdef", "node10", "--nics"),
			defCmd("chdef", "new[1-2]", "groups=compute", "mac=x"),
			defCmd("chdef", "new3", "mac=x"),
			defCmd("chdef", "-m", "new4", "groups=x"),
			defCmd("lsdef", "new1,new2,new3", "-i", "groups,mac"),
			defCmd("chdef", "node1", "bogus=1", "os=rhels9"),
			defCmd("lsdef", "node1", "-i", "os"),
			defCmd("chdef", "-t", "osimage", "-o", "newimg", "osvers=rhels9"),
			defCmd("lsdef", "-t", "osimage", "-o", "newimg", "-l"),
			defCmd("chdef", "-t", "site", "domain=example.com", "xcatdport="),
			defCmd("lsdef", "-t", "site", "-l"),
			defCmd("chdef", "-t", "network", "-o", "mgmt", "mask=", "mtu=1500"),
			defCmd("chdef", "-t", "network", "-o", "n2", "net=10.0.0.0", "mask=255.255.0.0"),
			defCmd("chdef", "-t", "network", "-o", "n2", "net=10.7.0.0"),
			defCmd("chdef", "-t", "network", "-o", "n3", "net=10.8.0.0", "mask=255.255.0.0"),
			defCmd("chdef", "-t", "network", "-o", "n3", "net=10.9.0.0", "mtu=9000"),
			defCmd("lsdef", "-t", "network", "-l"),
			defStdin("t1:\n    objtype=node\n    groups=all\n", "mkdef", "-z", "os=x"),
			defCmd("chdef", "-t", "group", "-o", "rack1", "members=node10"),
			defCmd("lsdef", "-t", "group", "rack1", "-i", "members"),
			defCmd("lsdef", "node1,node2,node10", "-i", "groups"),
			defCmd("chdef", "-t", "group", "-o", "rack1", "-p", "members=node1"),
			defCmd("chdef", "-t", "group", "-o", "rack1", "-m", "members=node10"),
			defCmd("lsdef", "-t", "group", "rack1", "-i", "members"),
			defCmd("chdef", "-t", "group", "-o", "newgrp", "members=node2,nosuch"),
			defCmd("lsdef", "-t", "group", "newgrp", "-l"),
			defCmd("chdef", "-t", "group", "-o", "wgrp", "-w", "os==rhels8"),
			defCmd("lsdef", "-t", "group", "wgrp", "-i", "members"),
			defCmd("chdef", "node2", "-n", "node3"),
			defCmd("lsdef", "node2,node3", "-i", "groups"),
			defCmd("chdef", "-t", "group", "rack1", "-n", "rack9"),
			defCmd("lsdef", "-t", "group", "rack9", "-l"),
			defCmd("lsdef", "node3", "-i", "groups"),
			defCmd("chdef", "nosuch", "-n", "x"),
			defCmd("chdef", "node1", "-n", "node3"),
			defCmd("chdef", "node1", "-n", "bad.name"),
			defCmd("chdef", "node1,node3", "-n", "x"),
			defCmd("chdef", "-p", "node1", "-n", "x"),
			defStdin("node1:\n    objtype=node\n    os=rhels7\n    bogus=x\nnode77:\n    objtype=node\n    groups=all\n", "chdef", "-z"),
			defCmd("lsdef", "node1,node77", "-i", "os,groups"),
			defStdin("testnode\n    objtype=node\n", "chdef", "-z"),
			defCmd("chdef", "-f", "node1", "os=x"),
			defCmd("chdef", "-t", "node"),
			defCmd("chdef", "-z", "node1"),
			defCmd("chdef", "-p", "node1", "nicips.eth0=1.2.3.4"),
			defCmd("chdef", "node1"),
			defCmd("chdef", "Node5", "groups=all"),
			defCmd("chdef", "-h"),
		}},
		{"rmdef", defInventory(), []defStep{
			defCmd("rmdef", "node10"),
			defCmd("rmdef", "node10"),
			defCmd("rmdef", "-t", "node", "-o", "node1,nosuch"),
			defCmd("rmdef", "-t", "group", "compute"),
			defCmd("lsdef", "-t", "group"),
			defCmd("lsdef", "node2", "-i", "groups,mgt"),
			defCmd("rmdef", "-t", "group", "all"),
			defCmd("lsdef", "-l", "-S"),
			defCmd("rmdef", "-t", "osimage,network", "-o", "mgmt"),
			defCmd("rmdef", "-t", "network", "mgmt"),
			defCmd("rmdef", "-t", "policy", "1,10"),
			defCmd("rmdef", "-t", "node"),
			defCmd("rmdef", "-a"),
			defCmd("rmdef", "-l", "node2"),
			defCmd("rmdef", "-w", "os==x", "-t", "node"),
			defCmd("rmdef", "/node.*"),
			defCmd("rmdef", "-a", "-f"),
			defCmd("lsdef", "-a"),
			defCmd("rmdef", "-h"),
			defCmd("rmdef"),
		}},
		{"nodels", []inventory.Object{
			defObject(inventory.Group, "ipmigrp", "mgt", "ipmi", "bmc", "/\\z/-bmc/"),
			defObject(inventory.Node, "testnode", "groups", "all,rhels5.5", "mgt", "hmc"),
			defObject(inventory.Node, "testnode1", "groups", "all,aix", "mgt", "hmc"),
			defObject(inventory.Node, "testnode2", "groups", "rh4.123456789", "mgt", "hmc"),
			defObject(inventory.Node, "blade1", "groups", "ipmigrp,all", "bmcpassword", "pw"),
			defObject(inventory.Node, "blade10", "groups", "ipmigrp,all"),
			defObject(inventory.Node, "blade2", "groups", "ipmigrp,all", "mgt", "openbmc"),
			defObject(inventory.Node, "fsp1", "groups", "fsp", "hidden", "1"),
		}, []defStep{
			defCmd("nodels"),
			defCmd("nodels", "-S"),
			defCmd("nodels", "testnode"),
			defCmd("nodels", "testnode", "groups"),
			defCmd("nodels", "testnode", "nodelist"),
			defCmd("nodels", "-H", "testnode1", "groups", "mgt"),
			defCmd("nodels", "testnode", "nodehm.mgt"),
			defCmd("nodels", "all", "groups", "-H"),
			defCmd("nodels", "groups==rh4.123456789"),
			defCmd("nodels", "groups=~rh4.123456789"),
			defCmd("nodels", "rh4.123456789"),
			defCmd("nodels", "testnode1-testnode2", "groups!=all,aix"),
			defCmd("nodels", "testnode1-testnode2", "nodelist.groups!~aix"),
			defCmd("nodels", "testnode1-testnode2", "nodelist.groups!~aix", "nodelist.groups"),
			defCmd("nodels", "all", "mgt==hmc", "groups"),
			defCmd("nodels", "all", "nodehm.mgt=~/^(ipmi|openbmc)$/"),
			defCmd("nodels", "ipmigrp", "ipmi.bmc", "nodehm.mgt", "-b"),
			defCmd("nodels", "ipmigrp", "ipmi.password"),
			defSecret("nodels", "ipmigrp", "ipmi.password"),
			defCmd("nodels", "blade[1-2]", "ipmi.bmc"),
			defCmd("nodels", "fsp1"),
			defCmd("nodels", "fsp1", "-S"),
			defCmd("nodels", "^/tmp/nodes"),
			{args: []string{"nodels", "^/tmp/nodes", "mgt"}, files: map[string]string{"/tmp/nodes": "# my nodes\ntestnode #comment\nblade1\n"}},
			defCmd("nodels", "testnode,nosuch,bogus1"),
			defCmd("nodels", "zz[1-3]"),
			defCmd("nodels", "testnode", "foo"),
			defCmd("nodels", "testnode", "nodelist.foo", "groups"),
			defCmd("nodels", "testnode", "groups==all", "groups=~x"),
			defCmd("nodels", "testnode", "groups=all"),
			defCmd("nodels", "(testnode"),
			defCmd("nodels", "-h"),
			defCmd("nodels", "--bogus"),
			defCmd("nodels", "-v"),
		}},
		{"secrets", defInventory(), []defStep{
			defCmd("lsdef", "node1,node2", "-i", "bmcpassword,bmcusername"),
			defCmd("lsdef", "node2", "-z", "-i", "bmcpassword"),
			defCmd("lsdef", "-t", "group", "compute", "-i", "bmcpassword"),
			defCmd("lsdef", "-w", "bmcpassword==nodepw"),
			defSecret("lsdef", "-w", "bmcpassword==nodepw"),
			defCmd("nodels", "node1,node2", "ipmi.password", "ipmi.username"),
			defStdin("node2:\n    objtype=node\n    bmcpassword=******\n    bmcusername=root\n", "chdef", "-z"),
			defCmd("chdef", "node1", "bmcpassword=******", "bmcusername=admin"),
			defSecret("lsdef", "node1,node2", "-i", "bmcpassword,bmcusername"),
		}},
		{"round_trip_example", nil, []defStep{
			defStdin(example("example-node-c910f04x42.stanza"), "mkdef", "-z"),
			defCmd("lsdef", "-z", "-t", "node", "-o", "c910f04x42"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := inventory.NewMemory(tt.inv...)
			var b strings.Builder
			for _, s := range tt.steps {
				b.WriteString(transcript(s.args, s.stdin, defRun(m, s)))
			}
			checkGolden(t, "defs", tt.name, b.String())
		})
	}
}

// TestDefRoundTrip is the acceptance test: mkdef -z of each example
// file, then lsdef -z of the object, reproduces the file byte for byte.
func TestDefRoundTrip(t *testing.T) {
	tests := []struct{ file, typ, name string }{
		{"example-node-c910f04x42.stanza", "node", "c910f04x42"},
		{"example-osimage-rhels7.stanza", "osimage", "rhels7-ppc64-install-compute"},
		{"example-osimage-test_osimage.stanza", "osimage", "test_osimage"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xcat", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			m := inventory.NewMemory()
			mk := defRun(m, defStep{args: []string{"mkdef", "-z"}, stdin: string(data)})
			want := Response{Stdout: "1 object definitions have been created or modified.\n"}
			if diff := cmp.Diff(want, mk); diff != "" {
				t.Fatalf("mkdef -z (-want +got):\n%s", diff)
			}
			ls := defRun(m, defStep{args: []string{"lsdef", "-z", "-t", tt.typ, "-o", tt.name}, secrets: true})
			if diff := cmp.Diff(Response{Stdout: string(data)}, ls); diff != "" {
				t.Errorf("lsdef -z (-want +got):\n%s", diff)
			}
			// The same with the name as noderange and -l: the file again.
			ls = defRun(m, defStep{args: []string{"lsdef", "-l", tt.name, "-z", "-t", tt.typ}, secrets: true})
			if ls.Stdout != string(data) {
				t.Errorf("lsdef -l NAME -z:\n%s", ls.Stdout)
			}
		})
	}
}

// TestDefDefaultStanza checks default-<type> stanzas: the object's own
// value wins, and without one the default applies.
func TestDefDefaultStanza(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xcat", "example-test-default-node.stanza"))
	if err != nil {
		t.Fatal(err)
	}
	without := strings.Replace(string(data), "    groups=all,rhels5.5\n", "", 1)
	tests := []struct {
		name, stdin string
		want        map[string]string
	}{
		{"explicit", string(data), map[string]string{"groups": "all,rhels5.5", "xcatmaster": "MS02.ppd.pok.com", "nfsserver": "IS227.ppd.pok.com"}},
		{"default", without, map[string]string{"groups": "all,compute", "xcatmaster": "MS02.ppd.pok.com", "nfsserver": "IS227.ppd.pok.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := inventory.NewMemory()
			if resp := defRun(m, defStdin(tt.stdin, "mkdef", "-z")); resp.ExitCode != 0 {
				t.Fatalf("mkdef -z: %+v", resp)
			}
			o, ok := m.Get(inventory.Node, "testnode")
			if !ok {
				t.Fatal("testnode not created")
			}
			if diff := cmp.Diff(tt.want, o.Attrs); diff != "" {
				t.Errorf("testnode (-want +got):\n%s", diff)
			}
		})
	}
}

// defCounter counts the Apply calls of a command and can fail them.
type defCounter struct {
	mem     *inventory.Memory
	applies int
	fail    error
}

func (b *defCounter) View() inventory.View { return b.mem.View() }

func (b *defCounter) Apply(ctx context.Context, ch []inventory.Change) error {
	b.applies++
	if b.fail != nil {
		return b.fail
	}
	return b.mem.Apply(ctx, ch)
}

// defDump returns every object of the inventory by type and name.
func defDump(v inventory.View) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, t := range inventory.Types() {
		for _, o := range v.List(t) {
			out[string(t)+"/"+o.Name] = o.Attrs
		}
	}
	return out
}

// TestDefOneTransaction checks that every writing command makes one Apply
// call, and that a failing store leaves the inventory unchanged with an
// error and exit code 1.
func TestDefOneTransaction(t *testing.T) {
	stanzas := "a1:\n    objtype=node\n    groups=all\na2:\n    objtype=node\n    groups=all\nimg:\n    objtype=osimage\n    imagetype=linux\n"
	tests := []struct {
		name string
		step defStep
	}{
		{"mkdef -z", defStdin(stanzas, "mkdef", "-z")},
		{"mkdef range", defCmd("mkdef", "n[1-50]", "groups=all")},
		{"mkdef group members", defCmd("mkdef", "-t", "group", "-o", "g", "members=node1,node2")},
		{"chdef -z", defStdin(stanzas, "chdef", "-z")},
		{"chdef group members", defCmd("chdef", "-t", "group", "-o", "rack1", "members=node10")},
		{"chdef rename group", defCmd("chdef", "-t", "group", "-o", "compute", "-n", "cpu")},
		{"rmdef range", defCmd("rmdef", "node1,node2,node10")},
		{"rmdef group", defCmd("rmdef", "-t", "group", "-o", "compute,rack1")},
		{"rmdef all", defCmd("rmdef", "-a", "-f")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &defCounter{mem: inventory.NewMemory(defInventory()...)}
			if resp := defRun(b, tt.step); resp.ExitCode != 0 || b.applies != 1 {
				t.Fatalf("applies = %d, response %+v; want 1 apply and rc 0", b.applies, resp)
			}
			b = &defCounter{mem: inventory.NewMemory(defInventory()...), fail: errors.New("disk full")}
			before := defDump(b.mem)
			resp := defRun(b, tt.step)
			if resp.ExitCode != 1 || !strings.Contains(resp.Stderr, "Error: Could not write data to the xCAT database: disk full\n") {
				t.Errorf("failing store: %+v", resp)
			}
			if diff := cmp.Diff(before, defDump(b.mem)); diff != "" {
				t.Errorf("inventory changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestDefUnknownAttr pins the difference between mkdef (an invalid
// attribute writes nothing) and chdef (the rest is written, rc 1).
func TestDefUnknownAttr(t *testing.T) {
	stdin := "good:\n    objtype=node\n    groups=all\nbad:\n    objtype=node\n    groups=all\n    bogus=1\n"
	m := inventory.NewMemory()
	resp := defRun(m, defStdin(stdin, "mkdef", "-z"))
	want := Response{Stderr: "Error: 'bogus' is not a valid attribute name for an object type of 'node'.\n", ExitCode: 1}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("mkdef -z (-want +got):\n%s", diff)
	}
	if n := len(m.List(inventory.Node)); n != 0 {
		t.Errorf("mkdef wrote %d nodes, want none", n)
	}
	resp = defRun(m, defStdin(stdin, "chdef", "-z"))
	want = Response{
		Stderr:   "Error: 'bogus' is not a valid attribute name for an object type of 'node'.\nError: One or more errors occured when attempting to create or modify xCAT object definitions.\n",
		ExitCode: 1,
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("chdef -z (-want +got):\n%s", diff)
	}
	for _, n := range []string{"good", "bad"} {
		if o, ok := m.Get(inventory.Node, n); !ok || o.Get("groups") != "all" || o.Get("bogus") != "" {
			t.Errorf("chdef -z: node %s = %+v, want groups=all", n, o)
		}
	}
}

// TestDefOnlyIfSameInput: a node's only_if attributes (bmc needs mgt=ipmi)
// may be satisfied by a group defined in the same stanza input.
func TestDefOnlyIfSameInput(t *testing.T) {
	m := inventory.NewMemory()
	r := &Runner{Backend: m, Schema: inventory.DefaultSchema()}
	in := "grp1:\n    objtype=group\n    mgt=ipmi\n\ncn1:\n    objtype=node\n    groups=grp1,all\n    bmc=10.0.0.1\n"
	resp := r.Run(context.Background(), Request{Command: "mkdef", Args: []string{"-z"}, Stdin: in})
	if resp.ExitCode != 0 {
		t.Fatalf("mkdef -z: rc %d\n%s", resp.ExitCode, resp.Stderr)
	}
	if n, ok := m.Get(inventory.Node, "cn1"); !ok || n.Attrs["bmc"] != "10.0.0.1" {
		t.Errorf("cn1 = %+v", n)
	}
}
