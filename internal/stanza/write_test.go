package stanza

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

// objects converts parsed stanzas to inventory objects.
func objects(t testing.TB, ss []Stanza) []inventory.Object {
	t.Helper()
	out := make([]inventory.Object, 0, len(ss))
	for i := range ss {
		o, err := ss[i].Object()
		if err != nil {
			t.Fatalf("stanza %q: %v", ss[i].Name, err)
		}
		out = append(out, o)
	}
	return out
}

// TestRoundTripExamples checks Parse -> inventory.Object -> Write gives the
// lsdef -z output of xCAT byte for byte.
func TestRoundTripExamples(t *testing.T) {
	for _, f := range []string{
		"example-node-c910f04x42.stanza",
		"example-osimage-rhels7.stanza",
		"example-osimage-test_osimage.stanza",
	} {
		t.Run(f, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xcat", f))
			if err != nil {
				t.Fatal(err)
			}
			ss, err := Parse(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Write(&out, objects(t, ss), WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(in), out.String()); diff != "" {
				t.Errorf("round trip mismatch (-file +written):\n%s", diff)
			}
		})
	}
}

// TestParseExamples checks every saved example parses.
func TestParseExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "xcat", "*.stanza"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	want := map[string]string{ // one attribute per file worth pinning
		"example-template-switch.stanza":   "switch-template ip=OPTIONAL:the ip address of the switch",
		"example-template-cec.stanza":      "cec-template hcp=MANDATORY:The hardware control point(HMC) for the node",
		"example-test-default-node.stanza": "testnode groups=all,rhels5.5",
		"example-node-cn1.stanza":          "cn1 mac=ca:68:d3:ae:db:03",
		"example-manpage-mixed.stanza":     "node02 groups=all,compute",
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := Parse(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[filepath.Base(f)]
			if !ok {
				return
			}
			name, attr, _ := strings.Cut(w, " ")
			k, v, _ := strings.Cut(attr, "=")
			for _, s := range ss {
				if s.Name == name {
					if s.Attrs[k] != v {
						t.Errorf("%s %s = %q, want %q", name, k, s.Attrs[k], v)
					}
					return
				}
			}
			t.Errorf("no stanza %q in %v", name, ss)
		})
	}
}

func TestWrite(t *testing.T) {
	node := inventory.Object{Type: inventory.Node, Name: "n1", Attrs: map[string]string{
		"groups":              "all",
		"nicips":              "eth0!1.1.1.1|1.2.1.1,eth1!x",
		"nichostnamesuffixes": "eth1!-eth1",
		"mac":                 "aa:bb:cc:dd:ee:ff",
		"passwd.HMC":          "a",
		"passwd.admin":        "b",
		"empty":               "",
	}}
	tests := []struct {
		name string
		objs []inventory.Object
		opt  WriteOptions
		want string
	}{
		{
			name: "no objects",
			want: Header + "\n",
		},
		{
			name: "nic attributes expanded at their sorted position, byte order",
			objs: []inventory.Object{node},
			want: Header + "\n\nn1:\n    objtype=node\n    groups=all\n    mac=aa:bb:cc:dd:ee:ff\n" +
				"    nichostnamesuffixes.eth1=-eth1\n    nicips.eth0=1.1.1.1|1.2.1.1\n    nicips.eth1=x\n" +
				"    passwd.HMC=a\n    passwd.admin=b\n",
		},
		{
			name: "objects in the order given",
			objs: []inventory.Object{
				{Type: inventory.OSImage, Name: "z", Attrs: map[string]string{"imagetype": "linux"}},
				{Type: inventory.Network, Name: "fd59::/64", Attrs: map[string]string{"net": "fd59::", "mask": "/64"}},
			},
			want: Header + "\n\nz:\n    objtype=osimage\n    imagetype=linux\n\nfd59::/64:\n    objtype=network\n    mask=/64\n    net=fd59::\n",
		},
		{
			name: "Attrs prints exactly these, sorted, even when empty",
			objs: []inventory.Object{node},
			opt:  WriteOptions{Attrs: []string{"mac", "os", "groups", "objtype"}},
			want: Header + "\n\nn1:\n    objtype=node\n    groups=all\n    mac=aa:bb:cc:dd:ee:ff\n    os=\n",
		},
		{
			name: "Attrs with one nic of a nic attribute; empty nic attributes print nothing",
			objs: []inventory.Object{node},
			opt:  WriteOptions{Attrs: []string{"nicips.eth1", "nictypes"}},
			want: Header + "\n\nn1:\n    objtype=node\n    nicips.eth1=x\n",
		},
		{
			name: "empty Attrs prints no attributes",
			objs: []inventory.Object{node},
			opt:  WriteOptions{Attrs: []string{}},
			want: Header + "\n\nn1:\n    objtype=node\n",
		},
		{
			name: "Always prints members= for groups",
			objs: []inventory.Object{
				{Type: inventory.Group, Name: "compute", Attrs: map[string]string{"grouptype": "static"}},
				{Type: inventory.Group, Name: "rack1", Attrs: map[string]string{"members": "n1,n2"}},
			},
			opt:  WriteOptions{Always: []string{"members"}},
			want: Header + "\n\ncompute:\n    objtype=group\n    grouptype=static\n    members=\n\nrack1:\n    objtype=group\n    members=n1,n2\n",
		},
		{
			name: "malformed nic entries are left out as in xCAT",
			objs: []inventory.Object{{Type: inventory.Node, Name: "n1", Attrs: map[string]string{"nicips": "eth0!a,bogus,!b,eth1!,eth2!c!d"}}},
			want: Header + "\n\nn1:\n    objtype=node\n    nicips.eth0=a\n    nicips.eth2=c\n",
		},
		{
			name: "nic attributes of other types are written as they are",
			objs: []inventory.Object{{Type: inventory.Site, Name: "clustersite", Attrs: map[string]string{"nicips": "eth0!a"}}},
			want: Header + "\n\nclustersite:\n    objtype=site\n    nicips=eth0!a\n",
		},
		{
			name: "values with a leading or trailing double quote are quoted",
			objs: []inventory.Object{{Type: inventory.Node, Name: "n1", Attrs: map[string]string{
				"a": `"x`, "b": `y"`, "c": `"z"`, "d": `in"side`, "nicips": `eth0!"q`}}},
			want: Header + "\n\nn1:\n    objtype=node\n    a=\"\"x\"\n    b=\"y\"\"\n    c=\"\"z\"\"\n    d=in\"side\n    nicips.eth0=\"\"q\"\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tc.objs, tc.opt); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("Write mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteQuotedValuesReadBack checks the quoting deviation gives back the
// value.
func TestWriteQuotedValuesReadBack(t *testing.T) {
	in := []inventory.Object{{Type: inventory.Node, Name: "n1", Attrs: map[string]string{
		"a": `"x`, "b": `y"`, "c": `"z"`, "d": `"`, "e": `" x`, "f": `x "`, "nicips": `eth0!"q"`}}}
	var b bytes.Buffer
	if err := Write(&b, in, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ss, err := Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, objects(t, ss)); diff != "" {
		t.Errorf("read back mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteNicRoundTrip(t *testing.T) {
	in := "# <xCAT data object stanza file>\n\nn1:\n    objtype=node\n    groups=all\n" +
		"    nicips.eth1=10.1.0.1\n    nicips.eth0=10.0.0.1|10.0.1.1\n    nictypes.ib0=Infiniband\n"
	ss, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, ss)
	if got, want := objs[0].Attrs["nicips"], "eth1!10.1.0.1,eth0!10.0.0.1|10.0.1.1"; got != want {
		t.Errorf("collapsed nicips = %q, want %q", got, want)
	}
	var b bytes.Buffer
	if err := Write(&b, objs, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, b.String()); diff != "" {
		t.Errorf("nic round trip (-in +out):\n%s", diff)
	}
}

func TestWriteUnwritable(t *testing.T) {
	tests := []struct {
		name string
		obj  inventory.Object
	}{
		{"empty name", inventory.Object{Type: inventory.Node, Name: " "}},
		{"name with =", inventory.Object{Type: inventory.Node, Name: "a=b"}},
		{"name with newline", inventory.Object{Type: inventory.Node, Name: "a\nb"}},
		{"name starting with #", inventory.Object{Type: inventory.Node, Name: "#a"}},
		{"attribute with =", inventory.Object{Type: inventory.Site, Name: "clustersite", Attrs: map[string]string{"a=b": "c"}}},
		{"empty attribute", inventory.Object{Type: inventory.Site, Name: "clustersite", Attrs: map[string]string{"": "c"}}},
		{"attribute starting with #", inventory.Object{Type: inventory.Site, Name: "clustersite", Attrs: map[string]string{" #a": "c"}}},
		{"value with newline", inventory.Object{Type: inventory.Node, Name: "n1", Attrs: map[string]string{"usercomment": "a\nobjtype=group"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			ok := inventory.Object{Type: inventory.Node, Name: "fine"}
			err := Write(&b, []inventory.Object{ok, tc.obj}, WriteOptions{})
			if !errors.Is(err, ErrUnwritable) {
				t.Fatalf("Write error = %v, want ErrUnwritable", err)
			}
			if b.Len() != 0 {
				t.Errorf("Write wrote %q before failing", b.String())
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	err := Write(failWriter{}, []inventory.Object{{Type: inventory.Node, Name: "n1"}}, WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write error = %v, want the writer's error", err)
	}
}
