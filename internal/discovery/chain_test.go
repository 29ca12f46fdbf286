package discovery

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var chainTests = []struct {
	in      string
	want    []Step
	wantErr bool
}{
	{in: "", want: nil},
	{in: " , ;", want: nil},
	{in: "runcmd=bmcsetup,osimage=rhels9-x86_64-netboot-compute", want: []Step{
		{Kind: StepRunCmd, Arg: "bmcsetup"}, {Kind: StepOSImage, Arg: "rhels9-x86_64-netboot-compute"}}},
	{in: "runcmd=bmcsetup;shell", want: []Step{{Kind: StepRunCmd, Arg: "bmcsetup"}, {Kind: StepShell}}},
	{in: "osimage=rhels6.2-x86_64-netboot-compute:reboot4deploy", want: []Step{
		{Kind: StepOSImage, Arg: "rhels6.2-x86_64-netboot-compute", Action: "reboot4deploy"}}},
	{in: " standby , boot ", want: []Step{{Kind: StepStandby}, {Kind: StepBoot}}},
	{in: "runimage=http://10.0.0.1/install/my_image/my_image.tgz,shutdown", want: []Step{
		{Kind: StepRunImage, Arg: "http://10.0.0.1/install/my_image/my_image.tgz"}, {Kind: StepShutdown}}},
	{in: "install=rhels7.3-x86_64-compute,netboot,statelite=compute:noupdateinitrd,iscsiboot,offline", want: []Step{
		{Kind: StepInstall, Arg: "rhels7.3-x86_64-compute"}, {Kind: StepNetboot},
		{Kind: StepStatelite, Arg: "compute", Action: "noupdateinitrd"}, {Kind: StepISCSIBoot}, {Kind: StepOffline}}},
	{in: "osimage", want: []Step{{Kind: StepOSImage}}},
	{in: "osimage:reboot4deploy", want: []Step{{Kind: StepOSImage, Action: "reboot4deploy"}}},
	{in: "runcmd=a=b", want: []Step{{Kind: StepRunCmd, Arg: "a=b"}}},
	{in: "runcmd", wantErr: true},
	{in: "runcmd= ", wantErr: true},
	{in: "runimage=", wantErr: true},
	{in: "osimage=", wantErr: true},
	{in: "shell=now", wantErr: true},
	{in: "reboot", wantErr: true},
	{in: "Shell", wantErr: true},
	{in: "boot:x", wantErr: true},
}

func TestParseChain(t *testing.T) {
	for _, tt := range chainTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseChain(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("ParseChain() = %v, %v; want an ErrSyntax error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseChain() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseChain checks that ParseChain never panics and that the steps it
// returns print back to a chain that parses to the same steps.
func FuzzParseChain(f *testing.F) {
	for _, tt := range chainTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := ParseChain(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		parts := make([]string, len(steps))
		for i, st := range steps {
			parts[i] = st.String()
		}
		again, err := ParseChain(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("ParseChain(%q) ok, its String %q fails: %v", s, strings.Join(parts, ","), err)
		}
		if diff := cmp.Diff(steps, again); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, diff)
		}
	})
}

func TestUpdates(t *testing.T) {
	tests := []struct {
		name  string
		facts Facts
		want  map[string]string
	}{
		{
			name: "full report",
			facts: Facts{
				BootMAC:     mac("52:54:00:00:00:02"),
				MACs:        []net.HardwareAddr{mac("52:54:00:00:00:01"), mac("52:54:00:00:00:02"), mac("52:54:00:00:00:03")},
				Serial:      " SER-1 ",
				MTM:         "7X06CTO1WW",
				UUID:        "0E5B1F3C-0000-4000-8000-000000000001",
				CPUModel:    "Intel(R)  Xeon(R)   Gold 6430",
				CPUs:        128,
				MemoryBytes: 512 << 30,
				Disks:       []Disk{{Name: "sda", SizeBytes: 480103981056}, {Name: "nvme0n1", SizeBytes: 1920383410176}, {Name: "sr0"}},
			},
			want: map[string]string{
				"mac":      "52:54:00:00:00:02|52:54:00:00:00:01!*NOIP*|52:54:00:00:00:03!*NOIP*",
				"serial":   "SER-1",
				"mtm":      "7X06CTO1WW",
				"uuid":     "0e5b1f3c-0000-4000-8000-000000000001",
				"cputype":  "Intel(R) Xeon(R) Gold 6430",
				"cpucount": "128",
				"memory":   "524288MB",
				"disksize": "sda:480GB,nvme0n1:1920GB",
				"status":   "discovered",
			},
		},
		{
			name:  "no boot MAC, placeholders and unknowns left out",
			facts: Facts{MACs: []net.HardwareAddr{mac("52:54:00:00:00:01")}, Serial: "To Be Filled By O.E.M.", UUID: "00000000-0000-0000-0000-000000000000"},
			want:  map[string]string{"mac": "52:54:00:00:00:01", "status": "discovered"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Updates("cn1", tt.facts)); diff != "" {
				t.Errorf("Updates() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNamesMatch(t *testing.T) {
	tests := []struct {
		cfg, reported string
		want          bool
	}{
		{"5", "5", true},
		{"5", "Ethernet1/5", true},
		{"5", "swp5", true},
		{"5", "Gi1/0/5", true},
		{"5", "ge-0/0/5.0", true}, // Juniper unit
		{"5", "Ethernet15", false},
		{"5", "Vlan5", false},
		{"5", "Port-channel5", false},
		{"5", "Po5", false},
		{"5", "Port #5", true},
		{"5", "Port5", true},
		{"5", "ManagementEthernet0/5", false},
		{"5", "CPU5", false},
		{"5", "RMON Port 05 on unit 1", true},
		{"5", "Unit 1 Port 5", true},
		{"1/0/5", "GigabitEthernet1/0/5", true},
		{"swp7", "swp7", true},
		{"swp7", "swp17", false},
		{"Ethernet5", "ethernet5", false}, // exact is exact, as in xCAT
	}
	for _, tt := range tests {
		if got := namesMatch(tt.cfg, tt.reported); got != tt.want {
			t.Errorf("namesMatch(%q, %q) = %v, want %v", tt.cfg, tt.reported, got, tt.want)
		}
	}
}
