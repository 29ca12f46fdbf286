package discoveryimage

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"
)

// testOptions returns options with a fake static agent and an output
// directory in a fresh parent.
func testOptions(t *testing.T) Options {
	t.Helper()
	agent := filepath.Join(t.TempDir(), "drover-agent")
	if err := os.WriteFile(agent, fakeAgent(elf.EM_X86_64), 0o755); err != nil {
		t.Fatal(err)
	}
	return Options{Agent: agent, Out: filepath.Join(t.TempDir(), "images", "discover"), Version: "v1.2.3-4-gdeadbee"}
}

// imageFiles reads the initramfs of a built image: name → entry.
func imageFiles(t *testing.T, dir string) map[string]entry {
	t.Helper()
	gz, err := os.ReadFile(filepath.Join(dir, InitrdFile))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]entry{}
	for _, e := range readInitramfs(t, gz) {
		m[e.Name] = e
	}
	return m
}

func readManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildSources(t *testing.T) {
	k := newFakeKernel(t)
	sources := map[string]func(o *Options){
		"dir":      func(o *Options) { o.KernelDir = k.writeDir(t) },
		"deb xz":   func(o *Options) { o.KernelDeb = k.writeDeb(t, ".xz") },
		"deb zstd": func(o *Options) { o.KernelDeb = k.writeDeb(t, ".zst") },
		"deb gzip": func(o *Options) { o.KernelDeb = k.writeDeb(t, ".gz") },
		"deb tar":  func(o *Options) { o.KernelDeb = k.writeDeb(t, "") },
	}
	for name, set := range sources {
		t.Run(name, func(t *testing.T) {
			o := testOptions(t)
			set(&o)
			o.AddModules = []string{"netdrv"}
			res, err := Build(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			wantOrder := []string{"ring", "virtio_pci", "virtio_net", "ipmi_msghandler", "ipmi_si", "net_core", "netdrv"}
			if diff := cmp.Diff(wantOrder, res.Manifest.Modules); diff != "" {
				t.Errorf("modules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"af_packet"}, res.Manifest.Builtin); diff != "" {
				t.Errorf("builtin (-want +got):\n%s", diff)
			}
			var skipped []string
			for _, s := range res.Manifest.Skipped {
				skipped = append(skipped, s.Module)
			}
			wantSkipped := []string{"e1000", "e1000e", "igb", "ixgbe", "i40e", "ice", "bnxt_en", "tg3", "r8169", "mlx5_core", "ipmi_devintf"}
			if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
			if res.Manifest.Kernel.Version != fakeKver || res.Manifest.Kernel.Arch != "amd64" {
				t.Errorf("kernel %+v", res.Manifest.Kernel)
			}
			files := imageFiles(t, res.Dir)
			if got := files[LoadOrderPath].Data; got != strings.Join(wantOrder, "\n")+"\n" {
				t.Errorf("load.order = %q", got)
			}
			for _, m := range wantOrder {
				e, ok := files["lib/modules/"+m+".ko"]
				if !ok {
					t.Errorf("no %s.ko", m)
					continue
				}
				// Written uncompressed: still an ELF with our modinfo.
				if !e.DataIsBinary {
					t.Errorf("%s.ko is not the uncompressed ELF", m)
				}
			}
			if _, ok := files["lib/modules/unused.ko"]; ok {
				t.Error("unused module included")
			}
			if got := files[VersionPath].Data; got != o.Version+"\n" {
				t.Errorf("version in image = %q", got)
			}
			kernel, _ := os.ReadFile(res.Kernel)
			if string(kernel) != "not really a kernel" {
				t.Errorf("vmlinuz = %q", kernel)
			}
			v, _ := os.ReadFile(filepath.Join(res.Dir, VersionFile))
			if string(v) != o.Version+"\n" {
				t.Errorf("version file = %q", v)
			}
			if diff := cmp.Diff(res.Manifest, readManifest(t, res.Dir)); diff != "" {
				t.Errorf("manifest.json differs from the result (-want +got):\n%s", diff)
			}
			st, err := os.Stat(res.Dir)
			if err != nil || st.Mode().Perm() != 0o755 {
				t.Errorf("output dir mode %v, %v", st.Mode(), err)
			}
		})
	}
}

// TestBuildReproducible builds twice from different sources of the same
// kernel and expects the same initramfs bytes.
func TestBuildReproducible(t *testing.T) {
	k := newFakeKernel(t)
	o := testOptions(t)
	o.KernelDir = k.writeDir(t)
	o.MTime = time.Unix(1700000000, 0)
	a, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	o.KernelDir, o.KernelDeb = "", k.writeDeb(t, ".xz")
	o.Out = filepath.Join(t.TempDir(), "other")
	b, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Manifest.Initrd != b.Manifest.Initrd {
		t.Errorf("initrd differs: %+v vs %+v", a.Manifest.Initrd, b.Manifest.Initrd)
	}
	if e := imageFiles(t, a.Dir)[InitPath]; e.MTime != 1700000000 {
		t.Errorf("init mtime %d", e.MTime)
	}
}

func TestBuildModulesOption(t *testing.T) {
	k := newFakeKernel(t)
	dir := k.writeDir(t)
	t.Run("replaces defaults", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.Modules = dir, []string{"net-core"}
		res, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"ring", "net_core"}, res.Manifest.Modules); diff != "" {
			t.Error(diff)
		}
		if len(res.Manifest.Skipped) != 0 || len(res.Notes) != 0 {
			t.Errorf("skipped %v notes %v", res.Manifest.Skipped, res.Notes)
		}
	})
	for _, set := range []func(o *Options){
		func(o *Options) { o.Modules = []string{"e1000"} },
		func(o *Options) { o.AddModules = []string{"e1000"} },
	} {
		o := testOptions(t)
		o.KernelDir = dir
		set(&o)
		_, err := Build(context.Background(), o)
		if !errors.Is(err, ErrModuleNotFound) || !strings.Contains(err.Error(), "e1000") || !strings.Contains(err.Error(), fakeKver) {
			t.Errorf("missing explicit module: err = %v", err)
		}
	}
}

func TestBuildAgentChecks(t *testing.T) {
	k := newFakeKernel(t)
	dir := k.writeDir(t)
	tests := []struct {
		name  string
		agent []byte
		want  string
	}{
		{"dynamic", elfSpec{typ: elf.ET_EXEC, machine: elf.EM_X86_64, interp: "/lib64/ld-linux-x86-64.so.2"}.build(), "not a static executable"},
		{"other arch", fakeAgent(elf.EM_AARCH64), "built for arm64, but the kernel is amd64"},
		{"not ELF", []byte("#!/bin/sh\n"), "not an ELF executable"},
		{"object file", fakeModule("x"), "not an executable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			o.KernelDir = dir
			if err := os.WriteFile(o.Agent, tc.agent, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Build(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), o.Agent) {
				t.Errorf("err = %v, want it to name the agent and say %q", err, tc.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.Agent = dir, filepath.Join(t.TempDir(), "nope")
		if _, err := Build(context.Background(), o); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestBuildSSH(t *testing.T) {
	k := newFakeKernel(t)
	dir := k.writeDir(t)
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@lab\n"
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("key and plain password, no busybox", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.AuthorizedKeys, o.Password = dir, []byte("# admins\n"+key+key), "secret\n"
		res, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		files := imageFiles(t, res.Dir)
		if files[AuthorizedKeysPath].Data != string(o.AuthorizedKeys) {
			t.Errorf("authorized_keys = %q", files[AuthorizedKeysPath].Data)
		}
		h := strings.TrimSuffix(files[PasswordHashPath].Data, "\n")
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte("secret")); err != nil {
			t.Errorf("ssh_password %q does not verify: %v", h, err)
		}
		if res.Manifest.SSHKeys != 2 || !res.Manifest.SSHPassword {
			t.Errorf("manifest ssh: %d keys, password %v", res.Manifest.SSHKeys, res.Manifest.SSHPassword)
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "no shell") {
			t.Errorf("no note about the missing shell: %v", res.Notes)
		}
		if _, ok := files[ShellPath]; ok {
			t.Error("/bin/sh without busybox")
		}
	})
	t.Run("ready hash and busybox", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.Password = dir, string(hash)
		o.Busybox = filepath.Join(t.TempDir(), "busybox")
		if err := os.WriteFile(o.Busybox, fakeAgent(elf.EM_X86_64), 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		files := imageFiles(t, res.Dir)
		if got := files[PasswordHashPath].Data; got != string(hash)+"\n" {
			t.Errorf("ssh_password = %q, want the given hash", got)
		}
		if e := files[ShellPath]; e.Data != "busybox" {
			t.Errorf("/bin/sh -> %q", e.Data)
		}
		if res.Manifest.Busybox == nil || len(res.Notes) == 0 || strings.Contains(strings.Join(res.Notes, "\n"), "no shell") {
			t.Errorf("busybox %v notes %v", res.Manifest.Busybox, res.Notes)
		}
	})
	t.Run("unusable busybox left out when optional", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.Password, o.BusyboxIfUsable = dir, string(hash), true
		o.Busybox = filepath.Join(t.TempDir(), "busybox")
		dyn := elfSpec{typ: elf.ET_EXEC, machine: elf.EM_X86_64, interp: "/lib/ld.so"}.build()
		if err := os.WriteFile(o.Busybox, dyn, 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.Busybox != nil || !strings.Contains(strings.Join(res.Notes, "\n"), "busybox left out") {
			t.Errorf("busybox %v notes %v", res.Manifest.Busybox, res.Notes)
		}
		o.BusyboxIfUsable = false
		if _, err := Build(context.Background(), o); !errors.Is(err, ErrNotStatic) {
			t.Errorf("required dynamic busybox: err = %v", err)
		}
	})
	t.Run("bad key", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.AuthorizedKeys = dir, []byte("ssh-rsa notbase64!\n")
		if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "authorized keys") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestBuildAtomic checks that a failed build leaves the previous image
// untouched, a good one replaces it, and no temporary directory is left.
func TestBuildAtomic(t *testing.T) {
	k := newFakeKernel(t)
	o := testOptions(t)
	o.KernelDir = k.writeDir(t)
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(o.Out, "previous")
	if err := os.WriteFile(marker, []byte("old image"), 0o644); err != nil {
		t.Fatal(err)
	}
	listParent := func() []string {
		es, err := os.ReadDir(filepath.Dir(o.Out))
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, e := range es {
			n = append(n, e.Name())
		}
		return n
	}

	bad := o
	bad.AddModules = []string{"no_such_module"}
	if _, err := Build(context.Background(), bad); err == nil {
		t.Fatal("build with a missing module succeeded")
	}
	bad = o
	bad.KernelDir = t.TempDir() // no kernel at all
	if _, err := Build(context.Background(), bad); err == nil {
		t.Fatal("build without a kernel succeeded")
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "old image" {
		t.Fatalf("previous image changed by a failed build: %q, %v", b, err)
	}
	if diff := cmp.Diff([]string{"discover"}, listParent()); diff != "" {
		t.Errorf("parent after failed builds (-want +got):\n%s", diff)
	}

	if _, err := Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old image file still there: %v", err)
	}
	if diff := cmp.Diff([]string{"discover"}, listParent()); diff != "" {
		t.Errorf("parent after a good build (-want +got):\n%s", diff)
	}
	es, _ := os.ReadDir(o.Out)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{InitrdFile, ManifestFile, VersionFile, KernelFile}, names); diff != "" {
		t.Errorf("image files (-want +got):\n%s", diff)
	}
}

// TestBuildThroughSymlink replaces the target of a symbolic link at Out
// and keeps the link.
func TestBuildThroughSymlink(t *testing.T) {
	k := newFakeKernel(t)
	o := testOptions(t)
	o.KernelDir = k.writeDir(t)
	target := filepath.Join(t.TempDir(), "real")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, o.Out); err != nil {
		t.Fatal(err)
	}
	res, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dir != target {
		t.Errorf("image in %s, want %s", res.Dir, target)
	}
	if st, err := os.Lstat(o.Out); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced: %v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(o.Out, InitrdFile)); err != nil {
		t.Error(err)
	}
}

func TestBuildBadOptions(t *testing.T) {
	for name, set := range map[string]func(o *Options){
		"no kernel":       func(o *Options) {},
		"two kernels":     func(o *Options) { o.KernelDir, o.KernelDeb = "a", "b" },
		"no version":      func(o *Options) { o.KernelDir, o.Version = "a", "" },
		"version newline": func(o *Options) { o.KernelDir, o.Version = "a", "v1\nx" },
		"no output":       func(o *Options) { o.KernelDir, o.Out = "a", "" },
		"no agent":        func(o *Options) { o.KernelDir, o.Agent = "a", "" },
	} {
		t.Run(name, func(t *testing.T) {
			o := testOptions(t)
			set(&o)
			if _, err := Build(context.Background(), o); !errors.Is(err, ErrBadOptions) {
				t.Errorf("err = %v, want ErrBadOptions", err)
			}
		})
	}
	t.Run("kernel directory missing", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir = filepath.Join(t.TempDir(), "nope")
		if _, err := Build(context.Background(), o); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("output is a file", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDir, o.Out = t.TempDir(), o.Agent
		if _, err := Build(context.Background(), o); !errors.Is(err, ErrBadOptions) {
			t.Errorf("err = %v, want ErrBadOptions", err)
		}
	})
	t.Run("not a deb", func(t *testing.T) {
		o := testOptions(t)
		o.KernelDeb = o.Agent
		if _, err := Build(context.Background(), o); !errors.Is(err, ErrNotAr) {
			t.Errorf("err = %v, want ErrNotAr", err)
		}
	})
}
