package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

const maxSecretInput = 64 << 10

func newSecretCmd(c *clientFactory, env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Manage named secrets that manifests and GitOps repositories refer to as secret:NAME",
		Long: `Named secrets keep passwords and keys out of manifests and Git. An attribute value
"secret:NAME" in a manifest applied with drover apply, or in the GitOps repository, is
replaced by the secret's value when it is applied. Values are sealed at rest with the
server's secret key and are never printed again.`,
		Example: `  printf '%s' 'p4ssw0rd' | drover secret set ipmi-admin
  drover secret set deploy-key --from-file ~/.ssh/id_ed25519
  drover secret list
  # in a manifest:  bmcpassword: secret:ipmi-admin`,
	}
	var fromFile string
	set := &cobra.Command{
		Use:   "set NAME [--from-file FILE]",
		Short: "Set a secret from standard input (one trailing newline dropped) or a file (as is)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			value, err := readSecretValue(env, fromFile)
			if err != nil {
				return err
			}
			cl, err := c.get()
			if err != nil {
				return err
			}
			if err := cl.SetSecret(cmd.Context(), args[0], value); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "secret %s set (%d bytes); refer to it as secret:%s\n", args[0], len(value), args[0])
			return nil
		},
	}
	set.Flags().StringVar(&fromFile, "from-file", "", "read the value from `FILE` (exactly, newlines kept)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List secret names (never their values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			items, err := cl.ListSecrets(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tUPDATED")
			for _, s := range items {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Updated.Local().Format("2006-01-02 15:04:05"))
			}
			return tw.Flush()
		},
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a secret (admin)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			return cl.DeleteSecret(cmd.Context(), args[0])
		},
	}
	cmd.AddCommand(set, list, del)
	return cmd
}

// readSecretValue reads a secret's value from file, or from standard input
// (prompting without echo on a terminal).
func readSecretValue(env Env, file string) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretInput+1))
		if err != nil {
			return "", err
		}
		if len(b) > maxSecretInput {
			return "", fmt.Errorf("%s: larger than %d bytes", file, maxSecretInput)
		}
		return string(b), nil
	}
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "value: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	if env.Stdin == nil {
		return "", errors.New("no value: give --from-file or pipe it on standard input")
	}
	b, err := io.ReadAll(io.LimitReader(env.Stdin, maxSecretInput+2))
	if err != nil {
		return "", err
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(v) > maxSecretInput {
		return "", fmt.Errorf("standard input: larger than %d bytes", maxSecretInput)
	}
	if v == "" {
		return "", errors.New("empty value on standard input")
	}
	return v, nil
}
