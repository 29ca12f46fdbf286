package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecrets: a named secret set from standard input is used by a
// manifest's secret:NAME reference, is never listed with its value, and a
// reference to a missing secret is refused with nothing applied.
func TestSecrets(t *testing.T) {
	s := startServer(t, t.TempDir())
	if r := s.run(t, "p4ss-w0rd\n", nil, "drover", "secret", "set", "ipmi-admin"); r.code != 0 || !strings.Contains(r.stderr, "secret:ipmi-admin") {
		t.Fatalf("secret set: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run(t, "", nil, "drover", "secret", "set", "bad/name"); r.code == 0 {
		t.Errorf("bad name accepted")
	}
	r := s.run(t, "", nil, "drover", "secret", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "ipmi-admin") || strings.Contains(r.stdout, "p4ss") {
		t.Fatalf("secret list: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	manifest := filepath.Join(t.TempDir(), "m.yaml")
	write := func(body string) {
		if err := os.WriteFile(manifest, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apiVersion: drover.dev/v1\nkind: Node\nmetadata: {name: cn1}\nspec:\n  groups: all\n  bmcpassword: secret:ipmi-admin\n")
	if r := s.run(t, "", nil, "drover", "apply", "-f", manifest); r.code != 0 {
		t.Fatalf("apply: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	show := map[string]string{"DROVER_SHOW_SECRETS": "1"}
	if r := s.run(t, "", show, "drover", "lsdef", "cn1", "-i", "bmcpassword"); !strings.Contains(r.stdout, "bmcpassword=p4ss-w0rd") {
		t.Errorf("the reference was not resolved:\n%s%s", r.stdout, r.stderr)
	}
	write("apiVersion: drover.dev/v1\nkind: Node\nmetadata: {name: cn2}\nspec:\n  groups: all\n  bmcpassword: secret:nope\n")
	if r := s.run(t, "", nil, "drover", "apply", "-f", manifest); r.code == 0 || !strings.Contains(r.stderr, `secret "nope"`) {
		t.Errorf("missing secret: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run(t, "", nil, "drover", "lsdef", "cn2"); r.code == 0 {
		t.Errorf("cn2 exists after a refused apply:\n%s", r.stdout)
	}
	if r := s.run(t, "", nil, "drover", "secret", "delete", "ipmi-admin"); r.code != 0 {
		t.Errorf("delete: rc %d %s", r.code, r.stderr)
	}
	if r := s.run(t, "", nil, "drover", "secret", "delete", "ipmi-admin"); r.code == 0 {
		t.Errorf("second delete succeeded")
	}
}
