package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func testSigner(t *testing.T, seed byte) ssh.Signer {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = byte(i) + seed
	}
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(s))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// startSSHServer serves auth on 127.0.0.1:0 and returns the address.
func startSSHServer(t *testing.T, auth sshAuth, shell string) (*sshServer, string) {
	t.Helper()
	srv, err := newSSHServer(auth, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Shell = shell
	st := &agentState{}
	st.setPhase("registered: wait")
	st.setNetwork("eth0 198.18.0.100/24 via 198.18.0.1")
	st.setReport([]byte(`{"schema":1,"version":"test","system":{"serial":"SN-LAB-0001"}}`))
	srv.Builtin = func(w io.Writer) error { return st.write(w, nil) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go srv.Serve(ln)
	return srv, ln.Addr().String()
}

func dial(addr string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "root", Auth: auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
}

func TestSSHAuth(t *testing.T) {
	good, bad := testSigner(t, 0), testSigner(t, 100)
	_, addr := startSSHServer(t, sshAuth{Keys: []ssh.PublicKey{good.PublicKey()}, Hashes: [][]byte{[]byte(testHash)}}, "/bin/sh")
	tests := []struct {
		name string
		auth ssh.AuthMethod
		ok   bool
	}{
		{"authorized key", ssh.PublicKeys(good), true},
		{"other key", ssh.PublicKeys(bad), false},
		{"password", ssh.Password("secret"), true},
		{"wrong password", ssh.Password("Secret"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dial(addr, tc.auth)
			if (err == nil) != tc.ok {
				t.Fatalf("dial: %v, want ok %v", err, tc.ok)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

func TestSSHNoCredentialsNoServer(t *testing.T) {
	if _, err := newSSHServer(sshAuth{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("server without key or password")
	}
	a, warns := loadSSHAuth(t.TempDir(), bootArgs{})
	if !a.empty() || len(warns) != 0 {
		t.Errorf("empty dir gives %+v, %v", a, warns)
	}
}

func TestLoadSSHAuth(t *testing.T) {
	dir := t.TempDir()
	other := testSigner(t, 7).PublicKey()
	keys := "# admins\n" + string(ssh.MarshalAuthorizedKey(other)) + "\n" + testKeyLine + "\n"
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ssh_password"), []byte(testHash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, warns := loadSSHAuth(dir, bootArgs{SSHKey: testKeyLine, SSHPw: testHash})
	if len(warns) != 0 {
		t.Fatal(warns)
	}
	if len(a.Keys) != 3 || len(a.Hashes) != 2 {
		t.Fatalf("%d keys %d hashes, want 3 and 2", len(a.Keys), len(a.Hashes))
	}
	if !bytes.Equal(a.Keys[0].Marshal(), other.Marshal()) {
		t.Errorf("first key is not the file's first")
	}
	if err := os.WriteFile(filepath.Join(dir, "ssh_password"), []byte("plain"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, warns := loadSSHAuth(dir, bootArgs{}); len(warns) != 1 {
		t.Errorf("plain password file: warnings %v", warns)
	}
}

func TestSSHExecWithShell(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: /bin/sh not found (Debian packages dash/bash, always installed; CI has it):", err)
	}
	key := testSigner(t, 0)
	_, addr := startSSHServer(t, sshAuth{Keys: []ssh.PublicKey{key.PublicKey()}}, "/bin/sh")
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.CombinedOutput("echo hi")
	if err != nil || string(out) != "hi\n" {
		t.Errorf("echo hi: %q, %v", out, err)
	}
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run("exit 3")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Errorf("exit 3: %v", err)
	}
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.Stdin = strings.NewReader("echo from-stdin\n")
	out, err = s.Output("sh")
	if err != nil || string(out) != "from-stdin\n" {
		t.Errorf("sh reading stdin: %q, %v", out, err)
	}
}

func TestSSHPTYShell(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: /bin/sh not found (Debian packages dash/bash, always installed; CI has it):", err)
	}
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("skipping: /dev/ptmx not found (a devpts mount; CI machines have it):", err)
	}
	key := testSigner(t, 0)
	_, addr := startSSHServer(t, sshAuth{Keys: []ssh.PublicKey{key.PublicKey()}}, "/bin/sh")
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.Stdout = &out
	s.Stdin = strings.NewReader("echo pty-$((6*7))\nexit 0\n")
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err != nil {
		t.Fatalf("wait: %v; output %q", err, out.String())
	}
	if !strings.Contains(out.String(), "pty-42") {
		t.Errorf("output %q lacks pty-42", out.String())
	}
}

func TestSSHBuiltinWithoutShell(t *testing.T) {
	key := testSigner(t, 0)
	_, addr := startSSHServer(t, sshAuth{Keys: []ssh.PublicKey{key.PublicKey()}}, filepath.Join(t.TempDir(), "no-sh"))
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("state")
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	state, factsPart, ok := strings.Cut(text, "facts: ")
	if !ok || !strings.HasPrefix(state, "state: ") {
		t.Fatalf("output:\n%s", text)
	}
	var st struct{ Phase, Network string }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(state, "state: ")), &st); err != nil || st.Phase != "registered: wait" || !strings.HasPrefix(st.Network, "eth0 ") {
		t.Errorf("state %+v, %v", st, err)
	}
	var f struct{ System struct{ Serial string } }
	if err := json.Unmarshal([]byte(factsPart), &f); err != nil || f.System.Serial != "SN-LAB-0001" {
		t.Errorf("facts %+v, %v", f, err)
	}

	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run("ls /")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 127 {
		t.Errorf("ls without a shell: %v", err)
	}

	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	var tty bytes.Buffer
	s.Stdout = &tty
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tty.String(), "no shell") || !strings.Contains(tty.String(), "\r\nfacts: ") {
		t.Errorf("interactive output %q", tty.String())
	}
}
