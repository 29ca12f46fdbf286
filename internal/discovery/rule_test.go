package discovery

import (
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var ruleTests = []struct {
	in      string
	want    Rule
	canon   string // String(); "" means in
	wantErr bool
}{
	{in: "gpu=10de -> name=gpu{n:03}", want: Rule{
		Selectors: []Selector{{Key: "gpu", Op: "=", Value: "10de"}},
		Template:  Template{Prefix: "gpu", Width: 3}}},
	{in: "bigmem: memory>=512GiB cpus>=64 -> name=fat{n:02} groups=compute,bigmem", want: Rule{
		Name: "bigmem",
		Selectors: []Selector{
			{Key: "memory", Op: ">=", Value: "512GiB", num: 512 << 30},
			{Key: "cpus", Op: ">=", Value: "64", num: 64}},
		Groups:   []string{"compute", "bigmem"},
		Template: Template{Prefix: "fat", Width: 2}}},
	{in: "  r1:\tserial~^ABC   mtm!=x ->  groups=a   name=n{n}-b ", canon: "r1: serial~^ABC mtm!=x -> name=n{n}-b groups=a", want: Rule{
		Name: "r1",
		Selectors: []Selector{
			{Key: "serial", Op: "~", Value: "^ABC"},
			{Key: "mtm", Op: "!=", Value: "x"}},
		Groups:   []string{"a"},
		Template: Template{Prefix: "n", Suffix: "-b"}}},
	{in: `cputype~"Xeon Gold" pci!=15b3:1017 disks>1 disksize<2TB gpus=0 -> name=c{n}`, want: Rule{
		Selectors: []Selector{
			{Key: "cputype", Op: "~", Value: "Xeon Gold"},
			{Key: "pci", Op: "!=", Value: "15b3:1017"},
			{Key: "disks", Op: ">", Value: "1", num: 1},
			{Key: "disksize", Op: "<", Value: "2TB", num: 2e12},
			{Key: "gpus", Op: "=", Value: "0"}},
		Template: Template{Prefix: "c"}}},
	{in: "mac=52-54-00-AA-BB-CC mac!~^02: uuid=X -> name=vm{n:04}", canon: "mac=52:54:00:aa:bb:cc mac!~^02: uuid=X -> name=vm{n:04}", want: Rule{
		Selectors: []Selector{
			{Key: "mac", Op: "=", Value: "52:54:00:aa:bb:cc"},
			{Key: "mac", Op: "!~", Value: "^02:"},
			{Key: "uuid", Op: "=", Value: "X"}},
		Template: Template{Prefix: "vm", Width: 4}}},
	{in: "gpu=10de", wantErr: true},             // no ->
	{in: "gpu=10de->name=g{n}", wantErr: true},  // -> must stand alone
	{in: "-> name=g{n}", wantErr: true},         // no selector
	{in: "gpu=10de -> groups=a", wantErr: true}, // no name
	{in: "gpu=10de -> name=g{n} name=h{n}", wantErr: true},
	{in: "gpu=10de -> name=g{n} owner=x", wantErr: true},
	{in: "gpu=10de -> name=g{n} groups=a,,b", wantErr: true},
	{in: "gpu=10de -> name=g", wantErr: true},   // no {n}
	{in: "gpu=10de -> name={n}", wantErr: true}, // starts with a digit
	{in: "gpu=10de -> name=g{n:3}", wantErr: true},
	{in: "gpu=10de -> name=g{n:00}", wantErr: true},
	{in: "gpu=10de -> name=g/{n}", wantErr: true},
	{in: "bad name: gpu=10de -> name=g{n}", wantErr: true},
	{in: "colour=red -> name=g{n}", wantErr: true},  // unknown key
	{in: "memory~1G -> name=g{n}", wantErr: true},   // op not for sizes
	{in: "memory>=1XB -> name=g{n}", wantErr: true}, // unit
	{in: "memory>=99999999999PiB -> name=g{n}", wantErr: true},
	{in: "cpus>=-1 -> name=g{n}", wantErr: true},
	{in: "gpu>=10de -> name=g{n}", wantErr: true},
	{in: "gpu=nvidia -> name=g{n}", wantErr: true},
	{in: "mac=zz -> name=g{n}", wantErr: true},
	{in: "serial~( -> name=g{n}", wantErr: true},
	{in: "serial= -> name=g{n}", wantErr: true},
	{in: `serial="abc -> name=g{n}`, wantErr: true},
	{in: "=x -> name=g{n}", wantErr: true},
	{in: "serial -> name=g{n}", wantErr: true},
}

func TestParseRule(t *testing.T) {
	for _, tt := range ruleTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("ParseRule() = %v, %v; want an ErrSyntax error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Selector{}), cmpopts.IgnoreFields(Selector{}, "re")); diff != "" {
				t.Errorf("ParseRule() mismatch (-want +got):\n%s", diff)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if s := got.String(); s != canon {
				t.Errorf("String() = %q, want %q", s, canon)
			}
		})
	}
}

func TestSelectorHolds(t *testing.T) {
	f := Facts{
		BootMAC:     mac("52:54:00:00:00:01"),
		MACs:        []net.HardwareAddr{mac("02:00:00:00:00:02")},
		Serial:      "ABC-123",
		MTM:         "PowerEdge R760",
		CPUModel:    "Intel(R) Xeon(R) Gold 6430",
		CPUs:        64,
		MemoryBytes: 512 << 30,
		Disks:       []Disk{{Name: "sda", SizeBytes: 1e12}, {Name: "sdb", SizeBytes: 1e12}},
		PCI: []PCIDevice{
			{Vendor: "10de", Device: "2330", Class: "0302"},
			{Vendor: "10de", Device: "2330", Class: "0302"},
			{Vendor: "15b3", Device: "1017", Class: "0200"},
		},
	}
	tests := []struct {
		sel  string
		want bool
	}{
		{"memory>=512GiB", true},
		{"memory>512GiB", false},
		{"memory=512G", true},
		{"memory<549755813889", true},
		{"memory>=513GB", true}, // 512 GiB = 549.8 GB
		{"memory>=550GB", false},
		{"disksize=2TB", true},
		{"disksize<=2TB", true},
		{"disks=2", true},
		{"disks!=2", false},
		{"cpus>=64", true},
		{"cpus>64", false},
		{"gpus=2", true},
		{"gpus>2", false},
		{"gpu=10de", true},
		{"gpu=10DE:2330", true},
		{"gpu=10de:9999", false},
		{"gpu=15b3", false}, // a NIC, not a display controller
		{"pci=15b3", true},
		{"pci!=15b3", false},
		{"gpu!=1002", true},
		{"serial~^ABC", true},
		{"serial~^abc", false},
		{"serial=abc-123", true},
		{"serial!=abc-123", false},
		{"serial!~^X", true},
		{"mtm~R7[0-9]0", true},
		{"uuid=x", false},
		{"uuid!=x", true},
		{`cputype~"Gold 6"`, true},
		{"mac=02:00:00:00:00:02", true},
		{"mac=02:00:00:00:00:03", false},
		{"mac!=02:00:00:00:00:03", true},
		{"mac~^52:54:00", true},
		{"mac!~^52:54:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			s, err := ParseSelector(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Holds(f); got != tt.want {
				t.Errorf("Holds() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTemplateFormat(t *testing.T) {
	tests := []struct {
		tmpl string
		n    int
		want string
	}{
		{"gpu{n:03}", 7, "gpu007"},
		{"gpu{n:03}", 1234, "gpu1234"},
		{"cn{n}", 12, "cn12"},
		{"r1n{n:02}-ib", 3, "r1n03-ib"},
	}
	for _, tt := range tests {
		tp, err := ParseTemplate(tt.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if got := tp.Format(tt.n); got != tt.want {
			t.Errorf("%s.Format(%d) = %q, want %q", tt.tmpl, tt.n, got, tt.want)
		}
		if got := tp.String(); got != tt.tmpl {
			t.Errorf("String() = %q, want %q", got, tt.tmpl)
		}
	}
}

// FuzzParseRule checks that the parser never panics and that every rule it
// accepts prints to a text that parses back to the same rule.
func FuzzParseRule(f *testing.F) {
	for _, tt := range ruleTests {
		f.Add(tt.in)
	}
	f.Add(`serial="a\"b c" -> name=x{n}`)
	f.Add(`serial=x"y z" -> name=x{n}`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		text := r.String()
		r2, err := ParseRule(text)
		if err != nil {
			t.Fatalf("ParseRule(%q) ok, but its String %q fails: %v", s, text, err)
		}
		if text2 := r2.String(); text2 != text {
			t.Fatalf("round trip: %q -> %q -> %q", s, text, text2)
		}
		if r.Template.Format(1) == "" {
			t.Fatal("empty name")
		}
		r.Matches(Facts{}) // must not panic
	})
}
