package tftpd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testTree builds:
//
//	base/outside.txt           (outside root)
//	base/root/undionly.kpxe
//	base/root/sub/snponly.efi
//	base/root/link-in     -> sub/snponly.efi
//	base/root/link-abs-in -> base/root/undionly.kpxe (absolute, inside)
//	base/root/link-out    -> ../outside.txt
//	base/root/link-etc    -> /etc/passwd
//	base/root/dir-out     -> .. (directory escape)
//	base/root/dangling    -> nowhere
//
// and returns base and the real (symlink-resolved) root.
func testTree(t testing.TB) (base, root string) {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(base, "root")
	for _, d := range []string{root, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(base, "outside.txt"):        "secret",
		filepath.Join(root, "undionly.kpxe"):      "bios loader",
		filepath.Join(root, "sub", "snponly.efi"): "efi loader",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"link-in":     "sub/snponly.efi",
		"link-abs-in": filepath.Join(root, "undionly.kpxe"),
		"link-out":    "../outside.txt",
		"link-etc":    "/etc/passwd",
		"dir-out":     "..",
		"dangling":    "nowhere",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return base, root
}

func TestResolve(t *testing.T) {
	_, root := testTree(t)
	kpxe := filepath.Join(root, "undionly.kpxe")
	efi := filepath.Join(root, "sub", "snponly.efi")
	tests := []struct {
		name      string
		requested string
		want      string
		wantErr   error
	}{
		{"plain", "undionly.kpxe", kpxe, nil},
		{"subdir", "sub/snponly.efi", efi, nil},
		{"leading slash stripped", "/undionly.kpxe", kpxe, nil},
		{"many leading slashes", "///sub/snponly.efi", efi, nil},
		{"backslash separator", `sub\snponly.efi`, efi, nil},
		{"leading backslash", `\undionly.kpxe`, kpxe, nil},
		{"dot segments", "./sub/./snponly.efi", efi, nil},
		{"double slash", "sub//snponly.efi", efi, nil},
		{"link inside", "link-in", efi, nil},
		{"absolute link inside", "link-abs-in", kpxe, nil},
		{"dotdot escape", "../../etc/passwd", "", ErrOutsideRoot},
		{"dotdot back in", "../root/undionly.kpxe", "", ErrOutsideRoot},
		{"dotdot inside", "sub/../undionly.kpxe", "", ErrOutsideRoot},
		{"backslash dotdot", `..\..\etc\passwd`, "", ErrOutsideRoot},
		{"absolute is under root", "/etc/passwd", "", ErrNotFound},
		{"link escape", "link-out", "", ErrOutsideRoot},
		{"link to /etc/passwd", "link-etc", "", ErrOutsideRoot},
		{"dir link escape", "dir-out/outside.txt", "", ErrOutsideRoot},
		{"dangling link", "dangling", "", ErrNotFound},
		{"missing", "missing.efi", "", ErrNotFound},
		{"directory", "sub", "", ErrNotRegular},
		{"root itself", "/", "", ErrInvalidPath},
		{"dot", ".", "", ErrInvalidPath},
		{"empty", "", "", ErrInvalidPath},
		{"nul", "undionly.kpxe\x00.txt", "", ErrInvalidPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(root, tt.requested)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Resolve(%q) error = %v, want %v", tt.requested, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) mismatch (-want +got):\n%s", tt.requested, diff)
			}
		})
	}
}

func TestResolveSymlinkedRoot(t *testing.T) {
	base, root := testTree(t)
	alias := filepath.Join(base, "alias")
	if err := os.Symlink(root, alias); err != nil {
		t.Fatal(err)
	}
	got, err := Resolve(alias, "link-in")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "sub", "snponly.efi"); got != want {
		t.Errorf("Resolve via symlinked root = %q, want %q", got, want)
	}
	if _, err := Resolve(filepath.Join(base, "nonexistent"), "x"); err == nil {
		t.Error("Resolve with missing root: want error")
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"undionly.kpxe", "sub/snponly.efi", "/undionly.kpxe", `sub\snponly.efi`,
		"link-in", "link-abs-in", "link-out", "link-etc", "dir-out/outside.txt",
		"../../etc/passwd", `..\..\etc\passwd`, "/etc/passwd", "/", ".", "",
		"a\x00b", "sub/../undionly.kpxe", "dangling", "sub", "....//x", "..",
	} {
		f.Add(s)
	}
	_, root := testTree(f)
	f.Fuzz(func(t *testing.T, requested string) {
		got, err := Resolve(root, requested)
		if err != nil {
			if got != "" {
				t.Fatalf("Resolve(%q) = %q with error %v", requested, got, err)
			}
			return
		}
		if !strings.HasPrefix(got, root+string(filepath.Separator)) {
			t.Fatalf("Resolve(%q) = %q, outside root %q", requested, got, root)
		}
		fi, err := os.Lstat(got)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("Resolve(%q) = %q, not a regular file (%v)", requested, got, err)
		}
	})
}
