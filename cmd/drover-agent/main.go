// Command drover-agent is the discovery environment's main program. It
// collects the machine's hardware facts (internal/facts), registers them
// with drover at the URL given on the kernel command line, retrying with
// backoff, and follows drover's answer: wait and register again, reboot,
// power off or run a debug shell.
//
// Kernel command line (read from /proc/cmdline):
//
//	drover.discover=URL  registration URL; drover.report=URL is used if absent
//	drover.token=T       added as ?token=T unless the URL carries a token
//	drover.lldp=30s      listen for LLDP this long on every NIC with a link
//	drover.sshkey=B64    base64 of one authorized_keys line: debug SSH access
//	drover.sshpw=HASH    bcrypt hash of a debug SSH password
//
// As PID 1 (the discovery image's /init, see init.go) it first mounts
// /proc, /sys, /dev, /dev/pts, /tmp and /run, loads the modules listed in
// /lib/modules/load.order, configures the network by DHCPv4 and, when a
// key or password is given (drover.sshkey, drover.sshpw,
// /etc/drover/authorized_keys, /etc/drover/ssh_password), serves debug SSH
// on port 22. Progress lines "drover-agent: [UPTIME] ..." go to the
// console. It never exits.
//
// Otherwise flags override the command line for tests and manual runs;
// --print collects and prints the facts as JSON without registering.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"drover.dev/drover/internal/facts"
)

// version is set with -ldflags "-X main.version=$(git describe)".
var version = "dev"

func main() {
	if os.Getpid() == 1 {
		runInit() // never returns
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, host{})
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, m Machine) int {
	fs := flag.NewFlagSet("drover-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cmdlineFile := fs.String("cmdline", "/proc/cmdline", "kernel command line `file`")
	urlFlag := fs.String("url", "", "registration `URL` (overrides drover.discover/drover.report)")
	token := fs.String("token", "", "registration `token` (overrides drover.token)")
	root := fs.String("root", "/", "filesystem `root` holding sys/ and proc/ to collect from")
	lldp := fs.Duration("lldp-wait", -1, "listen for LLDP this long (overrides drover.lldp; 0 skips)")
	once := fs.Bool("once", false, "register once, print the answer and exit without carrying it out")
	printOnly := fs.Bool("print", false, "print the facts as JSON and exit without registering")
	showVersion := fs.Bool("version", false, "print the version and exit")
	timeout := fs.Duration("http-timeout", 30*time.Second, "timeout of one registration request")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drover-agent: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version)
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("svc", "drover-agent", "version", version)

	var boot bootArgs
	if b, err := os.ReadFile(*cmdlineFile); err == nil {
		if boot, err = parseCmdline(string(b)); err != nil {
			log.Error("kernel command line", "err", err)
			return 2
		}
	} else if !*printOnly && *urlFlag == "" {
		log.Error("kernel command line", "err", err)
		return 2
	}
	if *lldp >= 0 {
		boot.LLDPWait = *lldp
	}
	collect := func(ctx context.Context) (*facts.Report, error) {
		return facts.Collect(ctx, facts.Options{Root: *root, Version: version, LLDPWait: boot.LLDPWait})
	}
	if *printOnly {
		r, err := collect(ctx)
		if err != nil {
			log.Error("collect", "err", err)
			return 1
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return 1
		}
		return 0
	}

	raw := boot.URL
	if *urlFlag != "" {
		raw = *urlFlag
	}
	tok := boot.Token
	if *token != "" {
		tok = *token
	}
	u, err := registrationURL(raw, tok)
	if err != nil {
		log.Error("registration", "err", err)
		return 2
	}
	a := &Agent{
		URL:     u,
		Client:  &http.Client{Timeout: *timeout},
		Collect: collect,
		Machine: m,
		Log:     log,
	}
	if *once {
		ans, err := a.Register(ctx)
		if err != nil {
			log.Error("register", "err", err)
			return 1
		}
		_ = json.NewEncoder(stdout).Encode(ans)
		return 0
	}
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("agent stopped", "err", err)
		return 1
	}
	return 0
}
