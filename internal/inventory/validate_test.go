package inventory

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	s := DefaultSchema()
	for _, tc := range []struct {
		name    string
		obj     Object
		wantErr string // "" for valid
	}{
		{name: "node", obj: node("n1", map[string]string{"groups": "all", "mgt": "ipmi", "nicips.eth0": "1.2.3.4"})},
		{name: "node with dot is valid here", obj: node("n1.cluster", map[string]string{"groups": "all"})},
		{name: "group", obj: group("compute", map[string]string{"ip": `|node(\d+)|10.0.0.($1+0)|`, "grouptype": "static"})},
		{name: "dynamic group", obj: group("ipmis", map[string]string{"grouptype": "dynamic", "wherevals": "mgt==ipmi::os=~^rh"})},
		{name: "network", obj: Object{Type: Network, Name: "10_0_0_0-255_255_255_0", Attrs: map[string]string{"net": "10.0.0.0", "mask": "255.255.255.0"}}},
		{name: "IPv6 network name", obj: Object{Type: Network, Name: "fd59::/64", Attrs: map[string]string{"net": "fd59::", "mask": "/64"}}},
		{name: "site accepts any key", obj: site(map[string]string{"master": "10.0.0.1", "myownkey": "x"})},
		{name: "osimage with dots", obj: Object{Type: OSImage, Name: "rhels9.2-x86_64-netboot-compute", Attrs: map[string]string{"osvers": "rhels9.2"}}},
		{name: "policy", obj: Object{Type: Policy, Name: "1.2", Attrs: map[string]string{"rule": "allow", "name": "root"}}},

		{name: "unknown type", obj: Object{Type: "passwd", Name: "x"}, wantErr: "Type 'passwd' is not a valid xCAT object type."},
		{name: "unknown attribute", obj: node("n1", map[string]string{"zzz": "1", "bogus": "2"}), wantErr: "'bogus' is not a valid attribute name for an object type of 'node'."},
		{name: "group-only attribute on a node", obj: node("n1", map[string]string{"wherevals": "a==b"}), wantErr: "'wherevals' is not a valid attribute name for an object type of 'node'."},
		{name: "newline in value", obj: node("n1", map[string]string{"usercomment": "a\nb"}), wantErr: "node n1: the value of attribute usercomment holds a newline"},
		{name: "empty name", obj: node("", nil), wantErr: "node name is empty"},
		{name: "blank in name", obj: node("n 1", nil), wantErr: `node name "n 1" holds a blank or control character`},
		{name: "slash in name", obj: node("a/b", nil), wantErr: `node name "a/b" holds a '/'`},
		{name: "dot dot", obj: Object{Type: OSImage, Name: ".."}, wantErr: `osimage name ".." is not allowed`},
		{name: "comma in group name", obj: group("a,b", nil), wantErr: `group name "a,b" holds a ','`},
		{name: "site name", obj: Object{Type: Site, Name: "mysite"}, wantErr: `the site object is named clustersite, not "mysite"`},
		{name: "network without mask", obj: Object{Type: Network, Name: "net1", Attrs: map[string]string{"net": "10.0.0.0"}}, wantErr: "Net or mask value should not be empty for xCAT network object 'net1'."},
		{name: "dynamic group without wherevals", obj: group("d", map[string]string{"grouptype": "dynamic"}), wantErr: "group d: a dynamic group needs wherevals"},
		{name: "dynamic group bad wherevals", obj: group("d", map[string]string{"grouptype": "dynamic", "wherevals": "mgt"}), wantErr: `group d: wherevals: incorrect attr*val pair "mgt" in "mgt"`},
		{name: "dynamic group bad regex", obj: group("d", map[string]string{"grouptype": "dynamic", "wherevals": "mgt=~("}), wantErr: "group d: wherevals: condition mgt=~(: error parsing regexp: missing closing ): `(`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(s, &tc.obj)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Validate: no error, want %q", tc.wantErr)
			case err != nil && err.Error() != tc.wantErr:
				t.Errorf("Validate error %q, want %q", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestValidateErrorTypes(t *testing.T) {
	var ua *UnknownAttrError
	n := node("n1", map[string]string{"bogus": "1"})
	if err := Validate(nil, &n); !errors.As(err, &ua) || ua.Attr != "bogus" {
		t.Errorf("unknown attribute: %v, want *UnknownAttrError", err)
	}
	var ut *UnknownTypeError
	if err := Validate(nil, &Object{Type: "kit", Name: "k"}); !errors.As(err, &ut) {
		t.Errorf("unknown type: %v, want *UnknownTypeError", err)
	}
}

func TestValidNodeName(t *testing.T) {
	if err := ValidNodeName("node01"); err != nil {
		t.Errorf("node01: %v", err)
	}
	err := ValidNodeName("node01.cluster")
	if err == nil || err.Error() != "The object name 'node01.cluster' is invalid, Cannot use '.' in node name." || !errors.Is(err, ErrInvalid) {
		t.Errorf("node01.cluster: %v", err)
	}
}
