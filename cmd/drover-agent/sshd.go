package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// sshAuth is who may log into the debug SSH server: authorized public
// keys and bcrypt password hashes. Empty means no SSH server.
type sshAuth struct {
	Keys   []ssh.PublicKey
	Hashes [][]byte
}

func (a sshAuth) empty() bool { return len(a.Keys) == 0 && len(a.Hashes) == 0 }

// loadSSHAuth gathers the debug credentials: etcDir/authorized_keys and
// etcDir/ssh_password baked into the image, and drover.sshkey/drover.sshpw
// from the command line. Unreadable or bad entries are skipped and
// returned as warnings.
func loadSSHAuth(etcDir string, boot bootArgs) (sshAuth, []error) {
	var a sshAuth
	var warns []error
	if b, err := os.ReadFile(filepath.Join(etcDir, "authorized_keys")); err == nil {
		for rest := b; len(bytes.TrimSpace(rest)) > 0; {
			k, _, _, r, err := ssh.ParseAuthorizedKey(rest)
			if err != nil {
				warns = append(warns, fmt.Errorf("authorized_keys: %w", err))
				break
			}
			a.Keys = append(a.Keys, k)
			rest = r
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		warns = append(warns, err)
	}
	if b, err := os.ReadFile(filepath.Join(etcDir, "ssh_password")); err == nil {
		h := bytes.TrimSpace(b)
		if _, err := bcrypt.Cost(h); err != nil {
			warns = append(warns, fmt.Errorf("ssh_password: not a bcrypt hash: %w", err))
		} else {
			a.Hashes = append(a.Hashes, h)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		warns = append(warns, err)
	}
	if boot.SSHKey != "" {
		if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(boot.SSHKey)); err == nil {
			a.Keys = append(a.Keys, k)
		}
	}
	if boot.SSHPw != "" {
		a.Hashes = append(a.Hashes, []byte(boot.SSHPw))
	}
	return a, warns
}

// sshServer is the discovery environment's debug SSH server.
type sshServer struct {
	config *ssh.ServerConfig
	// Shell is the shell for sessions; when it does not exist a session
	// prints Builtin's output and ends.
	Shell string
	// Builtin writes the agent's state and facts.
	Builtin func(w io.Writer) error
	Log     *slog.Logger
	// Reaper is held while a child runs so PID 1's reaper leaves it to us.
	Reaper *reaper
	// Fingerprint is the host key's SHA256 fingerprint.
	Fingerprint string
}

// newSSHServer makes a server with a fresh ed25519 host key that accepts
// the keys and passwords of auth (any user name).
func newSSHServer(auth sshAuth, log *slog.Logger) (*sshServer, error) {
	if auth.empty() {
		return nil, errors.New("no ssh key or password")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ServerConfig{MaxAuthTries: 6, ServerVersion: "SSH-2.0-drover-agent"}
	if len(auth.Keys) > 0 {
		keys := auth.Keys
		cfg.PublicKeyCallback = func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			m := k.Marshal()
			for _, a := range keys {
				if subtle.ConstantTimeCompare(a.Marshal(), m) == 1 {
					return &ssh.Permissions{Extensions: map[string]string{"fp": ssh.FingerprintSHA256(k)}}, nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	if len(auth.Hashes) > 0 {
		hashes := auth.Hashes
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			for _, h := range hashes {
				if bcrypt.CompareHashAndPassword(h, pw) == nil {
					return &ssh.Permissions{Extensions: map[string]string{"fp": "password"}}, nil
				}
			}
			return nil, errors.New("wrong password")
		}
	}
	cfg.AddHostKey(signer)
	return &sshServer{config: cfg, Shell: "/bin/sh", Log: log,
		Fingerprint: ssh.FingerprintSHA256(signer.PublicKey())}, nil
}

// Serve accepts connections on ln until it fails.
func (s *sshServer) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go s.handleConn(c)
	}
}

func (s *sshServer) handleConn(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		s.Log.Warn("ssh login refused", "from", c.RemoteAddr().String(), "err", err)
		return
	}
	defer sc.Close()
	s.Log.Info("ssh login", "from", c.RemoteAddr().String(), "user", sc.User(), "auth", sc.Permissions.Extensions["fp"])
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, creqs)
	}
}

// ptyReq is the payload of a "pty-req" request (RFC 4254 6.2).
type ptyReq struct {
	Term          string
	Cols, Rows    uint32
	Width, Height uint32
	Modes         string
}

func (s *sshServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var (
		pr      *ptyReq
		mu      sync.Mutex
		tty     *os.File
		started bool
		done    = make(chan uint32, 1)
	)
	for {
		select {
		case code := <-done:
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{code}))
			return
		case req, ok := <-reqs:
			if !ok {
				return
			}
			switch req.Type {
			case "pty-req":
				var p ptyReq
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					req.Reply(false, nil)
					continue
				}
				pr = &p
				req.Reply(true, nil)
			case "window-change":
				if len(req.Payload) >= 8 && pr != nil {
					pr.Cols, pr.Rows = binary.BigEndian.Uint32(req.Payload), binary.BigEndian.Uint32(req.Payload[4:])
					mu.Lock()
					if tty != nil {
						pty.Setsize(tty, &pty.Winsize{Cols: uint16(pr.Cols), Rows: uint16(pr.Rows)})
					}
					mu.Unlock()
				}
				req.Reply(false, nil)
			case "shell", "exec":
				if started {
					req.Reply(false, nil)
					continue
				}
				var command string
				if req.Type == "exec" {
					var p struct{ Command string }
					if err := ssh.Unmarshal(req.Payload, &p); err != nil {
						req.Reply(false, nil)
						continue
					}
					command = p.Command
				}
				started = true
				req.Reply(true, nil)
				go func() {
					done <- s.run(ch, command, req.Type == "exec", pr, func(f *os.File) {
						mu.Lock()
						tty = f
						mu.Unlock()
					})
				}()
			default:
				req.Reply(false, nil)
			}
		}
	}
}

// run runs one session's shell or command and returns its exit status.
func (s *sshServer) run(ch ssh.Channel, command string, isExec bool, pr *ptyReq, setTTY func(*os.File)) uint32 {
	if _, err := os.Stat(s.Shell); s.Shell == "" || err != nil {
		return s.builtin(ch, command, isExec, pr != nil)
	}
	args := []string{"-l"}
	if isExec {
		args = []string{"-c", command}
	}
	cmd := exec.Command(s.Shell, args...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=" + s.Shell}
	if pr != nil {
		cmd.Env = append(cmd.Env, "TERM="+pr.Term)
	}
	release := s.Reaper.hold()
	defer release()
	if pr != nil {
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(pr.Cols), Rows: uint16(pr.Rows)})
		if err != nil {
			fmt.Fprintf(ch.Stderr(), "drover-agent: %v\r\n", err)
			return 127
		}
		setTTY(f)
		go io.Copy(f, ch)
		out := make(chan struct{})
		go func() { io.Copy(ch, f); close(out) }()
		err = cmd.Wait()
		<-out // the pty reports EIO once the shell and its children are gone
		setTTY(nil)
		f.Close()
		return exitCode(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 127
	}
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(ch.Stderr(), "drover-agent: %v\n", err)
		return 127
	}
	go func() { io.Copy(stdin, ch); stdin.Close() }()
	return exitCode(cmd.Wait())
}

func exitCode(err error) uint32 {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return uint32(ee.ExitCode())
	}
	return 255
}

// builtin is the session of an image without a shell: it prints the
// agent's state and facts ("state", "facts" or nothing as the command).
func (s *sshServer) builtin(ch ssh.Channel, command string, isExec, tty bool) uint32 {
	var w io.Writer = ch
	if tty {
		w = crlfWriter{ch}
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	switch strings.TrimSpace(command) {
	case "", "state", "facts":
	default:
		fmt.Fprintf(bw, "drover-agent: this image has no shell; commands: state (state and facts)\n")
		return 127
	}
	if !isExec {
		fmt.Fprintf(bw, "drover-agent %s: this image has no shell; state and facts follow.\n", version)
	}
	if s.Builtin == nil {
		return 0
	}
	if err := s.Builtin(bw); err != nil {
		fmt.Fprintf(bw, "drover-agent: %v\n", err)
		return 1
	}
	return 0
}

// crlfWriter turns \n into \r\n for a client's terminal.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
