package archtest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const mod = "drover.dev/drover/"

// allowed lists, for every package, the internal packages it may import
// directly. A package missing here may import nothing internal; a new
// package must be added deliberately. See docs/architecture.md.
var allowed = map[string][]string{
	"internal/inventory":             {"internal/balanced"},
	"internal/balanced":              {},
	"internal/noderange":             {"internal/balanced"},
	"internal/stanza":                {"internal/inventory"},
	"internal/manifest":              {"internal/inventory", "internal/stanza"},
	"internal/objfile":               {"internal/inventory", "internal/manifest", "internal/stanza"},
	"internal/store":                 {"internal/inventory"},
	"internal/xcatcmd":               {"internal/inventory", "internal/noderange", "internal/stanza"},
	"internal/api":                   {},
	"internal/boot":                  {"internal/inventory"},
	"internal/tftpd":                 {},
	"internal/httpboot":              {"internal/inventory", "internal/boot"},
	"internal/dnsd":                  {"internal/inventory"},
	"internal/dhcpd":                 {"internal/inventory", "internal/boot"},
	"internal/ra":                    {},
	"internal/bmc":                   {},
	"internal/bmc/ipmi":              {"internal/bmc"},
	"internal/bmc/redfish":           {"internal/bmc"},
	"internal/bmc/docker":            {"internal/bmc"},
	"internal/bmc/docker/dockertest": {},
	"internal/power":                 {"internal/bmc", "internal/inventory"},
	"internal/facts":                 {},
	"internal/discovery":             {"internal/inventory", "internal/noderange"},
	"cmd/drover-agent":               {"internal/facts"},
	"internal/discoveryimage":        {},
	"internal/gitops":                {"internal/inventory", "internal/objfile"},
	"internal/nodediscover":          {"internal/discovery", "internal/facts", "internal/inventory", "internal/store", "internal/xcatcmd"},
	"internal/consoles":              {},
	"internal/netboot": {"internal/inventory", "internal/store", "internal/boot", "internal/dhcpd", "internal/tftpd",
		"internal/httpboot", "internal/dnsd", "internal/ra"},
	"internal/apiserver": {"internal/inventory", "internal/noderange", "internal/store", "internal/xcatcmd", "internal/api"},
	"internal/daemon": {"internal/inventory", "internal/noderange", "internal/stanza", "internal/manifest",
		"internal/objfile", "internal/store", "internal/xcatcmd", "internal/api", "internal/apiserver",
		"internal/netboot", "internal/boot", "internal/dhcpd", "internal/tftpd", "internal/httpboot",
		"internal/dnsd", "internal/ra", "internal/bmc", "internal/bmc/ipmi", "internal/bmc/redfish",
		"internal/bmc/docker", "internal/bmc/docker/dockertest", "internal/power", "internal/consoles",
		"internal/nodediscover", "internal/gitops"},
	"internal/cli": {"internal/api", "internal/inventory", "internal/manifest", "internal/stanza",
		"internal/objfile", "internal/xcatcmd", "internal/daemon", "internal/discoveryimage"},
	"internal/archtest": {},
	"cmd/drover":        {"internal/cli"},
	"test/e2e":          {"internal/api"},
	"test/container":    {"internal/api", "internal/bmc/docker/dockertest"},
	"bench/gen":         {},
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	GoFiles      []string
	CgoFiles     []string
	Dir          string
	XTestImports []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found: cannot list packages")
	}
	cmd := exec.Command("go", "list", "-json", mod+"...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		ok, known := allowed[rel]
		if !known {
			t.Errorf("%s: package not in the rules table of internal/archtest; add it with the imports it may use", rel)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			if !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s, which the package rules forbid", rel, dep)
			}
		}
	}
}

func TestNoCgo(t *testing.T) {
	for _, p := range listPackages(t) {
		if len(p.CgoFiles) > 0 {
			t.Errorf("%s has cgo files %v: drover is pure Go", p.ImportPath, p.CgoFiles)
		}
	}
}

// TestNoInit keeps registration explicit: no init functions in drover's code.
func TestNoInit(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			for n := 1; sc.Scan(); n++ {
				if strings.HasPrefix(sc.Text(), "func init()") {
					t.Errorf("%s:%d: init function; register things explicitly in internal/daemon", path, n)
				}
			}
			fh.Close()
		}
	}
}
