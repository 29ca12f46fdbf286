package noderange_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"drover.dev/drover/internal/noderange"
)

// docSource has the nodes and groups of noderange.md §4 ("derived from the code"):
// node1…node20, node01…node10, tz001…tz005, group1={node1,node2,node3},
// group2={node2,node3,node4}.
func docSource() *fakeSource {
	s := newSource()
	s.add("", seq("node", 1, 20, 0)...)
	s.add("", seq("node", 1, 10, 2)...)
	s.add("", seq("tz", 1, 5, 3)...)
	s.add("group1", "node1", "node2", "node3")
	s.add("group2", "node2", "node3", "node4")
	return s
}

// manSource is a cluster for the man page examples (§2): node1…node300, node01…node10,
// node21234, frames f1…f3 with 42 nodes each, user1…user4, st1 and st2.
func manSource() *fakeSource {
	s := newSource()
	s.add("all", seq("node", 1, 300, 0)...)
	s.add("all", seq("node", 1, 10, 2)...)
	s.add("all", "node21234", "user1", "user2", "user3", "user4")
	s.add("all,storage", "st1", "st2")
	for f := 1; f <= 3; f++ {
		s.add("all,frame0"+string(rune('0'+f)), seq("f"+string(rune('0'+f))+"n", 1, 42, 0)...)
	}
	s.add("group1", "node1", "node2", "node3")
	s.add("group2", "node2", "node3", "node4")
	for g := 3; g <= 10; g++ {
		s.add("group"+itoa(g), "node"+itoa(200+g))
	}
	for r := 1; r <= 3; r++ {
		s.add("rack"+itoa(r), seq("node", 100+10*(r-1)+1, 100+10*r, 0)...)
	}
	s.attr("nodehm.cons", "node1", "hmc", "node2", "myhmc")
	s.attr("mp.mpa", "node3", "amm1", "node4", "xamm")
	return s
}

func itoa(i int) string { return seq("", i, i, 0)[0] }

// manFiles holds the man page's node-list files.
var manFiles = files(map[string]string{
	"/tmp/nodelist": "#my node list (this line ignored)\n^/tmp/foo #ignored\nnode01    #node comment\nnode02\nnode03\nnode10-node20\n/group[456].*\n-node50\n",
	"/tmp/nodes":    "node1\nnode2\n",
})

// quirkSource exercises precedence and inventory corner cases.
func quirkSource() *fakeSource {
	s := newSource()
	s.add("", seq("node", 1, 12, 0)...)
	s.add("compute", "node5", "node6", "compute") // a node named like its group
	s.add("10", "node1")                          // an all-digit group name
	s.add("rack1,all", "node7", "node8")
	s.add("rack2,all", "node9")
	s.add("", "node-01", "node-02", "node-03", "n1.cluster.com", "n2.cluster.com")
	s.dynamic["dyn"] = []string{"node2", "node3"}
	s.dynamic["dynempty"] = nil
	s.defined["emptygrp"] = true
	s.attr("nodehm.mgt", "node1", "ipmi", "node2", "ipmi", "node3", "openbmc")
	s.attr("nodetype.os", "node1", "rhels8")
	return s
}

type testCase struct {
	name    string
	src     func() *fakeSource
	in      string
	opt     *noderange.Options // nil: the group's options
	nodes   []string
	missing []string
}

var verify = noderange.Options{Verify: true}
var noVerify = noderange.Options{}

func withFiles(o noderange.Options, f func(string) ([]byte, error)) noderange.Options {
	o.ReadFile = f
	return o
}

// manCases are the forms and examples of the man page (noderange.md §2).
func manCases() []testCase {
	all := manSource().Nodes()
	frames := set(seq("f1n", 1, 42, 0), seq("f2n", 1, 42, 0), seq("f3n", 1, 42, 0))
	v := withFiles(verify, manFiles)
	return []testCase{
		{name: "list", in: "node1,node2,node8,node20,group1", nodes: set("node1", "node2", "node8", "node20", "node3")},
		{name: "ranges and group range", in: "node14-node56,node70-node203,group1-group10",
			nodes: set(seq("node", 14, 56, 0), seq("node", 70, 203, 0), "node1", "node2", "node3", "node4", seq("node", 203, 210, 0))},
		{name: "list and ranges", in: "node1,node2,node8,node20,node14-node56,node70-node203",
			nodes: set("node1", "node2", "node8", "node20", seq("node", 14, 56, 0), seq("node", 70, 203, 0))},
		{name: "bracket", in: "node[14-56]", nodes: seq("node", 14, 56, 0)},
		{name: "frames", in: "f[1-3]n[1-20]", nodes: set(seq("f1n", 1, 20, 0), seq("f2n", 1, 20, 0), seq("f3n", 1, 20, 0))},
		{name: "all less ranges", in: "all,-node129-node256,-frame01-frame03", nodes: set(minus(all, seq("node", 129, 256, 0), frames))},
		{name: "regex", in: "/node.*", nodes: set(seq("node", 1, 300, 0), seq("node", 1, 10, 2), "node21234")},
		{name: "file", in: "^/tmp/nodes", opt: &v, nodes: []string{"node1", "node2"}},
		{name: "increment", in: "node10+5", nodes: seq("node", 10, 15, 0)},
		{name: "digits with exclusion", in: "10-15,-13", nodes: []string{"node10", "node11", "node12", "node14", "node15"}},
		{name: "intersection", in: "group1@group2", nodes: []string{"node2", "node3"}},
		{name: "selector ==", in: "nodehm.cons==hmc", nodes: []string{"node1"}},
		{name: "selector =~", in: "nodehm.cons=~hmc", nodes: []string{"node1", "node2"}},
		{name: "selector =~ slashes", in: "mp.mpa=~/^amm.*/", nodes: []string{"node3"}},
		{name: "padded range", in: "node01-node10", nodes: seq("node", 1, 10, 2)},
		{name: "padded bracket", in: "node[01-10]", nodes: seq("node", 1, 10, 2)},
		{name: "padded colon", in: "node01:node10", nodes: seq("node", 1, 10, 2)},
		{name: "padded colon bracket", in: "node[01:10]", nodes: seq("node", 1, 10, 2)},
		{name: "two brackets", in: "f[1-2]n[1-3]", nodes: []string{"f1n1", "f1n2", "f1n3", "f2n1", "f2n2", "f2n3"}},
		{name: "group range", in: "group1-group3", nodes: []string{"node1", "node2", "node203", "node3", "node4"}},
		{name: "padding detection", in: "node001-node200", opt: &noVerify, nodes: seq("node", 1, 200, 3)},
		{name: "incremented range", in: "node10+3", nodes: []string{"node10", "node11", "node12", "node13"}},
		{name: "shorthand range", in: "10-20", nodes: seq("node", 10, 20, 0)},
		{name: "shorthand increment", in: "10+3", nodes: []string{"node10", "node11", "node12", "node13"}},
		{name: "regex node[345]", in: "/node[345].*", nodes: set("node3", "node4", "node5", seq("node", 30, 59, 0), "node300")},
		{name: "regex does not search groups", in: "/group[12].*", nodes: nil},
		{name: "node list file", in: "^/tmp/nodelist", opt: &v, nodes: set(seq("node", 1, 3, 2), seq("node", 10, 20, 0))},
		{name: "any combination", in: "node01-node30,node40,^/tmp/nodes,/node[13].*,2-10,node50+5", opt: &v,
			nodes: set(seq("node", 1, 9, 2), seq("node", 10, 30, 0), "node40", "node1", "node2",
				"node1", "node3", seq("node", 10, 19, 0), seq("node", 30, 39, 0), seq("node", 100, 199, 0), "node300",
				seq("node", 2, 10, 0), seq("node", 50, 55, 0))},
		{name: "example all less range", in: "all,-node5-node10", nodes: set(minus(all, seq("node", 5, 10, 0)))},
		{name: "example exclusion precedence", in: "node1-node10,-node3-node5,node4",
			nodes: []string{"node1", "node10", "node2", "node6", "node7", "node8", "node9"}},
		{name: "example two exclusions", in: "node1-node10,-node3,-node5", nodes: set(minus(seq("node", 1, 10, 0), []string{"node3", "node5"}))},
		{name: "example exclusion first", in: "-node17-node32,all", nodes: set(minus(all, seq("node", 17, 32, 0)))},
		{name: "example user nodes", in: "node1-node128,user1-user4", nodes: set(seq("node", 1, 128, 0), seq("user", 1, 4, 0))},
		{name: "example racks", in: "all,-rack1-rack3,-node100-node200,node150,-storage",
			nodes: set(minus(all, seq("node", 101, 130, 0), seq("node", 100, 200, 0), []string{"st1", "st2"}))},
		{name: "example regex node[23]", in: "/node[23].*",
			nodes: set("node2", "node3", seq("node", 20, 39, 0), seq("node", 200, 299, 0), "node300", "node21234")},
		{name: "example frames", in: "f[1-2]n[1-42]", nodes: set(seq("f1n", 1, 42, 0), seq("f2n", 1, 42, 0))},
	}
}

// xcatTestCases are the expansions xCAT's own test cases expect (noderange.md §4), each
// with the nodes the test case creates.
func xcatTestCases() []testCase {
	src := func(build func(*fakeSource)) func() *fakeSource {
		return func() *fakeSource { s := newSource(); build(s); return s }
	}
	testnodes := src(func(s *fakeSource) {
		s.add("all,nrtestgrp", "testnode01", "testnode02")
		s.add("all", "testnode03", "testnode1", "testnode2", "testnode3", "testnode4")
		s.add("nrtestgrp1", "testnode01")
		s.add("nrtestgrp2", "testnode02")
		s.add("nrtestgrp3", "testnode03")
	})
	nr := src(func(s *fakeSource) {
		s.add("all", seq("nrtestnode", 1, 13, 2)...)
		s.add("all", "nrtestnode10", "nrtestnode11", "nrtestnode12", "nrtestnode13")
	})
	frames := src(func(s *fakeSource) { s.add("all", "f1n1", "f1n2", "f1n3", "f2n1", "f2n2", "f2n3", "f3n1") })
	nodes := src(func(s *fakeSource) { s.add("all", seq("node", 1, 25, 0)...) })
	slash := src(func(s *fakeSource) {
		s.add("all", "nrtestnode1", "nrtestnode2", "nrtestnode3", "testnode1", "xnrtestnode4")
	})
	files1 := src(func(s *fakeSource) { s.add("all", "nrnode1", "nrnode2", "nrnode3") })
	ex := src(func(s *fakeSource) { s.add("all", seq("exnode", 1, 6, 0)...) })
	inter := src(func(s *fakeSource) {
		s.add("group1,group2", "nrtestnode1")
		s.add("group1", "nrtestnode2", "nrtestnode3")
	})
	tables := src(func(s *fakeSource) {
		s.add("rh4.123456789", "testnode")
		s.add("rh4.1234567890", "testnode")
		s.add("rhels5.5", "othernode")
	})
	tables2 := src(func(s *fakeSource) {
		s.add("rh4.123456789", "testnode")
		s.add("rhels5.5", "othernode")
	})
	nodelist := withFiles(verify, files(map[string]string{"/tmp/nodelist": "nrnode1\nnrnode2\n"}))
	return []testCase{
		{name: "individual node", src: testnodes, in: "testnode01", nodes: []string{"testnode01"}},
		{name: "individual group", src: testnodes, in: "nrtestgrp", nodes: []string{"testnode01", "testnode02"}},
		{name: "node01-node10", src: nr, in: "nrtestnode01-nrtestnode10", nodes: seq("nrtestnode", 1, 10, 2)},
		{name: "node[01-10]", src: nr, in: "nrtestnode[01-10]", nodes: seq("nrtestnode", 1, 10, 2)},
		{name: "node[01:10]", src: nr, in: "nrtestnode[01:10]", nodes: seq("nrtestnode", 1, 10, 2)},
		{name: "f1-f2 n1-n3", src: frames, in: "f[1-2]n[1-3]", nodes: []string{"f1n1", "f1n2", "f1n3", "f2n1", "f2n2", "f2n3"}},
		{name: "group1-group3", src: testnodes, in: "nrtestgrp1-nrtestgrp3", nodes: []string{"testnode01", "testnode02", "testnode03"}},
		{name: "node10 plus 3", src: nr, in: "nrtestnode10+3", nodes: seq("nrtestnode", 10, 13, 0)},
		{name: "10-20", src: nodes, in: "10-20", nodes: seq("node", 10, 20, 0)},
		{name: "XCAT_NODE_PREFIX", src: nodes, in: "10-20", opt: &noderange.Options{Verify: true, Prefix: "abc"},
			missing: seq("abc", 10, 20, 0)},
		{name: "XCAT_NODE_SUFFIX", src: nodes, in: "10-20", opt: &noderange.Options{Verify: true, Prefix: "abc", Suffix: "def"},
			missing: seq("abc", 10, 20, 0, "def")},
		{name: "slash regex", src: slash, in: "/nrtestnode.*", nodes: []string{"nrtestnode1", "nrtestnode2", "nrtestnode3"}},
		{name: "node list file", src: files1, in: "^/tmp/nodelist", opt: &nodelist, nodes: []string{"nrnode1", "nrnode2"}},
		{name: "exclusion", src: ex, in: "exnode1-exnode5,-exnode3,-exnode4", nodes: []string{"exnode1", "exnode2", "exnode5"}},
		{name: "group intersection", src: inter, in: "group1@group2", nodes: []string{"nrtestnode1"}},
		{name: "table equal", src: tables2, in: "groups==rh4.123456789", nodes: []string{"testnode"}},
		{name: "table include", src: tables2, in: "groups=~rh4.123456789", nodes: []string{"testnode"}},
		{name: "group name with a dot", src: tables, in: "rh4.1234567890", nodes: []string{"testnode"}},
		{name: "mkdef sn[01-16]", src: newSource, in: "xcattest_tmp_node_sn[01-16]", opt: &noVerify, nodes: seq("xcattest_tmp_node_sn", 1, 16, 2)},
		{name: "testnode1-testnode4", src: testnodes, in: "testnode1-testnode4", nodes: seq("testnode", 1, 4, 0)},
	}
}

// derivedCases are the expansions noderange.md §3 and §4 derive from the code.
func derivedCases() []testCase {
	return []testCase{
		{name: "node01-node10", in: "node01-node10", nodes: []string{"node01", "node02", "node03", "node04", "node05", "node06", "node07", "node08", "node09", "node10"}},
		{name: "node[01-10]", in: "node[01-10]", nodes: seq("node", 1, 10, 2)},
		{name: "node01:node10", in: "node01:node10", nodes: seq("node", 1, 10, 2)},
		{name: "node[01:10]", in: "node[01:10]", nodes: seq("node", 1, 10, 2)},
		{name: "node10+3", in: "node10+3", nodes: []string{"node10", "node11", "node12", "node13"}},
		{name: "10-15,-13", in: "10-15,-13", nodes: []string{"node10", "node11", "node12", "node14", "node15"}},
		{name: "exclusion has precedence", in: "node1-node10,-node3-node5,node4", nodes: []string{"node1", "node10", "node2", "node6", "node7", "node8", "node9"}},
		{name: "anchored regex", in: "/node1[0-9]", nodes: seq("node", 10, 19, 0)},
		{name: "bracket list", in: "node[1,3,5]", nodes: []string{"node1", "node3", "node5"}},
		{name: "bracket range and list", in: "node[1-3,7]", nodes: []string{"node1", "node2", "node3", "node7"}},
		{name: "@ binds tighter than ,", in: "node1,group2@group1", nodes: []string{"node1", "node2", "node3"}},
		{name: "@ then ,", in: "group1@group2,node9", nodes: []string{"node2", "node3", "node9"}},
		{name: "tz001+4", in: "tz001+4", nodes: []string{"tz001", "tz002", "tz003", "tz004", "tz005"}},
		{name: "node01+2", in: "node01+2", nodes: []string{"node01", "node02", "node03"}},
		{name: "magic increment 09-11", in: "node09-node11", nodes: []string{"node09", "node10", "node11"}},
		{name: "numeric unpadded", in: "node1-node010", nodes: []string{"node1", "node10", "node2", "node3", "node4", "node5", "node6", "node7", "node8", "node9"}},
		{name: "node01-node5 is nothing", in: "node01-node5", nodes: nil},
		{name: "descending is nothing", in: "node10-node1", nodes: nil},
		{name: "node-1 literal", in: "node-1", opt: &noVerify, nodes: []string{"node-1"}},
		{name: "a-b-c literal", in: "a-b-c", opt: &noVerify, nodes: []string{"a-b-c"}},
		{name: "abc1-abc3.dom literal", in: "abc1-abc3.dom", opt: &noVerify, nodes: []string{"abc1-abc3.dom"}},
		{name: "x[1-2]y[1-2]z", in: "x[1-2]y[1-2]z", opt: &noVerify, nodes: []string{"x1y1z", "x1y2z", "x2y1z", "x2y2z"}},
		{name: "increment with domain", in: "n1.cluster.com+2", opt: &noVerify, nodes: []string{"n1.cluster.com", "n2.cluster.com", "n3.cluster.com"}},
		{name: "only one field may differ", in: "f1n1-f2n3", opt: &noVerify, nodes: []string{"f1n1-f2n3"}},
		{name: "exclusion is delayed", in: "-node17-node20,node15-node20", nodes: []string{"node15", "node16"}},
		{name: "quotes removed", in: `'node1',"node2"`, nodes: []string{"node1", "node2"}},
		{name: "parenthesised intersection", in: "(node1,node2,node3)@group2", nodes: []string{"node2", "node3"}},
		{name: "parenthesised exclusion", in: "group1,group2,-(group1@group2)", nodes: []string{"node1", "node4"}},
		{name: "intersect parenthesised", in: "group1@(group2,node1)", nodes: []string{"node1", "node2", "node3"}},
		{name: "nested parentheses", in: "((node1,node2),(node3))", nodes: []string{"node1", "node2", "node3"}},
		{name: "verify=false regex literal", in: "/node.*", opt: &noVerify, nodes: []string{"/node.*"}},
		{name: "verify=false unknown literal", in: "newnode,node1", opt: &noVerify, nodes: []string{"newnode", "node1"}},
		{name: "padded magic overflow", in: "node98-node101", opt: &noVerify, nodes: []string{"node100", "node101", "node98", "node99"}},
		{name: "magic descending counts up to the width", in: "n05-n03", opt: &noVerify, nodes: seq("n", 5, 99, 2)},
		{name: "odd dashes split in the middle", in: "n-01-n-03", opt: &noVerify, nodes: []string{"n-01", "n-02", "n-03"}},
		{name: "colon with dashes", in: "n-01:n-03", opt: &noVerify, nodes: []string{"n-01", "n-02", "n-03"}},
		{name: "increment keeps width", in: "node099+2", opt: &noVerify, nodes: []string{"node099", "node100", "node101"}},
		{name: "empty noderange", in: "", nodes: nil},
		{name: "empty elements", in: ",,node1,,", nodes: []string{"node1"}},
	}
}

// quirkCases pin xCAT's precedence rules and oddities.
func quirkCases() []testCase {
	f := files(map[string]string{
		"/f":       "node5\nnode6\n",
		"/comment": "# only a comment\n\n^/f\n",
		"/cut":     "node1:extra\nnode2\tx\nnode3 y\nnode4",
		"/ex":      "node1\n-node1\n",
		"/crlf":    "node1\r\n",
	})
	v := withFiles(verify, f)
	nv := withFiles(noVerify, f)
	return []testCase{
		{name: "node before group", in: "compute", nodes: []string{"compute"}},
		{name: "digits before group", in: "10", nodes: []string{"node10"}},
		{name: "dynamic group", in: "dyn", nodes: []string{"node2", "node3"}},
		{name: "empty dynamic group is not missing", in: "dynempty", nodes: nil},
		{name: "empty static group is not missing", in: "emptygrp", nodes: nil},
		{name: "group range", in: "rack1-rack2", nodes: []string{"node7", "node8", "node9"}},
		{name: "group bracket", in: "rack[1-2]", nodes: []string{"node7", "node8", "node9"}},
		{name: "selector short name", in: "mgt==ipmi", nodes: []string{"node1", "node2"}},
		{name: "selector single =", in: "nodehm.mgt=ipmi", nodes: []string{"node1", "node2"}},
		{name: "selector !=, missing value is empty", in: "mgt!=ipmi", nodes: set(minus(quirkSource().Nodes(), []string{"node1", "node2"}))},
		{name: "selector == empty value", in: "nodetype.os==", nodes: set(minus(quirkSource().Nodes(), []string{"node1"}))},
		{name: "selector !~", in: "mgt!~^ip", nodes: set(minus(quirkSource().Nodes(), []string{"node1", "node2"}))},
		{name: "selector on groups", in: "groups=~/^rack/", nodes: []string{"node7", "node8", "node9"}},
		{name: "selector tags", in: "tags=~rack2", nodes: []string{"node9"}},
		{name: "selector value cannot hold a comma", in: "tags==rack2,all", nodes: []string{"node7", "node8", "node9"}},
		{name: "selector bad attribute is not missing", in: "bogus==x,nodehm.bogus==x", nodes: nil},
		{name: "selector without operator", in: "nodehm.mgt~x", nodes: nil},
		{name: "selector inside intersection", in: "all@mgt==ipmi", nodes: nil},
		{name: "selector intersection", in: "node1-node3@mgt==ipmi", nodes: []string{"node1", "node2"}},
		{name: "file lines cut", in: "^/cut", opt: &v, nodes: []string{"node1", "node2", "node3", "node4"}},
		{name: "file comments", in: "^/comment", opt: &v, nodes: nil},
		{name: "file minus line excludes only itself", in: "^/ex", opt: &v, nodes: []string{"node1"}},
		{name: "file CR kept", in: "^/crlf", opt: &v, missing: []string{"node1\r"}},
		{name: "missing file gives nothing", in: "^/nope,node1", opt: &v, nodes: []string{"node1"}},
		{name: "nil ReadFile gives nothing", in: "^/f,node1", opt: &verify, nodes: []string{"node1"}},
		{name: "file ignores exclusion, operator kept", in: "-^/f,node5", opt: &v, nodes: []string{"node6"}},
		{name: "file then intersection", in: "^/f@node6", opt: &v, nodes: []string{"node6"}},
		{name: "file in non-verify mode", in: "^/f,x", opt: &nv, nodes: []string{"node5", "node6", "x"}},
		{name: "prefix for digits", in: "3,7", opt: &noderange.Options{Verify: true, Prefix: "no", Suffix: "de3"}, missing: []string{"no3de3", "no7de3"}},
		{name: "exclude option", in: "node1-node5", opt: &noderange.Options{Verify: true, Exclude: "node2,rack1,nosuch"}, nodes: []string{"node1", "node3", "node4", "node5"}},
		{name: "dash names", in: "node-01-node-03", nodes: []string{"node-01", "node-02", "node-03"}},
		{name: "lone plus", in: "+", missing: []string{"node"}},
		{name: "plus without number in front", in: "ab2x+3", opt: &noVerify, nodes: []string{"x"}},
		{name: "leading dashes", in: "--node1", missing: []string{""}},
		{name: "exclusion operator then separator", in: "node1,-,node2", nodes: []string{"node1"}},
		{name: "intersection then exclusion is intersection", in: "node1-node3@-node2", nodes: []string{"node2"}},
		{name: "parenthesis after text is a union", in: "node1(node2)", nodes: []string{"node1", "node2"}},
		{name: "comma before ) is not a separator", in: "node1,node2)", opt: &noVerify, nodes: []string{"node1,node2)"}},
		{name: "exclusion before parentheses is not delayed", in: "-node1,(node1)", nodes: []string{"node1"}},
	}
}

// missingCases check verify mode's missing list.
func missingCases() []testCase {
	return []testCase{
		{name: "unknown names in order", in: "zz,node1,aa,zz", nodes: []string{"node1"}, missing: []string{"zz", "aa", "zz"}},
		{name: "range with unknown members", in: "node19-node22", nodes: []string{"node19", "node20"}, missing: []string{"node21", "node22"}},
		{name: "even dashes", in: "a-b-c", missing: []string{"a-b-c"}},
		{name: "mismatched range", in: "node1-x3", missing: []string{"node1-x3"}},
		{name: "two fields differ", in: "f1n1-f2n3", missing: []string{"f1n1-f2n3"}},
		{name: "bracket names", in: "x[1-2]y[1-2]z", missing: []string{"x1y1z", "x1y2z", "x2y1z", "x2y2z"}},
		{name: "excluded unknown is missing", in: "node1,-nosuch", nodes: []string{"node1"}, missing: []string{"nosuch"}},
		{name: "digits", in: "99", missing: []string{"node99"}},
		{name: "regex matching nothing is not missing", in: "/zz.*", nodes: nil},
		{name: "empty range is not missing", in: "node01-node5", nodes: nil},
	}
}

func TestExpand(t *testing.T) {
	groups := []struct {
		name  string
		src   func() *fakeSource
		opt   noderange.Options
		cases []testCase
	}{
		{"man", manSource, withFiles(verify, manFiles), manCases()},
		{"xcattest", nil, verify, xcatTestCases()},
		{"derived", docSource, verify, derivedCases()},
		{"quirks", quirkSource, verify, quirkCases()},
		{"missing", docSource, verify, missingCases()},
	}
	for _, g := range groups {
		for _, tc := range g.cases {
			t.Run(g.name+"/"+tc.name, func(t *testing.T) {
				src := g.src
				if tc.src != nil {
					src = tc.src
				}
				opt := g.opt
				if tc.opt != nil {
					opt = *tc.opt
				}
				got, err := noderange.Expand(src(), tc.in, opt)
				if err != nil {
					t.Fatalf("Expand(%q): %v", tc.in, err)
				}
				want := noderange.Result{Nodes: tc.nodes, Missing: tc.missing}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Expand(%q) mismatch (-want +got):\n%s", tc.in, diff)
				}
			})
		}
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opt  noderange.Options
		want error
		text string
	}{
		{name: "unclosed", in: "(node1,node2", want: noderange.ErrUnbalanced, text: "Unbalanced parentheses in noderange"},
		{name: "close first", in: "node1),(node2)", want: noderange.ErrUnbalanced},
		{name: "nested unclosed", in: "node1,((node2)", want: noderange.ErrUnbalanced},
		{name: "huge bracket", in: "n[0-99999999999]", want: noderange.ErrTooLarge, text: "noderange too large"},
		{name: "huge magic", in: "n[000000000000-999999999999]", want: noderange.ErrTooLarge},
		{name: "huge increment", in: "node1+100000000", want: noderange.ErrTooLarge},
		{name: "limit", in: "n[1-11]", opt: noderange.Options{Limit: 10}, want: noderange.ErrTooLarge},
		{name: "exponential brackets", in: "a[1-9]b[1-9]c[1-9]d[1-9]e[1-9]f[1-9]g[1-9]h[1-9]", opt: noderange.Options{Limit: 1000}, want: noderange.ErrTooLarge},
		{name: "self-feeding bracket", in: "[1-2][1-2]1[1-2]", want: noderange.ErrTooLarge},
		{name: "beyond 64 bits", in: "n1-n99999999999999999999", want: noderange.ErrIntegerRange, text: "Range iterator outside integer range"},
		{name: "endless @", in: "a@b)", want: noderange.ErrRecursion, text: "NodeRange seems to be hung on evaluating a@b), recursion limit hit"},
		{name: "bad regex", in: "/node[", opt: noderange.Options{Verify: true}},
		{name: "bad selector regex", in: "mgt=~[", opt: noderange.Options{Verify: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := noderange.Expand(quirkSource(), tt.in, tt.opt)
			if err == nil {
				t.Fatalf("Expand(%q) = nil error", tt.in)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Expand(%q) = %v, want %v", tt.in, err, tt.want)
			}
			if tt.want == nil {
				var re *noderange.RegexError
				if !errors.As(err, &re) {
					t.Errorf("Expand(%q) = %v, want a *RegexError", tt.in, err)
				}
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("Expand(%q) error text %q, want %q", tt.in, err.Error(), tt.text)
			}
		})
	}
}

// TestExpandNoCompileWithoutNodes: like xCAT, an expression is only compiled when there
// is a node to match it against.
func TestExpandNoCompileWithoutNodes(t *testing.T) {
	for _, in := range []string{"/node[", "mgt=~["} {
		got, err := noderange.Expand(newSource(), in, verify)
		if err != nil || len(got.Nodes) != 0 {
			t.Errorf("Expand(%q) on an empty inventory = %v, %v", in, got, err)
		}
	}
}

// TestExpandSorted checks Perl's byte order on a large group.
func TestExpandSorted(t *testing.T) {
	s := newSource().add("all", seq("n", 1, 1000, 0)...)
	got, err := noderange.Expand(s, "all", verify)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(got.Nodes) || len(got.Nodes) != 1000 || got.Nodes[1] != "n10" {
		t.Errorf("not in byte order: %v", got.Nodes[:5])
	}
}
