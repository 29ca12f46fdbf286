package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"drover.dev/drover/internal/api"
)

var xcatShort = map[string]string{
	"lsdef":      "List object definitions (xCAT lsdef)",
	"mkdef":      "Create object definitions (xCAT mkdef)",
	"chdef":      "Change object definitions (xCAT chdef)",
	"rmdef":      "Remove object definitions (xCAT rmdef)",
	"nodels":     "List nodes and their attributes (xCAT nodels)",
	"tabdump":    "Print an xCAT table as CSV (xCAT tabdump)",
	"gettab":     "Look up table values by key (xCAT gettab)",
	"chtab":      "Change table rows (xCAT chtab)",
	"nodeadd":    "Add nodes (xCAT nodeadd)",
	"noderm":     "Remove nodes (xCAT noderm)",
	"tabprune":   "Delete table rows (xCAT tabprune)",
	"tabrestore": "Replace a table from a CSV file (xCAT tabrestore)",
	"nodeset":    "Set the next network boot of nodes (xCAT nodeset)",
	"rpower":     "Power nodes on, off, reset, cycle or report their state through their BMCs (xCAT rpower)",
	"rsetboot":   "Set nodes' next boot device: net, hd, cd, bios, def (xCAT rsetboot)",
	"rinv":       "List nodes' hardware inventory from their BMCs (xCAT rinv)",
	"mkvm":       "Create container nodes' containers on their hosts (xCAT mkvm, mgt=docker)",
	"rmvm":       "Remove container nodes' containers; -f also running ones (xCAT rmvm)",
	"lsvm":       "List a container node's container, or a host's containers (xCAT lsvm)",

	// discovery
	"nodediscoverstart":  "Start sequential discovery: hand out the names of a noderange in order (xCAT nodediscoverstart)",
	"nodediscoverstop":   "Stop sequential discovery and list the nodes it discovered (xCAT nodediscoverstop)",
	"nodediscoverstatus": "Tell whether sequential discovery is running (xCAT nodediscoverstatus)",
	"nodediscoverls":     "List discovery reports: discovered and undefined machines (xCAT nodediscoverls)",
	"nodediscoverdef":    "Define a discovery report to a node, or remove reports (xCAT nodediscoverdef)",
	"discovery":          "Discovery queue and rules: list, show, approve, reject reports; print or replace rules",
}

// newXCATCmd forwards one xCAT command to the server, the way xCAT's
// clients send a command line to xcatd: flags are parsed by the server so
// they, the messages and the exit codes are xCAT's. The client adds what
// only it can read: standard input for -z and tabrestore, and the contents
// of ^file noderanges.
func newXCATCmd(c *clientFactory, env Env, name string) *cobra.Command {
	return &cobra.Command{
		Use:                name + " [xCAT arguments]",
		Short:              xcatShort[name],
		Long:               xcatShort[name] + ".\n\nArguments are xCAT's; run `drover " + name + " -h` for the xCAT usage.\nSecret attribute values are masked unless DROVER_SHOW_SECRETS=1 is set.",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := buildRunRequest(name, args, env)
			if err != nil {
				return err
			}
			cl, err := c.get()
			if err != nil {
				return err
			}
			return runRemote(cmd.Context(), cl, env, req)
		},
	}
}

// runRemote runs an xCAT command on the server and prints what it printed;
// a non-zero exit code comes back as an *exitError.
func runRemote(ctx context.Context, cl *api.Client, env Env, req api.RunRequest) error {
	var resp api.RunResponse
	var err error
	if bar := progressBar(env, req.Command); bar != nil {
		resp, err = cl.RunProgress(ctx, req, bar.update)
		bar.clear()
	} else {
		resp, err = cl.Run(ctx, req)
	}
	if err != nil {
		return err
	}
	io.WriteString(env.Stdout, resp.Stdout)
	io.WriteString(env.Stderr, resp.Stderr)
	if resp.ExitCode != 0 {
		return &exitError{code: resp.ExitCode}
	}
	return nil
}

func buildRunRequest(name string, args []string, env Env) (api.RunRequest, error) {
	req := api.RunRequest{Command: name, Args: slices.Clone(args), Files: map[string]string{}}
	switch env.Getenv("DROVER_SHOW_SECRETS") {
	case "1", "true", "yes":
		req.ShowSecrets = true
	}
	readStdin := name == "tabrestore" && slices.Contains(args, "-") ||
		name == "discovery" && len(args) > 0 && args[0] == "rules" && slices.Contains(args, "-")
	if (name == "mkdef" || name == "chdef") && hasFlag(args, "-z", "--stanza") {
		readStdin = true
	}
	if name == "tabrestore" {
		// tabrestore FILE: the server gets the file name and its contents.
		for i, a := range args {
			if strings.HasPrefix(a, "-") {
				continue
			}
			data, err := os.ReadFile(a)
			if err != nil {
				return req, err
			}
			req.Stdin = string(data)
			req.Args[i] = filepath.Base(a)
			break
		}
	}
	if readStdin && env.Stdin != nil {
		data, err := io.ReadAll(env.Stdin)
		if err != nil {
			return req, fmt.Errorf("reading standard input: %w", err)
		}
		req.Stdin = string(data)
	}
	// ^file noderanges: read the file here, send it keyed by absolute path.
	for i, a := range req.Args {
		for _, part := range strings.Split(a, ",") {
			part = strings.TrimPrefix(part, "-")
			if !strings.HasPrefix(part, "^") || len(part) < 2 {
				continue
			}
			p := part[1:]
			abs, err := filepath.Abs(p)
			if err != nil {
				continue
			}
			if data, err := os.ReadFile(abs); err == nil {
				req.Files[abs] = string(data)
				req.Args[i] = strings.Replace(req.Args[i], "^"+p, "^"+abs, 1)
			}
		}
	}
	return req, nil
}

func hasFlag(args []string, names ...string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if slices.Contains(names, a) {
			return true
		}
	}
	return false
}

// hardwareCommands fan out over BMCs and can take long: on a terminal they
// show a progress bar.
var hardwareCommands = map[string]bool{"rpower": true, "rsetboot": true, "rinv": true, "mkvm": true, "rmvm": true, "lsvm": true}

type bar struct {
	w     io.Writer
	start time.Time
	shown bool
}

// progressBar returns a bar drawn on stderr for a hardware command when
// stderr is a terminal, else nil.
func progressBar(env Env, command string) *bar {
	if !hardwareCommands[command] {
		return nil
	}
	f, ok := env.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &bar{w: f, start: time.Now()}
}

func (b *bar) update(done, total int) {
	if total <= 0 || time.Since(b.start) < 500*time.Millisecond {
		return // short runs get no bar
	}
	const width = 30
	filled := done * width / total
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d nodes %.1fs", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		done, total, time.Since(b.start).Seconds())
	b.shown = true
}

func (b *bar) clear() {
	if b.shown {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", 70))
	}
}
