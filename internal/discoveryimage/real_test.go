package discoveryimage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// moduleRoot walks up from the test's directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// buildAgent builds the real drover-agent as a static binary.
func buildAgent(t *testing.T, root string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "drover-agent")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/drover-agent")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building drover-agent: %v\n%s", err, b)
	}
	return out
}

// fetchKernel runs test/lab/fetch-kernel.sh and returns the unpacked
// directory and the .deb it came from; it skips when apt cannot fetch.
func fetchKernel(t *testing.T, root string) (dir, deb string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "test/lab/fetch-kernel.sh"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("test/lab/fetch-kernel.sh could not fetch a Debian kernel (%v): %s", err, strings.TrimSpace(stderr.String()))
	}
	dir = strings.TrimSpace(string(out))
	// The cache is CACHE/kernel/PKG with the package in CACHE/debs/PKG_*.deb.
	pkg := filepath.Base(dir)
	debs, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(dir)), "debs", pkg+"_*.deb"))
	if len(debs) == 0 {
		t.Fatalf("fetch-kernel.sh printed %s but no %s_*.deb is cached next to it", dir, pkg)
	}
	return dir, debs[0]
}

// TestBuildRealDebianKernel builds from the Debian cloud kernel, as a .deb
// and as an unpacked directory, with the real static agent, and checks the
// module order against each module's own .modinfo.
func TestBuildRealDebianKernel(t *testing.T) {
	root := moduleRoot(t)
	dir, deb := fetchKernel(t, root)
	agent := buildAgent(t, root)
	agentBytes, err := os.ReadFile(agent)
	if err != nil {
		t.Fatal(err)
	}

	var initrds []FileSum
	for _, src := range []struct{ name, deb, dir string }{{"deb", deb, ""}, {"dir", "", dir}} {
		t.Run(src.name, func(t *testing.T) {
			o := Options{
				KernelDeb: src.deb, KernelDir: src.dir, Agent: agent, Version: "v0.0.0-test",
				Out: filepath.Join(t.TempDir(), "discover"),
			}
			start := time.Now()
			res, err := Build(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("built from %s in %v: vmlinuz %d bytes, initrd.gz %d bytes, modules %v, builtin %v, %d defaults skipped",
				src.name, time.Since(start).Round(time.Millisecond), res.Manifest.Vmlinuz.Size, res.Manifest.Initrd.Size,
				res.Manifest.Modules, res.Manifest.Builtin, len(res.Manifest.Skipped))
			initrds = append(initrds, res.Manifest.Initrd)
			kver := res.Manifest.Kernel.Version
			builtin, err := os.Open(filepath.Join(dir, "lib/modules", kver, "modules.builtin"))
			if err != nil {
				t.Fatal(err)
			}
			isBuiltin, err := readBuiltin(builtin)
			builtin.Close()
			if err != nil {
				t.Fatal(err)
			}

			files := imageFiles(t, res.Dir)
			order := strings.Fields(files[LoadOrderPath].Data)
			pos := map[string]int{}
			for i, m := range order {
				pos[m] = i
			}
			for _, m := range []string{"virtio_net", "virtio_pci", "virtio_ring", "virtio", "net_failover", "failover"} {
				if _, ok := pos[m]; !ok {
					t.Errorf("%s not in load.order %v", m, order)
				}
			}
			if pos["virtio_pci"] > pos["virtio_net"] {
				t.Errorf("virtio_pci loads after virtio_net: %v", order)
			}
			if _, ok := pos["af_packet"]; !ok && !isBuiltin["af_packet"] {
				t.Errorf("af_packet neither loaded nor built in: %v", order)
			}
			// Every module's dependencies (from its own .modinfo, read back
			// from the initramfs) load before it or are built in.
			gz, err := os.ReadFile(res.Initrd)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range order {
				b := moduleBytes(t, gz, "lib/modules/"+m+".ko")
				mi, err := readModinfo(b)
				if err != nil {
					t.Fatalf("%s.ko in the image: %v", m, err)
				}
				for _, d := range mi.Depends {
					if j, ok := pos[d]; (!ok || j > pos[m]) && !isBuiltin[d] {
						t.Errorf("%s loads before its dependency %s", m, d)
					}
				}
			}
			if e := files[InitPath]; e.Mode != 0o100755 {
				t.Errorf("/init mode %o", e.Mode)
			}
			if res.Manifest.Agent != sum(agentBytes) {
				t.Errorf("manifest agent %+v", res.Manifest.Agent)
			}
		})
	}
	if len(initrds) == 2 && initrds[0] != initrds[1] {
		t.Errorf("the .deb and the directory give different initramfs: %+v vs %+v", initrds[0], initrds[1])
	}
}
