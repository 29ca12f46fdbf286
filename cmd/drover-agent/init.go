package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"drover.dev/drover/internal/facts"
)

// PID-1 mode: drover-agent is the discovery image's /init. It mounts the
// kernel filesystems, loads the image's NIC modules, configures the network
// by DHCP, starts the debug SSH server when credentials were given and runs
// the registration loop. It never returns: PID 1 exiting panics the kernel.

// Paths of the discovery image layout.
const (
	modulesDir = "/lib/modules"
	droverEtc  = "/etc/drover"
	shellPath  = "/bin/sh"
	consoleDev = "/dev/console"
)

// mount is one filesystem PID 1 mounts.
type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// mounts lists the kernel filesystems in mount order.
func mounts() []mount {
	const nosuid, nodev, noexec = unix.MS_NOSUID, unix.MS_NODEV, unix.MS_NOEXEC
	return []mount{
		{"proc", "/proc", "proc", nosuid | nodev | noexec, ""},
		{"sysfs", "/sys", "sysfs", nosuid | nodev | noexec, ""},
		{"devtmpfs", "/dev", "devtmpfs", nosuid, "mode=0755"},
		{"devpts", "/dev/pts", "devpts", nosuid | noexec, "gid=5,mode=0620,ptmxmode=0666"},
		{"tmpfs", "/tmp", "tmpfs", nosuid | nodev, "mode=1777"},
		{"tmpfs", "/run", "tmpfs", nosuid | nodev, "mode=0755"},
	}
}

// mountAll mounts the kernel filesystems; failures are logged (devtmpfs
// falls back to the image's static /dev nodes).
func mountAll(log *slog.Logger) {
	for _, m := range mounts() {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			log.Warn("mkdir", "dir", m.target, "err", err)
		}
		err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data)
		switch {
		case err == nil, errors.Is(err, unix.EBUSY):
		case m.fstype == "devtmpfs":
			log.Warn("devtmpfs not mounted, using the image's static /dev nodes", "err", err)
		default:
			log.Warn("mount", "fs", m.fstype, "on", m.target, "err", err)
		}
	}
	// /dev/ptmx of devtmpfs works with devpts on /dev/pts; without
	// devtmpfs point it at the devpts instance.
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		_ = os.Symlink("pts/ptmx", "/dev/ptmx")
	}
}

// console opens /dev/console as stdin, stdout and stderr (the kernel hands
// PID 1 the console already, unless the image had no /dev/console).
func console() *os.File {
	f, err := os.OpenFile(consoleDev, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return os.Stderr
	}
	for fd := 0; fd <= 2; fd++ {
		_ = unix.Dup3(int(f.Fd()), fd, 0)
	}
	return f
}

// runInit is PID 1's main. It never returns.
func runInit() {
	// Go exits on SIGTERM, SIGINT, SIGHUP, SIGQUIT by default; PID 1 must
	// not. Notify (not Ignore: ignored signals stay ignored in children).
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE)
	mountAll(slog.New(newConsoleHandler(os.Stderr, nil)))
	out := console()
	log := slog.New(newConsoleHandler(out, nil))
	go func() {
		for s := range sig {
			log.Info("signal ignored", "signal", s.String())
		}
	}()
	os.Setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin")
	os.Setenv("HOME", "/root")
	_ = unix.Sethostname([]byte("drover-discovery"))
	image := readLine(droverEtc + "/version")
	log.Info("init started", "version", version, "image", image)

	ctx := context.Background()
	rp := &reaper{}
	go rp.run(ctx)

	n, err := loadModules(modulesDir, log)
	if err != nil {
		log.Warn("modules", "err", err)
	}
	log.Info(fmt.Sprintf("modules loaded (%d)", n))

	var boot bootArgs
	if b, err := os.ReadFile("/proc/cmdline"); err != nil {
		log.Warn("kernel command line", "err", err)
	} else if boot, err = parseCmdline(string(b)); err != nil {
		log.Warn("kernel command line", "err", err) // the good keys are kept
	}
	state := &agentState{}
	collect := func(ctx context.Context) (*facts.Report, error) {
		return facts.Collect(ctx, facts.Options{Root: "/", Version: version, LLDPWait: boot.LLDPWait})
	}
	// The host key needs the kernel's random pool, which may take a moment
	// to be ready early in boot: don't hold the network up for it.
	go startSSH(boot, state, collect, rp, log)

	waitRandom(log)
	state.setPhase("network")
	nw := networkUp(ctx, log)
	state.setNetwork(nw.cfg.String())
	go nw.renew(ctx)

	m := &initMachine{reaper: rp, log: log}
	u, err := registrationURL(boot.URL, boot.Token)
	if err != nil {
		log.Error("no registration: "+err.Error(), "cmdline", "drover.discover=URL")
		state.setPhase("idle: " + err.Error())
		for { // SSH (if any) stays up for debugging; a sleep is never a deadlock
			time.Sleep(time.Hour)
		}
	}
	a := &Agent{URL: u, Client: &http.Client{Timeout: 30 * time.Second}, Collect: collect, Machine: m, Log: log, State: state}
	for {
		err := runAgent(ctx, a)
		switch {
		case err != nil:
			log.Error("agent stopped, starting again in 30s", "err", err)
			state.setPhase("agent failed: " + err.Error())
			time.Sleep(30 * time.Second)
		default:
			log.Info("registering again")
		}
	}
}

// waitRandom waits (at most 30 s) until the kernel's random pool is
// ready. The DHCP client's transaction IDs poll for random bytes without
// blocking, and polling does not make the kernel gather entropy: early in
// the boot of a machine without a hardware RNG (a TCG VM) the pool then
// stays unready for minutes. One blocking getrandom(2) makes the kernel
// seed it from CPU timing jitter, usually within a second.
func waitRandom(log *slog.Logger) {
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := unix.Getrandom(b[:], 0)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("random pool", "err", err)
			return
		}
		log.Info("random pool ready", "waited", time.Since(start).Round(time.Millisecond).String())
	case <-time.After(30 * time.Second):
		log.Warn("random pool still not ready after 30s: going on")
	}
}

// runAgent runs a's loop, turning a panic into an error: PID 1 must go on.
func runAgent(ctx context.Context, a *Agent) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return a.Run(ctx)
}

// networkUp brings the network up, retrying with backoff until a lease is
// configured.
func networkUp(ctx context.Context, log *slog.Logger) *network {
	backoff := 2 * time.Second
	for {
		nw, err := bringUp(ctx, netOptions{}, log)
		if err == nil {
			log.Info("dhcp " + nw.cfg.String())
			return nw
		}
		log.Warn("network not configured, retrying", "err", err, "in", backoff.String())
		time.Sleep(backoff)
		backoff = min(2*backoff, 30*time.Second)
	}
}

// startSSH serves debug SSH on :22 when a key or password was given.
func startSSH(boot bootArgs, state *agentState, collect func(context.Context) (*facts.Report, error), rp *reaper, log *slog.Logger) {
	auth, warns := loadSSHAuth(droverEtc, boot)
	for _, w := range warns {
		log.Warn("ssh", "err", w)
	}
	if auth.empty() {
		log.Info("ssh off (no key or password)")
		return
	}
	srv, err := newSSHServer(auth, log)
	if err != nil {
		log.Error("ssh", "err", err)
		return
	}
	srv.Reaper = rp
	srv.Builtin = builtinReport(state, collect)
	ln, err := net.Listen("tcp", ":22")
	if err != nil {
		log.Error("ssh", "err", err)
		return
	}
	log.Info("ssh listening on :22", "keys", len(auth.Keys), "passwords", len(auth.Hashes), "hostkey", srv.Fingerprint)
	go func() {
		err := srv.Serve(ln)
		log.Error("ssh stopped", "err", err)
	}()
}

// builtinReport writes the agent's state and facts for the shell-less SSH
// session.
func builtinReport(state *agentState, collect func(context.Context) (*facts.Report, error)) func(w io.Writer) error {
	return func(w io.Writer) error {
		return state.write(w, func() ([]byte, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r, err := collect(ctx)
			if err != nil {
				return nil, err
			}
			return json.Marshal(r)
		})
	}
}

func readLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// initMachine is the Machine of PID-1 mode: reboot(2) after sync, and the
// debug shell as a child on the console (registration resumes when it
// exits).
type initMachine struct {
	reaper *reaper
	log    *slog.Logger
}

func (m *initMachine) Reboot() error   { return host{}.Reboot() }
func (m *initMachine) PowerOff() error { return host{}.PowerOff() }

func (m *initMachine) Shell() error {
	if _, err := os.Stat(shellPath); err != nil {
		m.log.Warn("the image has no shell (" + shellPath + ")")
		return errNoShell
	}
	tty, err := os.OpenFile(consoleDev, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer tty.Close()
	cmd := exec.Command(shellPath, "-l")
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	release := m.reaper.hold()
	defer release()
	m.log.Info("shell on the console; exit it to register again")
	err = cmd.Run()
	m.log.Info("shell exited", "err", err)
	return nil
}
