package container

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// TestSystemdUnit checks deploy/systemd/drover.service with
// `systemd-analyze verify` (every directive known and well-formed). verify
// also wants ExecStart's binary to exist: the copy it reads points at this
// test's own executable instead of /usr/local/bin/drover.
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (Debian: systemd): ", err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", "drover.service"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("ExecStart=/usr/local/bin/drover serve --data /var/lib/drover ")) {
		t.Error("ExecStart does not run /usr/local/bin/drover serve --data /var/lib/drover")
	}
	for _, line := range []string{
		"User=drover",
		"AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW",
		"CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW",
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
		"StateDirectory=drover",
		"ReadWritePaths=/var/lib/drover",
	} {
		if !bytes.Contains(b, []byte("\n"+line+"\n")) {
			t.Errorf("the unit lacks %s", line)
		}
	}
	unit := filepath.Join(t.TempDir(), "drover.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(b, []byte("/usr/local/bin/drover"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 on unknown or malformed directives (it ignores them):
	// any line about this unit fails the test; lines about the host's
	// other units do not
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v: %s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "drover.service") {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
		}
	}
}

// compose is the part of the Compose specification deploy/compose.yaml
// uses; decoding is strict, so a misspelt key fails.
type compose struct {
	Name     string `yaml:"name"`
	Services map[string]struct {
		Image           string   `yaml:"image"`
		Restart         string   `yaml:"restart"`
		NetworkMode     string   `yaml:"network_mode"`
		User            string   `yaml:"user"`
		ReadOnly        bool     `yaml:"read_only"`
		CapDrop         []string `yaml:"cap_drop"`
		CapAdd          []string `yaml:"cap_add"`
		SecurityOpt     []string `yaml:"security_opt"`
		Command         []string `yaml:"command"`
		Volumes         []string `yaml:"volumes"`
		StopGracePeriod string   `yaml:"stop_grace_period"`
	} `yaml:"services"`
	Volumes map[string]struct{} `yaml:"volumes"`
}

// TestComposeFile decodes deploy/compose.yaml strictly and checks it runs
// the image the way test/container proves it: host network, read-only,
// uid 65532, only the two capabilities, the data volume.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c compose
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	s, ok := c.Services["drover"]
	if !ok {
		t.Fatalf("no service drover: %v", c.Services)
	}
	type view struct {
		NetworkMode, User string
		ReadOnly          bool
		CapDrop, CapAdd   []string
		NoNewPrivileges   bool
		Data              bool
	}
	got := view{s.NetworkMode, s.User, s.ReadOnly, s.CapDrop, s.CapAdd, false, false}
	for _, o := range s.SecurityOpt {
		got.NoNewPrivileges = got.NoNewPrivileges || strings.HasPrefix(o, "no-new-privileges")
	}
	for _, v := range s.Volumes {
		if src, dst, _ := strings.Cut(v, ":"); dst == "/var/lib/drover" {
			_, got.Data = c.Volumes[src]
		}
	}
	want := view{"host", "65532:65532", true, []string{"ALL"}, []string{"NET_BIND_SERVICE", "NET_RAW"}, true, true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("deploy/compose.yaml (-want +got):\n%s", d)
	}
}
