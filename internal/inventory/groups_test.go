package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// groupFixture: static groups through the nodes' groups, a group object
// without members, and dynamic groups over resolved attributes.
func groupFixture(dynamic ...Object) *Memory {
	objs := []Object{
		group("compute", map[string]string{"mgt": "ipmi", "bmc": `/\z/-bmc/`, "os": "rhels9"}),
		group("empty", map[string]string{"usercomment": "no members yet"}),
		node("n3", map[string]string{"groups": "compute,rack1"}),
		node("n1", map[string]string{"groups": "compute,rack1", "status": "booted"}),
		node("n2", map[string]string{"groups": "compute,rack2", "mgt": "openbmc"}),
		node("login1", map[string]string{"groups": "login, rack1", "mgt": "kvm", "os": "sles15"}),
		node("sw1", map[string]string{"groups": "switches"}),
	}
	return NewMemory(append(objs, dynamic...)...)
}

func dyn(name, wherevals string) Object {
	return group(name, map[string]string{"grouptype": "dynamic", "wherevals": wherevals})
}

func TestGroupMembers(t *testing.T) {
	for _, tc := range []struct {
		name, group, wherevals string
		want                   []string
		wantOK                 bool
	}{
		{name: "static by object", group: "compute", want: []string{"n1", "n2", "n3"}, wantOK: true},
		{name: "static without object", group: "rack1", want: []string{"login1", "n1", "n3"}, wantOK: true},
		{name: "blanks around group names", group: "rack1", want: []string{"login1", "n1", "n3"}, wantOK: true},
		{name: "object without members", group: "empty", want: nil, wantOK: true},
		{name: "unknown", group: "nosuch", want: nil, wantOK: false},
		{name: "a node is not a group", group: "n1", want: nil, wantOK: false},

		{name: "dynamic ==", group: "d", wherevals: "mgt==ipmi", want: []string{"n1", "n3"}, wantOK: true},
		{name: "dynamic = means ==", group: "d", wherevals: "mgt=ipmi", want: []string{"n1", "n3"}, wantOK: true},
		{name: "dynamic !=", group: "d", wherevals: "mgt!=ipmi", want: []string{"login1", "n2"}, wantOK: true},
		{name: "dynamic =~", group: "d", wherevals: "mgt=~bmc", want: []string{"n2"}, wantOK: true},
		{name: "dynamic =~ with slashes", group: "d", wherevals: "mgt=~/^(ipmi|kvm)$/", want: []string{"login1", "n1", "n3"}, wantOK: true},
		{name: "dynamic !~", group: "d", wherevals: "os!~^rhel", want: []string{"login1"}, wantOK: true},
		{name: "dynamic on regex-evaluated value", group: "d", wherevals: "bmc==n2-bmc", want: []string{"n2"}, wantOK: true},
		{name: "dynamic on node name", group: "d", wherevals: "node=~^n[12]$", want: []string{"n1", "n2"}, wantOK: true},
		{name: "dynamic and", group: "d", wherevals: "groups=~rack1::mgt==ipmi", want: []string{"n1", "n3"}, wantOK: true},
		{name: "dynamic nodelist attribute", group: "d", wherevals: "status==booted", want: []string{"n1"}, wantOK: true},
		// xCAT (Utils::selection_string_match): a missing attribute fails every
		// condition, != included; sw1 has no mgt.
		{name: "dynamic missing attribute fails !=", group: "d", wherevals: "mgt!=kvm", want: []string{"n1", "n2", "n3"}, wantOK: true},
		{name: "dynamic later condition on same attribute wins", group: "d", wherevals: "mgt==ipmi::mgt==kvm", want: []string{"login1"}, wantOK: true},
		{name: "dynamic ignores static members", group: "d2", wherevals: "mgt==kvm", want: []string{"login1"}, wantOK: true},
		{name: "dynamic without wherevals selects nothing", group: "d", wherevals: "", want: nil, wantOK: true},
		{name: "dynamic bad wherevals selects nothing", group: "d", wherevals: "mgt<ipmi", want: nil, wantOK: true},
		{name: "dynamic bad regex selects nothing", group: "d", wherevals: "mgt=~(", want: nil, wantOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var extra []Object
			if tc.wherevals != "" || tc.group == "d" {
				extra = append(extra, dyn(tc.group, tc.wherevals))
			}
			m := groupFixture(extra...)
			if tc.group == "d2" { // a dynamic group some node also lists statically
				n := node("n9", map[string]string{"groups": "d2"})
				m = NewMemory(append([]Object{n}, listAll(groupFixture(extra...))...)...)
			}
			got, ok := GroupMembers(m, tc.group)
			if diff := cmp.Diff(tc.want, got); diff != "" || ok != tc.wantOK {
				t.Errorf("GroupMembers(%s) ok=%v, want %v (-want +got):\n%s", tc.group, ok, tc.wantOK, diff)
			}
			ixGot, ixOK := NewIndex(m, nil).GroupMembers(tc.group)
			if !cmp.Equal(got, ixGot) || ok != ixOK {
				t.Errorf("Index.GroupMembers(%s) = %v, %v; GroupMembers = %v, %v", tc.group, ixGot, ixOK, got, ok)
			}
		})
	}
}

func listAll(m *Memory) []Object {
	var out []Object
	for _, t := range Types() {
		for _, o := range m.List(t) {
			out = append(out, *o)
		}
	}
	return out
}

func TestParseWhere(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []WhereCond
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "mgt==ipmi", want: []WhereCond{{"mgt", WhereEq, "ipmi"}}},
		{in: "mgt=ipmi", want: []WhereCond{{"mgt", WhereEq, "ipmi"}}},
		{in: "mgt!=ipmi", want: []WhereCond{{"mgt", WhereNe, "ipmi"}}},
		{in: "mgt=~/^ip/", want: []WhereCond{{"mgt", WhereMatch, "^ip"}}},
		{in: "mgt!~ip", want: []WhereCond{{"mgt", WhereNotMatch, "ip"}}},
		{in: "a==b=c", want: []WhereCond{{"a", WhereEq, "b=c"}}},
		{in: "mgt==", want: []WhereCond{{"mgt", WhereEq, ""}}},
		{in: "os==x::mgt=~i::", want: []WhereCond{{"os", WhereEq, "x"}, {"mgt", WhereMatch, "i"}}},
		{in: "mgt==a::os==b::mgt==c", want: []WhereCond{{"os", WhereEq, "b"}, {"mgt", WhereEq, "c"}}},
		{in: "mgt=", wantErr: true},
		{in: "a=b=c", wantErr: true},
		{in: "mgt", wantErr: true},
		{in: "::mgt==x", wantErr: true},
	} {
		got, err := ParseWhere(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseWhere(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseWhere(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"", "mgt==ipmi", "mgt=~/^ip/::os!=x", "a!~b", "a=b", "::", "a==b::a!=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		conds, err := ParseWhere(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range conds {
			if seen[c.Attr] {
				t.Errorf("ParseWhere(%q): attribute %q twice", s, c.Attr)
			}
			seen[c.Attr] = true
		}
	})
}
