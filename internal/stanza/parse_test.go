package stanza

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type parseCase struct {
	name    string
	in      string
	want    []Stanza
	errLine int // > 0: Parse must fail with a *ParseError on this line
	errText string
}

// parseCases covers stanza.md §2 and every row of §5 "Edge cases".
var parseCases = []parseCase{
	{
		name: "man page layout",
		in:   "# <xCAT data object stanza file>\n\nn1:\n    objtype=node\n    groups=all\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 3, Attrs: map[string]string{"groups": "all"}}},
	},
	{
		name: "empty input",
		in:   "",
		want: []Stanza{},
	},
	{
		name: "only comments and blanks",
		in:   "# <xCAT data object stanza file>\n\n   \n\t# x\n",
		want: []Stanza{},
	},
	{
		name:    "header without colon followed by attributes (§5 row 1)",
		in:      "testnode\n    objtype=node\n    groups=all\n",
		errLine: 1, errText: `invalid line "testnode"`,
	},
	{
		name:    "header without colon after a valid stanza",
		in:      "a:\n    objtype=node\ntestnode\n    groups=all\n",
		errLine: 3,
	},
	{
		name:    "line without = inside a stanza (§5 row 2)",
		in:      "testnode:\n    objtype=node\n    xcatmasterMS02.ppd.pok.com\n    nfsserver=IS227.ppd.pok.com\n",
		errLine: 3, errText: "xcatmasterMS02.ppd.pok.com",
	},
	{
		name: "empty value kept (§5 row 3)",
		in:   "testnode:\n    objtype=node\n    xcatmaster=\n",
		want: []Stanza{{Name: "testnode", Type: "node", Line: 1, Attrs: map[string]string{"xcatmaster": ""}}},
	},
	{
		name:    "empty attribute name (§5 row 4)",
		in:      "testnode:\n    objtype=node\n    =MS02.ppd.pok.com\n",
		errLine: 3, errText: "empty attribute name",
	},
	{
		name: "blanks around = are trimmed (§5 row 5)",
		in:   "testnode:\n    objtype=node\n    xcatmaster  =   MS02.ppd.pok.com\n    nfsserver= IS227.ppd.pok.com\t\n",
		want: []Stanza{{Name: "testnode", Type: "node", Line: 1, Attrs: map[string]string{
			"xcatmaster": "MS02.ppd.pok.com", "nfsserver": "IS227.ppd.pok.com"}}},
	},
	{
		name: "one pair of double quotes removed (§5 row 6)",
		in: "s:\n objtype=node\n usercomment=\"a b\"\n ip= \" OPTIONAL:the ip \" \n" +
			" two=\"\"x\"\"\n lead=\"x\n trail=x\"\n only=\"\n",
		want: []Stanza{{Name: "s", Type: "node", Line: 1, Attrs: map[string]string{
			"usercomment": "a b", "ip": "OPTIONAL:the ip", "two": `"x"`, "lead": "x", "trail": "x", "only": ""}}},
	},
	{
		name: "stanza without objtype is returned with an empty type (§5 row 7)",
		in:   "testnode:\n    groups=all\n",
		want: []Stanza{{Name: "testnode", Type: "", Line: 1, Attrs: map[string]string{"groups": "all"}}},
	},
	{
		name: "attributes before objtype are overwritten by defaults (§5 row 8)",
		in:   "default-node:\n    groups=all,compute\nn1:\n    groups=mine\n    os=rhels7\n    objtype=node\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 3, Attrs: map[string]string{"groups": "all,compute", "os": "rhels7"}}},
	},
	{
		name: "comments anywhere; # inside a value is kept (§5 row 9)",
		in:   "# top\nn1:\n  # inside\n    objtype=node\n#x\n    usercomment=value # text\n    ip=#1\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 2, Attrs: map[string]string{"usercomment": "value # text", "ip": "#1"}}},
	},
	{
		name: "IPv6 network name (§5 row 10)",
		in:   "fd59::/64:\n    objtype=network\n    net=fd59::\n    mask=/64\n",
		want: []Stanza{{Name: "fd59::/64", Type: "network", Line: 1, Attrs: map[string]string{"net": "fd59::", "mask": "/64"}}},
	},
	{
		name: "value ending with ':' is an attribute (§5 row 11, drover deviation)",
		in:   "n1:\n    objtype=node\n    url=http://x:\n    a:b=c:\n    groups=all\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 1, Attrs: map[string]string{"url": "http://x:", "a:b": "c:", "groups": "all"}}},
	},
	{
		name:    "header name with '=' before the first header is an attribute line outside a stanza",
		in:      "a=b:\n",
		errLine: 1, errText: "before the first header",
	},
	{
		name: "nic lines collapsed in order of appearance (§5 row 12)",
		in: "n1:\n    objtype=node\n    nicips.eth1=2.2.2.2\n    nicips.eth0=1.1.1.1|1.2.1.1\n" +
			"    nictypes.eth0=Ethernet\n    nicips.eth1=3.3.3.3\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 1, Attrs: map[string]string{
			"nicips": "eth1!3.3.3.3,eth0!1.1.1.1|1.2.1.1", "nictypes": "eth0!Ethernet"}}},
	},
	{
		name: "nic lines replace a plain nic value; an empty nic value removes that nic",
		in:   "g1:\n    objtype=group\n    nicips=eth9!9.9.9.9\n    nicips.eth0=1.1.1.1\n    nicips.eth1=\n",
		want: []Stanza{{Name: "g1", Type: "group", Line: 1, Attrs: map[string]string{"nicips": "eth0!1.1.1.1"}}},
	},
	{
		name: "all nic values empty leaves the plain value alone",
		in:   "n1:\n    objtype=node\n    nicips=eth9!9.9.9.9\n    nicips.eth1=\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 1, Attrs: map[string]string{"nicips": "eth9!9.9.9.9"}}},
	},
	{
		name: "nic lines are not collapsed for other types",
		in:   "o:\n    objtype=osimage\n    nicips.eth0=1.1.1.1\n",
		want: []Stanza{{Name: "o", Type: "osimage", Line: 1, Attrs: map[string]string{"nicips.eth0": "1.1.1.1"}}},
	},
	{
		name: "nic lines from defaults are collapsed too",
		in:   "default-node:\n    nicips.eth0=1.1.1.1\nn1:\n    objtype=node\n    nicips.eth1=2.2.2.2\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 3, Attrs: map[string]string{"nicips": "eth0!1.1.1.1,eth1!2.2.2.2"}}},
	},
	{
		name:    "nic value with a comma",
		in:      "n1:\n    objtype=node\n    nicips.eth0=1.1.1.1,2.2.2.2\n",
		errLine: 3, errText: "contains ',' or '!'",
	},
	{
		name:    "nic name with a bang",
		in:      "n1:\n    objtype=node\n    nicips.e!th0=1.1.1.1\n",
		errLine: 3,
	},
	{
		name:    "plain nic value that does not expand back",
		in:      "n1:\n    objtype=node\n    groups=all\n    nicips=1.1.1.1\n",
		errLine: 4, errText: "nicips",
	},
	{
		name:    "nic name with a blank",
		in:      "n1:\n    objtype=node\n    nicips.eth 0=1.1.1.1\n",
		errLine: 3, errText: "contains a blank",
	},
	{
		name:    "plain nic value with a blank around a value (fuzz)",
		in:      "0:\nobjtype=node\nnicips=0! 00\n",
		errLine: 3,
	},
	{
		name:    "plain nic value with = in a nic name (fuzz)",
		in:      "0:\nobjtype=node\nnicips==!0\n",
		errLine: 3,
	},
	{
		name:    "plain nic value with a blank in a nic name",
		in:      "n1:\nobjtype=node\nnicips=eth0!a, eth1!b\n",
		errLine: 3,
	},
	{
		name:    "plain nic value with a repeated nic",
		in:      "n1:\n    objtype=node\n    nicips=eth0!a,eth0!b\n",
		errLine: 3,
	},
	{
		name: "CRLF line endings (§5 row 13)",
		in:   "# <xCAT data object stanza file>\r\n\r\nn1:\r\n    objtype=node\r\n    groups=all\r\n    usercomment=\"x\"\r\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 3, Attrs: map[string]string{"groups": "all", "usercomment": "x"}}},
	},
	{
		name: "byte order mark before the header comment",
		in:   "\ufeff# <xCAT data object stanza file>\nn1:\n objtype=node\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 2, Attrs: map[string]string{}}},
	},
	{
		name: "defaults are cumulative and apply only to later stanzas",
		in: "a:\n  objtype=node\n" +
			"default-node:\n  groups=all,compute\n  os=rhels7\n" +
			"b:\n  objtype=node\n" +
			"default-node:\n  os=rhels8\n" +
			"c:\n  objtype=node\n  arch=x86_64\n" +
			"d:\n  objtype=osimage\n",
		want: []Stanza{
			{Name: "a", Type: "node", Line: 1, Attrs: map[string]string{}},
			{Name: "b", Type: "node", Line: 6, Attrs: map[string]string{"groups": "all,compute", "os": "rhels7"}},
			{Name: "c", Type: "node", Line: 10, Attrs: map[string]string{"groups": "all,compute", "os": "rhels8", "arch": "x86_64"}},
			{Name: "d", Type: "osimage", Line: 13, Attrs: map[string]string{}},
		},
	},
	{
		name: "explicit value after objtype wins over the default (example-test-default-node)",
		in:   "default-node:\n    groups=all,compute\ntestnode:\n    objtype=node\n    groups=all,rhels5.5\n    xcatmaster= MS02.ppd.pok.com\n    nfsserver=IS227.ppd.pok.com\n",
		want: []Stanza{{Name: "testnode", Type: "node", Line: 3, Attrs: map[string]string{
			"groups": "all,rhels5.5", "xcatmaster": "MS02.ppd.pok.com", "nfsserver": "IS227.ppd.pok.com"}}},
	},
	{
		name: "default turned off with an empty value",
		in:   "default-node:\n  groups=all\n  os=rhels7\ndefault-node:\n  groups= \nn1:\n  objtype=node\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 6, Attrs: map[string]string{"groups": "", "os": "rhels7"}}},
	},
	{
		name: "defaults of another type do not apply",
		in:   "default-group:\n  grouptype=static\nn1:\n  objtype=node\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 3, Attrs: map[string]string{}}},
	},
	{
		name: "objtype in a default stanza changes the type, as in xCAT",
		in:   "default-node:\n  objtype=group\nx:\n  objtype=node\n",
		want: []Stanza{{Name: "x", Type: "group", Line: 3, Attrs: map[string]string{}}},
	},
	{
		name: "last objtype line wins and applies its defaults",
		in:   "default-group:\n  grouptype=static\nx:\n  objtype=node\n  objtype=group\n",
		want: []Stanza{{Name: "x", Type: "group", Line: 3, Attrs: map[string]string{"grouptype": "static"}}},
	},
	{
		name: "header and names trimmed; blanks before the colon",
		in:   "  n1 \t:  \n\tobjtype = node\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 1, Attrs: map[string]string{}}},
	},
	{
		name: "name with colons uses the last one",
		in:   "a:b::\n objtype=site\n",
		want: []Stanza{{Name: "a:b:", Type: "site", Line: 1, Attrs: map[string]string{}}},
	},
	{
		name: "indented header",
		in:   "n1:\n    objtype=node\n    n2:\n    objtype=node\n",
		want: []Stanza{
			{Name: "n1", Type: "node", Line: 1, Attrs: map[string]string{}},
			{Name: "n2", Type: "node", Line: 3, Attrs: map[string]string{}},
		},
	},
	{
		name: "value with = and spaces",
		in:   "n1:\n objtype=node\n addkcmdline=console=tty0  rd.break=1\n",
		want: []Stanza{{Name: "n1", Type: "node", Line: 1, Attrs: map[string]string{"addkcmdline": "console=tty0  rd.break=1"}}},
	},
	{
		name:    "repeated object name",
		in:      "n1:\n objtype=node\nn2:\n objtype=node\nn1:\n groups=all\n",
		errLine: 5, errText: `"n1" is already defined on line 1`,
	},
	{
		name:    "attribute before the first header",
		in:      "# c\nobjtype=node\nn1:\n objtype=node\n",
		errLine: 2, errText: "before the first header",
	},
	{
		name:    "empty object name",
		in:      "  :\n objtype=node\n",
		errLine: 1, errText: "empty object name",
	},
	{
		name:    "name containing default that xCAT drops",
		in:      "defaultgw:\n objtype=network\n",
		errLine: 1, errText: "ignores",
	},
	{
		name:    "bare default header",
		in:      "default:\n groups=all\n",
		errLine: 1,
	},
	{
		name:    "default header with two dashes",
		in:      "default-node-x:\n groups=all\n",
		errLine: 1, errText: `default stanza for type "node"`,
	},
	{
		name:    "name ending in -default",
		in:      "rack1-default:\n objtype=node\n",
		errLine: 1, errText: `type "default"`,
	},
	{
		name: "Default with a capital is an ordinary name",
		in:   "Default-x:\n objtype=policy\n",
		want: []Stanza{{Name: "Default-x", Type: "policy", Line: 1, Attrs: map[string]string{}}},
	},
	{
		name: "man page example with several types",
		in: "mysite:\n   objtype=site\n   rsh=/bin/rsh\n\nMSnet01:\n   objtype=network\n   gateway=1.2.3.4\n\n" +
			"default-node:\n   groups=all,compute\n\nnode01:\n   objtype=node\n   MAC=A2E26002C003\n\ngrp01:\n   objtype=group\n   members=node1,node2\n",
		want: []Stanza{
			{Name: "mysite", Type: "site", Line: 1, Attrs: map[string]string{"rsh": "/bin/rsh"}},
			{Name: "MSnet01", Type: "network", Line: 5, Attrs: map[string]string{"gateway": "1.2.3.4"}},
			{Name: "node01", Type: "node", Line: 12, Attrs: map[string]string{"groups": "all,compute", "MAC": "A2E26002C003"}},
			{Name: "grp01", Type: "group", Line: 16, Attrs: map[string]string{"members": "node1,node2"}},
		},
	},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if tc.errLine > 0 {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Parse: got %v, %v; want a *ParseError", got, err)
				}
				if pe.Line != tc.errLine {
					t.Errorf("error line = %d, want %d (%v)", pe.Line, tc.errLine, err)
				}
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("error %q does not contain %q", err, tc.errText)
				}
				if got != nil {
					t.Errorf("Parse returned stanzas with an error: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	_, err := Parse(strings.NewReader("n1:\n objtype=node\nbogus\n"))
	if got, want := err.Error(), `line 3: invalid line "bogus": want a header "name:" or "attr=value"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestStanzaObject(t *testing.T) {
	tests := []struct {
		name    string
		in      Stanza
		want    string // Attrs rendered, or the error text
		wantErr bool
	}{
		{"drops empty values", Stanza{Name: "n1", Type: "node", Attrs: map[string]string{"a": "", "groups": "all"}}, "groups=all", false},
		{"drops key equal to the name", Stanza{Name: "n1", Type: "node", Attrs: map[string]string{"node": "n1"}}, "", false},
		{"site keeps master", Stanza{Name: "clustersite", Type: "site", Attrs: map[string]string{"master": "10.0.0.1"}}, "master=10.0.0.1", false},
		{"key differing from the name", Stanza{Name: "n1", Type: "node", Attrs: map[string]string{"node": "n2"}}, "does not match", true},
		{"no objtype", Stanza{Name: "n1"}, "No objtype value was specified for 'n1'. Cannot create object definition.", true},
		{"bad type", Stanza{Name: "n1", Type: "nodes"}, "Type 'nodes' is not a valid xCAT object type.", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.in.Object()
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Object() error = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, k := range o.AttrNames() {
				parts = append(parts, k+"="+o.Attrs[k])
			}
			if got := strings.Join(parts, " "); got != tc.want || string(o.Type) != tc.in.Type || o.Name != tc.in.Name {
				t.Errorf("Object() = %+v, want attrs %q", o, tc.want)
			}
		})
	}
}
