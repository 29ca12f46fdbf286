package objfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drover.dev/drover/internal/inventory"
)

func TestLoad(t *testing.T) {
	s := inventory.DefaultSchema()
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "apiVersion: drover.dev/v1\nkind: Node\nmetadata: {name: cn1}\nspec: {groups: all}\n")
	write("sub/b.stanza", "cn2:\n    objtype=node\n    groups=all\n")
	write("notes.txt", "ignored")
	write(".hidden/c.yaml", "not: [valid")

	objs, err := Load([]string{dir}, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, string(o.Type)+"/"+o.Name)
	}
	if got := strings.Join(names, " "); got != "node/cn1 node/cn2" {
		t.Errorf("loaded %q", got)
	}

	// Stdin, sniffed as stanza or YAML.
	objs, err = Load([]string{"-"}, strings.NewReader("cn3:\n    objtype=node\n    groups=all\n"), s)
	if err != nil || len(objs) != 1 || objs[0].Name != "cn3" {
		t.Errorf("stdin stanza: %v %v", objs, err)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"dup.yaml", "apiVersion: drover.dev/v1\nkind: Node\nmetadata: {name: cn2}\nspec: {groups: all}\n", "also defined"},
		{"bad.stanza", "cn9:\n    objtype=node\n    colour=blue\n", "'colour' is not a valid attribute name"},
		{"noobj.stanza", "cn9:\n    groups=all\n", "No objtype value was specified for 'cn9'"},
	} {
		bad := t.TempDir()
		os.WriteFile(filepath.Join(bad, tc.name), []byte(tc.body), 0o600)
		_, err := Load([]string{dir, bad}, nil, s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := Load([]string{t.TempDir()}, nil, s); err == nil {
		t.Error("empty directory: no error")
	}
}

func TestDumpFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "drover.stanza"), nil, 0o600)
	got, err := DumpFiles(dir)
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != "drover.stanza" {
		t.Fatalf("stanza only: %v %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, "drover.yaml"), nil, 0o600)
	got, err = DumpFiles(dir)
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != "drover.yaml" {
		t.Fatalf("YAML preferred: %v %v", got, err)
	}
	if _, err := DumpFiles(t.TempDir()); err == nil {
		t.Error("empty dump dir: no error")
	}
}
