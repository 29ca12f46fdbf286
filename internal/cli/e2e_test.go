package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/daemon"
)

// server is a drover server running in-process on a loopback port.
type server struct {
	url, token, dataDir string
}

func startServer(t *testing.T, dataDir string) *server {
	t.Helper()
	return startServerWith(t, daemon.Config{DataDir: dataDir})
}

// startServerWith is startServer with more of the daemon's configuration.
func startServerWith(t *testing.T, cfg daemon.Config) *server {
	t.Helper()
	dataDir := cfg.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	tokc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		cfg.DataDir, cfg.Listen = dataDir, "127.0.0.1:0"
		cfg.Listening = func(a net.Addr) { addrc <- a }
		cfg.FirstStart = func(_, token, _ string) { tokc <- token }
		errc <- daemon.Run(ctx, cfg)
	}()
	s := &server{dataDir: dataDir}
	select {
	case a := <-addrc:
		s.url = "http://" + a.String()
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start within 30s")
	}
	select {
	case s.token = <-tokc:
	default:
		data, err := os.ReadFile(filepath.Join(dataDir, daemon.AdminTokenFile))
		if err != nil {
			t.Fatal(err)
		}
		s.token = strings.TrimSpace(string(data))
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return s
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs one CLI command line against s. args[0] is the program name.
func (s *server) run(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case "DROVER_URL":
			return s.url
		case "DROVER_TOKEN":
			return s.token
		case "DROVER_CONFIG":
			return filepath.Join(s.dataDir, "no-such-config")
		}
		return ""
	}
	code := Main(context.Background(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: getenv})
	return result{out.String(), errb.String(), code}
}

// TestStanzaRoundTrip is acceptance item 2: the three example stanza files
// go in with mkdef -z and come back byte for byte from lsdef -z, through a
// running server.
func TestStanzaRoundTrip(t *testing.T) {
	s := startServer(t, "")
	secrets := map[string]string{"DROVER_SHOW_SECRETS": "1"}
	for _, tc := range []struct{ file, typ, name string }{
		{"example-node-c910f04x42.stanza", "node", "c910f04x42"},
		{"example-osimage-rhels7.stanza", "osimage", "rhels7-ppc64-install-compute"},
		{"example-osimage-test_osimage.stanza", "osimage", "test_osimage"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xcat", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r := s.run(t, string(want), nil, "drover", "mkdef", "-z"); r.code != 0 {
				t.Fatalf("mkdef -z: rc %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r := s.run(t, "", secrets, "drover", "lsdef", "-z", "-t", tc.typ, "-o", tc.name)
			if r.code != 0 {
				t.Fatalf("lsdef -z: rc %d\n%s", r.code, r.stderr)
			}
			if r.stdout != string(want) {
				t.Errorf("lsdef -z output differs from %s\ngot:\n%q\nwant:\n%q", tc.file, r.stdout, want)
			}
			// Through a link named lsdef, as after `drover install-links`.
			r = s.run(t, "", secrets, "/usr/local/bin/lsdef", "-z", "-t", tc.typ, "-o", tc.name)
			if r.code != 0 || r.stdout != string(want) {
				t.Errorf("lsdef via link: rc %d, output differs: %q", r.code, r.stdout)
			}
		})
	}
}

func TestTourAndErrors(t *testing.T) {
	s := startServer(t, "")
	steps := []struct {
		args    []string
		stdin   string
		code    int
		stdout  string // substring expected, "" = don't care
		stderr  string
		noToken bool
	}{
		{args: []string{"mkdef", "-t", "group", "-o", "compute", "mgt=ipmi", "bmc=|\\z|-bmc|"}},
		{args: []string{"mkdef", "cn[01-04]", "groups=compute,all"}, stdout: "4 object definitions have been created or modified."},
		{args: []string{"nodels", "compute"}, stdout: "cn01\ncn02\ncn03\ncn04\n"},
		{args: []string{"lsdef", "cn01", "-i", "bmc,mgt"}, stdout: "bmc=cn01-bmc"},
		{args: []string{"mkdef", "cn05", "groups=all", "notanattr=1"}, code: 1, stderr: "'notanattr' is not a valid attribute name for an object type of 'node'."},
		{args: []string{"nodels", "cn05"}, code: 1, stderr: "Invalid nodes and/or groups in noderange: cn05"},
		{args: []string{"get", "node", "compute"}, stdout: "cn04"},
		{args: []string{"get", "widgets"}, code: 1, stderr: "Type 'widgets' is not a valid xCAT object type."},
		{args: []string{"delete", "node", "cn03-cn04"}, stdout: "2 object definitions have been removed."},
		{args: []string{"nodels", "compute"}, stdout: "cn01\ncn02\n"},
		{args: []string{"lsdef", "compute"}, code: 1, noToken: true, stderr: "not authorized"},
	}
	for _, st := range steps {
		env := map[string]string{}
		if st.noToken {
			env["DROVER_TOKEN"] = ""
		}
		r := s.run(t, st.stdin, env, append([]string{"drover"}, st.args...)...)
		if r.code != st.code {
			t.Errorf("%v: rc %d, want %d\nstdout: %s\nstderr: %s", st.args, r.code, st.code, r.stdout, r.stderr)
			continue
		}
		if st.stdout != "" && !strings.Contains(r.stdout, st.stdout) {
			t.Errorf("%v: stdout %q does not contain %q", st.args, r.stdout, st.stdout)
		}
		if st.stderr != "" && !strings.Contains(r.stderr, st.stderr) {
			t.Errorf("%v: stderr %q does not contain %q", st.args, r.stderr, st.stderr)
		}
	}
}

func TestApplyDiffPruneDumpRestore(t *testing.T) {
	s := startServer(t, "")
	dir := t.TempDir()
	manifest := filepath.Join(dir, "cluster.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(manifest, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`apiVersion: drover.dev/v1
kind: Group
metadata: {name: compute}
spec:
  mgt: ipmi
  bmcpassword: s3cret
---
apiVersion: drover.dev/v1
kind: Node
metadata: {name: cn1}
spec:
  groups: [compute, all]
  mac: "52:54:00:00:00:01"
  ip: 198.18.0.11
---
apiVersion: drover.dev/v1
kind: Node
metadata: {name: cn2}
spec:
  groups: compute,all
`)
	if r := s.run(t, "", nil, "drover", "diff", "-f", manifest); r.code != 1 || !strings.Contains(r.stdout, "+ node/cn1") {
		t.Fatalf("diff before apply: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run(t, "", nil, "drover", "apply", "-f", manifest); r.code != 0 {
		t.Fatalf("apply: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run(t, "", nil, "drover", "diff", "-f", manifest); r.code != 0 {
		t.Fatalf("diff after apply: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Secrets masked by default, shown on request.
	if r := s.run(t, "", nil, "drover", "get", "group", "compute", "-o", "yaml"); !strings.Contains(r.stdout, "******") || strings.Contains(r.stdout, "s3cret") {
		t.Errorf("get group: secret not masked:\n%s", r.stdout)
	}
	// A bad manifest changes nothing.
	write(`apiVersion: drover.dev/v1
kind: Node
metadata: {name: cn3}
spec: {groups: all}
---
apiVersion: drover.dev/v1
kind: Node
metadata: {name: cn4}
spec: {groups: all, colour: blue}
`)
	if r := s.run(t, "", nil, "drover", "apply", "-f", manifest); r.code == 0 || !strings.Contains(r.stderr, "colour") {
		t.Fatalf("bad apply: rc %d\n%s", r.code, r.stderr)
	}
	if r := s.run(t, "", nil, "drover", "nodels"); r.stdout != "cn1\ncn2\n" {
		t.Fatalf("after bad apply nodes = %q", r.stdout)
	}
	// Prune removes cn2.
	write(`apiVersion: drover.dev/v1
kind: Node
metadata: {name: cn1}
spec:
  groups: compute,all
  mac: "52:54:00:00:00:01"
  ip: 198.18.0.11
`)
	if r := s.run(t, "", nil, "drover", "apply", "-f", manifest, "--prune"); r.code != 0 || !strings.Contains(r.stdout, "node/cn2 deleted") {
		t.Fatalf("apply --prune: rc %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Dump with secrets, restore into a fresh server through restore/ on start.
	dump := filepath.Join(dir, "dump")
	if r := s.run(t, "", nil, "drover", "dump", dump, "--with-secrets"); r.code != 0 {
		t.Fatalf("dump: rc %d\n%s", r.code, r.stderr)
	}
	data2 := t.TempDir()
	if err := os.Rename(dump, filepath.Join(data2, daemon.RestoreDir)); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, data2)
	r := s2.run(t, "", map[string]string{"DROVER_SHOW_SECRETS": "1"}, "drover", "lsdef", "-t", "group", "-o", "compute", "-z")
	if !strings.Contains(r.stdout, "bmcpassword=s3cret") {
		t.Errorf("restored group lacks its secret:\n%s%s", r.stdout, r.stderr)
	}
	if r := s2.run(t, "", nil, "drover", "nodels"); r.stdout != "cn1\n" {
		t.Errorf("restored nodes = %q", r.stdout)
	}
}
