package boot

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"drover.dev/drover/internal/inventory"
)

func FuzzParseState(f *testing.F) {
	for _, s := range []string{"", "boot", "shell", "discover", "offline", "osimage img1", "osimage=img1", "install x", "osimage", "boot now", "  netboot  a b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseState(s)
		if err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("ParseState(%q) error %v is not ErrBadState", s, err)
			}
			return
		}
		again, err := ParseState(st.String())
		if err != nil || again != st {
			t.Fatalf("ParseState(%q) = %+v; round trip %+v, %v", s, st, again, err)
		}
	})
}

// FuzzDecide feeds arbitrary osimage attributes, state and request fields
// to Decide: it must not panic, must fail only with a sentinel, and every
// script it renders must have exactly the lines the template writes.
func FuzzDecide(f *testing.F) {
	f.Add("osimage img1", "/srv/vmlinuz", "/srv/initrd.gz", "console=ttyS0 quiet", "tok", uint16(0), "iPXE", "PXEClient", true)
	f.Add("osimage img1", "http://x/k", "a.gz, b.gz", "quiet\nshell", "tok", uint16(9), "", "PXEClient", false)
	f.Add("boot", "", "", "", "", uint16(16), "", "HTTPClient", false)
	f.Add("osimage img1", "../k", "#x", "a || b ${x}", "t/+=", uint16(11), "", "", true)
	f.Add("shell", "/k", "/i\\", "x;y", "", uint16(6), "iPXE", "", true)
	f.Fuzz(func(t *testing.T, state, kernel, initrd, kcmdline, token string, arch uint16, user, vendor string, scriptStage bool) {
		stage := StageDHCP
		if scriptStage {
			stage = StageScript
		}
		in := Input{
			Request:  Request{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Arch: Arch(arch), UserClass: user, VendorClass: vendor, Stage: stage},
			NodeName: "cn1",
			Node:     inventory.Resolved{},
			State:    state,
			OSImage:  inventory.Resolved{"kernel": kernel, "initrd": initrd, "kcmdline": kcmdline},
			Token:    token,
			Settings: Settings{Server: netip.MustParseAddr("198.18.0.1"), HTTPPort: 8080, DataDir: "/d",
				Shell: Target{Kernel: kernel, Initrds: inventory.SplitList(initrd), Cmdline: kcmdline}},
		}
		p, err := Decide(in)
		if err != nil {
			for _, s := range []error{ErrBadState, ErrOSImageNotFound, ErrBootTargetNotFound, ErrNoKernel,
				ErrNotConfigured, ErrUnsupportedArch, ErrUnsafeValue, ErrBadPath, ErrNoServer} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("Decide error %v is no sentinel", err)
		}
		if p.Script == "" {
			return
		}
		lines := strings.Split(strings.TrimSuffix(p.Script, "\n"), "\n")
		want := []string{"#!ipxe", "# drover: "}
		if p.State.Kind == StateBoot {
			want = append(want, "exit")
		} else {
			want = append(want, "kernel ")
			for range p.Initrds {
				want = append(want, "initrd --name ")
			}
			want = append(want, "boot")
		}
		if len(lines) != len(want) {
			t.Fatalf("script has %d lines, want %d:\n%s", len(lines), len(want), p.Script)
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, want[i]) {
				t.Fatalf("line %d %q does not start with %q:\n%s", i, l, want[i], p.Script)
			}
			if strings.Contains(l, "${") {
				t.Fatalf("line %d %q contains an expansion", i, l)
			}
		}
	})
}

func BenchmarkDecideScript(b *testing.B) {
	in := node("osimage bt-img", req(StageScript, ArchBIOS, UserClassIPXE, ""))
	in.OSImage, in.BootTarget = testBTImg, testTarget
	for b.Loop() {
		if _, err := Decide(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideDHCP(b *testing.B) {
	in := node("osimage img1", req(StageDHCP, ArchEFIx8664, "", "PXEClient"))
	in.OSImage = testImage
	for b.Loop() {
		if _, err := Decide(in); err != nil {
			b.Fatal(err)
		}
	}
}
