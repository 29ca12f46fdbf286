package manifest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

func TestKinds(t *testing.T) {
	for _, typ := range inventory.Types() {
		k := KindOf(typ)
		if k == "" {
			t.Errorf("KindOf(%q) is empty", typ)
		}
		if got, ok := TypeOfKind(k); !ok || got != typ {
			t.Errorf("TypeOfKind(%q) = %q, %v; want %q", k, got, ok, typ)
		}
	}
	if got := KindOf("bogus"); got != "" {
		t.Errorf("KindOf(bogus) = %q", got)
	}
	if _, ok := TypeOfKind("node"); ok {
		t.Error("TypeOfKind is case-insensitive")
	}
	want := map[inventory.Type]string{inventory.OSImage: "OSImage", inventory.BootTarget: "BootTarget"}
	for typ, k := range want {
		if KindOf(typ) != k {
			t.Errorf("KindOf(%q) = %q, want %q", typ, KindOf(typ), k)
		}
	}
}

type decodeCase struct {
	name    string
	in      string
	want    []inventory.Object
	errLine int    // > 0: Decode must fail with an *Error on this line
	errText string // substring of the error message
}

var decodeCases = []decodeCase{
	{
		name: "node with every value form",
		in: `apiVersion: drover.dev/v1
kind: Node
metadata:
  name: n1
  labels: {rack: r1}
  annotations:
    note: x
spec:
  groups: [all, compute]
  serialspeed: 115200
  serialport: 0
  mac: "aa:bb:cc:dd:ee:ff"
  ip: 10.0.0.1
  nicips: {eth1: 10.1.0.1, eth0: "10.0.0.1|10.0.1.1"}
  nictypes: eth0!Ethernet
  usercomment: yes
  status: true
  arch: null
  os: ""
  profile: 1.10
  netboot: ~
`,
		want: []inventory.Object{{Type: inventory.Node, Name: "n1", Attrs: map[string]string{
			"groups": "all,compute", "serialspeed": "115200", "serialport": "0", "mac": "aa:bb:cc:dd:ee:ff",
			"ip": "10.0.0.1", "nicips": "eth0!10.0.0.1|10.0.1.1,eth1!10.1.0.1", "nictypes": "eth0!Ethernet",
			"usercomment": "yes", "status": "true", "profile": "1.10",
		}}},
	},
	{
		name: "several documents, empty ones skipped",
		in: `---
# nothing here
---
apiVersion: drover.dev/v1
kind: OSImage
metadata: {name: rhels7-ppc64-install-compute}
spec:
  imagetype: linux
  osvers: rhels7
---
---
apiVersion: drover.dev/v1
kind: Site
metadata:
  name: clustersite
spec:
  master: 10.0.0.1
  domain: cluster.local
  anything_goes: "1"
---
apiVersion: drover.dev/v1
kind: Group
metadata:
  name: compute
---
apiVersion: drover.dev/v1
kind: Node
metadata:
  name: compute
spec: {}
...
`,
		want: []inventory.Object{
			{Type: inventory.OSImage, Name: "rhels7-ppc64-install-compute", Attrs: map[string]string{"imagetype": "linux", "osvers": "rhels7"}},
			{Type: inventory.Site, Name: "clustersite", Attrs: map[string]string{"master": "10.0.0.1", "domain": "cluster.local", "anything_goes": "1"}},
			{Type: inventory.Group, Name: "compute", Attrs: map[string]string{}},
			{Type: inventory.Node, Name: "compute", Attrs: map[string]string{}},
		},
	},
	{
		name: "empty stream",
		in:   "",
	},
	{
		name: "anchors and aliases",
		in: `apiVersion: drover.dev/v1
kind: Node
metadata: {name: &n n1}
spec:
  groups: [&g all, *g]
  usercomment: *n
`,
		want: []inventory.Object{{Type: inventory.Node, Name: "n1", Attrs: map[string]string{"groups": "all,all", "usercomment": "n1"}}},
	},
	{
		name: "multi-line string",
		in:   "apiVersion: drover.dev/v1\nkind: Node\nmetadata: {name: n1}\nspec:\n  usercomment: |\n    line one\n    line two\n",
		want: []inventory.Object{{Type: inventory.Node, Name: "n1", Attrs: map[string]string{"usercomment": "line one\nline two\n"}}},
	},
	{
		name:    "unknown attribute gives xCAT's message",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  groups: all\n  bogus: 1\n",
		errLine: 7, errText: "x.yaml:7: 'bogus' is not a valid attribute name for an object type of 'node'.",
	},
	{
		name:    "unknown top-level field",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nstatus: {}\n",
		errLine: 5, errText: `unknown field "status"`,
	},
	{
		name:    "unknown metadata field",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n  namespace: x\n",
		errLine: 5, errText: "unknown field metadata.namespace",
	},
	{
		name:    "wrong apiVersion",
		in:      "apiVersion: drover.dev/v2\nkind: Node\nmetadata:\n  name: n1\n",
		errLine: 1, errText: `apiVersion must be "drover.dev/v1"`,
	},
	{
		name:    "missing apiVersion",
		in:      "kind: Node\nmetadata:\n  name: n1\n",
		errLine: 1, errText: "apiVersion is required",
	},
	{
		name:    "missing kind",
		in:      "apiVersion: drover.dev/v1\nmetadata:\n  name: n1\n",
		errLine: 1, errText: "kind is required",
	},
	{
		name:    "unknown kind",
		in:      "apiVersion: drover.dev/v1\nkind: node\nmetadata:\n  name: n1\n",
		errLine: 2, errText: `unknown kind "node"`,
	},
	{
		name:    "missing metadata",
		in:      "apiVersion: drover.dev/v1\nkind: Node\n",
		errLine: 1, errText: "metadata.name is required",
	},
	{
		name:    "missing name",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  labels: {}\n",
		errLine: 4, errText: "metadata.name is required",
	},
	{
		name:    "empty name",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: \"\"\n",
		errLine: 4, errText: "metadata.name must be a non-empty string",
	},
	{
		name:    "labels not a map",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n  labels: [a]\n",
		errLine: 5, errText: "metadata.labels must be a mapping",
	},
	{
		name:    "repeated key",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  groups: a\n  groups: b\n",
		errLine: 7, errText: "spec.groups: repeated key",
	},
	{
		name:    "key attribute in spec",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  node: n1\n",
		errLine: 6, errText: "spec.node: not allowed",
	},
	{
		name:    "objtype in spec",
		in:      "apiVersion: drover.dev/v1\nkind: Network\nmetadata:\n  name: net1\nspec:\n  objtype: network\n",
		errLine: 6, errText: "spec.objtype: not allowed",
	},
	{
		name:    "site with another name",
		in:      "apiVersion: drover.dev/v1\nkind: Site\nmetadata:\n  name: mysite\nspec:\n  domain: x\n",
		errLine: 4, errText: `a Site must be named "clustersite"`,
	},
	{
		name: "duplicate kind and name",
		in: "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n---\n" +
			"apiVersion: drover.dev/v1\nkind: Group\nmetadata:\n  name: n1\n---\n" +
			"apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n",
		errLine: 14, errText: `Node "n1" is already defined on line 4`,
	},
	{
		name:    "document not a mapping",
		in:      "- a\n- b\n",
		errLine: 1, errText: "a document must be a mapping",
	},
	{
		name:    "spec not a mapping",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec: [a]\n",
		errLine: 5, errText: "spec must be a mapping",
	},
	{
		name:    "map value for a plain attribute",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  groups: {a: b}\n",
		errLine: 6, errText: "spec.groups: must be a string",
	},
	{
		name:    "nested list",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  groups:\n    - a\n    - [b]\n",
		errLine: 8, errText: "list items must be",
	},
	{
		name:    "nic value with a comma",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  nicips:\n    eth0: 1.1.1.1,2.2.2.2\n",
		errLine: 7, errText: "contains ',' or '!'",
	},
	{
		name:    "nic name with a blank",
		in:      "apiVersion: drover.dev/v1\nkind: Group\nmetadata:\n  name: g1\nspec:\n  nicips:\n    \"eth 0\": 1.1.1.1\n",
		errLine: 7, errText: "nic name \"eth 0\" must be non-empty",
	},
	{
		name:    "nic attribute as a list",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  nicips: [1.1.1.1]\n",
		errLine: 6, errText: "spec.nicips: must be a map of nic to value",
	},
	{
		name:    "nic attribute as a malformed string",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  nicips: 1.1.1.1\n",
		errLine: 6, errText: `"1.1.1.1" is not a map of nic to value`,
	},
	{
		name:    "per-interface attribute name",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  nicips.eth0: 1.1.1.1\n",
		errLine: 6, errText: "write nicips as a map",
	},
	{
		name:    "binary tag",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  usercomment: !!binary aGVsbG8=\n",
		errLine: 6, errText: "spec.usercomment: must be a string",
	},
	{
		name:    "YAML syntax error",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n spec: x\n",
		errLine: 5, errText: "invalid YAML: did not find expected key",
	},
	{
		name:    "YAML syntax error in a later document",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n---\nkind: [a\n",
		errLine: 6, errText: "invalid YAML",
	},
	{
		name:    "YAML scanner error",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  a: b: c\n",
		errLine: 6, errText: "invalid YAML: mapping values are not allowed in this context",
	},
	{
		name:    "error in a later document",
		in:      "apiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n1\n---\napiVersion: drover.dev/v1\nkind: Node\nmetadata:\n  name: n2\nspec:\n  groups: all\n  mac: [a, {b: c}]\n",
		errLine: 12, errText: "spec.mac",
	},
}

func TestDecode(t *testing.T) {
	schema := inventory.DefaultSchema()
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(strings.NewReader(tc.in), "x.yaml", schema)
			if tc.errLine > 0 {
				var me *Error
				if !errors.As(err, &me) {
					t.Fatalf("Decode: got %v, %v; want an *Error", got, err)
				}
				if me.Line != tc.errLine || me.Source != "x.yaml" {
					t.Errorf("error at %s:%d, want x.yaml:%d (%v)", me.Source, me.Line, tc.errLine, err)
				}
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("error %q does not contain %q", err, tc.errText)
				}
				if got != nil {
					t.Errorf("Decode returned objects with an error: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Source: "nodes.yaml", Line: 7, Msg: "boom"}
	if got := e.Error(); got != "nodes.yaml:7: boom" {
		t.Errorf("Error() = %q", got)
	}
}

func TestEncode(t *testing.T) {
	objs := []inventory.Object{
		{Type: inventory.Node, Name: "n1", Attrs: map[string]string{
			"groups": "all,compute", "serialspeed": "115200", "status": "true", "usercomment": "null",
			"nicips": "eth0!10.0.0.1|10.0.1.1,eth1!10.1.0.1", "nictypes": "eth1!Ethernet,eth0!Ethernet",
			"mac": "aa:bb:cc:dd:ee:ff",
		}},
		{Type: inventory.Site, Name: "clustersite", Attrs: map[string]string{"master": "10.0.0.1", "123": "~"}},
		{Type: inventory.Group, Name: "empty", Attrs: map[string]string{}},
	}
	want := `apiVersion: drover.dev/v1
kind: Node
metadata:
  name: n1
spec:
  groups: all,compute
  mac: aa:bb:cc:dd:ee:ff
  nicips:
    eth0: 10.0.0.1|10.0.1.1
    eth1: 10.1.0.1
  nictypes: eth1!Ethernet,eth0!Ethernet
  serialspeed: "115200"
  status: "true"
  usercomment: "null"
---
apiVersion: drover.dev/v1
kind: Site
metadata:
  name: clustersite
spec:
  "123": "~"
  master: 10.0.0.1
---
apiVersion: drover.dev/v1
kind: Group
metadata:
  name: empty
spec: {}
`
	var b bytes.Buffer
	if err := Encode(&b, objs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Encode mismatch (-want +got):\n%s", diff)
	}
	got, err := Decode(&b, "enc", inventory.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs, got); diff != "" {
		t.Errorf("Decode(Encode(x)) mismatch (-x +got):\n%s", diff)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		obj  inventory.Object
		want string
	}{
		{"unknown type", inventory.Object{Type: "nodes", Name: "n1"}, "Type 'nodes' is not a valid xCAT object type."},
		{"empty name", inventory.Object{Type: inventory.Node}, "empty name"},
		{"key attribute", inventory.Object{Type: inventory.OSImage, Name: "i", Attrs: map[string]string{"imagename": "i"}}, `"imagename" cannot be written`},
		{"objtype", inventory.Object{Type: inventory.Node, Name: "n", Attrs: map[string]string{"objtype": "node"}}, `"objtype" cannot be written`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Encode(&b, []inventory.Object{{Type: inventory.Node, Name: "ok"}, tc.obj})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode error = %v, want %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("Encode wrote %q before failing", b.String())
			}
		})
	}
}

// TestRoundTrip checks Decode(Encode(x)) == x for awkward values.
func TestRoundTrip(t *testing.T) {
	values := []string{
		"yes", "no", "on", "off", "true", "False", "null", "Null", "~", "0", "0x10", "1e3", "1_000", ".inf", "-.nan",
		"2001-12-14", "a: b", "- a", "#x", "x #y", "'q'", `"d"`, " lead", "trail ", "a\nb", "a\n", "\ttab", "é ünï",
		"{a}", "[b]", "&a", "*a", "!tag", "%x", "@x", "`x", "|", ">", "?", "a\\b", "\x01", "line\n\n", "  \n x",
	}
	site := inventory.Object{Type: inventory.Site, Name: inventory.SiteName, Attrs: map[string]string{}}
	for i, v := range values {
		site.Attrs[string(rune('a'+i%26))+strings.Repeat("x", i/26)] = v
	}
	node := inventory.Object{Type: inventory.Node, Name: "true", Attrs: map[string]string{
		"nicips": "0!null,1!~,true!yes", "groups": "null",
	}}
	in := []inventory.Object{site, node}
	var b bytes.Buffer
	if err := Encode(&b, in); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(b.Bytes()), "rt", inventory.DefaultSchema())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("round trip mismatch (-in +out):\n%s\nencoded:\n%s", diff, b.String())
	}
}
