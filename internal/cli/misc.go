package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/xcatcmd"
)

func newTokenCmd(c *clientFactory, env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens (admin)",
		Long: `API tokens authenticate every request. Roles:
  admin     everything
  operator  read, create and change objects (no deletes)
  viewer    read only; secrets are always masked`,
	}
	var role string
	create := &cobra.Command{
		Use:     "create NAME --role admin|operator|viewer",
		Short:   "Create a token; its secret is printed once",
		Example: "  drover token create ci-bot --role viewer",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			t, err := cl.CreateToken(cmd.Context(), args[0], role)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, t.Token)
			fmt.Fprintf(env.Stderr, "token %s (%s, role %s) created; the secret above is not shown again\n", t.ID, t.Name, t.Role)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "viewer", "admin, operator or viewer")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			toks, err := cl.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED")
			for _, t := range toks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Created.Format("2006-01-02 15:04:05"))
			}
			return tw.Flush()
		},
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			return cl.DeleteToken(cmd.Context(), args[0])
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

func newInstallLinksCmd(env Env) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "install-links DIR",
		Short: "Create xCAT command links (lsdef, mkdef, ...) to this binary in DIR",
		Long: `install-links creates symbolic links named like xCAT's commands (` + fmt.Sprint(xcatcmd.Commands()) + `)
in DIR, pointing at this drover binary, so admins and their scripts can keep
typing lsdef, mkdef, chdef, tabdump, ...`,
		Example: "  drover install-links /usr/local/bin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if self, err = filepath.EvalSymlinks(self); err != nil {
				return err
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			for _, name := range append(xcatcmd.Commands(), "rcons") {
				link := filepath.Join(args[0], name)
				if _, err := os.Lstat(link); err == nil {
					if !force {
						fmt.Fprintf(env.Stderr, "Warning: %s exists, left alone (use --force to replace)\n", link)
						continue
					}
					if err := os.Remove(link); err != nil {
						return err
					}
				}
				if err := os.Symlink(self, link); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s -> %s\n", link, self)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace existing files")
	return cmd
}
