// Package xcatcmd carries out xCAT's object and table commands (lsdef, mkdef,
// chdef, rmdef, nodels, tabdump, chtab, gettab, nodeadd, noderm, tabprune,
// tabrestore), nodeset and the hardware commands rpower, rsetboot and rinv
// (through the BMC interface) on drover's inventory, with xCAT's flags, messages and exit
// codes. Like xcatd's plugins it runs on the server: the CLI sends the
// command line and standard input through the API and prints the result.
package xcatcmd

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"drover.dev/drover/internal/inventory"
)

// Backend is what the commands need from the store.
type Backend interface {
	// View is the current inventory.
	View() inventory.View
	// Apply writes all changes in one transaction, or none of them.
	Apply(ctx context.Context, changes []inventory.Change) error
}

// Request is one command invocation.
type Request struct {
	Command string   // e.g. "lsdef"
	Args    []string // arguments after the command name
	Stdin   string   // standard input (stanza files for -z, CSV for tabrestore)
	// Files holds the contents of files the client read for the command:
	// ^file noderanges, keyed by the absolute path the client resolved.
	Files map[string]string
	// ShowSecrets lets the caller see secret attribute values; otherwise
	// they are masked in every output.
	ShowSecrets bool
	// Progress, if set, hears how many nodes of a hardware command
	// (rpower, rsetboot, rinv, mkvm, rmvm, lsvm) are done.
	Progress func(done, total int)
}

// Response is what the command printed and its exit code.
type Response struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Runner runs commands against a Backend.
type Runner struct {
	Backend Backend
	Schema  *inventory.Schema
	Now     func() time.Time // defaults to time.Now
	// BMC carries out rpower, rsetboot and rinv; nil makes them fail with
	// "hardware control is not available".
	BMC BMC
	// Discovery carries out the discovery commands; nil makes them fail
	// with "discovery is not available".
	Discovery Discovery
}

type command struct {
	run      func(r *Runner, ctx context.Context, c *call) int
	readOnly bool
}

// call is one running command: its request and its output buffers.
type call struct {
	req    Request
	stdout strings.Builder
	stderr strings.Builder
}

func (c *call) out(format string, a ...any) { fprintf(&c.stdout, format, a...) }

// errorf prints an xCAT-style "Error: ..." line on stderr.
func (c *call) errorf(format string, a ...any) { fprintf(&c.stderr, "Error: "+format, a...) }

// warnf prints an xCAT-style "Warning: ..." line on stderr.
func (c *call) warnf(format string, a ...any) { fprintf(&c.stderr, "Warning: "+format, a...) }

// commands lists every command this package carries out.
func commands() map[string]command {
	return map[string]command{
		"lsdef":      {run: (*Runner).lsdef, readOnly: true},
		"mkdef":      {run: (*Runner).mkdef},
		"chdef":      {run: (*Runner).chdef},
		"rmdef":      {run: (*Runner).rmdef},
		"nodels":     {run: (*Runner).nodels, readOnly: true},
		"tabdump":    {run: (*Runner).tabdump, readOnly: true},
		"gettab":     {run: (*Runner).gettab, readOnly: true},
		"chtab":      {run: (*Runner).chtab},
		"nodeadd":    {run: (*Runner).nodeadd},
		"noderm":     {run: (*Runner).noderm},
		"tabprune":   {run: (*Runner).tabprune},
		"tabrestore": {run: (*Runner).tabrestore},
		"nodeset":    {run: (*Runner).nodeset},
		"rpower":     {run: (*Runner).rpower},
		"rsetboot":   {run: (*Runner).rsetboot},
		"rinv":       {run: (*Runner).rinv, readOnly: true},
		"mkvm":       {run: (*Runner).mkvm},
		"rmvm":       {run: (*Runner).rmvm},
		"lsvm":       {run: (*Runner).lsvm, readOnly: true},

		// discovery (discovery.go)
		"nodediscoverstart":  {run: (*Runner).nodediscoverstart},
		"nodediscoverstop":   {run: (*Runner).nodediscoverstop},
		"nodediscoverstatus": {run: (*Runner).nodediscoverstatus, readOnly: true},
		"nodediscoverls":     {run: (*Runner).nodediscoverls, readOnly: true},
		"nodediscoverdef":    {run: (*Runner).nodediscoverdef},
		// discovery is not read-only as a whole (approve, reject and
		// rules -f write); readOnly is per command name.
		"discovery": {run: (*Runner).discovery},
	}
}

// Commands returns the names of all commands, sorted.
func Commands() []string {
	var names []string
	for n := range commands() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReadOnly reports whether a command only reads the inventory (viewers may
// run it). Unknown commands are not read-only.
func ReadOnly(name string) bool { return commands()[name].readOnly }

// ReadOnlyRequest is ReadOnly for one invocation: `discovery list`, `show`,
// `help` and `rules` without -f only read, though `discovery` as a whole
// writes.
func ReadOnlyRequest(name string, args []string) bool {
	if name == "discovery" {
		if len(args) == 0 {
			return true
		}
		switch args[0] {
		case "list", "show", "help", "-h", "--help":
			return true
		case "rules":
			return !slices.Contains(args, "-f")
		}
		return false
	}
	return ReadOnly(name)
}

// Known reports whether name is a command of this package.
func Known(name string) bool { _, ok := commands()[name]; return ok }

// Run carries out one command. It never returns an error: failures are
// reported the xCAT way, on Stderr with a non-zero ExitCode.
func (r *Runner) Run(ctx context.Context, req Request) Response {
	c := &call{req: req}
	cmd, ok := commands()[req.Command]
	rc := 0
	if !ok {
		c.errorf("unknown command %q\n", req.Command)
		rc = 1
	} else {
		rc = cmd.run(r, ctx, c)
	}
	return Response{Stdout: c.stdout.String(), Stderr: c.stderr.String(), ExitCode: rc}
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
