package boot

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var (
	testMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x18, 0x01, 0x01}
	testSet = Settings{
		Server:   netip.MustParseAddr("198.18.0.1"),
		HTTPPort: 8080,
		DataDir:  "/var/lib/drover",
		Discover: Target{Kernel: "images/discover/vmlinuz", Initrds: []string{"images/discover/initrd.gz"}, Cmdline: "console=ttyS0 quiet"},
		Shell:    Target{Kernel: "/usr/share/drover/shell/vmlinuz", Initrds: []string{"/usr/share/drover/shell/initrd.gz"}, Cmdline: "console=ttyS0 drover.shell"},
	}
	testNode   = inventory.Resolved{"mac": "52:54:00:18:01:01", "ip": "198.18.0.11", "groups": "compute"}
	testImage  = inventory.Resolved{"imagename": "img1", "kernel": "/srv/boot/vmlinuz", "initrd": "/srv/boot/initrd.gz", "kcmdline": "console=ttyS0 quiet", "addkcmdline": "ip=dhcp R::display=3"}
	testBTImg  = inventory.Resolved{"imagename": "bt-img", "provmethod": "boottarget", "boottarget": "debian-cloud"}
	testTarget = inventory.Resolved{"bprofile": "debian-cloud", "kernel": "http://198.18.0.5/k/vmlinuz", "initrd": "kernels/initrd.gz, kernels/modules.cpio.gz", "kcmdline": "console=ttyS0 root=/dev/ram0"}
)

func req(stage Stage, arch Arch, user, vendor string) Request {
	return Request{MAC: testMAC, Arch: arch, UserClass: user, VendorClass: vendor, Stage: stage}
}

func node(state string, r Request) Input {
	return Input{Request: r, NodeName: "cn1", Node: testNode, State: state, Token: "tok.abc+/=", DiscoverToken: "disc.tok", Settings: testSet}
}

// dump renders a plan as stable text for the golden files.
func dump(p Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "action: %s\nnode: %s\nstate: %s\nreason: %s\n", p.Action, p.Node, p.State, p.Reason)
	fmt.Fprintf(&b, "bootfile: %s\nloader-url: %s\nscript-url: %s\ndhcp-bootfile: %s\n", p.Bootfile, p.LoaderURL, p.ScriptURL, p.DHCPBootfile())
	fmt.Fprintf(&b, "kernel: %s\n", p.Kernel)
	for _, i := range p.Initrds {
		fmt.Fprintf(&b, "initrd: %s\n", i)
	}
	fmt.Fprintf(&b, "cmdline: %s\n", p.Cmdline)
	if p.Script != "" {
		fmt.Fprintf(&b, "--- script ---\n%s", p.Script)
	}
	return b.String()
}

func TestDecideGolden(t *testing.T) {
	withImage := func(in Input, img inventory.Resolved) Input { in.OSImage = img; return in }
	withBT := func(in Input) Input { in.OSImage = testBTImg; in.BootTarget = testTarget; return in }
	unknown := func(r Request, s Settings) Input { return Input{Request: r, DiscoverToken: "disc.tok", Settings: s} }
	noDiscover := testSet
	noDiscover.Discover = Target{}
	ipxeDHCP := req(StageDHCP, ArchBIOS, UserClassIPXE, "PXEClient:Arch:00000:UNDI:002001")
	script := req(StageScript, ArchBIOS, UserClassIPXE, "")

	tests := []struct {
		name string
		in   Input
	}{
		{"bios-pxe", withImage(node("osimage img1", req(StageDHCP, ArchBIOS, "", "PXEClient:Arch:00000:UNDI:002001")), testImage)},
		{"uefi-pxe", withImage(node("osimage img1", req(StageDHCP, ArchEFIx8664, "", "PXEClient:Arch:00007:UNDI:003016")), testImage)},
		{"uefi-bc-pxe", withImage(node("osimage img1", req(StageDHCP, ArchEFIBC, "", "PXEClient:Arch:00007:UNDI:003016")), testImage)},
		{"arm64-pxe", withImage(node("osimage img1", req(StageDHCP, ArchEFIARM64, "", "PXEClient:Arch:00011:UNDI:003000")), testImage)},
		{"httpclient", withImage(node("osimage img1", req(StageDHCP, ArchEFIx8664HTTP, "", "HTTPClient:Arch:00016:UNDI:003001")), testImage)},
		{"httpclient-arm64", withImage(node("osimage img1", req(StageDHCP, ArchEFIARM64HTTP, "", "HTTPClient:Arch:00019:UNDI:003001")), testImage)},
		{"ipxe-dhcp", withImage(node("osimage img1", ipxeDHCP), testImage)},
		{"script-osimage", withImage(node("osimage img1", script), testImage)},
		{"script-boottarget", withBT(node("osimage bt-img", script))},
		{"dhcp-boot", node("boot", req(StageDHCP, ArchBIOS, "", "PXEClient"))},
		{"script-boot", node("boot", script)},
		{"script-empty-state", node("", script)},
		{"script-shell", node("shell", script)},
		{"script-discover", node("discover", script)},
		{"dhcp-offline", node("offline", ipxeDHCP)},
		{"script-offline", node("offline", script)},
		{"unknown-dhcp-discover", unknown(req(StageDHCP, ArchEFIx8664, "", "PXEClient"), testSet)},
		{"unknown-script-discover", unknown(script, testSet)},
		{"unknown-dhcp-no-discover", unknown(req(StageDHCP, ArchBIOS, "", "PXEClient"), noDiscover)},
		{"unknown-script-no-discover", unknown(script, noDiscover)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decide(tt.in)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			got := dump(p)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideErrors(t *testing.T) {
	script := req(StageScript, ArchBIOS, UserClassIPXE, "")
	noShell := testSet
	noShell.Shell = Target{}
	tests := []struct {
		name    string
		in      Input
		wantErr error
		mention string
	}{
		{"missing-osimage", node("osimage gone", script), ErrOSImageNotFound, `"gone"`},
		{"missing-osimage-dhcp", node("osimage gone", req(StageDHCP, ArchBIOS, "", "PXEClient")), ErrOSImageNotFound, `"gone"`},
		{"missing-boottarget", func() Input { in := node("osimage bt-img", script); in.OSImage = testBTImg; return in }(), ErrBootTargetNotFound, `"debian-cloud"`},
		{"boottarget-from-profile", func() Input {
			in := node("osimage bt-img", script)
			in.OSImage = inventory.Resolved{"provmethod": "boottarget", "profile": "prof1"}
			return in
		}(), ErrBootTargetNotFound, `"prof1"`},
		{"boottarget-no-kernel", func() Input {
			in := node("osimage bt-img", script)
			in.OSImage, in.BootTarget = testBTImg, inventory.Resolved{"initrd": "x"}
			return in
		}(), ErrNoKernel, `"debian-cloud"`},
		{"osimage-no-kernel", func() Input { in := node("osimage img1", script); in.OSImage = inventory.Resolved{}; return in }(), ErrNoKernel, `"img1"`},
		{"kcmdline-newline", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "kcmdline": "quiet\nshell"}
			return in
		}(), ErrUnsafeValue, "quiet"},
		{"kcmdline-expansion", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "kcmdline": "x=${net0/ip}"}
			return in
		}(), ErrUnsafeValue, "${"},
		{"kcmdline-operator", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "kcmdline": "quiet || shell"}
			return in
		}(), ErrUnsafeValue, "||"},
		{"kcmdline-semicolon", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "kcmdline": "quiet ; shell"}
			return in
		}(), ErrUnsafeValue, ";"},
		{"kcmdline-comment", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "kcmdline": "quiet #rest"}
			return in
		}(), ErrUnsafeValue, "#rest"},
		{"initrd-url-backslash", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "initrd": `http://x/i\`}
			return in
		}(), ErrUnsafeValue, "backslash"},
		{"node-name-newline", func() Input {
			in := node("boot", script)
			in.NodeName = "cn1\nboot"
			return in
		}(), ErrUnsafeValue, "control character"},
		{"kernel-url-space", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "http://x/a b"}
			return in
		}(), ErrUnsafeValue, "white space"},
		{"initrd-escapes-datadir", func() Input {
			in := node("osimage img1", script)
			in.OSImage = inventory.Resolved{"kernel": "/k", "initrd": "../../etc/shadow"}
			return in
		}(), ErrBadPath, "../../etc/shadow"},
		{"bad-state", node("reboot", script), ErrBadState, `"reboot"`},
		{"osimage-without-name", node("osimage", script), ErrBadState, "missing osimage name"},
		{"shell-not-configured", func() Input { in := node("shell", script); in.Settings = noShell; return in }(), ErrNotConfigured, "shell"},
		{"ia32-unsupported", node("boot", req(StageDHCP, ArchEFIIA32, "", "PXEClient")), ErrUnsupportedArch, "efi-ia32"},
		{"arch-unknown", node("boot", req(StageDHCP, Arch(10), "", "PXEClient")), ErrUnsupportedArch, "arch-10"},
		{"no-server", func() Input { in := node("boot", script); in.Settings = Settings{}; return in }(), ErrNoServer, "server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decide(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decide error = %v, want %v (plan %+v)", err, tt.wantErr, p)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		in      string
		want    State
		wantErr bool
	}{
		{"", State{Kind: StateBoot}, false},
		{"boot", State{Kind: StateBoot}, false},
		{" shell ", State{Kind: StateShell}, false},
		{"discover", State{Kind: StateDiscover}, false},
		{"offline", State{Kind: StateOffline}, false},
		{"osimage img1", State{Kind: StateOSImage, OSImage: "img1"}, false},
		{"osimage=img1", State{Kind: StateOSImage, OSImage: "img1"}, false},
		{"install rhels9-x86_64-install-compute", State{Kind: StateOSImage, OSImage: "rhels9-x86_64-install-compute"}, false},
		{"netboot img2", State{Kind: StateOSImage, OSImage: "img2"}, false},
		{"boottarget img-bt", State{Kind: StateOSImage, OSImage: "img-bt"}, false}, // as nodeset writes it
		{"osimage", State{}, true},
		{"boot now", State{}, true},
		{"standby", State{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseState(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseState(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrBadState) {
					t.Errorf("error %v is not ErrBadState", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseState(%q) (-want +got):\n%s", tt.in, diff)
			}
			if again, err := ParseState(got.String()); err != nil || again != got {
				t.Errorf("round trip of %q: %v, %v", got, again, err)
			}
		})
	}
}

func TestFileURL(t *testing.T) {
	s := Settings{Server: netip.MustParseAddr("198.18.0.1"), HTTPPort: 8080, DataDir: "/var/lib/drover"}
	tests := []struct {
		ref, want string
		wantErr   error
	}{
		{"http://example.test/vmlinuz", "http://example.test/vmlinuz", nil},
		{"https://x/y?z=1", "https://x/y?z=1", nil},
		{"/boot/vmlinuz", "http://198.18.0.1:8080/boot/files/boot/vmlinuz", nil},
		{"/srv//a/../vmlinuz", "http://198.18.0.1:8080/boot/files/srv/vmlinuz", nil},
		{"images/k 1", "http://198.18.0.1:8080/boot/files/var/lib/drover/images/k%201", nil},
		{"./a/../b", "http://198.18.0.1:8080/boot/files/var/lib/drover/b", nil},
		{"../etc/passwd", "", ErrBadPath},
		{"a/../../x", "", ErrBadPath},
		{"", "", ErrBadPath},
		{"://x", "http://198.18.0.1:8080/boot/files/var/lib/drover/:/x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := s.FileURL(tt.ref)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("FileURL(%q) error = %v, want %v", tt.ref, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("FileURL(%q) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
	v6 := Settings{Server: netip.MustParseAddr("fd00::1")}
	if got, _ := v6.FileURL("/k"); got != "http://[fd00::1]:80/boot/files/k" {
		t.Errorf("IPv6 FileURL = %q", got)
	}
}

func TestFilePath(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"/boot/files/srv/vmlinuz", "/srv/vmlinuz", true},
		{"/boot/files/var/lib/drover/../../../etc/passwd", "/etc/passwd", true},
		{"/boot/files/", "", false},
		{"/boot/files", "", false},
		{"/boot/filesx/a", "", false},
		{"/boot/script/x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := FilePath(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("FilePath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
	s := Settings{Server: netip.MustParseAddr("198.18.0.1"), HTTPPort: 8080, DataDir: "/d"}
	for _, ref := range []string{"/srv/vmlinuz", "images/initrd.gz"} {
		u, err := s.FileURL(ref)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := FilePath(strings.TrimPrefix(u, "http://198.18.0.1:8080"))
		want := ref
		if !strings.HasPrefix(ref, "/") {
			want = "/d/" + ref
		}
		if !ok || p != want {
			t.Errorf("FilePath(FileURL(%q)) = %q, %v", ref, p, ok)
		}
	}
}
