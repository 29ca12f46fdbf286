package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// consoleEscape is the sequence that leaves rcons: Ctrl-E c . (conserver's,
// which xCAT's rcons uses).
var consoleEscape = []byte{0x05, 'c', '.'}

func newRconsCmd(c *clientFactory, env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "rcons NODE",
		Short: "Attach to a node's console (IPMI Serial-over-LAN, a container's TTY)",
		Long: `rcons attaches the terminal to the node's console through the drover
server: IPMI Serial-over-LAN for mgt=ipmi, the container's TTY for
mgt=docker. Type Ctrl-E c . to leave (as with conserver). Needs the
operator role.`,
		Example: `  drover rcons cn1
  rcons cn1          # through a link made by drover install-links`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			stream, err := cl.Console(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer stream.Close()
			if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				old, err := term.MakeRaw(int(f.Fd()))
				if err == nil {
					defer term.Restore(int(f.Fd()), old)
				}
			}
			fmt.Fprintf(env.Stderr, "[Enter `^Ec.' to exit]\r\n")
			done := make(chan error, 2)
			go func() { _, err := io.Copy(env.Stdout, stream); done <- err }()
			go func() { done <- copyUntilEscape(stream, env.Stdin) }()
			err = <-done
			fmt.Fprintf(env.Stderr, "\r\n[disconnect]\r\n")
			if errors.Is(err, errEscaped) || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		},
	}
}

var errEscaped = errors.New("escape sequence typed")

// copyUntilEscape copies in to out until in ends or the escape sequence
// is typed (its bytes are not sent; a partial match that breaks off is).
func copyUntilEscape(out io.Writer, in io.Reader) error {
	buf := make([]byte, 1024)
	matched := 0
	for {
		n, err := in.Read(buf)
		var send []byte
		for _, b := range buf[:n] {
			if b == consoleEscape[matched] {
				matched++
				if matched == len(consoleEscape) {
					if len(send) > 0 {
						out.Write(send)
					}
					return errEscaped
				}
				continue
			}
			if matched > 0 {
				send = append(send, consoleEscape[:matched]...)
				matched = 0
				if b == consoleEscape[0] {
					matched = 1
					continue
				}
			}
			send = append(send, b)
		}
		if err != nil && matched > 0 { // input ended inside a partial escape
			send = append(send, consoleEscape[:matched]...)
		}
		if len(send) > 0 {
			if _, werr := out.Write(send); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}

func newConsoleCmd(c *clientFactory, env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Console logs",
		Long: `drover keeps the console of every node that has a cons attribute (xCAT's
nodehm.cons, e.g. cons=ipmi or cons=docker) attached and logged, so a boot
failure can be read afterwards; rcons shares that connection.`,
	}
	var follow bool
	logCmd := &cobra.Command{
		Use:   "log NODE [-f]",
		Short: "Print a node's console log (-f: and follow it)",
		Example: `  drover chdef cn1 cons=ipmi        # keep cn1's console logged
  drover console log cn1 -f`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			return cl.ConsoleLog(cmd.Context(), args[0], follow, env.Stdout)
		},
	}
	logCmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing what the console prints")
	cmd.AddCommand(logCmd)
	return cmd
}
