// Command drover is a bare-metal cluster management node: server and CLI in
// one binary. Invoked through a link named like an xCAT command (lsdef,
// mkdef, ...) it runs that command.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"drover.dev/drover/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
