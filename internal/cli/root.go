// Package cli is drover's command line: cobra commands that talk to a drover
// server only through its API (package api), plus `drover serve`, which runs
// the server itself. The xCAT commands (lsdef, mkdef, ...) are forwarded to the
// server as xcatd's clients do, so they behave the same from every client.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/xcatcmd"
)

// Version is the drover version, set by the linker (-X) or left as dev.
var version = "dev"

// Env is the process environment the CLI runs in; tests pass their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// exitError carries an exit code through cobra without printing anything more.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the CLI with args (args[0] is the program name) and returns the
// exit code. When args[0] names an xCAT command (through a link made by
// `drover install-links`), that command runs.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		args = []string{"drover"}
	}
	rest := args[1:]
	if name := filepath.Base(args[0]); xcatcmd.Known(name) || name == "rcons" {
		rest = append([]string{name}, rest...)
	}
	root := newRoot(ctx, env)
	root.SetArgs(rest)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(env.Stderr, "Error:", describe(err))
	return 1
}

// describe turns API errors into what an admin should do about them.
func describe(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		switch ae.StatusCode {
		case 401:
			return "not authorized: set DROVER_TOKEN (or the token in the drover config file) to a valid API token"
		case 403:
			return "forbidden: " + ae.Error()
		}
		return ae.Error()
	}
	msg := err.Error()
	if strings.Contains(msg, "connection refused") {
		return msg + " (is `drover serve` running? set DROVER_URL to its address)"
	}
	return msg
}

func newRoot(ctx context.Context, env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "drover",
		Short: "drover: a bare-metal cluster management node",
		Long: `drover keeps the cluster definition (nodes, groups, osimages, networks, site,
policy, boottargets) with xCAT's object semantics and serves it over a REST API.

Start a server on embedded defaults (SQLite in ./drover-data):
  drover serve --data ./drover-data
Then, with DROVER_URL/DROVER_TOKEN set (or the config file serve writes):
  drover mkdef -t group -o compute mgt=ipmi
  drover mkdef cn[01-04] groups=compute,all
  drover lsdef compute
  drover get node -o wide
  drover dump ./backup`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	c := &clientFactory{env: env}
	root.AddCommand(
		newServeCmd(env),
		newApplyCmd(c, env, false),
		newApplyCmd(c, env, true),
		newGetCmd(c, env),
		newDeleteCmd(c, env),
		newDumpCmd(c, env),
		newRestoreCmd(c, env),
		newTokenCmd(c, env),
		newSecretCmd(c, env),
		newGitOpsCmd(c, env),
		newEventsCmd(c, env),
		newRconsCmd(c, env),
		newConsoleCmd(c, env),
		newInstallLinksCmd(env),
		newVersionCmd(env),
		newImageCmd(env),
	)
	for _, name := range xcatcmd.Commands() {
		root.AddCommand(newXCATCmd(c, env, name))
	}
	return root
}

func newVersionCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the drover version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(env.Stdout, "drover", version)
			return nil
		},
	}
}
